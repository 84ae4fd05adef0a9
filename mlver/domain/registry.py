"""Registry state folded from tag events, as GTO reads them.

Versions come from the tag names alone (semver decides which is latest), so
reading them needs no tag object. Stage events are ordered by tagger time,
with the per-model counter breaking ties within a second, and only they
(plus what a caller asks for) need the tag objects read.

GTO's rules, which this fold follows (checked against the real ``gto`` by
tests/compat/test_gto_differential.py):

* a stage event belongs to the version registered at its commit, whenever
  that registration was tagged, even a deregistered one; at a commit with
  no version it belongs to the bare commit;
* a version is assigned to a stage when its latest event for that stage is
  an assignment; the stage is held by the assigned, still-registered
  version (or bare commit) assigned last. Deregistering the holder hands
  the stage back to the one before it, as does un-assigning it;
* an artifact is deprecated while its latest event is the deprecation: a
  version registered or a stage assigned afterwards brings it back;
* lightweight tags are not events (the loader drops them, as GTO does);
  nor are annotated tags on a blob or a tree (the loader drops them and
  names them in ``Registry.ignored``; ``gto show`` fails on them).

Within one second, GTO's order, not the tag counter (GTO's objects keep
their events sorted by tag time only, stably, and read the newest first):

* an un-assignment beats an assignment of the same version and stage;
* of two versions assigned to one stage in one second, the one created
  first holds it (its registration, or a bare commit's latest stage event),
  then the one whose first tag comes first by (time, name);
* any other event of the model beats a deprecation.

mlver's own writes never tie: a registry write waits for the next second
when the model's last event is in this one (mlver/api/stages.py).
"""
from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from mlver.domain.semver import precedence
from mlver.domain.tags import Action, TagName


class TagInfo(Protocol):
    """What the fold reads of a tag object (adapters/git.py's frozen TagInfo): read-only."""

    @property
    def tagger(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def message(self) -> str: ...


@dataclass(slots=True)  # one per tag: 110,000 at a time
class Event:
    tag: TagName
    name: str  # the tag as written
    commit: str  # the commit it points at
    info: TagInfo | None = None  # None until the tag object is read
    obj: str = ""  # the tag object's id (what info is read from)

    @property
    def timestamp(self) -> int:
        return self.info.timestamp if self.info else 0

    @property
    def order(self) -> tuple[int, int]:
        return _order(self)


# Within one second `gto history` tells events by kind, in this order (GTO's
# event priorities); the registry's state does not depend on it, the log's order does.
HISTORY_RANK = {Action.DEPRECATE: 2, Action.REGISTER: 3, Action.DEREGISTER: 4, Action.ASSIGN: 5, Action.UNASSIGN: 6}


def history_order(event: Event) -> tuple[int, int, int]:
    """Where ``event`` stands in a model's history as ``gto history`` tells it:
    by second, then kind, then counter."""
    return (event.info.timestamp if event.info else 0, HISTORY_RANK[event.tag.action], event.tag.number or 0)


def _order(event: Event) -> tuple[int, int]:
    # Not through .timestamp: a fold computes this for every event.
    return (event.info.timestamp if event.info else 0, event.tag.number or 0)


@dataclass
class ModelState:
    name: str
    versions: dict[str, Event] = field(default_factory=dict)  # version -> register event
    semver: dict[str, tuple] = field(default_factory=dict)  # version -> precedence key
    deregistered: set[str] = field(default_factory=set)
    stages: dict[str, str] = field(default_factory=dict)  # stage -> version (or a bare commit)
    deprecated: bool = False
    unsorted: list[Event] = field(default_factory=list, repr=False)  # events as the fold met them
    max_number: int = 0
    ties: bool = False  # two versions tied for a stage within one second (registration times decide)
    by_commit: dict[str, list[str]] = field(default_factory=dict)  # every version ever registered there

    _sorted: bool = field(default=False, repr=False, compare=False)

    @property
    def events(self) -> list[Event]:
        """Every event of the model in time order (tagger time, then counter).
        Sorted on first use: `ls` never reads them, at 110,000 tags the sort
        was a tenth of its time."""
        if not self._sorted:
            self.unsorted.sort(key=_order)
            self._sorted = True
        return self.unsorted

    def _live(self) -> Collection[str]:
        return [v for v in self.versions if v not in self.deregistered] if self.deregistered else self.versions

    def active_versions(self) -> list[str]:
        return sorted(self._live(), key=self.semver.__getitem__)

    def active_count(self) -> int:
        return len(self.versions) - sum(1 for v in self.deregistered if v in self.versions)

    def latest(self) -> str | None:
        live = self._live()
        return max(live, key=self.semver.__getitem__) if live else None

    def version_at(self, commit: str) -> str | None:
        """The newest active version released at ``commit``."""
        hits = [v for v in self.by_commit.get(commit, ()) if v not in self.deregistered]
        return max(hits, key=self.semver.__getitem__) if hits else None

    def version_of(self, commit: str) -> str | None:
        """The version a stage event at ``commit`` belongs to: the active one
        registered there, else the newest deregistered one (as GTO does)."""
        hits = self.by_commit.get(commit, ())
        return self.version_at(commit) or (max(hits, key=self.semver.__getitem__) if hits else None)


@dataclass
class Registry:
    models: dict[str, ModelState]
    # Tags in the registry's format that point at no commit: name -> (kind, id) of what they point at.
    ignored: dict[str, tuple[str, str]] = field(default_factory=dict)

    def model(self, name: str) -> ModelState | None:
        return self.models.get(name)


def latest_registrations(events: Iterable[Event]) -> dict[str, Event]:
    """Per model, the registration of its latest version still in force (as
    ``ModelState.latest`` says after the fold), from the tag names alone."""
    registered: dict[str, dict[str, Event]] = {}
    gone: set[tuple[str, str]] = set()
    for event in events:
        tag = event.tag
        if tag.action is Action.REGISTER:
            registered.setdefault(tag.model, {}).setdefault(tag.version, event)
        elif tag.action is Action.DEREGISTER:
            gone.add((tag.model, tag.version))
    out: dict[str, Event] = {}
    for model, versions in registered.items():
        live = [v for v in versions if (model, v) not in gone]
        if live:
            out[model] = versions[max(live, key=precedence)]
    return out


def fold(events: Iterable[Event]) -> Registry:
    models: dict[str, ModelState] = {}
    staged: list[Event] = []
    deprecated: set[str] = set()
    register, deregister, deprecate = Action.REGISTER, Action.DEREGISTER, Action.DEPRECATE
    for event in events:  # once per tag: registrations (nine in ten) take the fewest steps
        tag = event.tag
        state = models.get(tag.model)
        if state is None:  # not setdefault: a ModelState per event was a third of the fold at 100,000 tags
            state = models[tag.model] = ModelState(tag.model)
        state.unsorted.append(event)
        action = tag.action
        if action is register:
            version = tag.version
            if version not in state.versions:
                state.versions[version] = event
                state.semver[version] = precedence(version)
                commits = state.by_commit.get(event.commit)
                if commits is None:
                    state.by_commit[event.commit] = [version]
                else:
                    commits.append(version)
        elif action is deregister:
            state.deregistered.add(tag.version)
        elif action is deprecate:
            deprecated.add(tag.model)
        else:
            staged.append(event)
        if tag.number and tag.number > state.max_number:
            state.max_number = tag.number
    _hold_stages(models, staged)
    for name in deprecated:  # the others are not deprecated, whatever their other events say
        state = models[name]
        deprecations = [e.timestamp for e in state.unsorted if e.tag.action is Action.DEPRECATE]
        others = [e.timestamp for e in state.unsorted if e.tag.action is not Action.DEPRECATE]
        state.deprecated = not others or max(deprecations) > max(others)
    return Registry(models)


def _hold_stages(models: dict[str, ModelState], staged: list[Event]) -> None:
    """Each stage's holder from its assignment and un-assignment events (GTO's
    rules, the module's docstring): the still-registered version (or bare
    commit) whose latest event for the stage is the latest assignment."""
    # Within a second an un-assignment comes after an assignment: the last one wins.
    staged.sort(key=lambda e: (e.timestamp, e.tag.action is Action.UNASSIGN, e.tag.number or 0))
    # (model, stage) -> key (version or bare commit) -> (time of its latest event, assigned?)
    latest: dict[tuple[str, str], dict[str, tuple[int, bool]]] = {}
    touched: dict[tuple[str, str], int] = {}  # (model, bare commit) -> its latest stage event
    for event in staged:
        state = models[event.tag.model]
        key = state.version_of(event.commit) or event.commit
        latest.setdefault((event.tag.model, event.tag.stage), {})[key] = (
            event.timestamp, event.tag.action is Action.ASSIGN,
        )
        if key == event.commit:
            touched[(event.tag.model, key)] = max(touched.get((event.tag.model, key), 0), event.timestamp)
    for (name, stage), per_key in latest.items():
        owner = models[name]
        held = [(when, k) for k, (when, assigned) in per_key.items() if assigned and k not in owner.deregistered]
        if not held:
            continue
        newest = max(when for when, _ in held)
        tied = [k for when, k in held if when == newest]
        if len(tied) > 1:  # min(key=) would call _created (a pass over the model's events) even for one
            owner.ties = True
            owner.stages[stage] = min(tied, key=lambda k: _created(owner, touched, k))
        else:
            owner.stages[stage] = tied[0]


def _created(state: ModelState, touched: dict[tuple[str, str], int], key: str) -> tuple[int, int, str]:
    """GTO's tie-break between versions assigned to one stage in one second:
    the version created first (registration time; a bare commit: its latest
    stage event), then the one whose first tag GTO read first (time, name)."""
    event = state.versions.get(key)
    created = event.timestamp if event is not None else touched.get((state.name, key), 0)
    mine = [e for e in state.events if (state.version_of(e.commit) or e.commit) == key]
    first = min(((e.timestamp, e.name) for e in mine), default=(0, ""))
    return (created, first[0], first[1])
