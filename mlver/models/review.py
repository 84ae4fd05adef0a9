"""Results of diff, review, ci and drift."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlver.models.diff import ArtifactChange, CodeChange, DataChange, EnvChange, MetricChange, ParamChange

TYPE_CHECKING = False
if TYPE_CHECKING:
    from mlver.models.profilediff import ColumnShift, Pair, TypeChange
    from mlver.models.views import Lineage


@dataclass(frozen=True)
class ModelDiff:
    """Two records of one model compared (domain/compare.py's rows); added or
    removed models carry no rows."""

    model: str
    old_ref: str
    new_ref: str
    old_commit: str | None
    new_commit: str | None
    status: str  # changed | unchanged | added | removed
    params: tuple[ParamChange, ...] = ()
    metrics: tuple[MetricChange, ...] = ()
    data: tuple[DataChange, ...] = ()
    code: CodeChange | None = None  # None: a side has no code commit (or no record)
    artifact: ArtifactChange | None = None  # None: a side has no record
    env: tuple[EnvChange, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. a record read from a newer mlver

    def to_doc(self) -> dict[str, Any]:
        """The ``--json`` document (tests/cli pin it): a missing code or artifact comparison is ``{}``."""
        return {
            "model": self.model, "old_ref": self.old_ref, "new_ref": self.new_ref,
            "old_commit": self.old_commit, "new_commit": self.new_commit, "status": self.status,
            "params": [p.to_doc() for p in self.params], "metrics": [m.to_doc() for m in self.metrics],
            "data": [d.to_doc() for d in self.data], "code": self.code.to_doc() if self.code else {},
            "artifact": self.artifact.to_doc() if self.artifact else {},
            "env": [e.to_doc() for e in self.env], "notes": list(self.notes),
        }


@dataclass(frozen=True)
class GateResult:
    """One check of a review gate (mlver.yaml ``review.gates``) on one model."""

    model: str
    gate: str  # metric:<name>:min | max | max_drop | max_rise, max_drift, in_remote, intact
    passed: bool
    detail: str  # what was measured against what, e.g. "accuracy 0.53 >= min 0.5"


@dataclass(frozen=True)
class ConfigChange:
    """A review setting (gates, policy, signing, remotes) the head changes."""

    setting: str  # e.g. "review.gates.churn.metrics.accuracy.min", ".dvc/config: remote.team.url"
    base: Any  # None when head adds it
    head: Any  # None when head removes it

    def to_doc(self) -> dict[str, Any]:
        return {"setting": self.setting, "base": self.base, "head": self.head}


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
    code: CodeChange | None = None
    # Review settings (gates, policy, signing, remotes) head changes: the
    # review ran with the base's, and these apply once merged.
    config_changes: tuple[ConfigChange, ...] = ()
    lineage: tuple[Lineage, ...] = ()  # the lineage graph of each changed model's head record


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
    rows: Pair | None  # training rows (old) and new rows
    columns: tuple[ColumnShift, ...]  # per column: psi, drifted, null_rate, mean/std or top
    drifted_columns: list[str]
    type_changed: tuple[TypeChange, ...]
    extra_columns: list[str]
    ok: bool


@dataclass(frozen=True)
class CiWorkflow:
    forge: str  # github | gitlab
    path: str  # where the file goes in the repository
    text: str
    install: str = ""  # the job's install line
    install_note: str = ""  # what must still hold for the job to run it (a commit pushed...)
