"""``verify``: proof that what was recorded is what is stored.

Checks, in bulk: every record's digest; every registry tag's digest against
the record at its commit; every parent link; every artifact and data object
in the remote with its recorded size (``deep``: downloaded and re-hashed);
tag signatures when signing is on (mlver.api.trust); and the registry's
history replayed (mlver.api.history).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mlver.adapters import git
from mlver.adapters.storage import Progress
from mlver.api import trust, verdicts
from mlver.api._common import load_registry, models_at, resolve
from mlver.api.facts import FactCache, RecordFacts, entries_of
from mlver.api.history import SEEN_VERSIONS, Ahead, history_findings, seen_versions
from mlver.api.objects import Start, remote_store
from mlver.api.stages import digest_in
from mlver.api.unrecorded import derived_lineage, derived_note, elsewhere_of
from mlver.domain import audit, tags, validate
from mlver.domain import record as rec
from mlver.domain.refs import parse_ref
from mlver.domain.registry import Event, Registry
from mlver.domain.semver import Version
from mlver.domain.tags import Action
from mlver.errors import MlverError
from mlver.models import Finding, Record, VerifyResult
from mlver.project import CONFIG, PathLike, Project

IN_REPO_SIGNERS = ".mlver/allowed_signers"  # where a team publishes its keys; reviewed, never trusted as is


@dataclass(slots=True)  # one per registry tag
class _Subject:
    label: str  # how findings name it
    model: str
    commit: str
    tag: str | None = None
    tag_digest: str | None = None  # what the tag message promises
    assigns: bool = False  # a stage assignment: its record's metrics are checked against the gates
    event: Event | None = None  # its tag's event (None: HEAD's record)


def _subjects(project: Project, ref: str | None, refs: list[tuple[str, str, str]],
              tag_infos: Callable[[list[str]], Mapping[str, git.TagInfo]]) -> tuple[list[_Subject], list[Event], Registry]:
    model = parse_ref(ref).model if ref else None
    registry = load_registry(project, model, detail=True, refs=refs, tag_infos=tag_infos)
    subjects: list[_Subject] = []
    if ref:
        parsed, commit, version = resolve(project, ref, registry)
        subjects.append(_Subject(str(parsed), parsed.model, commit))
        state = registry.model(parsed.model)
        events = [e for e in state.events if e.commit == commit] if state else []
    else:
        events = [e for s in registry.models.values() for e in s.events]
        head = git.head(project.root)
        if head:
            subjects += [_Subject(f"{name} (HEAD)", name, head) for name in models_at(project, head)]
    for event in events:
        if event.tag.action not in (Action.REGISTER, Action.ASSIGN):
            continue  # un-assignments and deprecations carry no record
        message = event.info.message if event.info else ""
        subjects.append(_Subject(event.name, event.tag.model, event.commit, event.name, digest_in(message),
                                 event.tag.action is Action.ASSIGN, event))
    return subjects, events, registry


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


def _escaping_paths(project: Project, label: str, paths: Sequence[str | None], inside: dict[str, bool]) -> list[Finding]:
    """Record paths that a pull would write outside the project, through a
    symlink in the working tree (the record's own paths are checked on load).
    The work tree is not content-addressed: asked every run, once per path."""
    from mlver.domain import validate

    found = []
    for path in paths:
        if not path:
            continue
        if path not in inside:
            inside[path] = validate.inside(project.root, project.root / path)
        if not inside[path]:
            found.append(Finding(f"{label} {path}", "the path goes through a symlink that leads out of the project: "
                                 "a pull would write there", "remove the symlink (`git rm` it) or re-record the model"))
    return found


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


def _history_order(by_spec: dict[str, list[_Subject]]) -> list[str]:
    """Record specs newest first (HEAD's, then by their oldest tag): git's
    pack keeps the newest version of a file whole and the older ones as
    deltas on it, so newest first finds each delta's base already in git's
    cache (100,000 records: 2.9 s of git's CPU, 4.3 s oldest first)."""
    last = (1 << 62, 0)

    def when(subject: _Subject) -> tuple[int, int]:
        return subject.event.order if subject.event is not None else last

    first = {spec: when(group[0]) if len(group) == 1 else min(map(when, group)) for spec, group in by_spec.items()}
    return sorted(by_spec, key=first.__getitem__, reverse=True)


def verify(ref: str | None = None, deep: bool = False, offline: bool = False, remote: str | None = None,
           repo: PathLike = None, require_signatures: bool = False, allowed_signers: str | None = None,
           start: Start | None = None, progress: Progress | None = None) -> VerifyResult:
    """``require_signatures`` and ``allowed_signers`` come from the caller,
    never from the tree: see mlver.api.trust. ``start`` hears how many
    objects the remote is asked for and their recorded bytes, ``progress``
    each one's bytes once it is checked."""
    project = Project.find(repo, require_config=False)
    # One version's verify needs its model's tags only; --all, every tag
    # (parsed only when the kept verdict does not answer: 0.3 s at 110,000).
    listing = "" if ref else git.tag_listing(project.root)
    signing = trust.project_trust(project, require_signatures, allowed_signers)
    shallow = git.is_shallow(project.root)
    wanted = verdicts.key(project, listing) if ref is None and offline and not signing.required and not shallow else None
    kept = verdicts.load(project, wanted) if wanted else None
    result = _from_kept(project, lambda: git.parse_tag_listing(listing), kept, signing) if kept else None
    if result is not None:
        return result
    refs = (git.model_tag_refs(project.root, tags.name_in_tag(parse_ref(ref).model)) if ref
            else git.parse_tag_listing(listing))
    listing = ""  # 15 MB at 110,000 tags, not needed again
    import gc

    # A registry of 100,000 versions is millions of long-lived objects with no
    # cycles: the collector's full passes over them find nothing (7% of a verify).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _checked(project, ref, refs, deep, offline, remote, signing, wanted, shallow, (start, progress))
    finally:
        if enabled:
            gc.enable()


def _from_kept(project: Project, refs: Callable[[], list[tuple[str, str, str]]], kept: verdicts.Kept,
               signing: trust.Trust) -> VerifyResult | None:
    """The kept verdict, with what is not in git objects checked again; None
    when that is not enough (a path now escapes, the clock went back)."""
    now = int(time.time())
    if now < kept.now or not all(validate.inside(project.root, project.root / p) for p in kept.paths):
        return None
    journal = git.private_path(project.root, SEEN_VERSIONS)
    seen = kept.seen if verdicts.journal_digest(journal) == kept.journal else seen_versions(project, refs())
    findings = kept.records + audit.future_names(kept.dated, now) + kept.history + seen + kept.parents
    return VerifyResult(ok=not findings, records=kept.counts[0], tags=kept.counts[1], objects=0, signatures=0,
                        findings=tuple(findings), remote=None, notes=tuple(_limits(signing)))


@dataclass(slots=True)
class _Read:
    """What the record pass and the replay found, before any remote is asked."""
    subjects: list[_Subject]
    events: list[Event]
    registry: Registry
    by_spec: dict[str, list[_Subject]]  # record spec -> the subjects at it
    passed: _RecordPass
    records: list[Finding]
    future: list[Finding]
    history: list[Finding]


def _read(project: Project, ref: str | None, refs: list[tuple[str, str, str]], offline: bool, shallow: bool,
          cache: FactCache) -> _Read:
    """The tags, every record they name, and the replay of the registry's history."""
    # On the other core, git reads the tag objects while the tag names are
    # parsed here, then walks the history for the replay while the tag
    # objects are parsed and the records read.
    walks: list[Ahead] = []
    read_tags = cache.tag_infos_ahead((obj for _, obj, commit in refs if obj != commit),
                                      then=lambda: walks.append(Ahead(project, refs, cache)))
    try:
        subjects, events, registry = _subjects(project, ref, refs, read_tags)
        if not walks:
            walks.append(Ahead(project, refs, cache))  # (no tag object was read)
        by_spec: dict[str, list[_Subject]] = {}
        paths: dict[str, str] = {}  # model -> its record's path (110,000 subjects, a few models)
        for subject in subjects:
            path = paths.get(subject.model) or paths.setdefault(subject.model, rec.record_path(subject.model))
            by_spec.setdefault(f"{subject.commit}:{path}", []).append(subject)
        passed = _RecordPass(project, offline, shallow)
        passed.run(cache, by_spec, _history_order(by_spec), {f"{s.commit}:{paths[s.model]}" for s in subjects if s.assigns})
        record_findings = [f for spec in by_spec for f in passed.findings.get(spec, ())]
        future, history = history_findings(project, registry, passed.metrics, {e.name for e in events} if ref else None,
                                           cache, walks[0], {s.tag: s.tag_digest for s in subjects if s.tag})
    finally:
        try:
            read_tags([])  # collects that git, also when no event asked for it
        except MlverError:
            pass  # (raised to whoever asked first)
        for started in walks:
            started.close()
    return _Read(subjects, events, registry, by_spec, passed, record_findings, future, history)


def _checked(project: Project, ref: str | None, refs: list[tuple[str, str, str]], deep: bool, offline: bool,
             remote: str | None, signing: trust.Trust, keep: str | None, shallow: bool = False,
             told: tuple[Start | None, Progress | None] = (None, None)) -> VerifyResult:
    """Every check, through the fact cache; ``keep``: the verdict's key, to keep it under.
    ``shallow``: a shallow clone (CI's default) lacks the commits past its
    boundary; what they would prove is counted and said, not failed."""
    cache = FactCache(project.root)
    read = _read(project, ref, refs, offline, shallow, cache)
    passed, registry, events = read.passed, read.registry, read.events
    seen = seen_versions(project, [r for r in refs if r[0] not in registry.ignored]) if not ref else []
    parent_findings = passed.parents.rest(passed.digests, cache)
    stray = _stray_tags(registry.ignored)
    findings = stray + read.records + read.future + read.history + seen + parent_findings
    objects, remote_name, kept = 0, None, dict[str, tuple[tuple[str, str], list[str]]]()
    if not offline:
        objects, remote_name, missing, kept = _remote_findings(project, remote, read.by_spec, passed, deep, *told)
        findings += missing
    cache.save()
    tagged = sum(1 for s in read.subjects if s.tag)
    if keep and not stray and not passed.derived and all(passed.inside.values()):
        _keep_verdict(project, keep, passed, events, read.records, read.history, parent_findings, seen, tagged)
    signatures, notes = 0, list[str]()
    if signing.required:
        signatures, unsigned, notes = _signature_findings(project, events, signing)
        findings += unsigned
    if not offline and remote_name is None:
        notes.append("no version names an object in DVC storage, so no remote was asked")
    notes = (passed.derived_notes(remote_name, kept) + _shallow_notes(shallow, passed.beyond, passed.parents.unchecked)
             + notes + _limits(signing))
    return VerifyResult(
        ok=not findings, records=len(passed.digests), tags=tagged,
        objects=objects, signatures=signatures, findings=tuple(findings), remote=remote_name, notes=tuple(notes),
    )


def _stray_tags(ignored: Mapping[str, tuple[str, str]]) -> list[Finding]:
    """Tags in the registry's format on a blob or a tree: no version or stage
    (the registry skips them), and ``gto show`` fails on the repository."""
    return [Finding(name, f"the tag points at a {kind} ({oid[:12]}), not at a commit: it is no version or stage, "
                          "and `gto show` fails on it",
                    f"delete it: `git tag -d {name}` (and `git push --delete origin {name}` if it was pushed)")
            for name, (kind, oid) in sorted(ignored.items())]


class _RecordPass:
    """One pass over the distinct records, newest first, keeping of each
    only what later checks read (the rest is let go)."""

    def __init__(self, project: Project, offline: bool, shallow: bool) -> None:
        self.project, self.offline, self.shallow = project, offline, shallow
        self.findings: dict[str, list[Finding]] = {}  # spec -> what was found there
        self.digests: dict[str, str] = {}  # spec -> the digest of the record there (its content's)
        self.metrics: dict[str, Mapping[str, object]] = {}  # of the records stages were assigned to
        self.named: dict[str, list[tuple[str | None, str | None, int | None]]] = {}  # objects to check in the remote
        self.parents = _Parents(shallow)
        self.derived: dict[str, tuple[list[str], str, Record | None]] = {}  # spec -> (tags, commit, lineage) with no record
        self.inside: dict[str, bool] = {}  # path -> whether it stays inside the project
        self.beyond: list[str] = []  # tags whose commit this shallow clone does not have

    def run(self, cache: FactCache, by_spec: dict[str, list[_Subject]], order: list[str], need_metrics: set[str]) -> None:
        present = set(cache.commit_times({s.commit for group in by_spec.values() for s in group})) if self.shallow else None
        wanted = []
        for spec in order:
            first = by_spec[spec][0]
            wanted.append((spec, first.model, first.commit))
        for spec, facts in cache.records(wanted, need_metrics):
            group = by_spec[spec]
            if facts is None and present is not None and group[0].commit not in present:
                self.beyond += [s.label for s in group]
            elif facts is None:
                self.findings[spec] = self._missing(spec, group)
            elif isinstance(facts, MlverError):
                self.findings[spec] = [Finding(group[0].label, facts.message, facts.hint)]
            else:
                found = self._judge(spec, group, facts, spec in need_metrics)
                if found:
                    self.findings[spec] = found

    def _missing(self, spec: str, group: list[_Subject]) -> list[Finding]:
        """A tag that promises an mlver record but finds none was moved; one
        that promises nothing (GTO, Studio, by hand) is a note, not a failure."""
        first = group[0]
        unpromised = [s for s in group if s.tag and not s.tag_digest]
        found = [Finding(s.label, f"no record of {s.model} at commit {s.commit[:12]}",
                         "the tag was moved or made by hand: compare `git show TAG` with `mlver log`")
                 for s in group if s.tag_digest or (not s.tag and not unpromised)]
        if unpromised:
            lineage = derived_lineage(self.project, first.model, first.commit)
            self.derived[spec] = ([s.label for s in unpromised], first.commit, lineage)
            if lineage is not None and not self.offline:
                self.named[spec] = entries_of(lineage.doc)  # GTO or hand-made versions: their objects are checked too
        return found

    def derived_notes(self, asked: str | None, kept: Mapping[str, tuple[tuple[str, str], list[str]]]) -> list[str]:
        """What is said of each version with no record, oldest first; ``kept``:
        spec -> (the remote its commit shares, the paths that are not in the
        remote ``asked`` but that one's to keep)."""
        return [derived_note(labels, commit, lineage, self.offline,
                             (asked or "", *kept[spec]) if spec in kept else None)
                for spec, (labels, commit, lineage) in reversed(self.derived.items())]

    def _judge(self, spec: str, group: list[_Subject], facts: RecordFacts, need_metrics: bool) -> list[Finding]:
        first = group[0]
        self.digests[spec] = facts.computed
        if spec in self.parents.waiting:
            self.parents.arrived(spec, facts.computed)
        if need_metrics:
            self.metrics[spec] = facts.metrics or {}  # (kept for these: cache.records was told)
        if not self.offline:
            self.named[spec] = facts.entries
        if facts.parent:
            self.parents.check(spec, first, facts, self.digests)
        inside = self.inside
        # (each path is looked at once a run: the rest of 100,000 records only find it in `inside`)
        escaping = [path for path, _, _ in facts.entries if path and not inside.get(path, False)]
        found = _escaping_paths(self.project, first.label, escaping, inside) if escaping else []
        if not facts.intact:
            found.append(Finding(first.label, "the record does not match its digest: it was edited after it was written",
                                 f"see what changed: `git log -p -- {rec.record_path(first.model)}`"))
        return found + _tag_findings(group, facts)


def _tag_findings(group: list[_Subject], facts: RecordFacts) -> list[Finding]:
    """Each tag at one record against the digest its message promises."""
    found = []
    digest = facts.digest
    for subject in group:
        if not subject.tag or (subject.tag_digest and subject.tag_digest == digest):
            continue
        if not subject.tag_digest and not subject.tag.partition("@")[2]:
            continue  # a stage tag made by GTO or by hand: its version's tag carries the digest
        if not subject.tag_digest:
            found.append(Finding(subject.tag, "the tag carries no record digest (not made by mlver)",
                                 "re-release with `mlver release` to bind a version to its record"))
        elif subject.tag_digest != facts.digest:
            found.append(Finding(subject.tag, f"the tag promises record {subject.tag_digest[:19]}, "
                                 f"but its commit holds {facts.digest[:19]}: it was moved or re-made",
                                 "restore the tag to the commit it was made on, or investigate who moved it"))
    return found


def _remote_findings(project: Project, remote: str | None, by_spec: dict[str, list[_Subject]], passed: _RecordPass,
                     deep: bool, start: Start | None = None,
                     progress: Progress | None = None
                     ) -> tuple[int, str | None, list[Finding], dict[str, tuple[tuple[str, str], list[str]]]]:
    """(objects asked, the remote's name, findings, what is kept elsewhere): every object named once, by size
    (``deep``: by hash). An object missing here from a version with no record,
    whose commit shares another default remote, is that remote's to keep
    (``_RecordPass.derived_notes`` says so); only then is its commit's
    ``.dvc/config`` read.
    No remote is needed, nor named, when no version names an object (example-gto:
    every artifact committed to git or kept outside DVC)."""
    named = passed.named
    if remote is None and not any(md5 for objects in named.values() for _, md5, _ in objects):
        return 0, None, [], {}
    remote_name, store = remote_store(project, remote)
    elsewhere = elsewhere_of(project, remote_name, {spec: commit for spec, (_, commit, _) in passed.derived.items()})
    findings: list[Finding] = []
    kept: dict[str, tuple[tuple[str, str], list[str]]] = {}
    asked: set[str] = set()
    gone: dict[str, bool] = {}  # asked and missing here -> whether a finding names it
    if start:
        sizes = {md5: size or 0 for spec in by_spec for _, md5, size in named.get(spec, ()) if md5}
        start(len(sizes), sum(sizes.values()))
    for spec in by_spec:
        label = by_spec[spec][0].label
        for path, md5, recorded_size in named.get(spec, ()):
            if not md5:
                continue
            where = f"{label} {path}"
            if md5 in asked:
                # Asked once; each version sharing a missing object is still told what it means for it
                # (example-get-started's v1.1.0 and v1.2.0 share a model kept in its public remote).
                if md5 in gone and (other := elsewhere(spec)) is not None:
                    kept.setdefault(spec, (other, []))[1].append(str(path))
                elif md5 in gone and not gone[md5]:
                    findings.append(_missing_object(where, md5, remote_name))
                    gone[md5] = True
                continue
            asked.add(md5)
            size = store.size(md5)
            other = elsewhere(spec) if size is None else None
            if size is None:
                gone[md5] = other is None
            if other is not None:
                kept.setdefault(spec, (other, []))[1].append(str(path))
            elif size is None:
                findings.append(_missing_object(where, md5, remote_name))
            elif recorded_size is not None and not md5.endswith(".dir") and size != recorded_size:
                findings.append(Finding(where, f"object {md5} in remote {remote_name} has {size} bytes, the record says {recorded_size}",
                                        "it is corrupt: delete it from the remote and `mlver push` a good copy"))
            elif deep and not md5.endswith(".dir") and store.md5_of(md5) != md5:
                findings.append(Finding(where, f"object {md5} in remote {remote_name} does not hash to its name",
                                        "it is corrupt: delete it from the remote and `mlver push` a good copy"))
            elif md5.endswith(".dir"):
                findings += _manifest_findings(store, md5, where)
            if progress:
                progress(recorded_size or 0)
    return len(asked), remote_name, findings, kept


def _missing_object(where: str, md5: str, remote_name: str) -> Finding:
    return Finding(where, f"object {md5} is missing from remote {remote_name}",
                   "push it from a machine that has it: `mlver push`")


def _keep_verdict(project: Project, keep: str, passed: _RecordPass, events: list[Event], record_findings: list[Finding],
                  history: list[Finding], parent_findings: list[Finding], seen: list[Finding], tagged: int) -> None:
    """What an offline verify found, kept for the next run over the same refs (mlver.api.verdicts)."""
    now = int(time.time())
    verdicts.save(project, keep, verdicts.Kept(
        record_findings, history, parent_findings, seen, verdicts.journal_digest(git.private_path(project.root, SEEN_VERSIONS)),
        [(e.name, e.timestamp) for e in events if e.info and e.timestamp > now], now, sorted(passed.inside),
        (len(passed.digests), tagged),
    ))


def _shallow_notes(shallow: bool, beyond: list[str], parents: int) -> list[str]:
    if not shallow:
        return []
    missing = (f"{len(beyond)} tag(s) name commits past its boundary ({', '.join(beyond[:3])}"
               f"{', ...' if len(beyond) > 3 else ''}) and {parents} parent link(s) lead past it: not checked"
               if beyond or parents else "every record and parent link it names is inside it")
    return [f"this clone is shallow: {missing}; whether each version's record was ever on a branch, and the policy "
            "before its oldest commit, were not checked either. `git fetch --unshallow --tags` gives verify the whole history"]


class _Parents:
    """Parent links: the record each one replaced, by commit and digest, one
    check per distinct record. Records arrive newest first, so a link waits
    for its parent, which nearly always arrives soon after (the model's
    record before): about one link per model waits at a time. The others
    wait for the end (then read, when no tag names them)."""

    def __init__(self, shallow: bool = False) -> None:
        self.shallow = shallow
        self.unchecked = 0  # links to a commit a shallow clone does not have
        self.done: set[str] = set()  # record digests whose parent link was checked
        self.found: list[tuple[int, Finding]] = []  # (when its record arrived, the finding)
        self.waiting: dict[str, list[tuple[int, str, str, str]]] = {}  # parent spec -> (arrival, model, commit, promised digest)
        self.paths: dict[str, str] = {}  # model -> its record's path
        self.arrivals = 0

    def check(self, spec: str, subject: _Subject, facts: RecordFacts, digests: Mapping[str, str]) -> None:
        self.arrivals += 1
        if not facts.parent or facts.digest in self.done:
            return
        self.done.add(facts.computed if facts.intact else facts.digest)  # (equal when intact: one string kept, not two)
        path = self.paths.get(subject.model) or self.paths.setdefault(subject.model, rec.record_path(subject.model))
        parent = f"{facts.parent[0]}:{path}"
        link = (self.arrivals, subject.model, subject.commit, facts.parent[1])
        if parent in digests:
            self._judge(link, digests[parent])
        else:
            self.waiting.setdefault(parent, []).append(link)

    def arrived(self, spec: str, digest: str) -> None:
        """``spec``'s record was read: the links waiting for it are judged."""
        for link in self.waiting.pop(spec, ()):
            self._judge(link, digest)

    def _judge(self, link: tuple[int, str, str, str], found: str | None) -> None:
        arrival, model, commit, promised = link
        if found != promised:
            self.found.append((arrival, Finding(
                f"{model}@{commit[:12]}", "the parent record is missing or differs from the one recorded",
                "the history of the record was rewritten: compare `git log` with the parent commit")))

    def rest(self, digests: Mapping[str, str], cache: FactCache) -> list[Finding]:
        """The links still waiting, judged; every finding, oldest record first."""
        waiting, self.waiting = self.waiting, {}
        unknown = [spec for spec in waiting if spec not in digests]
        read = dict(cache.records([(spec, waiting[spec][0][1], spec.partition(":")[0]) for spec in unknown]))
        commits = {spec.partition(":")[0] for spec in unknown}
        present = set(cache.commit_times(commits)) if self.shallow else commits
        for spec, links in waiting.items():
            for link in links:
                if spec in digests:
                    self._judge(link, digests[spec])
                elif spec.partition(":")[0] not in present:
                    self.unchecked += 1  # past a shallow clone's boundary: nothing to compare with
                else:
                    other = read.get(spec)
                    # A crafted parent (too deep, wrong shape) is no parent this record had.
                    self._judge(link, other.computed if isinstance(other, RecordFacts) else None)
        return [finding for _, finding in sorted(self.found, key=lambda f: -f[0])]
