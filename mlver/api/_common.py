"""Reads shared by the verbs: records at any commit, the registry, ref resolution."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping

from mlver.adapters import git
from mlver.domain import record as rec
from mlver.domain import tags, validate
from mlver.domain.refs import Ref, locate, parse_ref
from mlver.domain.registry import Event, Registry, TagInfo, fold, latest_registrations
from mlver.domain.tags import Action
from mlver.errors import (
    InputTooLarge,
    InvalidReference,
    NoCommits,
    RecordNotFound,
    RecordShapeError,
    RecordTampered,
    StageNotFound,
    UnknownModel,
    UnreadableValue,
    VersionNotFound,
)
from mlver.models import Record
from mlver.project import Project


def iso(timestamp: int | float) -> str:
    from mlver.formats import utc_iso

    return utc_iso(timestamp)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_registry(project: Project, model: str | None = None, detail: bool = False, until: int | None = None,
                  refs: Iterable[tuple[str, str, str]] | None = None,
                  tag_infos: Callable[[list[str]], Mapping[str, TagInfo]] | None = None) -> Registry:
    """The registry from every tag: one pass over the tag listing, one
    ``cat-file`` for the tag objects the fold orders by, one for each
    model's latest version.

    Tag objects (who, when, message) are read for stage, deregistration and
    deprecation events, for each model's latest version, and, with
    ``detail`` (or ``until``), for every event. ``until`` (a unix time)
    folds only the events tagged up to then: the registry as it was.
    ``tag_infos`` reads tag objects instead of git (verify's cache).
    """
    read_infos = tag_infos or (lambda objects: git.tag_infos(project.root, objects))
    detail = detail or until is not None
    if refs is None:  # one model: its own tags only, whatever the repository holds
        refs = git.tag_refs(project.root) if model is None else git.model_tag_refs(project.root, tags.name_in_tag(model))
    refs = list(refs)
    # An annotated tag may point at a blob or a tree: git says which on the
    # other core while the names are parsed below.
    not_commits = git.non_commits_ahead(project.root, [commit for _, obj, commit in refs if obj != commit])
    ahead = model is None and not detail and tag_infos is None
    if ahead:
        # The fold needs the tag objects of stage, deregistration and deprecation
        # events, nearly all named with a '#' (the others are read when asked):
        # git reads them on the other core too.
        read_infos = git.tag_infos_ahead(project.root, [obj for name, obj, commit in refs if obj != commit and "#" in name])
    try:
        events, timed = _events(refs, model, detail)
    finally:
        kinds = not_commits()  # (collected also after a failure: it ends that git)
    ignored = _on_commits_only(kinds, events, timed)
    _read_into(timed, read_infos)
    if until is not None:
        events = [e for e in events if e.timestamp <= until]
    registry = fold(events)
    registry.ignored = ignored
    if detail:
        return registry
    registry = _latest_read(registry, events, read_infos)
    if ahead:
        read_infos([])  # collects the git that read ahead, even when nothing was asked of it
    return registry


def _latest_read(registry: Registry, events: list[Event],
                 read_infos: Callable[[list[str]], Mapping[str, TagInfo]]) -> Registry:
    """``registry`` (folded from ``events``) once the tag objects it needs
    beyond the fold's are read: the versions tied within one second, and
    each model's latest version (when it was released)."""
    tied = {name for name, state in registry.models.items() if state.ties}
    if tied:  # rare: a tie within one second is broken by when the versions were created
        _read_into([e for e in events if e.info is None and e.tag.model in tied], read_infos)
        ignored, registry = registry.ignored, fold(events)
        registry.ignored = ignored
    _read_into([e for s in registry.models.values() if (v := s.latest()) and (e := s.versions[v]).info is None],
               read_infos)
    return registry


def _events(refs: Iterable[tuple[str, str, str]], model: str | None, detail: bool) -> tuple[list[Event], list[Event]]:
    """The registry events among the annotated tags ``refs`` (of ``model``
    only, when given), and those of them whose tag object the fold needs:
    all with ``detail``, else stage, deregistration and deprecation events,
    the registrations a deprecation's time depends on and, for one model,
    its latest version."""
    parse, register, new_event = tags.parse, Action.REGISTER, Event
    events: list[Event] = []
    timed: list[Event] = []
    for name, obj, commit in refs:  # once per tag (110,000 at 100,000 versions): each step counts
        if obj == commit:
            continue  # a lightweight tag: GTO reads only annotated tags as events
        parsed = parse(name)
        if parsed is None or (model is not None and parsed.model != model):
            continue
        event = new_event(parsed, name, commit, None, obj)
        events.append(event)
        if detail or parsed.action is not register:
            timed.append(event)
    if not detail:
        # Whether a deprecated model is still deprecated depends on the time of
        # every later event, registrations included (rare: read them all then).
        deprecated = {e.tag.model for e in timed if e.tag.action is Action.DEPRECATE}
        if deprecated:
            timed += [e for e in events if e.tag.action is register and e.tag.model in deprecated]
        if model is not None:  # a few events: the latest version's tag object comes in the same call
            timed += [e for name, e in latest_registrations(events).items() if name not in deprecated]
    return events, timed


def _on_commits_only(not_commits: Mapping[str, str], events: list[Event],
                     timed: list[Event]) -> dict[str, tuple[str, str]]:
    """Drop from ``events`` and ``timed`` (in place) those whose tag points at
    ``not_commits`` (id -> its kind): GTO's events are commits' (``gto show``
    fails on a tag of a blob or tree), and no record, artifact or code is there.
    Returns the dropped tags' names -> (kind, id) of what they point at."""
    if not not_commits:
        return {}
    ignored = {e.name: (not_commits[e.commit], e.commit) for e in events if e.commit in not_commits}
    events[:] = [e for e in events if e.commit not in not_commits]
    timed[:] = [e for e in timed if e.commit not in not_commits]
    return ignored


def _read_into(events: list[Event], read_infos: Callable[[list[str]], Mapping[str, TagInfo]]) -> None:
    if events:
        infos = read_infos([e.obj for e in events])
        for event in events:
            event.info = infos.get(event.obj)


def record_from_bytes(model: str, commit: str | None, content: bytes | git.Oversized) -> Record:
    """A record read from git, checked before any of it becomes a path, an
    object key or a git argument (UntrustedInput otherwise): whoever could
    push to the repository could have written it."""
    content = record_bytes(model, commit, content)
    doc = checked_record_doc(model, commit, content)
    return Record(model=model, commit=commit, doc=doc, intact=doc.get("digest") == rec.content_digest(content, doc))


def checked_record_doc(model: str, commit: str | None, content: bytes | git.Oversized) -> dict:
    """The document of ``record_from_bytes``, checked, its digest not computed."""
    return checked_record(model, commit, content)[0]


def record_where(model: str, commit: str | None) -> str:
    """What an error about a record names it by."""
    return f"the record of {model} at {commit[:12] if commit else 'the workspace'}"


def record_bytes(model: str, commit: str | None, content: bytes | git.Oversized) -> bytes:
    """The content of a record read from git; one too large to be read is refused by its size."""
    if isinstance(content, git.Oversized):
        raise validate.too_large(content.size, record_where(model, commit))
    return content


def checked_record(model: str, commit: str | None, content: bytes | git.Oversized) -> tuple[dict, bool]:
    """``checked_record_doc``, and whether it passed at a glance (validate.check_record's answer);
    an Oversized one (git.read_blobs_bounded) is refused by its size."""
    where = record_where(model, commit)
    content = record_bytes(model, commit, content)
    validate.check_size(content, where)
    try:
        doc = rec.loads(content, model)
    except RecursionError:
        raise InputTooLarge("nesting", f"over {validate.MAX_DEPTH} levels", where,
                            "no mlver document is nested that deep") from None
    # No deeper than it has containers: most records need no walk for their depth.
    plain = validate.check_record(doc, where, containers=content.count(b"{") + content.count(b"["))
    if "derived" in doc:  # what push, verify and gc skip for lineage mlver derived (domain/record.py)
        raise RecordShapeError("derived", doc["derived"], where,
                               "only lineage mlver derives from a commit is marked derived, never a record file")
    return doc, plain


def read_record(project: Project, model: str, commit: str) -> Record | None:
    content = git.read_blob_bounded(project.root, commit, rec.record_path(model))
    if content is None:
        return None
    return record_from_bytes(model, commit, content)


def models_at(project: Project, commit: str) -> list[str]:
    """The models with a record at ``commit`` (a monorepo model's is in a folder)."""
    out = git.run(project.root, "ls-tree", "-r", "-z", "--name-only", commit, "--", rec.RECORDS_DIR, check=False)
    return sorted(m for m in map(rec.record_model, out.split("\0")) if m)


def known_models(project: Project, registry: Registry) -> list[str]:
    names = set(registry.models)
    names.update(project.declared_models())
    names.update(project.datasets())
    return sorted(names)


def declared(project: Project, name: str) -> bool:
    """A model or dataset the project declares (mlver.yaml or dvc.yaml)."""
    return name in project.declared_models() or name in project.datasets()


def resolve(project: Project, text: str | Ref, registry: Registry | None = None) -> tuple[Ref, str, str | None]:
    """A reference -> (parsed ref, commit holding the record, version or None).
    The registry's answer is ``refs.locate``'s; a bare name with no version
    released is the record at HEAD."""
    ref = parse_ref(text) if isinstance(text, str) else text
    registry = registry or load_registry(project, ref.model)
    state = registry.model(ref.model)
    if ref.rev:
        commit = git.resolve_commit(project.root, ref.rev)
        if commit is None:
            if state is None and not declared(project, ref.model):
                raise UnknownModel(ref.model, known_models(project, registry))
            if git.head(project.root) is None:
                raise NoCommits()
            raise InvalidReference(str(ref), f"{ref.rev!r} is not a version or a git revision")
        return ref, commit, state.version_at(commit) if state else None
    try:
        found = locate(ref, state)
    except (VersionNotFound, StageNotFound):
        if state is None and not declared(project, ref.model):
            raise UnknownModel(ref.model, known_models(project, registry)) from None
        raise
    if found is not None:
        return ref, *found
    if not declared(project, ref.model):
        raise UnknownModel(ref.model, known_models(project, registry))
    head = git.head(project.root)
    if head is None:
        raise RecordNotFound(ref.model, "HEAD")
    return ref, head, None


def resolve_record(project: Project, text: str | Ref, registry: Registry | None = None,
                   resolver: Callable[..., tuple[Ref, str, str | None]] = resolve) -> tuple[Ref, Record, str | None]:
    """A reference -> its record; a registry entry (a version, or a stage on a
    bare commit) without one gets the lineage derived from its commit."""
    ref, commit, version = resolver(project, text, registry)
    in_registry = version is not None or bool(ref.stage)
    record = version_record(project, ref.model, commit, in_registry)
    if record is None:
        raise RecordNotFound(ref.model, version and f"{ref.model}@{version}" or commit[:12])
    return ref, record, version


def version_record(project: Project, model: str, commit: str, in_registry: bool = True) -> Record | None:
    """The record at ``commit``, else (for a registry entry) the derived lineage:
    the one lookup every verb that reads a version's record goes through."""
    record = read_record(project, model, commit)
    if record is None and in_registry:
        from mlver.api.derived import derive_record

        record = derive_record(project, model, commit)
    return record


def parse_moment(text: str) -> int:
    """``2026-01-31`` (the end of that day, UTC) or an ISO time -> unix time."""
    try:
        if len(text) == 10:
            day = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC)
            return int(day.timestamp()) + 86399
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UnreadableValue("the time", text, "a date like 2026-01-31 or a time like 2026-01-31T12:00Z") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


def intact_record(project: Project, model: str, commit: str, label: str, derived_ok: bool = False) -> Record:
    """The record at ``commit``, refusing one that is missing or edited by hand:
    nothing may be released or promoted on a record its digest disowns.
    ``derived_ok``: a version with no record (made by GTO) gets its derived
    lineage instead (a stage may be assigned to it; it is not re-released)."""
    record = version_record(project, model, commit, derived_ok)
    if record is None:
        raise RecordNotFound(model, label)
    if not record.intact:
        raise RecordTampered(model, label, rec.record_path(model))
    return record
