"""Review gate verdicts, message by message: each is a plain function of its inputs."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlver.domain import gates as g
from mlver.errors import ConfigError
from mlver.models.diff import DataChange
from mlver.models.profilediff import ProfileChange


def _rows(data: list[dict]) -> list[DataChange]:
    return [DataChange(**{**d, "profile": d.get("profile") and ProfileChange.build(d["profile"])}) for d in data]


def _check(bound: str, limit: float, old: dict | None, new: dict, relative: bool = False, metric: str = "acc") -> tuple[bool, str]:
    result = g.check_metric("m", g.MetricRule(metric, bound, limit, relative), old, new)
    assert result.model == "m" and result.gate == f"metric:{metric}:{bound}"
    return result.passed, result.detail


def test_min_and_max_are_inclusive_bounds() -> None:
    assert _check("min", 0.8, None, {"acc": 0.8}) == (True, "acc 0.8 >= min 0.8")
    assert _check("min", 0.8, None, {"acc": 0.79}) == (False, "acc 0.79 < min 0.8")
    assert _check("max", 50, None, {"acc": 50}) == (True, "acc 50 <= max 50")
    assert _check("max", 50, None, {"acc": 51}) == (False, "acc 51 > max 50")
    assert _check("min", 0.5, None, {"acc": 0.1234567891}) == (False, "acc 0.123457 < min 0.5")


@pytest.mark.parametrize("value, shown", [(None, "missing"), ("high", "'high'"), (True, "True"), (math.nan, "nan"),
                                          (math.inf, "inf")])
def test_a_missing_or_non_numeric_value_fails_every_bound(value: object, shown: str) -> None:
    for bound in g.BOUNDS:
        passed, detail = _check(bound, 1.0, {"acc": 0.5}, {} if value is None else {"acc": value})
        assert not passed and detail == f"acc is {shown} in head's record"


def test_drop_and_rise_without_a_base_value_pass_and_say_why() -> None:
    assert _check("max_drop", 0.01, None, {"acc": 0.1}) == (True, "acc: no base value to compare (new model)")
    assert _check("max_rise", 0.01, {}, {"acc": 0.1}) == (True, "acc: no base value to compare (not in base)")
    assert _check("max_rise", 0.01, {"acc": "x"}, {"acc": 0.1}) == (True, "acc: no base value to compare (not in base)")


def test_absolute_drop() -> None:
    assert _check("max_drop", 0.01, {"acc": 0.85}, {"acc": 0.84}) == (True, "acc dropped 0.01 (0.85 -> 0.84), max drop 0.01")
    assert _check("max_drop", 0.01, {"acc": 0.85}, {"acc": 0.83}) == (False, "acc dropped 0.02 (0.85 -> 0.83), max drop 0.01")
    assert _check("max_drop", 0.0, {"acc": 0.85}, {"acc": 0.9}) == (True, "acc did not drop (0.85 -> 0.9), max drop 0")
    assert _check("max_drop", 0.0, {"acc": 5}, {"acc": 5}) == (True, "acc did not drop (5 -> 5), max drop 0")


def test_absolute_rise_is_the_other_way_round() -> None:
    assert _check("max_rise", 5, {"acc": 40}, {"acc": 45}, metric="acc") == (True, "acc rose 5 (40 -> 45), max rise 5")
    assert _check("max_rise", 5, {"acc": 40}, {"acc": 46}) == (False, "acc rose 6 (40 -> 46), max rise 5")
    assert _check("max_rise", 5, {"acc": 40}, {"acc": 10}) == (True, "acc did not rise (40 -> 10), max rise 5")


def test_the_float_tolerance_is_relative_to_the_base() -> None:
    # 1e6 + 0.1 - 1e6 is 0.100000000035 in floats: within a tolerance of 1e-12 of the base's size
    assert _check("max_rise", 0.1, {"acc": 1e6}, {"acc": 1e6 + 0.1})[0]
    assert not _check("max_rise", 0.1, {"acc": 1e6}, {"acc": 1e6 + 0.100002})[0]
    assert not _check("max_rise", 0.1, {"acc": 0.0}, {"acc": 0.1 + 1e-11})[0]


def test_relative_drop_and_rise_are_a_share_of_the_base() -> None:
    assert _check("max_drop", 2.0, {"acc": 0.5}, {"acc": 0.49}, relative=True) == (True, "acc dropped 2% (0.5 -> 0.49), max drop 2%")
    assert _check("max_drop", 2.0, {"acc": 0.5}, {"acc": 0.4875}, relative=True) == (False, "acc dropped 2.5% (0.5 -> 0.4875), max drop 2%")
    assert _check("max_drop", 2.0, {"acc": 0.5}, {"acc": 0.48}, relative=True) == (False, "acc dropped 4% (0.5 -> 0.48), max drop 2%")
    assert _check("max_rise", 10.0, {"acc": -2.0}, {"acc": -1.0}, relative=True) == (False, "acc rose 50% (-2 -> -1), max rise 10%")
    assert _check("max_rise", 10.0, {"acc": 2.0}, {"acc": 1.0}, relative=True) == (True, "acc did not rise (2 -> 1), max rise 10%")
    assert _check("max_rise", 10.0, {"acc": 0}, {"acc": 1}, relative=True) == (False, "acc rose inf% (0 -> 1), max rise 10%")
    assert _check("max_rise", 0.0, {"acc": 0}, {"acc": 0}, relative=True) == (True, "acc did not rise (0 -> 0), max rise 0%")
    assert _check("max_drop", 0.0, {"acc": 0}, {"acc": 1}, relative=True) == (True, "acc did not drop (0 -> 1), max drop 0%")


@given(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3), st.floats(0, 100))
def test_a_drop_gate_never_blocks_an_improvement_and_rise_mirrors_drop(before: float, after: float, limit: float) -> None:
    drop, _ = _check("max_drop", limit, {"acc": before}, {"acc": after})
    rise, _ = _check("max_rise", limit, {"acc": -before}, {"acc": -after})
    assert drop == rise
    if after >= before:
        assert drop


def test_rule_descriptions() -> None:
    assert g.MetricRule("a", "max_drop", 0.5).describe() == "max drop 0.5"
    assert g.MetricRule("a", "max_rise", 2, relative=True).describe() == "max rise 2%"
    assert g.MetricRule("a", "min", 1e-7).describe() == "min 1e-07"


def test_model_gates_over_the_defaults() -> None:
    star = g.ModelGates((g.MetricRule("acc", "min", 0.5), g.MetricRule("f1", "min", 0.1)), max_drift=0.3, in_remote=True)
    own = g.ModelGates((g.MetricRule("acc", "min", 0.9),), intact=True)
    config = g.ReviewConfig(gates={g.ALL: star, "churn": own})
    merged = config.for_model("churn")
    assert merged.metrics == (g.MetricRule("f1", "min", 0.1), g.MetricRule("acc", "min", 0.9))
    assert merged.max_drift == 0.3 and merged.in_remote and merged.intact
    assert config.for_model("other") == star
    assert g.ReviewConfig(gates={"churn": g.ModelGates(max_drift=0.1)}).for_model("churn").max_drift == 0.1
    assert g.ReviewConfig(gates={g.ALL: g.ModelGates(max_drift=0.5), "c": g.ModelGates(max_drift=0.0)}).for_model("c").max_drift == 0.0
    assert g.ReviewConfig().for_model("x") == g.ModelGates() and g.ModelGates().empty
    assert g.ReviewConfig(gates={"c": g.ModelGates()}, drift_threshold=0.1).for_model("c").empty
    for gates in (g.ModelGates(max_drift=0.0), g.ModelGates(in_remote=True), g.ModelGates(intact=True),
                  g.ModelGates((g.MetricRule("a", "min", 0),))):
        assert not gates.empty


def _config(gates: dict) -> g.ReviewConfig:
    return g.ReviewConfig(gates={k: g.ModelGates(tuple(g.MetricRule(m, "min", 0.5) for m in v)) for k, v in gates.items()})


def test_check_names_messages() -> None:
    with pytest.raises(ConfigError) as err:
        g.check_names(_config({"churn": ["acc"]}), {"fraud", "abc"}, {})
    assert err.value.message == "review.gates names model 'churn', which has no record and is not declared (models: abc, fraud)"
    assert err.value.hint == "fix review.gates in mlver.yaml (see the README's review section)"
    with pytest.raises(ConfigError) as err:
        g.check_names(_config({"churn": ["acc"]}), set(), {})
    assert err.value.message == "review.gates names model 'churn', which has no record and is not declared"
    with pytest.raises(ConfigError) as err:
        g.check_names(_config({"churn": ["acc"]}), {"churn"}, {"churn": {"f1", "auc"}})
    assert err.value.message == "review.gates.churn.metrics names 'acc', which churn does not record (it records: auc, f1)"
    with pytest.raises(ConfigError) as err:
        g.check_names(_config({"churn": ["acc"]}), {"churn"}, {"churn": set()})
    assert err.value.message == "review.gates.churn.metrics names 'acc', which churn does not record (it records no metrics)"
    g.check_names(_config({"churn": ["acc"]}), {"churn"}, {})  # no record read: nothing to check the metric against
    with pytest.raises(ConfigError) as err:
        g.check_names(_config({g.ALL: ["acc"]}), {"a", "b"}, {"a": {"f1"}, "b": {"auc"}})
    assert err.value.message == "review.gates.*.metrics names 'acc', which no model records (recorded: auc, f1)"
    with pytest.raises(ConfigError) as err:
        g.check_names(_config({g.ALL: ["acc"]}), {"a"}, {"a": set()})
    assert err.value.message == "review.gates.*.metrics names 'acc', which no model records"
    g.check_names(_config({g.ALL: ["acc"]}), set(), {})  # no records at all: nothing is a typo yet


def test_check_names_for_one_model_under_review() -> None:
    config = _config({g.ALL: ["acc", "f1"], "churn": ["auc"], "other": ["zzz"]})
    g.check_names(config, {"churn"}, {"churn": {"auc", "f1"}}, only="churn")  # other's gates and "*"'s acc are not its
    with pytest.raises(ConfigError, match="names 'auc', which churn does not record"):
        g.check_names(config, {"churn"}, {"churn": {"f1"}}, only="churn")
    with pytest.raises(ConfigError, match="names model 'other'"):
        g.check_names(config, {"churn"}, {"churn": {"auc", "f1", "acc"}})


def test_drift_verdicts_name_the_worst_column() -> None:
    data = [
        {"path": "a.csv", "status": "changed", "profile": {"columns": [{"name": "x", "psi": 0.1}, {"name": "y", "psi": None}]}},
        {"path": "b.csv", "status": "changed", "profile": {"columns": [{"name": "z", "psi": 0.3}, {"name": "w", "psi": 0.3}]}},
        {"path": "c.csv", "status": "unchanged"},
    ]
    failed = g.check_drift("m", 0.25, _rows(data), new_model=False)
    assert (failed.model, failed.gate, failed.passed) == ("m", "max_drift", False)
    assert failed.detail == "max PSI 0.3 (b.csv: z) > 0.25"
    passed = g.check_drift("m", 0.3, _rows(data), new_model=False)
    assert passed.passed and passed.detail == "max PSI 0.3 (b.csv: z) <= 0.3"
    assert g.check_drift("m", 0.3, _rows(data), new_model=True).detail == "new model: no base data to compare"
    nothing = g.check_drift("m", 0.1, _rows([{"path": "c.csv", "status": "unchanged"}]), new_model=False)
    assert nothing.passed and nothing.detail == "no tabular data changed"
    hashes = g.check_drift("m", 0.1, _rows([{"path": "a.bin", "status": "changed", "profile": None},
                                            {"path": "b.bin", "status": "changed"}]), new_model=False)
    assert hashes.passed and hashes.detail == "no profile to compare for a.bin, b.bin (hash-only)"


def test_remote_verdicts() -> None:
    ok = g.check_remote("m", "team", 7, [])
    assert (ok.gate, ok.passed, ok.detail) == ("in_remote", True, "7 objects in remote team")
    three = g.check_remote("m", "team", 7, ["a", "b", "c"])
    assert not three.passed and three.detail == "not in remote team: a, b, c; run `mlver push`"
    five = g.check_remote("m", "team", 7, ["a", "b", "c", "d", "e"])
    assert five.detail == "not in remote team: a, b, c and 2 more; run `mlver push`"


def test_intact_verdicts() -> None:
    commit = "0123456789abcdef" * 2
    ok = g.check_intact("m", True, commit, True)
    assert (ok.gate, ok.passed, ok.detail) == ("intact", True, "digest valid, code 0123456789ab is in head's history")
    bad = g.check_intact("m", False, commit, False)
    assert not bad.passed and bad.detail == (
        "the record does not match its digest (edited by hand); "
        "its code commit 0123456789ab is not an ancestor of head (trained on other code)")
    none = g.check_intact("m", True, None, True)
    assert not none.passed and none.detail == "the record names no code commit"
    assert g.check_intact("m", False, commit, True).detail == "the record does not match its digest (edited by hand)"
