"""Review gates: the verdicts, as pure functions (parsing is tests/domain/test_config_schema.py's)."""
from __future__ import annotations

import pytest

from mlver.domain import gates as g
from mlver.domain.config import Config
from mlver.errors import ConfigError
from mlver.models.diff import DataChange
from mlver.models.profilediff import ProfileChange


def _rows(data: list[dict]) -> list[DataChange]:
    return [DataChange(**{**d, "profile": d.get("profile") and ProfileChange.build(d["profile"])}) for d in data]


def _review(raw: object) -> g.ReviewConfig:
    return Config.from_doc({"review": raw}).review


def test_metric_verdicts() -> None:
    rule = g.MetricRule("accuracy", "max_drop", 0.01)
    assert g.check_metric("m", rule, {"accuracy": 0.85}, {"accuracy": 0.84}).passed  # 0.85 - 0.84 > 0.01 in floats
    failed = g.check_metric("m", rule, {"accuracy": 0.85}, {"accuracy": 0.83})
    assert not failed.passed and failed.detail == "accuracy dropped 0.02 (0.85 -> 0.83), max drop 0.01"
    relative = g.MetricRule("loss", "max_rise", 10.0, relative=True)
    assert not g.check_metric("m", relative, {"loss": 1.0}, {"loss": 1.2}).passed
    assert g.check_metric("m", relative, {"loss": 1.0}, {"loss": 1.05}).passed
    assert not g.check_metric("m", g.MetricRule("accuracy", "min", 0.5), None, {}).passed
    assert g.check_metric("m", g.MetricRule("accuracy", "max", 0.5), None, {"accuracy": 0.5}).passed


def test_names_are_checked() -> None:
    config = _review({"gates": {"churn": {"metrics": {"acc": {"min": 0.5}}}}})
    with pytest.raises(ConfigError, match="names 'acc', which churn does not record"):
        g.check_names(config, {"churn"}, {"churn": {"accuracy"}})
    with pytest.raises(ConfigError, match="names model 'churn'"):
        g.check_names(config, {"fraud"}, {"fraud": set()})
    star = _review({"gates": {"*": {"metrics": {"f1": {"min": 0.5}}}}})
    g.check_names(star, {"a", "b"}, {"a": {"f1"}, "b": {"auc"}})  # one model has it: fine
    with pytest.raises(ConfigError, match="which no model records"):
        g.check_names(star, {"a"}, {"a": {"auc"}})


def test_drift_remote_intact_verdicts() -> None:
    data = [{"path": "d.csv", "status": "changed", "profile": {"columns": [{"name": "x", "psi": 0.3}, {"name": "y", "psi": None}]}}]
    assert not g.check_drift("m", 0.25, _rows(data), new_model=False).passed
    assert g.check_drift("m", 0.25, _rows(data), new_model=True).passed
    hash_only = g.check_drift("m", 0.25, _rows([{"path": "b.bin", "status": "changed", "profile": None}]), new_model=False)
    assert hash_only.passed and "hash-only" in hash_only.detail
    assert not g.check_remote("m", "r", 2, ["model.pkl (abcd1234)"]).passed
    assert g.check_intact("m", True, "a" * 40, True).passed
    assert "not an ancestor" in g.check_intact("m", True, "a" * 40, False).detail
