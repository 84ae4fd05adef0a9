"""Comparing two records: params, metrics (direction of better), data, artifact, env."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlver.domain import compare
from mlver.models.record import ArtifactRef, DataRef, Environment

values = st.one_of(st.integers(-5, 5), st.text(max_size=3), st.none(), st.booleans())
params = st.dictionaries(st.sampled_from("abcdef"), values, max_size=6)


# The rows are typed (mlver/models/diff.py); these tests read their documents,
# the `--json` contract of `mlver diff`.
def params_diff(*args: Any) -> list[dict]:
    return [r.to_doc() for r in compare.params_diff(*args)]


def metrics_diff(*args: Any) -> list[dict]:
    return [r.to_doc() for r in compare.metrics_diff(*args)]


def data_diff(old: list[dict], new: list[dict], **kw: Any) -> list[dict]:
    return [r.to_doc() for r in compare.data_diff([DataRef.build(d) for d in old], [DataRef.build(d) for d in new], **kw)]


def env_diff(old: dict, new: dict) -> list[dict]:
    return [r.to_doc() for r in compare.env_diff(Environment.build(old), Environment.build(new))]


def artifact_diff(old: dict, new: dict) -> dict:
    return compare.artifact_diff(ArtifactRef.build(old), ArtifactRef.build(new)).to_doc()


def test_param_changes_are_added_removed_or_changed_in_key_order() -> None:
    rows = params_diff({"lr": 0.1, "depth": 3, "same": 1, "gone": None}, {"lr": 0.2, "same": 1, "new": "x", "depth": 3})
    assert rows == [
        {"key": "gone", "old": None, "new": None, "status": "removed"},
        {"key": "lr", "old": 0.1, "new": 0.2, "status": "changed"},
        {"key": "new", "old": None, "new": "x", "status": "added"},
    ]


@given(params, params)
def test_param_diff_lists_exactly_the_keys_that_differ(old: dict, new: dict) -> None:
    rows = params_diff(old, new)
    keys = [r["key"] for r in rows]
    assert keys == sorted(keys)
    _missing = object()
    assert set(keys) == {k for k in set(old) | set(new) if old.get(k, _missing) != new.get(k, _missing)}
    for r in rows:
        assert r["status"] == ("added" if r["key"] not in old else "removed" if r["key"] not in new else "changed")
        assert r["old"] == old.get(r["key"]) and r["new"] == new.get(r["key"])
    assert params_diff(old, old) == []


@pytest.mark.parametrize("metric", [
    "loss", "val_loss", "train-loss", "eval.error", "test/mae", "RMSE", "latency_ms", "p99.latency", "duration",
    "fit_time", "cost", "fpr", "fnr", "perplexity", "wer", "cer", "brier", "bits", "mse", "mape", "smape", "logloss",
    "err", "accuracy_loss",  # a lower-is-better part wins over a higher one
])
def test_lower_is_better_for_losses_errors_and_latencies(metric: str) -> None:
    assert compare.higher_is_better(metric) is False


@pytest.mark.parametrize("metric", [
    "accuracy", "val_acc", "auc", "roc_auc", "f1", "F1-macro", "precision", "recall", "r2", "map", "ndcg@10".replace("@", "_"),
    "iou", "dice", "bleu", "rouge", "score", "tpr", "tnr", "specificity", "sensitivity", "ap", "test/accuracy",
])
def test_higher_is_better_for_known_scores(metric: str) -> None:
    assert compare.higher_is_better(metric) is True


@pytest.mark.parametrize("metric", ["rows", "epochs", "n_estimators", "", "lossy", "accuracyx", "__"])
def test_no_guess_for_a_metric_whose_name_does_not_tell(metric: str) -> None:
    assert compare.higher_is_better(metric) is None


def test_metric_rows_say_delta_percent_direction_and_better() -> None:
    rows = {r["key"]: r for r in metrics_diff(
        {"accuracy": 0.8, "loss": 0.5, "latency_ms": 40, "rows": 100, "f1": 0.5, "zero": 0, "text": "a", "flag": True, "gone": 1},
        {"accuracy": 0.9, "loss": 0.25, "latency_ms": 50, "rows": 100, "f1": 0.4, "zero": 2, "text": "b", "flag": False, "new": 3},
    )}
    assert list(rows) == sorted(rows)
    acc = rows["accuracy"]
    assert acc["old"] == 0.8 and acc["new"] == 0.9 and acc["direction"] == "up" and acc["better"] is True
    assert acc["delta"] == pytest.approx(0.1) and acc["pct"] == pytest.approx(12.5)
    loss = rows["loss"]
    assert loss["delta"] == -0.25 and loss["pct"] == -50.0 and loss["direction"] == "down" and loss["better"] is True
    lat = rows["latency_ms"]  # a slower model is worse, although the number went up
    assert lat["delta"] == 10 and lat["pct"] == 25.0 and lat["direction"] == "up" and lat["better"] is False
    f1 = rows["f1"]
    assert f1["direction"] == "down" and f1["better"] is False and f1["pct"] == pytest.approx(-20.0)
    same = rows["rows"]
    assert same["delta"] == 0 and same["pct"] == 0.0 and same["direction"] == "same" and same["better"] is None
    assert rows["zero"]["pct"] is None and rows["zero"]["delta"] == 2  # no percentage of zero
    for key in ("text", "flag", "gone", "new"):  # not two numbers (a bool is not a number)
        row = rows[key]
        assert row["delta"] is row["pct"] is row["direction"] is row["better"] is None
    assert rows["gone"]["new"] is None and rows["new"]["old"] is None and rows["new"]["new"] == 3


def test_a_negative_base_gives_the_percentage_of_its_size() -> None:
    (row,) = metrics_diff({"r2": -0.5}, {"r2": -0.25})
    assert row["pct"] == 50.0 and row["better"] is True


def test_an_unchanged_known_metric_is_neither_better_nor_worse() -> None:
    (row,) = metrics_diff({"loss": 0.3}, {"loss": 0.3})
    assert row["better"] is None and row["direction"] == "same"


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.sampled_from(["loss", "accuracy", "rows"]))
def test_better_follows_the_metrics_direction(a: float, b: float, metric: str) -> None:
    (row,) = metrics_diff({metric: a}, {metric: b})
    goal = compare.higher_is_better(metric)
    if goal is None or a == b:
        assert row["better"] is None
    else:
        assert row["better"] is ((b > a) == goal)
    assert row["direction"] == ("up" if b > a else "down" if b < a else "same")


def _data(path: str, md5: str, **extra: object) -> dict:
    return {"path": path, "md5": md5, "size": len(md5), "nfiles": 1, **extra}


def _profile(values: list[int]) -> dict:
    import pandas as pd

    from mlver.domain.profile import profile_frame

    return profile_frame(pd.DataFrame({"x": values}), "csv")


def test_data_rows_are_added_removed_unchanged_or_changed() -> None:
    rows = data_diff(
        [_data("a.csv", "1" * 32), _data("b.bin", "2" * 32), _data("gone.bin", "3" * 32)],
        [_data("new.bin", "4" * 32, size=9, nfiles=4), _data("a.csv", "1" * 32), _data("b.bin", "5" * 32)],
    )
    by = {r["path"]: r for r in rows}
    assert [r["path"] for r in rows] == ["a.csv", "b.bin", "gone.bin", "new.bin"]
    assert by["a.csv"]["status"] == "unchanged" and "profile" not in by["a.csv"] and "note" not in by["a.csv"]
    assert by["gone.bin"] == {"path": "gone.bin", "status": "removed", "old_md5": "3" * 32, "new_md5": None,
                              "old_size": 32, "new_size": None, "old_nfiles": 1, "new_nfiles": None}
    assert by["new.bin"] == {"path": "new.bin", "status": "added", "old_md5": None, "new_md5": "4" * 32,
                             "old_size": None, "new_size": 9, "old_nfiles": None, "new_nfiles": 4}
    changed = by["b.bin"]
    assert changed["status"] == "changed" and changed["profile"] is None
    assert changed["note"] == "not tabular: hash-only comparison"
    assert changed["old_md5"] == "2" * 32 and changed["new_md5"] == "5" * 32


def test_a_changed_input_without_profile_says_why() -> None:
    (row,) = data_diff([_data("a.parquet", "1" * 32, profile_error="too large")], [_data("a.parquet", "2" * 32)])
    assert row["note"] == "no profile (too large): hash-only comparison"
    (row,) = data_diff([_data("a.parquet", "1" * 32)], [_data("a.parquet", "2" * 32, profile_error="bad csv")])
    assert row["note"] == "no profile (bad csv): hash-only comparison"


def test_changed_tabular_data_is_compared_by_profile_at_the_threshold() -> None:
    old, new = _profile(list(range(100))), _profile(list(range(50, 150)))
    (row,) = data_diff([_data("d.csv", "1" * 32, profile=old)], [_data("d.csv", "2" * 32, profile=new)])
    assert "note" not in row
    (col,) = row["profile"]["columns"]
    assert col["psi"] > 0.2 and col["drifted"] and row["profile"]["drifted_columns"] == ["x"]
    (lenient,) = data_diff([_data("d.csv", "1" * 32, profile=old)], [_data("d.csv", "2" * 32, profile=new)],
                                   threshold=col["psi"] + 1)
    assert lenient["profile"]["drifted_columns"] == []
    (strict,) = data_diff([_data("d.csv", "1" * 32, profile=old)], [_data("d.csv", "2" * 32, profile=old)],
                                  threshold=0.0)
    assert strict["profile"]["drifted_columns"] == ["x"]  # psi 0 >= 0: the threshold is honoured even at zero


def test_a_profile_on_one_side_only_is_noted() -> None:
    p = _profile([1, 2, 3])
    (row,) = data_diff([_data("d.csv", "1" * 32)], [_data("d.csv", "2" * 32, profile=p)])
    assert row["note"] == "no profile on the old side: columns are compared with nothing"
    assert row["profile"]["columns_added"] == ["x"]
    (row,) = data_diff([_data("d.csv", "1" * 32, profile=p)], [_data("d.csv", "2" * 32)])
    assert row["note"] == "no profile on the new side: columns are compared with nothing"
    assert row["profile"]["columns_removed"] == ["x"]


def test_artifact_diff() -> None:
    old = {"path": "m.pkl", "md5": "a", "size": 1}
    assert artifact_diff(old, {"md5": "b", "size": 2}) == {
        "path": "m.pkl", "old_md5": "a", "new_md5": "b", "old_size": 1, "new_size": 2, "changed": True}
    assert artifact_diff(old, {"path": "n.pkl", "md5": "a"})["path"] == "n.pkl"
    assert artifact_diff(old, dict(old))["changed"] is False


def test_env_diff_flattens_packages_beside_python_and_platform() -> None:
    old = {"python": "3.11", "platform": "linux", "packages": {"dvc": "3.0", "numpy": "2.0"}}
    new = {"python": "3.12", "platform": "linux", "packages": {"dvc": "3.1", "pandas": "2.2"}}
    assert env_diff(old, new) == [
        {"key": "dvc", "old": "3.0", "new": "3.1", "status": "changed"},
        {"key": "numpy", "old": "2.0", "new": None, "status": "removed"},
        {"key": "pandas", "old": None, "new": "2.2", "status": "added"},
        {"key": "python", "old": "3.11", "new": "3.12", "status": "changed"},
    ]
    assert env_diff({"platform": "mac", "packages": None}, {"platform": "linux"}) == [
        {"key": "platform", "old": "mac", "new": "linux", "status": "changed"}]
