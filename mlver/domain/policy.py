"""Stage policy from mlver.yaml: which stages exist, in what order, and the
metric gates a version must meet to enter each.

    policy:
      stages: [dev, staging, prod]      # a version must have held the one before
      gates:
        prod: {accuracy: {min: 0.9}, latency_ms: {max: 50}}
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from mlver.domain.tags import check_name
from mlver.errors import ConfigError


@dataclass(frozen=True)
class Gate:
    metric: str
    min: float | None = None
    max: float | None = None

    def failure(self, value: float) -> str | None:
        if self.min is not None and value < self.min:
            return f"{self.metric} {value:g} < min {self.min:g}"
        if self.max is not None and value > self.max:
            return f"{self.metric} {value:g} > max {self.max:g}"
        return None


@dataclass(frozen=True)
class Policy:
    stages: tuple[str, ...] = ()  # empty: any stage, in any order
    gates: Mapping[str, tuple[Gate, ...]] = field(default_factory=dict)

    def previous(self, stage: str) -> str | None:
        if stage not in self.stages:
            return None
        i = self.stages.index(stage)
        return self.stages[i - 1] if i else None


def parse_policy(raw: Any) -> Policy:
    if raw is None:
        return Policy()
    if not isinstance(raw, Mapping):
        raise ConfigError("'policy' in mlver.yaml must be a mapping", "see the README for the policy format")
    stages = tuple(check_name(str(s), "stage") for s in raw.get("stages") or ())
    gates: dict[str, tuple[Gate, ...]] = {}
    for stage, rules in (raw.get("gates") or {}).items():
        if stages and stage not in stages:
            raise ConfigError(f"policy gates name stage {stage!r}, which is not in policy.stages", "fix mlver.yaml")
        parsed = []
        for metric, bounds in (rules or {}).items():
            if not isinstance(bounds, Mapping) or not set(bounds) <= {"min", "max"} or not bounds:
                raise ConfigError(f"gate {stage}.{metric} must be {{min: x}} and/or {{max: y}}", "fix mlver.yaml")
            try:
                parsed.append(Gate(str(metric), *(None if bounds.get(k) is None else float(bounds[k]) for k in ("min", "max"))))
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"gate {stage}.{metric} needs numbers", "fix mlver.yaml") from exc
        gates[str(stage)] = tuple(parsed)
    return Policy(stages, gates)


@dataclass(frozen=True)
class Breach:
    """One way an assignment leaves the policy."""

    kind: str  # stage (not in policy.stages) | order (skipped the stage before) | metric (a gate's metric is not recorded) | gate
    text: str  # as written into the tag message when forced: "skipped staging", "gate accuracy 0.5 < min 0.9"
    metric: str = ""


def breaches(policy: Policy, stage: str, held_previous: bool, metrics: Mapping[str, Any] | None) -> list[Breach]:
    """Everything assigning ``stage`` breaks; ``held_previous``: the version
    held the stage before it. ``metrics`` None: no record to check gates on."""
    if policy.stages and stage not in policy.stages:
        return [Breach("stage", f"stage {stage} is not in the policy")]
    found = []
    previous = policy.previous(stage)
    if previous and not held_previous:
        found.append(Breach("order", f"skipped {previous}"))
    for gate in policy.gates.get(stage, ()) if metrics is not None else ():
        value = metrics.get(gate.metric)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            found.append(Breach("metric", f"gate metric {gate.metric} not recorded", gate.metric))
        elif (failure := gate.failure(value)):
            found.append(Breach("gate", f"gate {failure}", gate.metric))
    return found
