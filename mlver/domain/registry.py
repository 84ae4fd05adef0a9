"""Registry state folded from tag events, as GTO reads them.

Input is every tag of the repository (name, commit, tagger, time); tags
that are not registry tags are ignored. Events are applied in time order
(GTO's order) with the per-model counter breaking ties within a second.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol

from mlver.domain.semver import Version
from mlver.domain.tags import Action, TagName, parse


class TagLike(Protocol):
    name: str
    commit: str
    tagger: str
    email: str
    timestamp: int
    message: str


@dataclass
class Event:
    tag: TagName
    raw: TagLike

    @property
    def order(self) -> tuple[int, int]:
        return (self.raw.timestamp, self.tag.number)


@dataclass
class ModelState:
    name: str
    versions: dict[str, Event] = field(default_factory=dict)  # version -> register event
    deregistered: set[str] = field(default_factory=set)
    stages: dict[str, str] = field(default_factory=dict)  # stage -> version (or commit)
    deprecated: bool = False
    events: list[Event] = field(default_factory=list)  # time order
    max_number: int = 0
    by_commit: dict[str, list[str]] = field(default_factory=dict)

    def active_versions(self) -> list[str]:
        live = [v for v in self.versions if v not in self.deregistered]
        return sorted(live, key=Version.parse)

    def latest(self) -> str | None:
        live = self.active_versions()
        return live[-1] if live else None

    def version_at(self, commit: str) -> str | None:
        """The newest active version released at ``commit``."""
        hits = [v for v in self.by_commit.get(commit, ()) if v not in self.deregistered]
        return max(hits, key=Version.parse) if hits else None

    def stages_of(self, version: str) -> list[str]:
        return sorted(s for s, v in self.stages.items() if v == version)


@dataclass
class Registry:
    models: dict[str, ModelState]

    def model(self, name: str) -> ModelState | None:
        return self.models.get(name)


def fold(tags: Iterable[TagLike]) -> Registry:
    events: list[Event] = []
    for raw in tags:
        parsed = parse(raw.name)
        if parsed is not None:
            events.append(Event(parsed, raw))
    events.sort(key=lambda e: e.order)
    models: dict[str, ModelState] = {}
    # Stage assignments are resolved per (stage, version): the latest event
    # for that pair decides whether the version holds the stage, and the stage
    # goes to the version with the latest active assignment (GTO's default).
    assignments: dict[str, dict[str, dict[str, tuple[tuple[int, int], bool]]]] = {}
    for event in events:
        tag = event.tag
        state = models.setdefault(tag.model, ModelState(tag.model))
        state.events.append(event)
        state.max_number = max(state.max_number, tag.number)
        if tag.action is Action.REGISTER:
            if tag.version not in state.versions:
                state.versions[tag.version] = event
                state.by_commit.setdefault(event.raw.commit, []).append(tag.version)
        elif tag.action is Action.DEREGISTER:
            state.deregistered.add(tag.version)
        elif tag.action is Action.DEPRECATE:
            state.deprecated = True
        else:
            version = state.version_at(event.raw.commit) or event.raw.commit
            per_stage = assignments.setdefault(tag.model, {}).setdefault(tag.stage, {})
            per_stage[version] = (event.order, tag.action is Action.ASSIGN)
    for name, per_model in assignments.items():
        state = models[name]
        for stage, per_version in per_model.items():
            active = [
                (order, version)
                for version, (order, assigned) in per_version.items()
                if assigned and version not in state.deregistered
            ]
            if active:
                state.stages[stage] = max(active)[1]
    return Registry(models)
