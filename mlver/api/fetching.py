"""``pull REF --repo GIT_URL``: a model out of storage on a machine with no clone.

The registry is folded from ``git ls-remote --tags`` (names and commits, no
objects); only stage tags' objects are fetched (their time orders stage
events, as in GTO), then the one commit holding the record, one deep, into a
temporary bare repository. The record names the remote; that remote's
settings come from ``.dvc/config`` at the same commit. A version GTO made
(no record) gets the lineage derived from that commit (mlver/api/derived.py)
and the default remote there. Lightweight tags are not events, as in GTO.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlver.adapters import dvc, git, gitremote, remotestat
from mlver.adapters.storage import Progress
from mlver.adapters.verified import expected
from mlver.api import placing, trust
from mlver.api._common import record_from_bytes
from mlver.api.derived import derive_at, git_artifact_bytes
from mlver.api.objects import Start, each, foreign_store, locked, store_fill
from mlver.domain import record as rec
from mlver.domain import tags, validate
from mlver.domain.refs import locate, parse_ref
from mlver.domain.registry import Event, fold
from mlver.domain.tags import Action
from mlver.errors import (
    PUSH_AGAIN,
    InvalidReference,
    ModelNotInRepository,
    NoArtifactHash,
    ObjectCorrupt,
    ObjectMissing,
    RecordNotFound,
    RecordTampered,
    RemoteAccessError,
    RemoteFsError,
    StageNotFound,
    VersionNotFound,
)
from mlver.models import PullResult, Record


def resolve_remote(url: str, bare: Path, text: str) -> tuple[str, str, str | None, str]:
    """``resolve`` for a repository we have no clone of -> (model, commit
    holding the record, version or None, tag to fetch it by)."""
    ref = parse_ref(text)
    if ref.rev:
        raise InvalidReference(text, "with --repo, use NAME, NAME@vX.Y.Z or NAME#stage (a git revision needs a clone)")
    entries = []
    known = set()
    for name, obj, commit in gitremote.ls_remote_tags(bare, url):
        parsed = tags.parse(name)
        if parsed is None or obj == commit:
            continue  # a lightweight tag (no peeled ^{} line): GTO reads only annotated tags, as load_registry does
        known.add(parsed.model)
        if parsed.model == ref.model:
            entries.append((parsed, name, obj, commit))
    if not entries:
        raise ModelNotInRepository(ref.model, url, sorted(known))
    # Only this stage's events decide who holds it: fetch just their tags.
    staged = [(p, n, o) for p, n, o, _ in entries
              if p.action in (Action.ASSIGN, Action.UNASSIGN) and p.stage == ref.stage] if ref.stage else []
    signing = trust.remote_trust()
    if signing.required:  # every tag that can decide the answer is fetched and verified
        staged = [(p, n, o) for p, n, o, _ in entries if not ref.version or p.version == ref.version]
    infos = {}
    if staged:
        # GTO orders stage events by tag time: those tag objects are needed.
        gitremote.fetch_tags(bare, url, [n for _, n, _ in staged])
        infos = git.tag_infos(bare, [o for _, _, o in staged])
    events = [Event(p, n, c, infos.get(o)) for p, n, o, c in entries]
    registry, refusal = trust.verified_fold(bare, events, ref, signing) if signing.required else (fold(events), None)
    state = registry.model(ref.model)
    if refusal and (state is None or not state.latest()):
        raise refusal
    try:
        found = locate(ref, state)
    except (VersionNotFound, StageNotFound):
        if refusal:
            raise refusal from None
        raise
    if found is None or state is None:  # no version released (locate answers only from a state)
        raise ModelNotInRepository(ref.model, url, sorted(known))
    commit, version = found
    if version is None:  # a stage on a bare commit: fetch it by the stage tag
        tag = max((e for e in state.events if e.commit == commit and e.tag.stage == ref.stage), key=lambda e: e.order)
        return ref.model, commit, None, tag.name
    return ref.model, commit, version, state.versions[version].name


def pull_from_repo(ref: str, git_url: str, out: str | None = None, start: Start | None = None,
                   progress: Progress | None = None, trust_endpoint: bool = False,
                   notice: Callable[[str], None] | None = None, remote: str | None = None,
                   overrides: dict[str, str] | None = None) -> PullResult:
    """Resolve ``ref`` in the repository at ``git_url`` and download its artifact, verified,
    from the first remote that has it (mlver/api/sources.py)."""
    with remotestat.Ledger() as ledger:  # a folder remote's objects mlver hashed before are not hashed again
        return _pull_from_repo(ref, git_url, out, start, progress, trust_endpoint, notice, remote, overrides, ledger)


def _pull_from_repo(ref: str, git_url: str, out: str | None, start: Start | None, progress: Progress | None,
                    trust_endpoint: bool, notice: Callable[[str], None] | None, remote: str | None,
                    overrides: dict[str, str] | None, ledger: remotestat.Ledger) -> PullResult:
    from mlver.api.sources import repo_store

    with tempfile.TemporaryDirectory(prefix="mlver-repo-") as tmp:
        bare = Path(tmp) / "repo.git"
        gitremote.init_bare(bare)
        model, commit, version, tag = resolve_remote(git_url, bare, ref)
        if not gitremote.has_commit(bare, commit):
            gitremote.fetch_tags(bare, git_url, [tag])
        record_spec, config_spec = f"{commit}:{rec.record_path(model)}", f"{commit}:.dvc/config"
        blobs = git.read_blobs(bare, [record_spec, config_spec])
        # Every commit resolve_remote answers is a registry entry: one GTO made has
        # no record, and gets the lineage its commit says, as a local pull does.
        derived = derive_at(bare, model, commit) if blobs[record_spec] is None else None
        label = f"{model}@{version}" if version else f"{model}@{commit[:12]}"
        if derived is not None:
            record = derived
        elif (content := blobs[record_spec]) is None:
            raise RecordNotFound(model, label)
        else:
            record = record_from_bytes(model, commit, content)
        if not record.intact:
            raise RecordTampered(model, label, rec.record_path(model))
        artifact = record.doc.get("artifact") or {}
        if record.derived and not artifact.get("md5"):
            raise NoArtifactHash(label, artifact.get("path") or model, commit)
        content = git_artifact_bytes(bare, record)
        if content is not None:  # committed to git: the commit fetched holds it, as `dvc artifacts get` reads it
            return _pull(_Bytes(artifact["md5"], content), "git", record, ref, model, version, commit, label, out,
                         start, progress)
        name, store = repo_store(bare, git_url, record, label, (blobs[config_spec] or b"").decode(errors="replace"),
                                 remote, overrides or {}, lambda r: foreign_store(r, git_url, trust_endpoint, notice, ledger))
    try:
        return _pull(store, name, record, ref, model, version, commit, label, out, start, progress)
    except (RemoteAccessError, RemoteFsError) as exc:
        if getattr(store, "anonymous", False) and exc.kind in ("access-denied", "no-credentials", "bad-credentials",
                                                               "credentials"):
            exc.message += " (asked without your credentials)"
            where = store.endpoint_url or getattr(store, "url", None) or name
            exc.hint = f"if you trust {where}, pass --trust-endpoint to send it your credentials"
        raise


class _Bytes:
    """One object already in memory, read as a store: an artifact git holds."""

    jobs = 1

    def __init__(self, md5: str, content: bytes) -> None:
        self.md5, self.content = md5, content

    def has(self, md5: str) -> bool:
        return md5 == self.md5

    def size(self, md5: str) -> int | None:
        return len(self.content) if md5 == self.md5 else None

    def get(self, md5: str, dst: Path, progress: Progress | None = None) -> str:
        import hashlib

        dst.write_bytes(self.content)
        if progress:
            progress(len(self.content))
        return hashlib.md5(self.content).hexdigest()


def _pull(store: Any, name: str, record: Record, ref: str, model: str, version: str | None, commit: str,
          label: str, out: str | None, start: Start | None, progress: Progress | None) -> PullResult:
    import hashlib

    artifact = record.doc.get("artifact") or {}
    md5, where = artifact["md5"], f"{label} {artifact.get('path')}"
    name_in_repo = Path(artifact.get("path") or model).name
    dest = Path(out).resolve() if out else Path.cwd() / name_in_repo
    missing = ObjectMissing(where, md5, [f"remote {name}"], "push it from the machine that recorded it: `mlver push`")
    if not md5.endswith(".dir"):
        if dest.is_dir():
            dest = dest / name_in_repo  # like cp: into an existing folder
        if not store.has(md5):
            raise missing
        if start:
            start(1, store.size(md5) or 0)
        target = placing.Dest(md5, where, dest)
    else:
        manifest = store.read(md5)
        if manifest is None:
            raise missing
        if hashlib.md5(manifest).hexdigest() != expected(md5):
            raise ObjectCorrupt(where, f"directory manifest in remote {name}", "", "", PUSH_AGAIN)
        entries = dvc.parse_dir_manifest(manifest, f"{where} (manifest {md5})")
        for relpath, _ in entries:
            validate.check_inside(dest, dest / relpath, f"{where}/{relpath}")
        if start:
            start(len(entries), sum(store.size(m) or 0 for _, m in entries))
        target = placing.Dest(md5, where, dest, entries, own_folder=True)
    jobs = getattr(store, "jobs", 1)
    placed = placing.place(None, [target], store_fill(store, locked(progress)),
                           each=lambda fn, items: each(jobs, fn, items))
    files = placed.files
    return PullResult(ref, model, version, commit, tuple(files), len(files), sum(f.size for f in files),
                      derived=record.derived, written=placed.written, kept=placed.kept, removed=placed.removed)
