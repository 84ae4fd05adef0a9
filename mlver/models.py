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
    derived: bool = False  # no mlver record: lineage derived from the commit (a GTO or hand-made version)

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
class ModelSummary:
    model: str
    latest: str | None
    latest_commit: str | None
    released: str | None  # when the latest version was tagged
    versions: int
    stages: dict[str, str]
    deprecated: bool
    declared: bool
    type: str = "model"  # or "dataset" (a dvc.yaml artifact of that type), as GTO lists both


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
    signer: str | None = None  # the verified signer's principal; None when signatures were not checked


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
    notes: list[str] = field(default_factory=list)  # e.g. a record read from a newer mlver


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
    derived: bool = False  # the version has no mlver record: what was pulled is what its commit names
    # Set when the pull left the workspace holding another model than HEAD's
    # record names: that record's label and the command that puts its model back.
    head_record: str | None = None
    back: str | None = None


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
class ReproduceResult:
    ref: str
    model: str
    version: str | None
    code_commit: str
    command: str
    verdict: str  # bit-for-bit | statistically | not reproduced
    artifact: dict[str, Any]  # path, recorded md5, reproduced md5
    metrics: tuple[dict[str, Any], ...]  # key, recorded, reproduced, delta, within
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
class GateResult:
    """One check of a review gate (mlver.yaml ``review.gates``) on one model."""

    model: str
    gate: str  # metric:<name>:min | max | max_drop | max_rise, max_drift, in_remote, intact
    passed: bool
    detail: str  # what was measured against what, e.g. "accuracy 0.53 >= min 0.5"


@dataclass(frozen=True)
class ReviewResult:
    base: str  # the base revision as given, e.g. main
    base_commit: str  # the merge base of base and head: what the pull request changes
    head: str
    head_commit: str
    diffs: tuple[ModelDiff, ...]
    gates: tuple[GateResult, ...]
    ok: bool  # every gate passed
    drift_threshold: float
    plots: tuple[str, ...] = ()  # PNG files written with --plots
    report: str | None = None  # the markdown file written with -o
    plots_url: str | None = None  # where the report links the plots from
    # What the pull request changes in the code: `git diff --numstat` of
    # base_commit..head_commit without mlver's own outputs (never a record's word).
    code: dict[str, Any] = field(default_factory=dict)
    # Review settings (gates, policy, signing, remotes) head changes: the
    # review ran with the base's, and these apply once merged.
    config_changes: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class DriftResult:
    ref: str
    model: str
    commit: str  # the commit holding the record
    version: str | None
    data: str  # the new file compared
    input: str  # the recorded training input it was compared with
    input_md5: str
    threshold: float
    rows: dict[str, Any]
    columns: list[dict[str, Any]]  # per column: psi, drifted, null_rate, mean/std or top
    drifted_columns: list[str]
    type_changed: list[dict[str, Any]]
    extra_columns: list[str]
    ok: bool


@dataclass(frozen=True)
class CiWorkflow:
    forge: str  # github | gitlab
    path: str  # where the file goes in the repository
    text: str


@dataclass(frozen=True)
class RemoteInfo:
    """A configured DVC remote, as `mlver remote list` and `remote add` show it."""

    name: str
    url: str
    level: str  # "repo" (.dvc/config, in git), "local" (.dvc/config.local), "global", "system"
    default: bool
    endpoint_url: str | None = None


@dataclass(frozen=True)
class RemoteCheck:
    name: str
    url: str
    can: tuple[str, ...]  # what the check proved: "list", "write", "read"
    endpoint_url: str | None = None


@dataclass(frozen=True)
class PresignedUrl:
    ref: str
    model: str
    version: str | None
    md5: str
    remote: str
    url: str
    expires_in: int  # seconds
    expires_at: str  # UTC ISO time


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
