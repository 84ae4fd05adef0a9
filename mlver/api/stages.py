"""The registry's other writes: promote, rollback, deprecate (GTO's tag formats)."""
from __future__ import annotations

from collections.abc import Callable

from mlver.adapters import git
from mlver.api import trust
from mlver.api._common import intact_record, iso, load_registry, resolve
from mlver.domain.policy import breaches
from mlver.domain.refs import Ref, locate, parse_ref
from mlver.domain.registry import Event, ModelState, TagInfo
from mlver.domain.tags import Action, TagName, check_artifact, check_name
from mlver.errors import (
    AlreadyDeprecated,
    AlreadyInStage,
    GateMetricMissing,
    GateNotMet,
    InvalidReference,
    NothingToRollBack,
    RecordNotFound,
    StageNotAllowed,
    StageNotFound,
    StageOrderViolated,
    StagePinned,
    UnknownModel,
)
from mlver.models import RegistryWrite
from mlver.project import PathLike, Project

ROLLBACK_MARK = "mlver-rollback-from:"
FORCED_MARK = "mlver-forced:"
DIGEST_MARK = "mlver-digest:"


def digest_in(message: str) -> str | None:
    """The record digest a tag message promises (None: not a tag mlver made)."""
    if DIGEST_MARK not in message:
        return None  # (a stage tag: a verify asks 300,000 times, most of them of messages without it)
    for line in message.splitlines():
        if line.startswith(DIGEST_MARK):
            return line[len(DIGEST_MARK):].strip()
    return None


def _tag(project: Project, tag: TagName, commit: str, message: str, state: ModelState | None) -> str:
    """Write a registry event, in a second of its own: within one second GTO
    orders events by kind and version, not in the order they were made, so
    a promote right after another would not win in `gto show` (nor in mlver,
    which reads ties as GTO does). Waits at most a second."""
    if tag.action in (Action.DEPRECATE, Action.DEREGISTER):
        # A deprecation loses a tie with any other event; GTO orders a
        # deregistration before an assignment of the same second.
        rivals = [e for e in state.events if e.tag.action is not Action.DEPRECATE] if state else []
    elif tag.action in (Action.ASSIGN, Action.UNASSIGN):  # ties with the stage's other events
        rivals = _stage_events(state, tag.stage) if state else []
    else:
        rivals = []
    last = max((e.timestamp for e in rivals), default=0)
    after_second(last)
    name = tag.format()
    git.create_tag(project.root, name, commit, message, sign=trust.signs(project))
    return name


def after_second(last: int) -> None:
    """Return once git would date a new tag after second ``last``. Git reads
    the clock with time(2), which on Linux is the coarse clock, a tick (up to
    10 ms) behind the one time.sleep wakes on: sleeping to the second's end
    alone let a tag be dated in ``last`` now and then, and tie."""
    import time

    coarse = getattr(time, "CLOCK_REALTIME_COARSE", None)

    def now() -> float:
        return time.clock_gettime(coarse) if coarse is not None else time.time() - 0.02

    wait = last + 1 - now()
    if wait > 1:  # a tag dated further ahead: _confirm reports it
        return
    while wait > 0:
        time.sleep(wait + 0.001)
        wait = last + 1 - now()
    # The coarse clock past the second was still, once in a few thousand waits here
    # (a VM's clock), a time(2) of that second: ask time(2) itself, briefly.
    seconds, deadline = _time2(), time.monotonic() + 1
    while seconds() <= last and time.monotonic() < deadline:
        time.sleep(0.002)


def _time2() -> Callable[[], int]:
    """time(2), which git dates tags with; else the fine clock less a tick."""
    import time

    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.time.restype, libc.time.argtypes = ctypes.c_long, [ctypes.c_void_p]
        return lambda: int(libc.time(None))
    except (OSError, AttributeError):
        return lambda: int(time.time() - 0.02)


def _next(state: ModelState | None) -> int:
    # GTO numbers every counted tag of an artifact with one shared counter.
    return (state.max_number if state else 0) + 1


def _stage_events(state: ModelState, stage: str) -> list[Event]:
    return [e for e in state.events if e.tag.stage == stage and e.tag.action in (Action.ASSIGN, Action.UNASSIGN)]


def _ever_held(state: ModelState, version: str, stage: str) -> bool:
    return any(
        e.tag.action is Action.ASSIGN and state.version_of(e.commit) == version for e in _stage_events(state, stage)
    )


def promote(ref: str, stage: str, force: bool = False, repo: PathLike = None) -> RegistryWrite:
    """Assign ``stage`` to a version, checking the policy's order and gates."""
    project = Project.find(repo)
    with git.registry_lock(project.root):
        return _promote(project, ref, stage, force)


def _promote(project: Project, ref: str, stage: str, force: bool) -> RegistryWrite:
    parsed = parse_ref(ref)
    check_name(stage, "stage")
    registry = load_registry(project, parsed.model, detail=True)
    _, commit, version = resolve(project, parsed, registry)
    state = registry.model(parsed.model)
    if version is None or state is None:
        raise InvalidReference(ref, "only a released version can hold a stage; release it first with `mlver release`")
    label = f"{parsed.model}@{version}"
    record = intact_record(project, parsed.model, commit, label, derived_ok=True)
    policy = project.config.policy
    if policy.stages and stage not in policy.stages:
        raise StageNotAllowed(stage, policy.stages)
    if state.stages.get(stage) == version:
        raise AlreadyInStage(label, stage, parsed.model)
    forced: list[str] = []
    metrics = record.typed.metrics or {}
    for breach in breaches(policy, stage, _ever_held(state, version, policy.previous(stage) or ""), metrics):
        if breach.kind == "metric":
            raise GateMetricMissing(stage, breach.metric, label, sorted(metrics))
        if breach.kind == "order" and not force:
            previous = policy.previous(stage)
            raise StageOrderViolated(label, stage, previous or "")
        if breach.kind == "gate" and not force:
            raise GateNotMet(label, stage, breach.text.removeprefix("gate "))
        forced.append(breach.text)
    message = f"Assigning stage {stage} to artifact {parsed.model} version {version}\n\n"
    message += f"{DIGEST_MARK} {record.digest}\n" if record.digest else ""
    if forced:
        message += f"{FORCED_MARK} {'; '.join(forced)}\n"
    tag = _tag(project, TagName(Action.ASSIGN, parsed.model, stage=stage, number=_next(state)), commit, message, state)
    _confirm(project, parsed.model, stage, version, tag, holds=True, before=state)
    return RegistryWrite("assign", parsed.model, tag, commit, version, stage, tuple(forced), derived=record.derived)


def _confirm(project: Project, model: str, stage: str, version: str, tag: str, holds: bool,
             before: ModelState | None) -> None:
    """Read the registry again after writing ``tag``: the stage must now be
    (``holds``) or no longer be with ``version``. A tag dated in the future
    outranks every event written before that date, so the write may have
    changed nothing; then it is taken back and the culprit named. The tags
    read ``before`` (under the registry lock) are not listed again, nor their
    objects read (an object id names its content): only the new tag is."""
    known = {e.obj: e.info for e in before.events if e.info is not None} if before else {}

    def infos(objects: list[str]) -> dict[str, TagInfo]:
        missing = [o for o in objects if o not in known]
        return {**known, **git.tag_infos(project.root, missing)} if missing else known

    made = git.tag_ref(project.root, tag)
    refs = None
    if made is not None:  # else the full read below finds it missing, and says so
        refs = [(e.name, e.obj, e.commit) for e in before.events if e.name != tag] if before else []
        refs.append(made)
    state = load_registry(project, model, detail=True, refs=refs, tag_infos=infos).model(model)
    if state is not None and (state.stages.get(stage) == version) == holds:
        return
    others = [e for e in _stage_events(state, stage) if e.name != tag] if state else []
    git.delete_tag(project.root, tag)
    blocker = max(others, key=lambda e: e.order) if others else None
    if blocker is None:  # nothing else decides this stage: a bug, not a user's problem
        raise RuntimeError(f"{tag} was written but the registry does not show it")
    raise StagePinned(model, stage, version, state.stages.get(stage) if state else None, blocker.name, iso(blocker.timestamp))


def holders(state: ModelState, stage: str) -> list[str]:
    """The stage's holders as a stack, oldest first: a rollback pops the one it
    rolls back from, so rolling back twice keeps going back, not to and fro."""
    stack: list[str] = []
    for event in _stage_events(state, stage):
        version = state.version_of(event.commit) or event.commit
        message = event.info.message if event.info else ""
        if event.tag.action is Action.UNASSIGN:
            stack = [v for v in stack if v != version]
        elif ROLLBACK_MARK in message:
            rolled_from = message.split(ROLLBACK_MARK, 1)[1].split()[0]
            stack = [v for v in stack if v != rolled_from]
            if not stack or stack[-1] != version:
                stack.append(version)
        else:
            stack = [v for v in stack if v != version] + [version]
    return [v for v in stack if v not in state.deregistered]


def rollback(name: str, stage: str, repo: PathLike = None) -> RegistryWrite:
    """Give ``stage`` back to the version that held it before, as a new event."""
    project = Project.find(repo)
    with git.registry_lock(project.root):
        return _rollback(project, name, stage)


def _rollback(project: Project, name: str, stage: str) -> RegistryWrite:
    check_artifact(name)
    check_name(stage, "stage")
    state = load_registry(project, name, detail=True).model(name)
    if state is None:
        project.model(name)
        raise StageNotFound(name, stage)
    current = state.stages.get(stage)
    if current is None:
        raise StageNotFound(name, stage)
    stack = holders(state, stage)
    earlier = [v for v in stack if v != current]
    if not earlier or earlier[-1] not in state.versions:
        raise NothingToRollBack(name, stage)
    target = earlier[-1]
    commit = state.versions[target].commit
    record = intact_record(project, name, commit, f"{name}@{target}", derived_ok=True)
    message = (
        f"Assigning stage {stage} to artifact {name} version {target}\n\n"
        f"{ROLLBACK_MARK} {current}\n" + (f"{DIGEST_MARK} {record.digest}\n" if record.digest else "")
    )
    tag = _tag(project, TagName(Action.ASSIGN, name, stage=stage, number=_next(state)), commit, message, state)
    _confirm(project, name, stage, target, tag, holds=True, before=state)
    return RegistryWrite("rollback", name, tag, commit, target, stage, rolled_back_from=current, derived=record.derived)


def deprecate(ref: str, repo: PathLike = None) -> RegistryWrite:
    """``NAME@vX.Y.Z``: deregister a version; ``NAME#stage``: un-assign the
    stage; ``NAME``: deprecate the whole model. GTO's formats for each."""
    project = Project.find(repo)
    with git.registry_lock(project.root):
        return _deprecate(project, ref)


def _deprecate(project: Project, ref: str) -> RegistryWrite:
    parsed = parse_ref(ref)
    registry = load_registry(project, parsed.model, detail=True)  # detail: every event's time
    state = registry.model(parsed.model)
    if state is None:
        if parsed.model not in project.declared_models():
            raise UnknownModel(parsed.model, sorted(project.declared_models()))
    model = parsed.model
    if parsed.rev:
        raise InvalidReference(ref, "deprecate takes NAME, NAME@vX.Y.Z or NAME#stage")
    if parsed.stage:
        commit, version = locate(parsed, state) or ("", None)  # StageNotFound when no one holds it
        held = version or commit  # a stage GTO put on a bare commit names that commit
        message = f"Unassigning stage {parsed.stage} from artifact {model} version {held}\n"
        tag = _tag(project, TagName(Action.UNASSIGN, model, stage=parsed.stage, number=_next(state)), commit, message, state)
        _confirm(project, model, parsed.stage, held, tag, holds=False, before=state)
        return RegistryWrite("unassign", model, tag, commit, held, parsed.stage)
    if parsed.version:
        _, commit, version = resolve(project, parsed, registry)
        message = f"Deregistering artifact {model} version {version}\n"
        tag = _tag(project, TagName(Action.DEREGISTER, model, version=version or "", number=_next(state)), commit, message, state)
        return RegistryWrite("deregister", model, tag, commit, version)
    if state is not None and state.deprecated:
        raise AlreadyDeprecated(model)
    target, latest = locate(Ref(model), state) or (git.head(project.root), None)
    if target is None:
        raise RecordNotFound(model, "HEAD")
    tag = _tag(project, TagName(Action.DEPRECATE, model, number=_next(state)), target, f"Deprecating artifact {model}\n", state)
    return RegistryWrite("deprecate", model, tag, target, latest)
