"""The frozen dataclasses the api returns and the CLI renders."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class InitResult:
    root: str
    created_git: bool
    created_dvc: bool
    remote_name: str
    remote_url: str


@dataclass(frozen=True)
class DataAddResult:
    path: str
    md5: str
    size: int | None
    nfiles: int | None
    profiled: bool


@dataclass(frozen=True)
class ModelAddResult:
    name: str
    path: str
    data: tuple[str, ...]
    params: str | None
    metrics: str | None
    command: str | None
    stage: str | None


@dataclass(frozen=True)
class Record:
    """A lineage record as stored, plus where it was read from."""

    model: str
    commit: str | None  # the commit holding it; None for the work tree
    doc: dict[str, Any]
    intact: bool

    @property
    def digest(self) -> str:
        return self.doc.get("digest", "")


@dataclass(frozen=True)
class RecordResult:
    model: str
    commit: str
    digest: str
    path: str
    artifact_md5: str
    metrics: dict[str, Any]
    dirty: bool


@dataclass(frozen=True)
class ReleaseResult:
    model: str
    version: str
    tag: str
    commit: str
    digest: str


@dataclass(frozen=True)
class VersionInfo:
    model: str
    version: str
    tag: str
    commit: str
    author: str
    email: str
    created: str  # UTC ISO 8601
    stages: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelSummary:
    model: str
    latest: str | None
    latest_commit: str | None
    released: str | None  # when the latest version was tagged
    versions: int
    stages: dict[str, str]
    deprecated: bool
    declared: bool


@dataclass(frozen=True)
class LogEvent:
    kind: str  # record | release | deregister | assign | unassign | deprecate
    model: str
    commit: str
    author: str
    email: str
    time: str  # UTC ISO 8601
    message: str
    version: str | None = None
    stage: str | None = None
    tag: str | None = None
    note: str = ""  # "forced: ..." or "rolled back from v1.2.0"


@dataclass(frozen=True)
class Shown:
    ref: str
    record: Record
    versions: tuple[str, ...]  # versions released at this record's commit
    stages: tuple[str, ...]  # stages those versions hold now (or at ``at``)
    at: str | None = None  # the moment asked about with --at


@dataclass(frozen=True)
class ModelDiff:
    model: str
    old_ref: str
    new_ref: str
    old_commit: str | None
    new_commit: str | None
    status: str  # changed | unchanged | added | removed
    params: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    data: list[dict[str, Any]] = field(default_factory=list)
    code: dict[str, Any] = field(default_factory=dict)
    artifact: dict[str, Any] = field(default_factory=dict)
    env: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class TransferResult:
    remote: str
    objects: int  # objects referenced
    transferred: int
    bytes: int
    present: int  # already where they had to go


@dataclass(frozen=True)
class PulledFile:
    path: str
    md5: str
    size: int


@dataclass(frozen=True)
class PullResult:
    ref: str
    model: str
    version: str | None
    commit: str
    files: tuple[PulledFile, ...]
    fetched: int
    bytes: int


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
