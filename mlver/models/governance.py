"""Results of promote, rollback, deprecate, verify, reproduce, card and status."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RegistryWrite:
    """A registry event mlver wrote: a stage assignment, rollback or deprecation."""

    action: str  # assign | rollback | unassign | deregister | deprecate
    model: str
    tag: str
    commit: str
    version: str | None = None
    stage: str | None = None
    forced: tuple[str, ...] = ()  # policy checks overridden with --force
    rolled_back_from: str | None = None
    derived: bool = False  # the version has no mlver record (made by GTO): checked on derived lineage


@dataclass(frozen=True)
class Finding:
    ref: str  # the version or record it is about, e.g. churn@v0.2.0
    problem: str
    fix: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int  # records whose digest was checked
    tags: int  # registry tags checked against their record
    objects: int  # artifact and data objects checked in the remote
    signatures: int
    findings: tuple[Finding, ...]
    remote: str | None = None
    notes: tuple[str, ...] = ()  # what was checked against what, and what verify cannot prove


@dataclass(frozen=True)
class ArtifactCheck:
    """The artifact of a reproduction: the md5 its record names and the one the rerun made."""

    path: str
    recorded_md5: str
    reproduced_md5: str | None  # None: the rerun failed or wrote no artifact


@dataclass(frozen=True)
class MetricCheck:
    """One recorded metric against the rerun's value."""

    key: str
    recorded: Any
    reproduced: Any  # None: the rerun did not write it
    delta: float | None  # None unless both are numbers
    within: bool  # within the tolerance (numbers) or equal (anything else)


@dataclass(frozen=True)
class ReproduceResult:
    ref: str
    model: str
    version: str | None
    code_commit: str
    command: str
    verdict: str  # bit-for-bit | statistically | not reproduced
    artifact: ArtifactCheck
    metrics: tuple[MetricCheck, ...]
    tolerance: float
    notes: tuple[str, ...] = ()

    @property
    def reproduced(self) -> bool:
        return self.verdict != "not reproduced"


@dataclass(frozen=True)
class Card:
    ref: str
    format: str  # md | html
    text: str


@dataclass(frozen=True)
class Pending:
    """One thing ``mlver status`` finds not yet recorded, released or pushed."""

    kind: str  # trained | pulled | data | params | metrics | unreleased | tags | objects | tampered
    detail: str
    fix: str


@dataclass(frozen=True)
class ModelStatus:
    model: str
    record_commit: str | None  # the commit that last wrote HEAD's record; None: no record at HEAD
    version: str | None  # the version HEAD's record is released as
    pending: tuple[Pending, ...]
    notes: tuple[str, ...] = ()  # what is worth knowing but not pending (an artifact not pulled yet)


@dataclass(frozen=True)
class StatusResult:
    clean: bool  # nothing pending in any model
    head: str | None
    models: tuple[ModelStatus, ...]
    git_remote: str | None  # the git remote whose tags were compared (origin), None when there is none
    remote: str | None  # the DVC remote whose objects were checked
    notes: tuple[str, ...] = ()
