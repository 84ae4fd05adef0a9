"""Registry state folded from tag events, as GTO reads them.

Versions come from the tag names alone (semver decides which is latest), so
reading them needs no tag object. Stage events are ordered by tagger time,
with the per-model counter breaking ties within a second, and only they
(plus what a caller asks for) need the tag objects read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol

from mlver.domain.semver import Version
from mlver.domain.tags import Action, TagName


class TagInfo(Protocol):
    tagger: str
    email: str
    timestamp: int
    message: str


@dataclass
class Event:
    tag: TagName
    name: str  # the tag as written
    commit: str  # the commit it points at
    info: TagInfo | None = None  # None until the tag object is read

    @property
    def timestamp(self) -> int:
        return self.info.timestamp if self.info else 0

    @property
    def order(self) -> tuple[int, int]:
        return (self.timestamp, self.tag.number)


@dataclass
class ModelState:
    name: str
    versions: dict[str, Event] = field(default_factory=dict)  # version -> register event
    semver: dict[str, tuple] = field(default_factory=dict)  # version -> precedence key
    deregistered: set[str] = field(default_factory=set)
    stages: dict[str, str] = field(default_factory=dict)  # stage -> version (or a bare commit)
    deprecated: bool = False
    events: list[Event] = field(default_factory=list)
    max_number: int = 0
    by_commit: dict[str, list[str]] = field(default_factory=dict)

    def active_versions(self) -> list[str]:
        live = [v for v in self.versions if v not in self.deregistered]
        return sorted(live, key=self.semver.__getitem__)

    def latest(self) -> str | None:
        live = [v for v in self.versions if v not in self.deregistered]
        return max(live, key=self.semver.__getitem__) if live else None

    def version_at(self, commit: str) -> str | None:
        """The newest active version released at ``commit``."""
        hits = [v for v in self.by_commit.get(commit, ()) if v not in self.deregistered]
        return max(hits, key=self.semver.__getitem__) if hits else None


@dataclass
class Registry:
    models: dict[str, ModelState]

    def model(self, name: str) -> ModelState | None:
        return self.models.get(name)


def fold(events: Iterable[Event]) -> Registry:
    models: dict[str, ModelState] = {}
    staged: list[Event] = []
    for event in events:
        tag = event.tag
        state = models.setdefault(tag.model, ModelState(tag.model))
        state.events.append(event)
        state.max_number = max(state.max_number, tag.number)
        if tag.action is Action.REGISTER:
            if tag.version not in state.versions:
                state.versions[tag.version] = event
                state.semver[tag.version] = Version.parse(tag.version).sort_key()
                state.by_commit.setdefault(event.commit, []).append(tag.version)
        elif tag.action is Action.DEREGISTER:
            state.deregistered.add(tag.version)
        elif tag.action is Action.DEPRECATE:
            state.deprecated = True
        else:
            staged.append(event)
    # A stage goes to the version with the latest active assignment (GTO's
    # default); the latest event for a (stage, version) pair decides whether
    # that version is still assigned.
    staged.sort(key=lambda e: e.order)
    latest: dict[tuple[str, str], dict[str, tuple[tuple[int, int], bool]]] = {}
    for event in staged:
        state = models[event.tag.model]
        version = state.version_at(event.commit) or event.commit
        latest.setdefault((event.tag.model, event.tag.stage), {})[version] = (
            event.order, event.tag.action is Action.ASSIGN,
        )
    for (name, stage), per_version in latest.items():
        state = models[name]
        active = [(order, v) for v, (order, assigned) in per_version.items() if assigned and v not in state.deregistered]
        if active:
            state.stages[stage] = max(active)[1]
    for state in models.values():
        state.events.sort(key=lambda e: e.order)
    return Registry(models)
