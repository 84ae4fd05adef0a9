"""mlver.yaml's schema: every key it may hold, with its type, parsed once.

    version: 1                     # the schema this file is written for
    models:
      churn:
        path: models/churn.pkl     # required; every path relative, inside the repository
        data: [data/train.csv]     # or one path
        params: params.yaml        # file[:key,key]
        metrics: metrics.json
        command: python train.py   # or stage: train (a DVC stage), not both
        desc: ..., labels: [...], intended_use: ..., limitations: ...
    review: {drift_threshold: 0.2, gates: {...}}      # see domain/gates.py
    policy: {stages: [...], gates: {...}}             # see domain/policy.py
    signing: true
    allowed_signers: .mlver/allowed_signers
    x-anything: ...                # top-level keys starting "x-" are the user's (YAML anchors)

The file comes from a repository (the work tree, the merge base under
review, the default branch, any past commit), so it is untrusted input: an
unknown key is refused with the closest known one, because a typo
(``sigining``, ``policy.gate``) would otherwise switch a safeguard off
without a word; a value of the wrong type is named by its dotted path.
Pure: the caller reads the file (``mlver.project.parse_config``).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlver.domain.gates import ALL, BOUNDS, MetricRule, ModelGates, ReviewConfig
from mlver.domain.policy import Gate, Policy
from mlver.domain.profile import DEFAULT_THRESHOLD
from mlver.domain.tags import check_artifact, check_name
from mlver.domain.validate import check_relpath
from mlver.errors import ConfigInvalid, ConfigTooNew, ConfigUnknownKey, MlverError, UntrustedInput

CONFIG = "mlver.yaml"
CONFIG_VERSION = 1  # bump when a key changes meaning; an older mlver then refuses the file
EXTENSION = "x-"  # top-level keys the user keeps for themselves (anchors to alias), never read

_TOP = ("version", "models", "review", "policy", "signing", "allowed_signers")
_MODEL = ("path", "data", "params", "metrics", "command", "stage", "desc", "labels", "intended_use", "limitations")
_REVIEW = ("drift_threshold", "gates")
_MODEL_GATES = ("metrics", "max_drift", "in_remote", "intact")
_POLICY = ("stages", "gates")
_STAGE_BOUNDS = ("min", "max")


@dataclass(frozen=True)
class ModelSpec:
    """How one model is trained and described (its entry under ``models:``,
    or an artifact of dvc.yaml adopted as it is)."""

    name: str
    path: str
    data: tuple[str, ...] = ()
    params: str | None = None
    metrics: str | None = None
    command: str | None = None
    stage: str | None = None
    desc: str = ""
    labels: tuple[str, ...] = field(default_factory=tuple)
    intended_use: str = ""
    limitations: str = ""

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"path": self.path}
        if self.data:
            doc["data"] = list(self.data)
        for key in ("params", "metrics", "command", "stage", "desc", "intended_use", "limitations"):
            if getattr(self, key):
                doc[key] = getattr(self, key)
        if self.labels:
            doc["labels"] = list(self.labels)
        return doc


@dataclass(frozen=True)
class Config:
    """The whole of mlver.yaml. ``signing`` None: the file does not say
    (a tree saying ``false`` is a finding when something else requires it)."""

    version: int = CONFIG_VERSION
    models: Mapping[str, ModelSpec] = field(default_factory=dict)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    policy: Policy = field(default_factory=Policy)
    signing: bool | None = None
    allowed_signers: str | None = None

    @classmethod
    def from_doc(cls, doc: Any, where: str = CONFIG) -> Config:
        """The parsed YAML document (None: an empty file) as a Config, or a
        ``ConfigInvalid`` naming ``where`` and the key."""
        return _Reader(where).config(doc)

    def to_doc(self) -> dict[str, Any]:
        """The plain document that reads back as this Config (defaults left out)."""
        doc: dict[str, Any] = {"version": self.version, "models": {n: m.to_doc() for n, m in self.models.items()}}
        if review := _review_doc(self.review):
            doc["review"] = review
        if policy := _policy_doc(self.policy):
            doc["policy"] = policy
        if self.signing is not None:
            doc["signing"] = self.signing
        if self.allowed_signers is not None:
            doc["allowed_signers"] = self.allowed_signers
        return doc


def _num(x: float) -> float | int:
    return int(x) if x.is_integer() else x  # 50, not 50.0, where a person reads it back


def _review_doc(review: ReviewConfig) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if review.drift_threshold != DEFAULT_THRESHOLD:
        doc["drift_threshold"] = _num(review.drift_threshold)
    gates: dict[str, Any] = {}
    for model, own in review.gates.items():
        entry: dict[str, Any] = {}
        metrics: dict[str, dict[str, Any]] = {}
        for rule in own.metrics:
            metrics.setdefault(rule.metric, {})[rule.bound] = f"{rule.limit:g}%" if rule.relative else _num(rule.limit)
        if metrics:
            entry["metrics"] = metrics
        if own.max_drift is not None:
            entry["max_drift"] = _num(own.max_drift)
        for key in ("in_remote", "intact"):
            if getattr(own, key):
                entry[key] = True
        gates[model] = entry
    if gates:
        doc["gates"] = gates
    return doc


def _policy_doc(policy: Policy) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if policy.stages:
        doc["stages"] = list(policy.stages)
    gates = {
        stage: {g.metric: {k: _num(v) for k, v in (("min", g.min), ("max", g.max)) if v is not None} for g in rules}
        for stage, rules in policy.gates.items()
    }
    if gates:
        doc["gates"] = gates
    return doc


class _Reader:
    """Type checks that name the file and the dotted key of what they refuse."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, key: str, problem: str) -> ConfigInvalid:
        return ConfigInvalid(self.where, key, problem)

    def mapping(self, value: Any, key: str, known: tuple[str, ...] | None = None,
                extension: bool = False) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be a mapping, not {_shown(value)}")
        out = {str(k): v for k, v in value.items()}
        if known is not None:
            for k in out:
                if k not in known and not (extension and k.startswith(EXTENSION)):
                    raise ConfigUnknownKey(self.where, f"{key}.{k}" if key else k, list(known))
        return out

    def number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(key, f"must be a number, not {_shown(value)}")
        return float(value)

    def flag(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {_shown(value)}")
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be text, not {_shown(value)}")
        return value

    def texts(self, value: Any, key: str, one: bool = False) -> tuple[str, ...]:
        """A list of text (``one``: a single text may stand for a list of one)."""
        if value is None:
            return ()
        if one and isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list{' (or one text)' if one else ''}, not {_shown(value)}")
        return tuple(self.text(v, f"{key}[{i}]") for i, v in enumerate(value))

    def path(self, value: Any, key: str) -> str:
        try:
            return check_relpath(self.text(value, key), self.where, key)
        except UntrustedInput as exc:
            raise self.fail(key, f"{_shown(value)} is refused: {exc.why}") from exc

    # -- the sections --------------------------------------------------------

    def config(self, doc: Any) -> Config:
        if doc is None:
            doc = {}
        if not isinstance(doc, Mapping):
            raise self.fail("", f"must be a mapping at the top, not {_shown(doc)}")
        # The version first: a newer file's new keys are "upgrade", not "unknown".
        version = doc.get("version", CONFIG_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise self.fail("version", f"must be a whole number from 1 (this mlver writes {CONFIG_VERSION}), not {_shown(version)}")
        if version > CONFIG_VERSION:
            from mlver import __version__

            raise ConfigTooNew(self.where, version, CONFIG_VERSION, __version__)
        top = self.mapping(doc, "", _TOP, extension=True)
        models = self.mapping(top.get("models"), "models")
        signing = top.get("signing")
        signers = top.get("allowed_signers")
        return Config(
            version=version,
            models={name: self.model(name, raw) for name, raw in models.items()},
            review=self.review(top.get("review")),
            policy=self.policy(top.get("policy")),
            signing=None if signing is None else self.flag(signing, "signing"),
            allowed_signers=None if signers is None else self.path(signers, "allowed_signers"),
        )

    def model(self, name: str, raw: Any) -> ModelSpec:
        key = f"models.{name}"
        try:
            check_artifact(name)
        except MlverError as exc:
            raise self.fail("models", f"names {name!r}: {exc.message}") from exc
        entry = self.mapping(raw, key, _MODEL)
        if entry.get("path") is None:
            raise ConfigInvalid(self.where, key, "needs a 'path' (the model file it trains)",
                                f"add `path:` to {key} in {self.where}, or re-add it with `mlver model add`")
        if entry.get("command") is not None and entry.get("stage") is not None:
            raise self.fail(key, "has both a command and a stage: a model is trained by one of them")
        params = entry.get("params")
        if params is not None:
            file, _, keys = self.text(params, f"{key}.params").partition(":")
            params = self.path(file, f"{key}.params") + (f":{keys}" if keys else "")

        def optional(field_: str, read: Any) -> Any:
            value = entry.get(field_)
            return None if value is None else read(value, f"{key}.{field_}")

        return ModelSpec(
            name=name,
            path=self.path(entry["path"], f"{key}.path"),
            data=tuple(self.path(d, f"{key}.data") for d in self.texts(entry.get("data"), f"{key}.data", one=True)),
            params=params,
            metrics=optional("metrics", self.path),
            command=optional("command", self.text),
            stage=optional("stage", self.text),
            desc=optional("desc", self.text) or "",
            labels=self.texts(entry.get("labels"), f"{key}.labels"),
            intended_use=optional("intended_use", self.text) or "",
            limitations=optional("limitations", self.text) or "",
        )

    def review(self, raw: Any) -> ReviewConfig:
        section = self.mapping(raw, "review", _REVIEW)
        threshold = section.get("drift_threshold")
        gates = self.mapping(section.get("gates"), "review.gates")
        return ReviewConfig(
            DEFAULT_THRESHOLD if threshold is None else self.number(threshold, "review.drift_threshold"),
            {name: self.model_gates(name, value) for name, value in gates.items()},
        )

    def model_gates(self, name: str, raw: Any) -> ModelGates:
        key = f"review.gates.{name}"
        if name != ALL:
            try:
                check_artifact(name)
            except MlverError as exc:
                raise self.fail("review.gates", f"names {name!r}: {exc.message}") from exc
        entry = self.mapping(raw, key, _MODEL_GATES)
        rules: list[MetricRule] = []
        for metric, bounds in self.mapping(entry.get("metrics"), f"{key}.metrics").items():
            at = f"{key}.metrics.{metric}"
            limits = self.mapping(bounds, at, BOUNDS)
            if not limits:
                raise self.fail(at, f"must set some of {', '.join(BOUNDS)}, e.g. {{min: 0.8}}")
            rules += [self.rule(metric, bound, value, f"{at}.{bound}") for bound, value in limits.items()]
        drift = entry.get("max_drift")
        return ModelGates(
            metrics=tuple(rules),
            max_drift=None if drift is None else self.number(drift, f"{key}.max_drift"),
            in_remote=self.flag(entry.get("in_remote", False), f"{key}.in_remote"),
            intact=self.flag(entry.get("intact", False), f"{key}.intact"),
        )

    def rule(self, metric: str, bound: str, value: Any, key: str) -> MetricRule:
        if bound in ("max_drop", "max_rise") and isinstance(value, str) and value.strip().endswith("%"):
            try:
                share = float(value.strip()[:-1])
            except ValueError:
                share = math.nan
            if not math.isfinite(share):
                raise self.fail(key, f"must be a number or a percentage like '2%', not {_shown(value)}")
            return MetricRule(metric, bound, share, relative=True)
        return MetricRule(metric, bound, self.number(value, key))

    def policy(self, raw: Any) -> Policy:
        section = self.mapping(raw, "policy", _POLICY)
        stages = self.texts(section.get("stages"), "policy.stages")
        for i, stage in enumerate(stages):
            try:
                check_name(stage, "stage")
            except MlverError as exc:
                raise self.fail(f"policy.stages[{i}]", exc.message) from exc
        gates: dict[str, tuple[Gate, ...]] = {}
        for stage, rules in self.mapping(section.get("gates"), "policy.gates").items():
            if stages and stage not in stages:
                raise ConfigUnknownKey(self.where, f"policy.gates.{stage}", list(stages), "is not a stage in policy.stages")
            parsed = []
            for metric, bounds in self.mapping(rules, f"policy.gates.{stage}").items():
                at = f"policy.gates.{stage}.{metric}"
                limits = self.mapping(bounds, at, _STAGE_BOUNDS)
                if not limits:
                    raise self.fail(at, "must set min and/or max, e.g. {min: 0.9}")
                numbers = {b: self.number(v, f"{at}.{b}") for b, v in limits.items()}
                parsed.append(Gate(metric, numbers.get("min"), numbers.get("max")))
            gates[stage] = tuple(parsed)
        return Policy(stages, gates)


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:48] + "..." + text[-8:]
