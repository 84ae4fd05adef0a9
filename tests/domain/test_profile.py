"""Data profiles: shape, exactness, JSON safety, comparing and drift."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlver.domain.drift import PSI_EPSILON, compare_profiles, drift_frame, psi
from mlver.domain.profile import profile_frame

NUMERIC_KEYS = {"name", "dtype", "kind", "nulls", "min", "max", "mean", "std", "quantiles", "histogram"}
CATEGORICAL_KEYS = {"name", "dtype", "kind", "nulls", "unique", "top", "other"}


def dumps(x: object) -> str:
    return json.dumps(x, allow_nan=False, sort_keys=True)


def col(profile: dict, name: str) -> dict:
    return next(c for c in profile["columns"] if c["name"] == name)


def sample() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [30, 40, 50, 60],
            "income": [1.5, np.nan, 3.5, 4.5],
            "city": ["paris", "rome", "paris", None],
            "active": [True, False, True, True],
            "seen": pd.to_datetime(["2024-01-01", "2024-01-02", None, "2024-01-04"]),
        }
    )


# --- shape ----------------------------------------------------------------------


def test_profile_shape_and_json_round_trip() -> None:
    p = profile_frame(sample(), "csv")
    assert p["format"] == "csv" and p["rows"] == 4
    assert [c["name"] for c in p["columns"]] == ["age", "income", "city", "active", "seen"]
    assert json.loads(dumps(p)) == p
    age = col(p, "age")
    assert set(age) == NUMERIC_KEYS and age["kind"] == "numeric" and age["dtype"] == "int64"
    assert (age["min"], age["max"], age["mean"], age["nulls"]) == (30.0, 60.0, 45.0, 0)
    assert set(age["quantiles"]) == {"p01", "p25", "p50", "p75", "p99"}
    assert len(age["histogram"]["edges"]) == 11 and len(age["histogram"]["counts"]) == 10
    assert col(p, "income")["nulls"] == 1
    city = col(p, "city")
    assert set(city) == CATEGORICAL_KEYS
    assert (city["kind"], city["nulls"], city["unique"], city["other"]) == ("categorical", 1, 2, 0)
    assert city["top"] == [["paris", 2], ["rome", 1]]
    active = col(p, "active")
    assert active["kind"] == "boolean" and active["top"] == [["True", 3], ["False", 1]]
    seen = col(p, "seen")
    assert seen["kind"] == "datetime" and seen["nulls"] == 1
    assert seen["min"] == "2024-01-01T00:00:00" and seen["max"] == "2024-01-04T00:00:00"
    assert sum(seen["histogram"]["counts"]) == 3


def test_profile_module_imports_without_pandas() -> None:
    code = "import sys, mlver.domain.profile; print('pandas' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 100_003])  # 100_003: several chunks, an odd tail
@pytest.mark.parametrize("kind", ["normal", "wide_int", "small_int", "int_float_nan", "skewed"])
def test_numeric_stats_are_exact(n: int, kind: str) -> None:
    rng = np.random.default_rng(n)
    x = {
        "normal": lambda: rng.normal(3, 2, n),
        "wide_int": lambda: rng.integers(-(10**12), 10**12, n),
        "small_int": lambda: rng.integers(-3, 40, n),
        "int_float_nan": lambda: np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 10, n)),
        "skewed": lambda: rng.exponential(1, n) ** 6,
    }[kind]()
    c = profile_frame(pd.DataFrame({"x": x}), "csv")["columns"][0]
    f = np.asarray(x, dtype=float)
    f = f[~np.isnan(f)]
    assert c["nulls"] == n - len(f)
    if not len(f):
        return
    expected = np.quantile(f, [0.01, 0.25, 0.5, 0.75, 0.99])
    assert list(c["quantiles"].values()) == pytest.approx(expected, rel=1e-5)
    assert c["mean"] == pytest.approx(f.mean(), rel=1e-5)
    if len(f) > 1:
        assert c["std"] == pytest.approx(f.std(ddof=1), rel=1e-5, abs=1e-12)
    if f.min() < f.max():
        reference, _ = np.histogram(f, bins=10, range=(f.min(), f.max()))
        assert c["histogram"]["counts"] == reference.tolist()
        assert c["histogram"]["edges"][0] == f.min() and c["histogram"]["edges"][-1] == f.max()


def test_values_on_an_edge_go_to_the_bin_above() -> None:
    c = profile_frame(pd.DataFrame({"x": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}), "csv")["columns"][0]
    assert c["histogram"]["edges"] == [float(x) for x in range(11)]
    assert c["histogram"]["counts"] == [1, 1, 1, 1, 1, 1, 1, 1, 1, 2]  # the last bin is closed


def test_narrow_range_far_from_zero_keeps_increasing_edges() -> None:
    c = profile_frame(pd.DataFrame({"x": [1e6 + 0.1, 1e6 + 0.3, 1e6 + 0.5]}), "csv")["columns"][0]
    edges = c["histogram"]["edges"]
    assert all(a < b for a, b in zip(edges, edges[1:], strict=False))


def test_infinities_are_counted_in_the_outer_bins_not_the_stats() -> None:
    c = profile_frame(pd.DataFrame({"x": [1.0, 2.0, np.inf, -np.inf, np.nan, 3.0]}), "csv")["columns"][0]
    assert (c["min"], c["max"], c["mean"], c["nulls"]) == (1.0, 3.0, 2.0, 1)
    assert c["histogram"]["counts"][0] == 2 and c["histogram"]["counts"][-1] == 2
    assert sum(c["histogram"]["counts"]) == 5
    dumps(c)


def test_all_null_constant_and_empty_columns() -> None:
    df = pd.DataFrame({"null": [np.nan] * 3, "const": [7] * 3, "cconst": ["a"] * 3, "nulls": [None] * 3})
    p = profile_frame(df, "csv")
    null = col(p, "null")
    assert null["nulls"] == 3 and null["histogram"] is None and null["mean"] is None
    assert set(null["quantiles"].values()) == {None}
    const = col(p, "const")
    assert const["histogram"] == {"edges": [7.0, 7.0], "counts": [3]} and const["std"] == 0.0
    assert const["quantiles"]["p50"] == 7.0
    assert col(p, "cconst")["top"] == [["a", 3]]
    assert col(p, "nulls")["nulls"] == 3 and col(p, "nulls")["unique"] == 0
    empty = profile_frame(df.iloc[:0], "parquet")
    assert empty["rows"] == 0 and [c["nulls"] for c in empty["columns"]] == [0, 0, 0, 0]
    assert profile_frame(pd.DataFrame(), "csv") == {"format": "csv", "rows": 0, "columns": []}
    dumps([p, empty])


def test_single_value_has_no_std() -> None:
    c = profile_frame(pd.DataFrame({"x": [2.5]}), "csv")["columns"][0]
    assert c["std"] is None and c["mean"] == 2.5


def test_top_values_are_capped_and_ties_broken_by_value() -> None:
    values = [f"v{i:02d}" for i in range(15) for _ in range(3)] + ["z"] * 5
    c = profile_frame(pd.DataFrame({"x": values}), "csv")["columns"][0]
    assert c["unique"] == 16
    assert c["top"][0] == ["z", 5]
    assert [k for k, _ in c["top"][1:]] == [f"v{i:02d}" for i in range(9)]
    assert c["other"] == 6 * 3


def test_unique_ids_keep_a_stable_top() -> None:
    ids = [f"id{i:06d}" for i in range(20_000)]
    a = profile_frame(pd.DataFrame({"x": ids}), "csv")["columns"][0]
    b = profile_frame(pd.DataFrame({"x": ids[::-1]}), "csv")["columns"][0]
    assert a == b and a["top"][0] == ["id000000", 1] and a["other"] == 20_000 - 10


def test_other_dtypes() -> None:
    df = pd.DataFrame(
        {
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "boolean": pd.array([True, None, False], dtype="boolean"),
            "category": pd.Categorical(["a", "b", "a"], categories=["a", "b", "unused"]),
            "mixed": pd.Series([1, "1", [1, 2]], dtype=object),
            "tz": pd.to_datetime(["2024-01-01 10:00", "2024-06-01 00:00", None]).tz_localize("Europe/Paris"),
            "small": np.array([1, 2, 3], dtype=np.int8),
        }
    )
    p = profile_frame(df, "parquet")
    assert col(p, "nullable")["kind"] == "numeric" and col(p, "nullable")["nulls"] == 1
    assert col(p, "nullable")["mean"] == 2.0
    assert col(p, "boolean")["kind"] == "boolean" and col(p, "boolean")["nulls"] == 1
    assert col(p, "category")["unique"] == 2
    assert col(p, "mixed")["top"] == [["1", 2], ["[1, 2]", 1]]
    assert col(p, "tz")["min"] == "2024-01-01T10:00:00+01:00"
    assert col(p, "small")["dtype"] == "int8" and col(p, "small")["max"] == 3.0
    dumps(p)


def test_arrow_backed_dtypes() -> None:
    import pyarrow as pa

    df = pd.DataFrame(
        {
            "t": pd.array([pd.Timestamp("2024-01-01"), None], dtype=pd.ArrowDtype(pa.timestamp("us", tz="UTC"))),
            "i": pd.array([1, None], dtype=pd.ArrowDtype(pa.int64())),
            "b": pd.array([True, None], dtype=pd.ArrowDtype(pa.bool_())),
            "s": pd.array(["x", None], dtype=pd.ArrowDtype(pa.string())),
        }
    )
    p = profile_frame(df, "parquet")
    assert [c["kind"] for c in p["columns"]] == ["datetime", "numeric", "boolean", "categorical"]
    assert [c["nulls"] for c in p["columns"]] == [1, 1, 1, 1]
    assert col(p, "t")["min"] == "2024-01-01T00:00:00+00:00"
    dumps(p)


def test_large_frames_profile_in_two_threads_like_one() -> None:
    # 1,000,000 cells: profile_frame uses a second thread; each column alone does not.
    rng = np.random.default_rng(5)
    df = pd.DataFrame({f"c{i}": rng.normal(i, 1, 100_000) if i % 2 else rng.choice(["a", "b", "c"], 100_000) for i in range(10)})
    p = profile_frame(df, "csv")
    assert p["columns"] == [profile_frame(df[[name]], "csv")["columns"][0] for name in df.columns]


def test_duplicate_column_names() -> None:
    df = pd.DataFrame([[1, "a"], [2, "b"]], columns=["x", "x"])
    p = profile_frame(df, "csv")
    assert [c["kind"] for c in p["columns"]] == ["numeric", "categorical"]
    dumps(compare_profiles(p, p))


# --- PSI --------------------------------------------------------------------------


def test_psi_known_value_and_errors() -> None:
    assert psi([50, 50], [50, 50]) == 0.0
    assert psi([60, 40], [40, 60]) == pytest.approx(2 * 0.2 * np.log(1.5))
    # an empty bin uses PSI_EPSILON instead of 0
    assert psi([100, 0], [50, 50]) == pytest.approx((0.5 - 1) * np.log(0.5) + (0.5 - PSI_EPSILON) * np.log(0.5 / PSI_EPSILON))
    assert psi([0, 0], [0, 0]) == 0.0
    with pytest.raises(ValueError):
        psi([1, 2], [1, 2, 3])
    with pytest.raises(ValueError):
        psi([0, 0], [1, 1])


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=30))
def test_psi_of_a_distribution_with_itself_is_zero(counts: list[int]) -> None:
    assert psi(counts, counts) == 0.0
    assert psi(counts, [c * 3 for c in counts]) == pytest.approx(0.0, abs=1e-12)


# --- comparing profiles -----------------------------------------------------------------


def frames() -> st.SearchStrategy[pd.DataFrame]:
    floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-1e6, 1e6), st.just(np.nan))
    row = st.tuples(floats, st.integers(-(2**40), 2**40), st.sampled_from(["a", "b", "c", None]), st.booleans())
    return st.lists(row, max_size=40).map(lambda rows: pd.DataFrame(rows, columns=["f", "i", "s", "b"]))


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(frames())
def test_profiles_of_random_frames_are_json_and_equal_to_themselves(df: pd.DataFrame) -> None:
    p = profile_frame(df, "csv")
    assert json.loads(dumps(p)) == p
    diff = compare_profiles(p, p)
    dumps(diff)
    assert diff["columns_added"] == diff["columns_removed"] == diff["type_changed"] == []
    assert diff["drifted_columns"] == [] and diff["rows"]["delta"] == 0
    for c in diff["columns"]:
        assert not c["drifted"] and c["psi"] in (0.0, None)
        assert not c.get("top_changed", False)
    if len(df):
        drift = drift_frame(p, df)
        dumps(drift)
        assert drift["drifted_columns"] == [] and all(c["psi"] == 0.0 for c in drift["columns"])


def normal(seed: int, shift: float = 0.0, n: int = 5000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(10 + shift, 2, n)})


def test_shifted_normal_drifts_and_a_resample_does_not() -> None:
    base = profile_frame(normal(1), "csv")
    same = compare_profiles(base, profile_frame(normal(2), "csv"))["columns"][0]
    moved = compare_profiles(base, profile_frame(normal(3, shift=2.0), "csv"))["columns"][0]  # +1 sd
    assert same["psi"] < 0.1 and not same["drifted"]
    assert moved["psi"] > 0.2 and moved["drifted"]
    assert moved["mean"]["delta"] == pytest.approx(2.0, abs=0.2)
    assert drift_frame(base, normal(2))["columns"][0]["psi"] < 0.1
    report = drift_frame(base, normal(3, shift=2.0))
    assert report["columns"][0]["psi"] > 0.2 and report["drifted_columns"] == ["x"]


def test_threshold_is_a_parameter() -> None:
    base, other = profile_frame(normal(1), "csv"), profile_frame(normal(3, shift=2.0), "csv")
    assert compare_profiles(base, other, threshold=100.0)["drifted_columns"] == []


def test_added_removed_and_type_changed_columns() -> None:
    old = profile_frame(pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [1, 2]}), "csv")
    new = profile_frame(pd.DataFrame({"a": [1.5, 2.5], "c": ["1", "2"], "d": [True, False]}), "csv")
    diff = compare_profiles(old, new)
    assert diff["columns_added"] == ["d"] and diff["columns_removed"] == ["b"]
    assert diff["type_changed"] == [{"name": "a", "old": "int64", "new": "float64"}, {"name": "c", "old": "int64", "new": "str"}]
    a, c = diff["columns"]
    assert a["name"] == "a" and a["mean"] == {"old": 1.5, "new": 2.0, "delta": 0.5}
    assert c["name"] == "c" and c["psi"] is None and not c["drifted"]  # numeric -> categorical


def test_either_side_missing() -> None:
    p = profile_frame(sample(), "csv")
    gone = compare_profiles(p, None)
    assert gone["rows"] == {"old": 4, "new": None, "delta": None}
    assert gone["columns_removed"] == ["age", "income", "city", "active", "seen"] and gone["columns"] == []
    assert compare_profiles(None, p)["columns_added"] == ["age", "income", "city", "active", "seen"]
    assert compare_profiles(None, None)["columns"] == []


def test_categorical_drift_and_top_changed() -> None:
    old = profile_frame(pd.DataFrame({"c": ["a"] * 50 + ["b"] * 50}), "csv")
    new_df = pd.DataFrame({"c": ["a"] * 20 + ["b"] * 20 + ["new"] * 60})
    c = compare_profiles(old, profile_frame(new_df, "csv"))["columns"][0]
    assert c["top_changed"] and c["drifted"] and c["top"]["new"][0] == ["new", 60]
    assert drift_frame(old, new_df)["columns"][0]["drifted"]


def test_nulls_appearing_is_drift() -> None:
    old = profile_frame(pd.DataFrame({"x": np.arange(100.0)}), "csv")
    new_df = pd.DataFrame({"x": np.where(np.arange(100) % 2 == 0, np.nan, np.arange(100.0))})
    c = compare_profiles(old, profile_frame(new_df, "csv"))["columns"][0]
    assert c["null_rate"] == {"old": 0.0, "new": 0.5} and c["drifted"]


def test_constant_column_that_starts_to_vary_drifts() -> None:
    old = profile_frame(pd.DataFrame({"x": [5.0] * 100}), "csv")
    new_df = pd.DataFrame({"x": np.linspace(0, 10, 100)})
    assert compare_profiles(old, profile_frame(new_df, "csv"))["columns"][0]["drifted"]
    assert drift_frame(old, new_df)["columns"][0]["drifted"]
    assert drift_frame(old, pd.DataFrame({"x": [5.0] * 30}))["columns"][0]["psi"] == 0.0


def test_rebinning_onto_different_edges_keeps_similar_data_close() -> None:
    rng = np.random.default_rng(7)
    old = profile_frame(pd.DataFrame({"x": rng.uniform(0, 100, 20_000)}), "csv")
    new = profile_frame(pd.DataFrame({"x": rng.uniform(-5, 95, 20_000)}), "csv")  # shifted by 5%
    psi_value = compare_profiles(old, new)["columns"][0]["psi"]
    assert 0.0 < psi_value < 0.2


def test_drift_frame_missing_and_extra_columns() -> None:
    p = profile_frame(sample(), "csv")
    new_df = sample().drop(columns=["city"]).assign(extra=1)
    report = drift_frame(p, new_df)
    assert report["missing_columns"] == ["city"] and report["extra_columns"] == ["extra"]
    assert [c["name"] for c in report["columns"]] == ["age", "income", "active", "seen"]
    assert all(c["psi"] == 0.0 for c in report["columns"])
    dumps(report)


def test_drift_frame_bins_out_of_range_values_into_the_outer_bins() -> None:
    p = profile_frame(pd.DataFrame({"x": np.arange(100.0)}), "csv")
    report = drift_frame(p, pd.DataFrame({"x": [-1e300, -np.inf, 1e300, np.inf, 50.0]}))
    assert report["columns"][0]["drifted"]
    dumps(report)


def test_drift_frame_on_empty_data() -> None:
    p = profile_frame(sample(), "csv")
    report = drift_frame(p, sample().iloc[:0])
    assert report["rows"]["new"] == 0 and all(c["psi"] is None for c in report["columns"])
    dumps(report)


def test_values_near_the_float_limit_have_a_mean(monkeypatch: pytest.MonkeyPatch) -> None:
    # Chunk totals that are floats but whose exact sum is not: fsum raised
    # OverflowError (an internal error in data add) instead of giving the mean.
    from mlver.domain import profile

    monkeypatch.setattr(profile, "CHUNK", 1)
    s = profile._numbers_summary(np.array([0.0, 1.5e308, 1.5e308]), True)
    assert s["mean"] == pytest.approx(1e308) and s["min"] == 0.0 and s["max"] == 1.5e308
