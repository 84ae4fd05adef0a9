"""Drift's binning arithmetic and the column report, case by case."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlver.domain import drift
from mlver.domain.profile import profile_frame


def test_bin_exact_of_a_constant_histogram_is_below_at_and_above() -> None:
    v = np.array([1.0, 5.0, 5.0, 9.0, np.inf, -np.inf, 5.0])
    assert drift.bin_exact(v, [5.0, 5.0]) == [1, 5, 1]  # +-inf are "at": the single bin holds them


def test_bin_exact_keeps_every_bin_and_clips_out_of_range_values() -> None:
    edges = [float(x) for x in range(11)]
    assert drift.bin_exact(np.array([0.5]), edges) == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert drift.bin_exact(np.array([-5.0, 0.0, 9.99, 10.0, 50.0, 3.0]), edges) == [2, 0, 0, 1, 0, 0, 0, 0, 0, 3]


def test_rebin_moves_counts_onto_new_edges_uniformly() -> None:
    hist = {"edges": [0.0, 10.0, 20.0], "counts": [10, 30]}
    assert drift._rebin(hist, [0.0, 5.0, 10.0, 15.0, 20.0]) == [5.0, 5.0, 15.0, 15.0]
    assert drift._rebin(hist, [5.0, 12.5, 30.0]) == [17.5, 22.5]  # mass outside the edges goes to the outer bins
    assert drift._rebin(hist, [-10.0, 0.0, 25.0]) == [0.0, 40.0]
    three = {"edges": [0.0, 1.0, 2.0, 4.0], "counts": [2, 2, 4]}
    assert drift._rebin(three, [0.0, 3.0, 4.0]) == [6.0, 2.0]


def test_rebin_of_a_constant_against_a_range_and_a_range_against_a_constant() -> None:
    const = {"edges": [3.0, 3.0], "counts": [6]}
    assert drift._rebin(const, [0.0, 2.0, 3.0, 5.0]) == [0.0, 0.0, 6.0]  # 3 is in the last bin, [3, 5]
    assert drift._rebin(const, [0.0, 3.5, 5.0]) == [6.0, 0.0]
    assert drift._rebin(const, [3.5, 4.0, 5.0]) == [6.0, 0.0]  # below the new range: in its first bin
    assert drift._rebin(const, [3.0, 3.0]) == [0.0, 6.0, 0.0]  # both constant and equal: all "at"
    assert drift._rebin(const, [2.0, 2.0]) == [0.0, 0.0, 6.0]  # above the new constant
    assert drift._rebin(const, [4.0, 4.0]) == [6.0, 0.0, 0.0]  # below it
    spread = {"edges": [0.0, 1.0, 2.0], "counts": [4, 4]}
    assert drift._rebin(spread, [1.0, 1.0]) == pytest.approx([4.0, 0.0, 4.0], abs=1e-9)
    assert drift._rebin(spread, [0.0, 0.0]) == pytest.approx([0.0, 0.0, 8.0], abs=1e-9)
    assert drift._rebin(spread, [2.0, 2.0]) == [8.0, 0.0, 0.0]


def test_categorical_bins_put_every_missing_name_at_zero() -> None:
    old = {"top": [["a", 5], ["b", 3]], "other": 2}
    assert drift._categorical_bins(old, {"a": 4, "c": 9}, 20, ["a", "b", "c"]) == ([5, 3, 0, 2], [4, 0, 9, 7])


def _col(profile: dict, name: str) -> dict:
    return next(c for c in profile["columns"] if c["name"] == name)


def test_the_column_report_of_each_kind() -> None:
    old = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "d": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", None]),
                        "c": ["a", "b", "a", None], "n": [1, 2, 3, 4]})
    new = pd.DataFrame({"x": [2.0, 4.0, 6.0, np.nan], "d": pd.to_datetime(["2024-02-01", None, "2024-03-01", None]),
                        "c": ["a", "c", "c", "c"], "n": ["1", "2", "x", "y"]})
    report = drift.compare_profiles(profile_frame(old, "csv"), profile_frame(new, "csv"))
    x, d, c, n = report["columns"]
    assert x["kind"] == "numeric" and x["mean"] == {"old": 2.5, "new": 4.0, "delta": 1.5}
    assert x["std"]["old"] == pytest.approx(1.29099, rel=1e-5) and x["std"]["new"] == 2.0
    assert x["std"]["delta"] == pytest.approx(2.0 - 1.29099, rel=1e-4)
    assert x["null_rate"] == {"old": 0.0, "new": 0.25}
    assert d["kind"] == "datetime" and d["min"] == {"old": "2024-01-01T00:00:00", "new": "2024-02-01T00:00:00"}
    assert d["max"] == {"old": "2024-01-03T00:00:00", "new": "2024-03-01T00:00:00"} and d["null_rate"] == {"old": 0.25, "new": 0.5}
    assert c["kind"] == "categorical" and c["top_changed"] is True
    assert c["top"] == {"old": [["a", 2], ["b", 1]], "new": [["c", 3], ["a", 1]]}
    assert n["kind"] == "categorical" and n["psi"] is None and "mean" not in n and "top" not in n
    assert report["type_changed"] == [{"name": "n", "old": "int64", "new": "str" if str(new["n"].dtype) == "str" else "object"}]
    assert report["rows"] == {"old": 4, "new": 4, "delta": 0}
    same = drift.compare_profiles(profile_frame(old, "csv"), profile_frame(old, "csv"))
    assert [col["psi"] for col in same["columns"]] == [0.0, 0.0, 0.0, 0.0] and same["drifted_columns"] == []
    assert _col(same, "c")["top_changed"] is False


def test_a_column_with_no_finite_value_is_one_bin_of_its_non_null_rows() -> None:
    old = profile_frame(pd.DataFrame({"x": [np.inf, np.inf, np.nan, np.nan]}), "csv")
    new = profile_frame(pd.DataFrame({"x": [np.inf, np.nan, np.nan, np.nan]}), "csv")
    (col,) = drift.compare_profiles(old, new)["columns"]
    # [2 values, 2 nulls] against [1 value, 3 nulls]
    assert col["psi"] == pytest.approx(round(drift.psi([2, 2], [1, 3]), 6))
    framed = drift.drift_frame(old, pd.DataFrame({"x": [np.inf, np.nan, np.nan, np.nan]}))
    assert framed["columns"][0]["psi"] == col["psi"]


def test_exact_binning_of_new_data_differs_from_rebinning_its_profile() -> None:
    rng = np.random.default_rng(3)
    old = pd.DataFrame({"x": rng.normal(0, 1, 500)})
    new = pd.DataFrame({"x": np.concatenate([rng.normal(0, 1, 300), np.full(200, 0.05)])})  # a spike inside one old bin
    stored = profile_frame(old, "csv")
    exact = drift.drift_frame(stored, new)["columns"][0]["psi"]
    rebinned = drift.compare_profiles(stored, profile_frame(new, "csv"))["columns"][0]["psi"]
    assert exact != rebinned
    counts = drift.bin_exact(new["x"].to_numpy(), stored["columns"][0]["histogram"]["edges"])
    expected = round(drift.psi(stored["columns"][0]["histogram"]["counts"] + [0], counts + [0]), 6)
    assert exact == pytest.approx(expected, rel=1e-5)
