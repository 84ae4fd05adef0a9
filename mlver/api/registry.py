"""The registry: release, ls, log, show."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from mlver.adapters import git
from mlver.api import pathlog, trust
from mlver.api._common import intact_record, iso, load_registry, parse_moment, resolve_record
from mlver.api.trust import signs
from mlver.domain import record as rec
from mlver.domain.refs import parse_ref
from mlver.domain.registry import ModelState, history_order
from mlver.domain.semver import BUMP_PARTS, Version
from mlver.domain.tags import Action, check_artifact, version_tag
from mlver.errors import (
    AlreadyReleased,
    NoCommits,
    NotARevision,
    OptionsExclusive,
    RecordNotFound,
    TagExists,
    UnknownChoice,
    VersionExists,
    VersionNotNewer,
)
from mlver.models import LogEvent, ModelSummary, ReleaseResult, Shown
from mlver.project import PathLike, Project

_BEFORE_FIRST = Version(0, 0, 0)
_T = TypeVar("_T")


def release(name: str, bump: str | None = None, version: str | None = None, rev: str = "HEAD", repo: PathLike = None) -> ReleaseResult:
    """Tag the record of ``name`` at ``rev`` as a new version (GTO format)."""
    project = Project.find(repo)
    with git.registry_lock(project.root):  # a racing release reads the registry after this one's tag
        return _release(project, name, bump, version, rev)


def _release(project: Project, name: str, bump: str | None, version: str | None, rev: str) -> ReleaseResult:
    check_artifact(name)
    if bump and version:
        raise OptionsExclusive("--bump", "--version", "e.g. `mlver release churn --bump minor`")
    if bump and bump not in BUMP_PARTS:
        raise UnknownChoice("bump", bump, list(BUMP_PARTS))
    wanted = Version.parse(version) if version else None
    commit = git.resolve_commit(project.root, rev)
    if commit is None:
        raise NoCommits() if git.head(project.root) is None else NotARevision(rev)
    state = load_registry(project, name).model(name)
    if state is not None and wanted is not None and str(wanted) in state.versions:
        raise VersionExists(name, str(wanted))
    try:
        record = intact_record(project, name, commit, rev)
    except RecordNotFound:
        project.model(name)  # an undeclared name gets UnknownModel, with the known names
        raise
    released = state.version_at(commit) if state else None
    if released:
        raise AlreadyReleased(name, released, commit)
    existing = [Version.parse(v) for v in state.versions] if state else []
    highest = max(existing) if existing else None
    if wanted is None:
        wanted = (highest or _BEFORE_FIRST).bump(bump or "minor")
    elif highest is not None and wanted < highest:
        raise VersionNotNewer(name, str(wanted), str(highest))
    tag = version_tag(name, wanted)
    message = (
        f"Registering artifact {name} version {wanted}\n\n"
        f"mlver-record: {rec.record_path(name)}\n"
        f"mlver-digest: {record.digest}\n"
    )
    try:  # a tag of that name the registry does not read (lightweight, say): git refuses it
        git.create_tag(project.root, tag, commit, message, sign=signs(project))
    except TagExists:
        raise VersionExists(name, str(wanted)) from None
    return ReleaseResult(name, str(wanted), tag, commit, record.digest)


# What ls shows of a model in the tags: latest version, its commit, when it
# was released, how many versions are active, stage holders, deprecated.
_Row = tuple[str | None, str | None, str | None, int, dict[str, str], bool]
_LS_CACHE = "ls-registry-2"
# The code rows are computed by: a changed fold never answers from rows the old one cached.
_ROW_CODE = tuple(Path(__file__).parents[1] / f"{m}.py"
                  for m in ("api/registry", "api/_common", "domain/registry", "domain/tags", "domain/semver"))


def _row(state: ModelState) -> _Row:
    latest = state.latest()
    event = state.versions[latest] if latest else None
    return (latest, event.commit if event else None, iso(event.timestamp) if event and event.info else None,
            state.active_count(), dict(sorted(state.stages.items())), state.deprecated)


def _valid_row(row: object) -> bool:
    return (isinstance(row, list) and len(row) == 6 and all(x is None or isinstance(x, str) for x in row[:3])
            and type(row[3]) is int and isinstance(row[4], dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in row[4].items()) and isinstance(row[5], bool))


def _registry_rows(project: Project, meanwhile: Callable[[], _T]) -> tuple[dict[str, _Row], _T]:
    """Every model in the tags -> its row. The rows are a function of the tag
    refs alone (names, objects, peeled commits; tag objects never change),
    so they are cached in .git/mlver/cache under the refs' state: the stat of
    packed-refs and the loose tag files (``git.tag_refs_state``, no git run),
    else the exact tag listing. Any tag added, deleted, moved, fetched or
    packed changes the key, and the cache misses. ``meanwhile`` runs while
    git lists the tags (its answer comes back with the rows)."""
    import hashlib

    from mlver.adapters import gitcache, statcache

    refs_state = git.tag_refs_state(project.root)  # before the refs are read: a change meanwhile misses next time
    listing = None
    if refs_state is None:
        listing = git.tag_listing(project.root)
        refs_state = b"listing\0" + listing.encode()
    key = hashlib.blake2b(refs_state + gitcache.code_stamp(*_ROW_CODE).encode(), digest_size=32).hexdigest().encode()
    cached = statcache.read_keyed(project.root, _LS_CACHE, key)
    if isinstance(cached, dict) and all(isinstance(k, str) and _valid_row(v) for k, v in cached.items()):
        return {k: tuple(v) for k, v in cached.items()}, meanwhile()
    pending = git.tag_listing_ahead(project.root) if listing is None else None
    try:
        done = meanwhile()  # git lists the tags on the other core meanwhile
    finally:
        text = pending() if pending is not None else listing  # also when meanwhile failed: that git ends
    import gc

    # A cold read of 100,000 tags makes ~5 objects per tag and no cycle: the
    # collector's passes over them were a third of the time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        refs = git.parse_tag_listing(text or "")
        registry = load_registry(project, refs=refs)
        rows = {name: _row(state) for name, state in registry.models.items()}
    finally:
        if collecting:
            gc.enable()
    statcache.write_keyed(project.root, _LS_CACHE, key, rows)
    return rows, done


def ls(deprecated: bool = False, repo: PathLike = None) -> list[ModelSummary]:
    """Every model and dataset: declared (mlver.yaml, dvc.yaml) or in the
    registry's tags. Deprecated ones are left out unless ``deprecated``, as
    ``gto show`` leaves them out unless ``-d``. Needs no ``mlver init``.
    Rows ``gto show`` does not list (declared, never versioned, and not in
    GTO's artifacts.yaml) say so: ``registry`` is False."""
    project = Project.find(repo, require_config=False)
    registry, (models, datasets, indexed) = _registry_rows(
        project, lambda: (project.declared_models(), project.datasets(), project.gto_indexed))
    out = []
    for name in sorted(set(registry) | set(models) | set(datasets)):
        declared, kind = name in models or name in datasets, "dataset" if name in datasets and name not in models else "model"
        row = registry.get(name)
        if row is None:
            out.append(ModelSummary(name, None, None, None, 0, {}, False, declared, kind, registry=name in indexed))
            continue
        latest, commit, released, versions, stages, is_deprecated = row
        if deprecated or not is_deprecated:
            out.append(ModelSummary(name, latest, commit, released, versions, dict(stages), is_deprecated, declared, kind))
    return out


_KIND = {
    Action.REGISTER: "release",
    Action.DEREGISTER: "deregister",
    Action.ASSIGN: "assign",
    Action.UNASSIGN: "unassign",
    Action.DEPRECATE: "deprecate",
}


def registry_events(name: str, state: ModelState) -> list[tuple[tuple[int, int, int], LogEvent]]:
    """Every registry event of a model (releases, stage assignments, rollbacks,
    deprecations) as ``log`` shows it, with its order key."""
    events: list[tuple[tuple[int, int, int], LogEvent]] = []
    for event in state.events:
        tag, info = event.tag, event.info
        version = tag.version or None
        if tag.action in (Action.ASSIGN, Action.UNASSIGN):
            version = state.version_of(event.commit)
        message = info.message if info else ""
        kind, note = _KIND[tag.action], ""
        if "mlver-rollback-from:" in message:
            kind, note = "rollback", "rolled back from " + message.split("mlver-rollback-from:", 1)[1].split()[0]
        if "mlver-forced:" in message:
            note = "forced: " + message.split("mlver-forced:", 1)[1].strip().splitlines()[0]
        events.append((history_order(event), LogEvent(
            kind=kind, model=name, commit=event.commit, note=note,
            author=info.tagger if info else "", email=info.email if info else "",
            time=iso(event.timestamp),
            message=info.message.splitlines()[0] if info and info.message else "",
            version=version, stage=tag.stage or None, tag=event.name,
        )))
    return events


def log(name: str, repo: PathLike = None) -> list[LogEvent]:
    """The audit trail of a model, newest first: trainings and registry events."""
    project = Project.find(repo, require_config=False)
    check_artifact(name)
    state = load_registry(project, name, detail=True).model(name)
    history = pathlog.history(project.root, rec.record_path(name))
    if state is None and not history:
        project.model(name)  # UnknownModel unless it is declared
    events: list[tuple[tuple[int, int, int], LogEvent]] = []
    for commit in history:
        events.append(((commit.timestamp, -1, 0), LogEvent(
            kind="record", model=name, commit=commit.commit, author=commit.author,
            email=commit.email, time=iso(commit.timestamp), message=commit.subject,
        )))
    events += registry_events(name, state) if state else []
    principals = trust.signers(project, state.events) if state else None
    if principals is not None:
        events = [(order, replace(e, signer=principals.get(e.tag or "", ""))) if e.tag else (order, e) for order, e in events]
    events.sort(key=lambda pair: pair[0], reverse=True)
    return [e for _, e in events]


def show(ref: str, at: str | None = None, repo: PathLike = None) -> Shown:
    """One record in full, with the versions and stages that point at it.

    ``at`` (a date or ISO time) resolves the reference as the registry stood
    then: ``churn#prod`` at 2026-01-31 is what held prod at the end of that day.
    """
    project = Project.find(repo, require_config=False)
    parsed = parse_ref(ref)
    until = parse_moment(at) if at else None
    registry = load_registry(project, parsed.model, until=until)
    _, record, _ = resolve_record(project, parsed, registry)
    state = registry.model(parsed.model)
    versions: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    if state is not None and record.commit:
        versions = tuple(sorted(
            (v for v in state.by_commit.get(record.commit, []) if v not in state.deregistered),
            key=state.semver.__getitem__,
        ))
        stages = tuple(sorted(s for s, v in state.stages.items() if v in versions or v == record.commit))
    return Shown(ref=str(parsed), record=record, versions=versions, stages=stages,
                 at=iso(until) if until is not None else None)
