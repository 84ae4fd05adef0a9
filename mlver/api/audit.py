"""``verify``: proof that what was recorded is what is stored.

Checks, in bulk: every record's digest; every registry tag's digest against
the record at its commit; every parent link; every artifact and data object
in the remote with its recorded size (``deep``: downloaded and re-hashed);
tag signatures when signing is on (mlver.api.trust); and the registry's
history replayed (mlver.api.history).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from mlver.adapters import git
from mlver.api import trust
from mlver.api._common import load_registry, models_at, record_from_bytes, resolve
from mlver.api.history import history_findings, seen_versions
from mlver.api.stages import digest_in
from mlver.api.storage import remote_store
from mlver.domain import record as rec
from mlver.domain.refs import parse_ref
from mlver.domain import tags
from mlver.domain.registry import Event, Registry
from mlver.domain.semver import Version
from mlver.domain.tags import Action
from mlver.errors import MlverError
from mlver.models import Finding, Record, VerifyResult
from mlver.project import CONFIG, PathLike, Project

IN_REPO_SIGNERS = ".mlver/allowed_signers"  # where a team publishes its keys; reviewed, never trusted as is


@dataclass
class _Subject:
    label: str  # how findings name it
    model: str
    commit: str
    tag: str | None = None
    tag_digest: str | None = None  # what the tag message promises


def _subjects(project: Project, ref: str | None, refs: list[tuple[str, str, str]]
              ) -> tuple[list[_Subject], list[Event], Registry]:
    model = parse_ref(ref).model if ref else None
    registry = load_registry(project, model, detail=True, refs=refs)
    subjects: list[_Subject] = []
    if ref:
        parsed, commit, version = resolve(project, ref, registry)
        subjects.append(_Subject(str(parsed), parsed.model, commit))
        state = registry.model(parsed.model)
        events = [e for e in state.events if e.commit == commit] if state else []
    else:
        events = [e for s in registry.models.values() for e in s.events]
        head = git.head(project.root)
        for name in models_at(project, head) if head else []:
            subjects.append(_Subject(f"{name} (HEAD)", name, head))
    for event in events:
        if event.tag.action not in (Action.REGISTER, Action.ASSIGN):
            continue  # un-assignments and deprecations carry no record
        message = event.info.message if event.info else ""
        subjects.append(_Subject(event.name, event.tag.model, event.commit, event.name, digest_in(message)))
    return subjects, events, registry


def _likely_specs(refs: list[tuple[str, str, str]], ref: str | None) -> list[str]:
    """Records a full verify will read, known from tag names and peeled commits only."""
    if ref:
        return []
    specs = []
    for name, _, commit in refs:
        parsed = tags.parse(name)
        if parsed is not None and parsed.action in (Action.REGISTER, Action.ASSIGN):
            specs.append(f"{commit}:{rec.record_path(parsed.model)}")
    return specs


def _signature_findings(project: Project, events: list[Event], signing: trust.Trust) -> tuple[int, list[Finding], list[str]]:
    """Every registry tag, of every kind, against the trust root outside the tree."""
    findings, notes = [], []
    if signing.tree_off:
        findings.append(Finding(
            CONFIG, f"it says `signing: false`, but {' and '.join(signing.why)} requires signing: checked anyway",
            f"find who turned it off (`git log -p -- {CONFIG}`) and restore `signing: true`",
        ))
    results = trust.check(project.root, events, signing)
    unconfigured = False
    for event in events:
        result = results[event.name]
        if result.ok:
            continue
        unconfigured = unconfigured or "allowedSignersFile" in result.detail
        findings.append(Finding(
            event.name, f"the tag is not signed, or not by an allowed signer ({result.detail})",
            "check who made it (`git tag -v TAG`); re-create it signed with the same name only if it is genuine",
        ))
    if unconfigured:
        findings.insert(0, Finding(
            "signing", "SSH signatures cannot be checked: no allowed-signers file outside the tree is configured",
            "review the team's list, then `git config --global gpg.ssh.allowedSignersFile FILE` (or pass --allowed-signers FILE)",
        ))
    notes.append(f"signatures checked against {signing.signers_from or 'your GPG keyring'}; "
                 f"signing required by {' and '.join(signing.why)}")
    notes += _signers_file_notes(project, events, results)
    return len(events), findings, notes


def _escaping_paths(project: Project, label: str, record: Record) -> list[Finding]:
    """Record paths that a pull would write outside the project, through a
    symlink in the working tree (the record's own paths are checked on load)."""
    from mlver.domain import validate

    entries = [record.doc.get("artifact") or {}] + list(record.doc.get("data") or [])
    return [Finding(f"{label} {e['path']}", "the path goes through a symlink that leads out of the project: "
                    "a pull would write there", "remove the symlink (`git rm` it) or re-record the model")
            for e in entries if e.get("path") and not validate.inside(project.root, project.root / e["path"])]



def _signers_file_notes(project: Project, events: list[Event], results: dict[str, git.TagSignature]) -> list[str]:
    """The in-repo allowed-signers list is a proposal, not the trust root: say
    when it changed since the last signed release, so a key added by a commit
    is reviewed before anyone copies it into their own trust root."""
    path = project.config.allowed_signers or IN_REPO_SIGNERS  # read from git only: never outside the tree
    signed = [e for e in events if e.tag.action is Action.REGISTER and results[e.name].ok]
    now = git.read_blob(project.root, "HEAD", path) if signed else None
    if now is None:
        return []
    last = max(signed, key=lambda e: (e.timestamp, Version.parse(e.tag.version).sort_key()))
    if git.read_blob(project.root, last.commit, path) == now:
        return []
    return [f"warning: {path} changed since {last.name}, the last signed release; it is not the trust root: "
            f"review `git diff {last.name} -- {path}` before you trust a key it adds"]


def _limits(signing: trust.Trust) -> list[str]:
    if signing.required:
        return []
    return ["the record digest is an unkeyed checksum: it catches accidents, not someone who recomputes it. "
            "Without signing, verify cannot prove who made a tag, nor that a version tag was not re-made on a "
            "re-sealed record with forged dates; only signed tags bind registry events to people (see `signing` in the README)"]


def _manifest_findings(store: object, md5: str, where: str) -> list[Finding]:
    """A directory's manifest in the remote: every entry a path a pull would accept."""
    from mlver.adapters import dvc

    manifest = store.read(md5)  # type: ignore[attr-defined]
    if manifest is None:
        return []
    try:
        dvc.parse_dir_manifest(manifest, f"manifest {md5}")
    except MlverError as exc:
        return [Finding(where, exc.message, "a pull refuses it: delete the object and `mlver push` the directory again")]
    return []


def _derived_lineage(project: Project, model: str, commit: str, labels: list[str]) -> tuple[Record | None, str]:
    """(derived lineage or None, the note saying so) for tags with no mlver record."""
    from mlver.api.derived import derive_record

    record = derive_record(project, model, commit)
    md5 = (record.doc["artifact"].get("md5") if record else None)
    what = ("its artifact object is checked in the remote" if md5
            else "its commit names no DVC hash for the artifact, so nothing can be checked in the remote")
    return record, (f"{', '.join(labels)}: no lineage record (made by GTO or by hand); the tag points at commit "
                    f"{commit[:12]}, lineage derived from it: {what}")


def verify(ref: str | None = None, deep: bool = False, offline: bool = False, remote: str | None = None,
           repo: PathLike = None, require_signatures: bool = False, allowed_signers: str | None = None) -> VerifyResult:
    """``require_signatures`` and ``allowed_signers`` come from the caller,
    never from the tree: see mlver.api.trust."""
    project = Project.find(repo, require_config=False)
    # Reading the records and reading the tag objects are two independent git
    # processes: start the first from the tag names alone, so both run at once.
    refs = git.tag_refs(project.root)
    with ThreadPoolExecutor(max_workers=1) as pool:
        early = pool.submit(git.read_blobs, project.root, _likely_specs(refs, ref))
        subjects, events, registry = _subjects(project, ref, refs)
        blobs = early.result()
    by_spec: dict[str, list[_Subject]] = {}
    for subject in subjects:
        by_spec.setdefault(f"{subject.commit}:{rec.record_path(subject.model)}", []).append(subject)
    late = [spec for spec in by_spec if spec not in blobs]
    blobs.update(git.read_blobs(project.root, late))
    findings: list[Finding] = []
    records: dict[str, Record] = {}
    derived: dict[str, Record] = {}  # versions made by GTO or by hand: their objects are checked too
    gto_notes: list[str] = []
    for spec, group in by_spec.items():
        first = group[0]
        content = blobs.get(spec)
        if content is None:
            # A tag that promises an mlver record but finds none was moved; one
            # that promises nothing (GTO, Studio, by hand) is a note, not a failure.
            unpromised = [s for s in group if s.tag and not s.tag_digest]
            findings += [Finding(s.label, f"no record of {s.model} at commit {s.commit[:12]}",
                                 "the tag was moved or made by hand: compare `git show TAG` with `mlver log`")
                         for s in group if s.tag_digest or (not s.tag and not unpromised)]
            if unpromised:
                found = _derived_lineage(project, first.model, first.commit, [s.label for s in unpromised])
                gto_notes.append(found[1])
                if found[0] is not None:
                    derived[spec] = found[0]
            continue
        try:
            record = record_from_bytes(first.model, first.commit, content)
        except MlverError as exc:
            findings.append(Finding(first.label, exc.message, exc.hint))
            continue
        records[spec] = record
        findings += _escaping_paths(project, first.label, record)
        if not record.intact:
            findings.append(Finding(first.label, "the record does not match its digest: it was edited after it was written",
                                    f"see what changed: `git log -p -- {rec.record_path(first.model)}`"))
        for subject in group:
            if not subject.tag:
                continue
            if not subject.tag_digest and not subject.tag.partition("@")[2]:
                continue  # a stage tag made by GTO or by hand: its version's tag carries the digest
            if not subject.tag_digest:
                findings.append(Finding(subject.tag, "the tag carries no record digest (not made by mlver)",
                                        "re-release with `mlver release` to bind a version to its record"))
            elif subject.tag_digest != record.digest:
                findings.append(Finding(subject.tag, f"the tag promises record {subject.tag_digest[:19]}, "
                                        f"but its commit holds {record.digest[:19]}: it was moved or re-made",
                                        "restore the tag to the commit it was made on, or investigate who moved it"))

    findings += history_findings(project, registry, records, {e.name for e in events} if ref else None)
    if not ref:
        findings += seen_versions(project, refs)

    # Parent links: the record each one replaced, by commit and digest.
    parents = []
    for record in {r.digest: r for r in records.values()}.values():
        parent = record.doc.get("parent")
        if parent:
            parents.append((f"{parent['commit']}:{rec.record_path(record.model)}", record, parent["digest"]))
    # Most parents are records already read (the previous version's).
    known = {spec: r.doc.get("digest") for spec, r in records.items() if r.intact}
    parent_blobs = git.read_blobs(project.root, [spec for spec, _, _ in parents if spec not in known])
    for spec, record, digest in parents:
        if spec in known:
            found = known[spec]
        else:
            content = parent_blobs.get(spec)
            try:
                found = rec.compute_digest(record_from_bytes(record.model, None, content).doc) if content else None
            except MlverError:  # a crafted parent (too deep, wrong shape) is no parent this record had
                found = None
        if found != digest:
            findings.append(Finding(f"{record.model}@{record.commit[:12]}", "the parent record is missing or differs from the one recorded",
                                    "the history of the record was rewritten: compare `git log` with the parent commit"))

    objects = 0
    remote_name = None
    if not offline:
        remote_name, store = remote_store(project, remote)
        seen: set[str] = set()
        for spec, record in {**records, **derived}.items():
            label = by_spec[spec][0].label
            entries = [record.doc.get("artifact") or {}] + list(record.doc.get("data") or [])
            for entry in entries:
                md5 = entry.get("md5")
                if not md5 or md5 in seen:
                    continue
                seen.add(md5)
                objects += 1
                size = store.size(md5)
                where = f"{label} {entry.get('path')}"
                if size is None:
                    findings.append(Finding(where, f"object {md5} is missing from remote {remote_name}",
                                            "push it from a machine that has it: `mlver push`"))
                elif entry.get("size") is not None and not md5.endswith(".dir") and size != entry["size"]:
                    findings.append(Finding(where, f"object {md5} in remote {remote_name} has {size} bytes, the record says {entry['size']}",
                                            "it is corrupt: delete it from the remote and `mlver push` a good copy"))
                elif deep and not md5.endswith(".dir") and store.md5_of(md5) != md5:
                    findings.append(Finding(where, f"object {md5} in remote {remote_name} does not hash to its name",
                                            "it is corrupt: delete it from the remote and `mlver push` a good copy"))
                elif md5.endswith(".dir"):
                    findings += _manifest_findings(store, md5, where)
    signatures, notes = 0, []
    signing = trust.project_trust(project, require_signatures, allowed_signers)
    if signing.required:
        signatures, found, notes = _signature_findings(project, events, signing)
        findings += found
    notes = gto_notes + notes + _limits(signing)
    return VerifyResult(
        ok=not findings, records=len(records), tags=sum(1 for s in subjects if s.tag),
        objects=objects, signatures=signatures, findings=tuple(findings), remote=remote_name, notes=tuple(notes),
    )
