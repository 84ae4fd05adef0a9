"""StreamProfile fed batches in memory: the same profile as profile_frame of the whole table,
the drift side's exact binning, and the approximate summaries past their bounds."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fixtures.profiles import assert_same
from hypothesis import given, settings
from hypothesis import strategies as st

import mlver.domain.profile_stream as ps
from mlver.domain.drift import bin_exact, check_stored, drift_frame, drift_stream, drift_targets, psi
from mlver.domain.profile import profile_frame
from mlver.models.record import ProfileDoc


class Spill:
    """The adapter's spill without files: arrays per column, read back in chunks of at most 32768."""

    def __init__(self) -> None:
        self.memory: dict[int, list[Any]] = {}
        self.dropped: list[int] = []

    def append(self, key: int, values: Any) -> None:
        self.memory.setdefault(key, []).append(np.array(values))

    def chunks(self, key: int) -> list[Any]:
        return [a[i : i + 32768] for a in self.memory.get(key, []) for i in range(0, len(a), 32768)]

    def drop(self, key: int) -> None:
        self.dropped.append(key)
        self.memory.pop(key, None)


def stream(df: pd.DataFrame, batch: int, spill: Spill | None = None, **kwargs: Any) -> ps.StreamProfile:
    profile = ps.StreamProfile([(name, df[name].dtype) for name in df.columns], "csv",
                               Spill() if spill is None else spill, **kwargs)
    for start in range(0, len(df), batch):
        part = df.iloc[start : start + batch]
        profile.add(len(part), [part.iloc[:, i] for i in range(df.shape[1])])
    return profile


def _frame(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["wide", "small", "f", "s", "b"])
    df["wide"] = df["wide"].astype("float64")
    df["small"] = df["small"].astype("Int64")
    df["f"] = df["f"].astype("float64")
    df["b"] = df["b"].astype(bool)
    df["day"] = pd.to_datetime(["2024-01-01", "2024-02-29", "2023-12-31"] * (len(df) // 3) + ["2024-03-01"] * (len(df) % 3))
    return df


ROWS = st.lists(st.tuples(
    st.one_of(st.none(), st.integers(-(2**40), 2**40)),
    st.one_of(st.none(), st.integers(-3, 5)),
    st.one_of(st.floats(-1e6, 1e6), st.just(math.nan), st.just(math.inf), st.just(-math.inf), st.just(0.5)),
    st.one_of(st.none(), st.sampled_from(["a", "b", "a b", "", "é", "x" * 300])),
    st.booleans(),
), min_size=1, max_size=25)


@settings(max_examples=30, deadline=None)
@given(ROWS, st.integers(1, 7))
def test_a_streamed_table_profiles_as_the_whole_table_does(rows: list[tuple], batch: int) -> None:
    df = _frame(rows)
    assert_same(stream(df, batch).finish(), profile_frame(df, "csv"))


@settings(max_examples=30, deadline=None)
@given(ROWS, st.integers(1, 7))
def test_every_profile_mlver_writes_is_one_drift_and_diff_can_compare(rows: list[tuple], batch: int) -> None:
    # check_stored refuses crafted profiles (tests/cli/test_crafted_records.py); it must
    # pass every profile the two profilers write: constant, all-null, inf-only columns too.
    df = _frame(rows)
    df["constant"], df["none"], df["inf"] = 1.5, None, math.inf
    for written in (stream(df, batch).finish(), profile_frame(df, "csv")):
        check_stored(ProfileDoc.from_doc(written), "a test", "profile")


def test_dense_integers_that_stop_being_dense_are_spilled_and_still_exact() -> None:
    # small integers first (counted value by value), then a range that grows, then fractions
    x = np.concatenate([np.arange(10.0), np.arange(-5.0, 30.0), np.arange(1000.0, 1010.0), [0.25, 7.5], np.arange(5.0)])
    df = pd.DataFrame({"x": x, "late": np.concatenate([np.arange(len(x) - 1.0), [1e6]]), "i": np.arange(len(x)) % 7})
    spill = Spill()
    streamed = stream(df, 10, spill).finish()
    assert_same(streamed, profile_frame(df, "csv"))
    assert sorted(spill.dropped) == [0, 1]  # the spilled columns are let go; "i" never spilled
    one_batch = stream(df, len(df)).finish()
    assert_same(one_batch, profile_frame(df, "csv"))


def test_a_range_that_grows_downwards_and_upwards_rebases_the_counts() -> None:
    df = pd.DataFrame({"x": [5, 6, 5, 2, 3, 9, 12, -4, 0, 5]})
    assert_same(stream(df, 2).finish(), profile_frame(df, "csv"))
    wide = pd.DataFrame({"x": [1, 2, 3] + [2**60, 2**61]})  # past 2**53: never dense
    assert_same(stream(wide, 3).finish(), profile_frame(wide, "csv"))
    span = pd.DataFrame({"x": [0, 1, 2, (1 << 16) + 5, 3]})  # past _DENSE values: spilled
    assert_same(stream(span, 2).finish(), profile_frame(span, "csv"))


def test_columns_known_to_be_null_and_declared_dtypes() -> None:
    declared = [("n", np.dtype("int64")), ("b", np.dtype("bool")), ("s", pd.StringDtype("pyarrow")), ("f", np.dtype("float64"))]
    profile = ps.StreamProfile(declared, "parquet", Spill())
    profile.add(2, [pd.Series([1, 2]), pd.Series([True, False]), pd.Series(["a", "b"], dtype="string[pyarrow]"), None])
    profile.add(1, [None, None, None, None])
    out = profile.finish()
    assert (out["format"], out["rows"], out["schema"]) == ("parquet", 3, 2)
    n, b, s, f = out["columns"]
    assert (n["dtype"], n["kind"], n["nulls"], n["min"], n["max"]) == ("float64", "numeric", 1, 1.0, 2.0)
    assert (b["dtype"], b["kind"], b["nulls"], b["top"]) == ("object", "categorical", 1, [["False", 1], ["True", 1]])
    assert (s["nulls"], s["unique"], s["top"], s["other"]) == (1, 2, [["a", 1], ["b", 1]], 0)
    assert (f["dtype"], f["nulls"], f["histogram"], f["mean"]) == ("float64", 3, None, None)
    assert set(f["quantiles"].values()) == {None}
    full = ps.StreamProfile([("n", np.dtype("int64")), ("b", np.dtype("bool"))], "csv", Spill())
    full.add(2, [pd.Series([1, 2]), pd.Series([True, True])])
    n, b = full.finish()["columns"]
    assert (n["dtype"], b["dtype"], b["kind"]) == ("int64", "bool", "boolean")


def test_arrow_strings_are_counted_in_arrow_and_long_ones_capped() -> None:
    s = pd.Series(["a", None, "b", "a", "y" * 300, "y" * 300], dtype="string[pyarrow]")
    df = pd.DataFrame({"s": s})
    assert_same(stream(df, 4).finish(), profile_frame(df, "csv"))


def test_without_a_spill_numbers_get_only_whether_they_have_a_histogram() -> None:
    df = pd.DataFrame({"x": [1.0, np.inf, 3.0, np.nan], "none": [np.nan] * 4, "c": ["a", "b", "a", None]})
    profile = ps.StreamProfile([(n, df[n].dtype) for n in df.columns], "csv", None)
    profile.add(2, [df.iloc[:2, i] for i in range(3)])
    profile.add(2, [df.iloc[2:, i] for i in range(3)])
    assert profile.binned == {}
    x, none, c = profile.finish()["columns"]
    assert x["histogram"] == {"edges": [1.0, 3.0], "counts": [3]} and x["quantiles"] is None
    assert (x["min"], x["max"], x["nulls"], x["mean"]) == (1.0, 3.0, 1, 2.0)
    assert none["histogram"] is None and none["min"] is None and none["nulls"] == 4
    assert c["top"] == [["a", 2], ["b", 1]]


def test_drift_targets_are_counted_exactly_in_the_stored_bins() -> None:
    rng = np.random.default_rng(5)
    old = pd.DataFrame({"x": rng.normal(0, 1, 300), "c": rng.choice(["a", "b", "c"], 300), "d": pd.date_range("2024", periods=300, freq="h"),
                        "k": rng.integers(0, 3, 300).astype(bool), "x2": rng.normal(0, 1, 300)})
    new = pd.DataFrame({"x": rng.normal(1, 1, 50), "c": rng.choice(["a", "d"], 50), "d": pd.date_range("2024-01-05", periods=50, freq="h"),
                        "k": [True] * 50, "extra": np.arange(50)})
    stored = profile_frame(old, "csv")
    declared = [(n, new[n].dtype) for n in new.columns]
    edges, names = drift_targets(stored, declared)
    assert sorted(edges) == [0, 2] and sorted(names) == [1, 3]
    assert edges[0] == stored["columns"][0]["histogram"]["edges"] and names[1] == [k for k, _ in stored["columns"][1]["top"]]
    streamed = stream(new, 7, None, edges=edges, names=names)
    binned = streamed.binned
    assert binned[0] == bin_exact(new["x"].to_numpy(), edges[0])
    assert binned[1] == {k: int((new["c"] == k).sum()) for k in names[1]}
    report, expected = drift_stream(stored, streamed, 0.2), drift_frame(stored, new, 0.2)
    for s, m in zip(report["columns"], expected["columns"], strict=True):
        assert (s["name"], s["psi"], s["drifted"]) == (m["name"], m["psi"], m["drifted"])
    assert report["missing_columns"] == expected["missing_columns"] == ["x2"]
    assert report["extra_columns"] == expected["extra_columns"] == ["extra"]


def test_drift_targets_take_the_first_of_a_repeated_name() -> None:
    stored = profile_frame(pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"], "z": [1.0, 1.0, 1.0]}), "csv")
    stored["columns"].append(dict(stored["columns"][1], name="x"))  # a second "x", categorical: ignored
    edges, names = drift_targets(stored, [("x", None), ("x", None), ("c", None), ("nope", None), ("z", None)])
    assert list(edges) == [0, 4] and list(names) == [2]
    assert drift_targets({"columns": None}, [("x", None)]) == ({}, {})


def test_moments_of_batches() -> None:
    m = ps.Moments()
    assert (m.n, m.mean, m.std()) == (0, 0.0, None)
    m.add(np.array([]))
    assert m.shift is None
    m.add(np.array([1e9 + 1.0, 1e9 + 2.0]))
    m.add(np.array([1e9 + 3.0]))
    assert m.shift == 1e9 + 1.0 and m.n == 3 and m.mean == 1e9 + 2.0 and m.std() == 1.0
    huge = ps.Moments()
    huge.add(np.array([1e300, -1e300]))
    huge.add(np.array([1e300]))
    assert huge.std() is None  # the squares overflowed: no std, as in memory
    apart = ps.Moments()  # x - shift overflows: the mean is still the mean
    apart.add(np.array([1.7e308, -1.7e308]))
    assert (apart.mean, apart.std()) == (0.0, None)
    apart.add(np.array([1.2e308, 1.5e308]))
    assert apart.mean == pytest.approx(0.675e308, rel=1e-12) and apart.std() is None


def _true_mean(values: list[float]) -> float | None:
    finite = [v for v in values if math.isfinite(v)]
    return math.fsum(v / len(finite) for v in finite) if finite else None


def _means(values: list[float], batch: int) -> tuple[Any, Any]:
    df = pd.DataFrame({"f": np.array(values, dtype=np.float64)})
    return stream(df, batch).finish()["columns"][0], profile_frame(df, "csv")["columns"][0]


def test_a_mean_near_the_float_limit_is_the_mean_streamed_and_in_memory() -> None:
    """Values over half the float range apart: x - (the first value), or a chunk's sum of it,
    overflows. Both profiles once gave None or a float each their own way (a streamed 3.5e307
    where in memory overflowed); the mean of finite numbers is a float, so both give it."""
    cases = [[-460426.57, np.inf, np.inf, np.nan, 2.3516906956081837e307, 726357.84, -154625.56, np.nan,
              1.7415353381429766e308, 1.3001475677736558e307],
             [5.404106527103793e307, 50501.86, 881147.96, 1.149827620885763e305, -1.974950341044122e305, -np.inf],
             [-1.6335486690305464e308, 7.16224429969957e304, 1.7424671881542742e308, 137656.29, -1.059048120807019e308],
             [1.7e308, -1.7e308, 1.7e308], [np.inf, -np.inf, np.nan]]
    for values in cases:
        for batch in (1, 2, 3, len(values)):
            streamed, memory = _means(values, batch)
            true = _true_mean(values)
            assert streamed["mean"] == memory["mean"] == (None if true is None else pytest.approx(true, rel=1e-5)), values
            assert streamed["std"] is memory["std"] is None, values
    # Two chunks in memory (1 << 15 values each) whose sums overflow each way: fsum refused inf - inf.
    values = [0.0] + [1e308] * 32767 + [-1e308] * 32768 + [1e308] * 3
    streamed, memory = _means(values, 20000)
    assert streamed["mean"] == memory["mean"] == pytest.approx(2 / len(values) * 1e308, rel=1e-5)


@settings(max_examples=50)
@given(st.lists(st.one_of(st.floats(), st.floats(1e307, 1.7976931348623157e308), st.floats(-1.7976931348623157e308, -1e307)),
                min_size=1, max_size=12), st.integers(1, 4))
def test_any_floats_get_one_mean_streamed_and_in_memory(values: list[float], batch: int) -> None:
    streamed, memory = _means(values, batch)
    true = _true_mean(values)
    assert (streamed["mean"] is None) == (memory["mean"] is None) == (true is None)
    if true is not None:
        assert streamed["mean"] == pytest.approx(true, rel=1e-5, abs=1e-300)
        assert memory["mean"] == pytest.approx(true, rel=1e-5, abs=1e-300)
    assert (streamed["std"] is None) == (memory["std"] is None)


def test_many_distinct_values_are_summarised_within_their_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ps, "EXACT_DISTINCT", 40)
    monkeypatch.setattr(ps, "SKETCH", 64)
    monkeypatch.setattr(ps, "_MERGE_AT", 16)
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.integers(0, 2000, 2000).astype(str), np.repeat(["hot", "warm"], [300, 150])])
    rng.shuffle(values)
    df = pd.DataFrame({"id": ["k" + v for v in values]})
    col = stream(df, 50).finish()["columns"][0]
    true = df["id"].value_counts()
    assert col["approximate"] == {
        "top": "Misra-Gries summary of 20 counters: each count is low by at most top_error",
        "unique": f"KMV estimate from 64 hashes: about {100 / math.sqrt(62):.1f}% relative error",
    }
    assert 0 < col["top_error"] <= len(values) / 20
    assert [k for k, _ in col["top"][:2]] == ["khot", "kwarm"]
    for key, count in col["top"]:
        assert true[key] - col["top_error"] <= count <= true[key]
    assert abs(col["unique"] - true.size) <= 0.35 * true.size
    assert col["other"] == len(values) - sum(c for _, c in col["top"]) and col["nulls"] == 0
    few = stream(pd.DataFrame({"id": [f"v{i % 50}" for i in range(500)]}), 100).finish()["columns"][0]
    assert few["unique"] == 50  # fewer hashes than the sketch holds: counted, not estimated


def test_exact_below_the_distinct_bound_after_merges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ps, "_MERGE_AT", 4)
    df = pd.DataFrame({"c": [f"v{i % 13}" for i in range(200)] + [None] * 3})
    streamed = stream(df, 9).finish()
    assert "approximate" not in streamed["columns"][0]
    assert_same(streamed, profile_frame(df, "csv"))


def test_quantiles_past_max_pick_are_interpolated_and_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ps, "MAX_PICK", 100)
    rng = np.random.default_rng(2)
    x = np.append(rng.normal(0, 1, 5000), 1e6)
    df = pd.DataFrame({"x": x})
    streamed, memory = stream(df, 700).finish()["columns"][0], profile_frame(df, "csv")["columns"][0]
    bound = float(streamed["approximate"]["quantiles"].rsplit(" ", 1)[1])
    assert bound == pytest.approx((x.max() - x.min()) / 1000, rel=1e-5)
    for k, q in memory["quantiles"].items():
        assert abs(streamed["quantiles"][k] - q) <= bound * 1.0001
    assert streamed["histogram"] == memory["histogram"]


def test_streamed_drift_of_datetime_constant_and_empty_columns() -> None:
    old = pd.DataFrame({"d": pd.date_range("2024-01-01", periods=40, freq="D"), "k": [7.0] * 40, "e": [np.nan] * 40,
                        "c": ["a", "b"] * 20})
    new = pd.DataFrame({"d": pd.date_range("2024-01-20", periods=30, freq="D"), "k": [7.0] * 20 + [8.0] * 10,
                        "e": [np.nan] * 25 + [1.0] * 5, "c": ["a"] * 25 + ["z"] * 5})
    stored = profile_frame(old, "csv")
    edges, names = drift_targets(stored, [(n, new[n].dtype) for n in new.columns])
    assert sorted(edges) == [0, 1] and list(names) == [3]  # e has no histogram: nothing to count exactly
    streamed = drift_stream(stored, stream(new, 8, None, edges=edges, names=names), 0.2)
    framed = drift_frame(stored, new, 0.2)
    assert [c["psi"] for c in streamed["columns"]] == [c["psi"] for c in framed["columns"]]
    assert all(c["psi"] is not None and c["psi"] > 0 for c in streamed["columns"])
    assert streamed["drifted_columns"] == framed["drifted_columns"]
    assert math.isclose(streamed["columns"][1]["psi"], round(psi([0, 40, 0, 0], [0, 20, 10, 0]), 6), rel_tol=1e-5)


def test_small_integer_ranges_far_from_zero_are_counted_and_past_2_53_spilled() -> None:
    # Counting value by value is exact only while every value is an integer a float holds exactly.
    df = pd.DataFrame({
        "far": np.arange(10**6, 10**6 + 50, dtype=np.int64),  # a small range far from zero: counted
        "top": np.array([2.0**53 - 1, 2.0**53] * 25),  # reaches 2**53: spilled
        "low": np.array([-(2.0**53), -(2.0**53) + 2] * 25),  # reaches -2**53: spilled
        "under": np.array([2.0**53 - 2, 2.0**53 - 1] * 25),  # just under: counted
    })
    spill = Spill()
    assert_same(stream(df, 7, spill).finish(), profile_frame(df, "csv"))
    assert sorted(spill.dropped) == [1, 2]


def test_past_the_distinct_bound_the_misra_gries_summary_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ps, "EXACT_DISTINCT", 4)  # 2 counters kept
    monkeypatch.setattr(ps, "SKETCH", 3)
    counts = {"a": 10, "b": 8, "c": 6, "d": 5, "e": 3, "f": 2, "g": 1}
    values = [k for k, n in counts.items() for _ in range(n)]
    df = pd.DataFrame({"s": pd.Series(values, dtype="string[pyarrow]")})
    col = stream(df, len(df)).finish()["columns"][0]
    # One merge of 7 distinct values: the 3rd largest count (6) is taken from each, the positive rest kept.
    assert (col["top"], col["top_error"], col["other"], col["nulls"]) == ([["a", 4], ["b", 2]], 6, 35 - 6, 0)
    h = np.sort(np.unique(pd.util.hash_array(np.array(sorted(counts), dtype=object))))
    assert col["unique"] == round((3 - 1) / (float(h[2]) / 2.0**64))  # KMV: (k - 1) / the k-th smallest hash
    assert set(col["approximate"]) == {"top", "unique"}


def test_exactly_the_distinct_bound_stays_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ps, "EXACT_DISTINCT", 4)
    df = pd.DataFrame({"s": pd.Series(list("aabbbcdddd"), dtype="string[pyarrow]")})
    col = stream(df, 3).finish()["columns"][0]
    assert "approximate" not in col and "top_error" not in col
    assert (col["unique"], col["top"], col["other"]) == (4, [["d", 4], ["b", 3], ["a", 2], ["c", 1]], 0)


def test_the_profile_schema_is_2() -> None:
    # Cached profiles are named by it (.dvc/tmp/mlver/profiles/MD5.vN.json): a change must be deliberate.
    assert ps.SCHEMA == 2
