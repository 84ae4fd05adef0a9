"""Review gates from mlver.yaml, and checking them: pure logic.

    review:
      drift_threshold: 0.2          # PSI at which a column is flagged (diff, review, drift)
      gates:
        "*": {intact: true}         # every model
        churn:
          metrics:
            accuracy: {min: 0.8, max_drop: 0.01}   # max_drop "2%": relative to base
            latency_ms: {max: 50, max_rise: 5}
          max_drift: 0.25           # highest PSI of any data column, head against base
          in_remote: true           # artifact and data objects are in the default remote
          intact: true              # digest valid, code commit an ancestor of head

mlver/domain/config.py parses the section (one schema for the whole file).
The api gathers the facts (records, remote sizes, ancestry); these functions
only compare them with the limits, so every verdict is a plain function of
its inputs.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from mlver import models  # the lazy facade: GateResult's module loads when a gate is checked, not with mlver.yaml
from mlver.domain.profile import DEFAULT_THRESHOLD
from mlver.errors import GateNamesUnknown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from mlver.models import GateResult
    from mlver.models.diff import DataChange

ALL = "*"
BOUNDS = ("min", "max", "max_drop", "max_rise")


@dataclass(frozen=True)
class MetricRule:
    metric: str
    bound: str  # one of BOUNDS
    limit: float
    relative: bool = False  # max_drop/max_rise given as "2%": a share of the base value

    def describe(self) -> str:
        limit = f"{self.limit:g}%" if self.relative else f"{self.limit:g}"
        return f"{self.bound.replace('_', ' ')} {limit}"


@dataclass(frozen=True)
class ModelGates:
    metrics: tuple[MetricRule, ...] = ()
    max_drift: float | None = None
    in_remote: bool = False
    intact: bool = False

    @property
    def empty(self) -> bool:
        return not (self.metrics or self.max_drift is not None or self.in_remote or self.intact)


@dataclass(frozen=True)
class ReviewConfig:
    drift_threshold: float = DEFAULT_THRESHOLD
    gates: Mapping[str, ModelGates] = field(default_factory=dict)

    def for_model(self, model: str) -> ModelGates:
        """The model's own gates over the "*" defaults, key by key (metric rules: the model's win per metric)."""
        base, own = self.gates.get(ALL, ModelGates()), self.gates.get(model)
        if own is None:
            return base
        mine = {r.metric for r in own.metrics}
        return ModelGates(
            metrics=tuple(r for r in base.metrics if r.metric not in mine) + own.metrics,
            max_drift=own.max_drift if own.max_drift is not None else base.max_drift,
            in_remote=own.in_remote or base.in_remote,
            intact=own.intact or base.intact,
        )


def check_names(config: ReviewConfig, models: set[str], metrics: Mapping[str, set[str]], only: str | None = None) -> None:
    """GateNamesUnknown for a gate naming a model or metric that does not exist.

    ``models``: every model known on either side or declared; ``metrics``:
    per model, the metrics its records have on either side. A typo in a gate
    must not pass silently as "metric missing", nor fail every review.
    ``only``: the one model under review (the others' records were not read).
    """
    for name, gates in config.gates.items():
        if only is not None and name not in (only, ALL):
            continue
        if only is not None and name == ALL:
            gates = ModelGates(tuple(r for r in gates.metrics if r.metric in metrics.get(only, set())))
        if name != ALL and name not in models:
            raise GateNamesUnknown("review.gates", "model ", name, "has no record and is not declared",
                                   sorted(models), "models")
        for rule in gates.metrics:
            if name == ALL:  # "*": a metric no model records is a typo; others skip it
                every = set().union(*metrics.values()) if metrics else set()
                if metrics and rule.metric not in every:
                    raise GateNamesUnknown("review.gates.*.metrics", "", rule.metric, "no model records",
                                           sorted(every), "recorded")
                continue
            known = metrics.get(name)
            if known is not None and rule.metric not in known:
                raise GateNamesUnknown(f"review.gates.{name}.metrics", "", rule.metric,
                                       f"{name} does not record" + ("" if known else " (it records no metrics)"),
                                       sorted(known), "it records")


def _fmt(x: Any) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)


def _is_number(x: Any) -> TypeGuard[float]:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def check_metric(model: str, rule: MetricRule, old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> GateResult:
    gate = f"metric:{rule.metric}:{rule.bound}"
    value = new.get(rule.metric)
    if not _is_number(value):
        return models.GateResult(model, gate, False, f"{rule.metric} is {'missing' if value is None else repr(value)} in head's record")
    if rule.bound in ("min", "max"):
        ok = value >= rule.limit if rule.bound == "min" else value <= rule.limit
        sign = (">=" if ok else "<") if rule.bound == "min" else ("<=" if ok else ">")
        return models.GateResult(model, gate, ok, f"{rule.metric} {_fmt(value)} {sign} {rule.bound} {rule.limit:g}")
    before = (old or {}).get(rule.metric)
    if old is None or not _is_number(before):
        return models.GateResult(model, gate, True, f"{rule.metric}: no base value to compare ({'new model' if old is None else 'not in base'})")
    change = (before - value) if rule.bound == "max_drop" else (value - before)
    verb = "dropped" if rule.bound == "max_drop" else "rose"
    if rule.relative:
        amount = change / abs(before) * 100 if before else (math.inf if change > 0 else 0.0)
        ok = amount <= rule.limit + 1e-9  # as below: 0.5 -> 0.49 is 2.0000000000000018% in floats
        shown = f"{max(amount, 0.0):.4g}%"
    else:
        ok = change <= rule.limit + 1e-12 * max(1.0, abs(before))  # 0.85 - 0.84 is not quite 0.01 in floats
        shown = _fmt(max(change, 0.0))
    if change <= 0:
        return models.GateResult(model, gate, ok, f"{rule.metric} did not {'rise' if rule.bound == 'max_rise' else 'drop'}"
                          f" ({_fmt(before)} -> {_fmt(value)}), {rule.describe()}")
    return models.GateResult(model, gate, ok, f"{rule.metric} {verb} {shown} ({_fmt(before)} -> {_fmt(value)}), {rule.describe()}")


def check_drift(model: str, limit: float, data: Sequence[DataChange], new_model: bool) -> GateResult:
    """The highest column PSI of every data input that changed, against ``limit``."""
    if new_model:
        return models.GateResult(model, "max_drift", True, "new model: no base data to compare")
    worst: tuple[float, str] | None = None
    for entry in data:
        for col in entry.profile.columns if entry.profile else ():
            if col.psi is not None and (worst is None or col.psi > worst[0]):
                worst = (col.psi, f"{entry.path}: {col.name}")
    if worst is None:
        changed = [d.path for d in data if d.status == "changed"]
        why = "no tabular data changed" if not changed else f"no profile to compare for {', '.join(changed)} (hash-only)"
        return models.GateResult(model, "max_drift", True, why)
    ok = worst[0] <= limit
    return models.GateResult(model, "max_drift", ok, f"max PSI {worst[0]:.4g} ({worst[1]}) {'<=' if ok else '>'} {limit:g}")


def check_remote(model: str, remote: str, checked: int, missing: list[str]) -> GateResult:
    """``missing``: "path (md5…)" of every object not in the remote or of the wrong size."""
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        return models.GateResult(model, "in_remote", False, f"not in remote {remote}: {shown}; run `mlver push`")
    return models.GateResult(model, "in_remote", True, f"{checked} objects in remote {remote}")


def check_intact(model: str, digest_ok: bool, code_commit: str | None, ancestor: bool) -> GateResult:
    problems = []
    if not digest_ok:
        problems.append("the record does not match its digest (edited by hand)")
    if not code_commit:
        problems.append("the record names no code commit")
    elif not ancestor:
        problems.append(f"its code commit {code_commit[:12]} is not an ancestor of head (trained on other code)")
    if problems:
        return models.GateResult(model, "intact", False, "; ".join(problems))
    return models.GateResult(model, "intact", True, f"digest valid, code {(code_commit or '')[:12]} is in head's history")
