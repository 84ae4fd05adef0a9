"""The registry seen whole: ``ls NAME`` (versions side by side), ``lineage`` and ``site``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlver.models.diff import ParamChange, verdict  # one type for a param change, one verdict: a diff's and ls NAME's


@dataclass(frozen=True)
class MetricCell:
    """One metric of one version, with its change against the previous
    version and against the version holding the ``--against`` stage."""

    value: Any  # as recorded (a number, or whatever the metrics file said)
    delta: float | None = None  # value - the previous version's; None when either is not a number
    pct: float | None = None  # delta as % of the previous value
    better: bool | None = None  # whether the change is an improvement, where the name tells (loss: lower)
    against_delta: float | None = None  # value - the stage holder's
    against_better: bool | None = None

    @property
    def verdict(self) -> str:
        """better | worse | same | unknown against the previous version, as a diff says it."""
        return verdict(self.delta != 0, self.better) if self.delta is not None else "unknown"


@dataclass(frozen=True)
class DataInput:
    path: str
    md5: str | None
    rows: int | None  # from the profile of a tabular input; None otherwise
    changed: bool = False  # a different hash than in the previous version


@dataclass(frozen=True)
class VersionRow:
    version: str
    commit: str
    released: str  # UTC ISO time of the version tag
    released_by: str
    email: str
    stages: tuple[str, ...]  # the stages it holds now
    stages_before: tuple[str, ...]  # stages it was assigned once and holds no more
    previous: str | None  # the version it is compared with (the one before it)
    data: tuple[DataInput, ...]
    params_changed: tuple[ParamChange, ...]
    metrics: dict[str, MetricCell]
    record: bool = True  # False: no record at its commit (and no lineage to derive)
    derived: bool = False  # lineage derived from the commit (a GTO or hand-made version)
    intact: bool = True


@dataclass(frozen=True)
class VersionsTable:
    """``mlver ls NAME``: one row per released version, newest first (or by ``sort_by``)."""

    model: str
    metrics: tuple[str, ...]  # every metric any version recorded, in name order
    rows: tuple[VersionRow, ...]
    against: str | None = None  # the stage compared with
    against_version: str | None = None  # who holds it
    sort_by: str | None = None
    repo: str | None = None  # the --repo URL it was read from
    stages: dict[str, str] = field(default_factory=dict)  # stage -> version holding it now


@dataclass(frozen=True)
class LineageNode:
    id: str  # a short id of mlver's own (d1, s1, t1, v1, g1): never text from a record
    kind: str  # data | file | stage | training | version | registry
    label: str  # one line, as read from the records (escaped by whoever renders it)
    detail: tuple[str, ...] = ()  # further lines: hash, rows, command, params...


@dataclass(frozen=True)
class LineageEdge:
    source: str
    target: str
    label: str = ""  # a path between two stages; "holds" / "held" for a registry stage


@dataclass(frozen=True)
class Lineage:
    """``mlver lineage REF``: data -> (pipeline stages) -> training -> version -> stages."""

    ref: str
    model: str
    versions: tuple[str, ...]  # the versions drawn, newest first ("" for an unreleased record)
    nodes: tuple[LineageNode, ...]
    edges: tuple[LineageEdge, ...]


@dataclass(frozen=True)
class SiteResult:
    out: str  # the folder written
    models: int
    versions: int
    pages: int  # HTML pages
    files: int  # every file, pictures and the stylesheet included
