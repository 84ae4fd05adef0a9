"""Stage policy from mlver.yaml: which stages exist, in what order, and the
metric gates a version must meet to enter each.

    policy:
      stages: [dev, staging, prod]      # a version must have held the one before
      gates:
        prod: {accuracy: {min: 0.9}, latency_ms: {max: 50}}

Parsed with the rest of the file in mlver/domain/config.py.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
        value = (metrics or {}).get(gate.metric)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            found.append(Breach("metric", f"gate metric {gate.metric} not recorded", gate.metric))
        elif (failure := gate.failure(value)):
            found.append(Breach("gate", f"gate {failure}", gate.metric))
    return found
