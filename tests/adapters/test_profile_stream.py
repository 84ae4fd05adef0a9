"""Streamed profiles (batch by batch, bounded memory) against the in-memory profile of the whole table."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures.profiles import assert_same
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlver.adapters.tabular as tabular
import mlver.domain.profile_stream as ps
from mlver.domain.drift import drift_frame
from mlver.domain.profile import profile_frame
from mlver.domain.profile_stream import Moments


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of a few rows, numbers spilled to files after a few bytes."""
    monkeypatch.setattr(tabular, "_BLOCK", 96)
    monkeypatch.setattr(tabular, "_ROWS", 3)
    monkeypatch.setattr(tabular, "_SPILL_BUDGET", 64)


def in_memory(path: Path) -> dict:
    return profile_frame(tabular.read_frame(path), "parquet" if path.suffix == ".parquet" else "csv")


WORDS = st.sampled_from(["a", "b", "a b", 'qu"ote', "x,y", "NA", "", "é", "True"])


def tables() -> st.SearchStrategy[pd.DataFrame]:
    floats = st.one_of(st.floats(-1e6, 1e6), st.just(np.nan), st.just(np.inf), st.just(-np.inf), st.floats(allow_nan=False))
    row = st.tuples(
        st.one_of(st.none(), st.integers(-(2**40), 2**40)),
        st.one_of(st.integers(0, 5), st.none()),
        floats,
        st.one_of(st.none(), WORDS),
        st.one_of(st.none(), st.booleans()),
        st.sampled_from(["2024-01-01", "2024-02-29", None]),
    )
    return st.tuples(st.lists(row, min_size=1, max_size=30), st.booleans(), st.booleans(), st.sampled_from(["1.5", "x", "7"])).map(_frame)


def _frame(args: tuple) -> pd.DataFrame:
    rows, all_null, ints_only, late = args
    df = pd.DataFrame(rows, columns=["wide", "small", "f", "s", "b", "day"], dtype=object)
    df["nothing"] = None
    # A column of ints in the first batches and `late` at the end: its type
    # is only known from the whole file.
    df["changes"] = [str(i) for i in range(len(df))]
    if not ints_only and len(df) > 1:
        df.loc[len(df) - 1, "changes"] = late
    if not all_null:
        df["nothing"] = df["small"]
    return df


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], deadline=None)
@given(tables())
def test_streamed_csv_and_parquet_equal_the_in_memory_profile(tiny: None, tmp_path_factory: pytest.TempPathFactory,
                                                              df: pd.DataFrame) -> None:
    tmp = tmp_path_factory.mktemp("t")
    csv = tmp / "t.csv"
    df.to_csv(csv, index=False)
    assert_same(tabular.profile_file(csv), in_memory(csv))
    parquet = tmp / "t.parquet"
    pd.read_csv(csv).to_parquet(parquet)
    assert_same(tabular.profile_file(parquet), in_memory(parquet))


def test_one_row_header_only_and_a_column_widened_twice(tiny: None, tmp_path: Path) -> None:
    one = tmp_path / "one.csv"
    one.write_text('a,"b\nc",c\n1,x,\n')  # a quoted newline in the header: it is one row
    assert_same(tabular.profile_file(one), in_memory(one))
    header = tmp_path / "header.csv"
    header.write_text("a,b\n")
    streamed = tabular.profile_file(header)
    assert streamed["rows"] == 0 and [c["kind"] for c in streamed["columns"]] == ["categorical", "categorical"]
    assert_same(streamed, in_memory(header))
    widened = tmp_path / "w.csv"  # int, then float, then text: two re-reads
    widened.write_text("v,w\n" + "".join(f"{i},{i}\n" for i in range(40)) + "2.5,1\n" + "".join(f"{i},{i}\n" for i in range(40)) + "abc,2\n")
    streamed = tabular.profile_file(widened)
    assert streamed["columns"][0]["kind"] == "categorical" and streamed["columns"][1]["dtype"] == "int64"
    assert_same(streamed, in_memory(widened))


def test_bytes_that_are_not_utf8_past_the_first_block_fail_as_unreadable(tiny: None, tmp_path: Path) -> None:
    """Text cannot widen further: the conversion error pyarrow raises in a
    later block is the file's error, named as one, not another read."""
    from mlver.errors import DataUnreadable

    bad = tmp_path / "bad.csv"  # past the first 8 KiB too, so the header read does not decode them
    bad.write_bytes(b"name,n\n" + b"".join(b"word%d,%d\n" % (i, i) for i in range(2000)) + b"bad\xff\xfe,1\n")
    with pytest.raises(DataUnreadable, match="as CSV: not UTF-8 text$"):
        tabular.profile_file(bad)


def test_moments_merge_matches_numpy_to_rounding() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(1e9, 1e-3, 5000), rng.normal(1e9, 5.0, 3)])  # a large mean, a small spread
    m = Moments()
    for part in np.array_split(x, [1, 2, 700, 701, 4000]):
        m.add(part)
    assert m.n == len(x)
    assert m.mean == pytest.approx(float(np.mean(x)), rel=1e-15)
    assert m.std() == pytest.approx(float(np.std(x, ddof=1)), rel=1e-9)
    one = Moments()
    one.add(np.array([4.0]))
    assert one.mean == 4.0 and one.std() is None


def test_many_distinct_values_are_approximate_within_their_stated_bounds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tabular, "_BLOCK", 4096)
    monkeypatch.setattr(ps, "EXACT_DISTINCT", 400)
    monkeypatch.setattr(ps, "_MERGE_AT", 100)
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.integers(0, 20_000, 20_000).astype(str), np.repeat(["hot", "warm"], [3000, 1500])])
    rng.shuffle(values)
    path = tmp_path / "ids.csv"
    pd.DataFrame({"id": ["k" + v for v in values]}).to_csv(path, index=False)
    col = tabular.profile_file(path)["columns"][0]
    true = pd.Series(["k" + v for v in values]).value_counts()
    assert set(col["approximate"]) == {"top", "unique"} and col["top_error"] <= len(values) / 200
    assert [k for k, _ in col["top"][:2]] == ["khot", "kwarm"]
    for key, count in col["top"]:
        assert true[key] - col["top_error"] <= count <= true[key]
    assert abs(col["unique"] - true.size) <= 0.1 * true.size
    assert col["other"] == len(values) - sum(c for _, c in col["top"])


def test_quantiles_past_the_memory_bound_are_interpolated_and_say_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(ps, "MAX_PICK", 100)
    rng = np.random.default_rng(2)
    x = np.append(rng.normal(0, 1, 20_000), 1e6)  # one outlier: nearly every value in the first fine bin
    path = tmp_path / "x.csv"
    pd.DataFrame({"x": x}).to_csv(path, index=False)
    streamed, memory = tabular.profile_file(path)["columns"][0], in_memory(path)["columns"][0]
    assert "quantiles" in streamed["approximate"]
    bound = float(streamed["approximate"]["quantiles"].rsplit(" ", 1)[1])
    assert bound == pytest.approx((x.max() - x.min()) / 1000, rel=1e-5)
    for k, q in memory["quantiles"].items():
        assert abs(streamed["quantiles"][k] - q) <= bound * 1.0001
    assert streamed["histogram"] == memory["histogram"] and "approximate" not in memory


def test_streamed_drift_of_a_new_file_against_an_old_in_memory_profile(tiny: None, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    old = pd.DataFrame({"x": rng.normal(0, 1, 300), "c": rng.choice(["a", "b", "c"], 300), "t": ["y"] * 300})
    new = pd.DataFrame({"x": rng.normal(1.0, 1, 200), "c": rng.choice(["a", "b", "d"], 200), "t": range(200)})
    old_profile = profile_frame(old, "csv")  # schema 1: as records written before streaming hold them
    assert "schema" not in old_profile
    path = tmp_path / "new.csv"
    new.to_csv(path, index=False)
    streamed = tabular.drift_file(old_profile, path, ["x", "c", "t"], 0.2)
    expected = drift_frame(old_profile, tabular.read_frame(path), 0.2)
    for s, m in zip(streamed["columns"], expected["columns"], strict=False):
        assert s["psi"] == m["psi"] and s["null_rate"] == m["null_rate"] and s.get("top") == m.get("top")
    assert streamed["drifted_columns"] == expected["drifted_columns"] == ["x", "c"]
    assert streamed["type_changed"] == expected["type_changed"] == [{"name": "t", "old": "str", "new": "int64"}]


def test_parquet_columns_the_statistics_say_are_empty_are_not_read(tiny: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow.parquet as pq

    path = tmp_path / "p.parquet"
    df = pd.DataFrame({"x": [1.5, 2.5, None, 4.0], "none": [None] * 4, "s": [None] * 4, "y": ["a", None, "b", "a"]})
    df.astype({"none": "float64", "s": "str"}).to_parquet(path, row_group_size=2)
    read: list = []
    real = pq.ParquetFile.iter_batches
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", lambda self, **kw: read.append(kw["columns"]) or real(self, **kw))
    assert_same(tabular.profile_file(path), in_memory(path))
    assert read == [["x", "y"]]
    pd.DataFrame({"none": [None, None]}, dtype="float64").to_parquet(path)
    read.clear()
    assert_same(tabular.profile_file(path), in_memory(path))
    assert read == []


@pytest.mark.parametrize("base, step", [(1e9, 1e-3), (0.0, 1.0), (-5e15, 1.0), (1.0, 2.0**-40)])
def test_spilled_quantiles_are_exact_far_from_zero_and_over_a_few_floats(base: float, step: float, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "_SPILL_BUDGET", 1024)
    rng = np.random.default_rng(7)
    x = base + step * rng.integers(0, 5000, 3000) + step * rng.random(3000)  # not dense: fractions
    path = tmp_path / "x.parquet"
    pd.DataFrame({"x": x}).to_parquet(path)
    assert_same(tabular.profile_file(path), in_memory(path))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-8, 8, width=32), min_size=1, max_size=64),
       st.lists(st.floats(-8, 8, width=32), min_size=1, max_size=5), st.integers(0, 3))
def test_values_inside_the_quantile_ranges_are_found_by_compares(values: list, ends: list, on_edge: int) -> None:
    """The pick pass of spilled quantiles tests ranges with compares; it must
    say what the binary search into the bounds said, values on a bound included."""
    from mlver.domain.profile import _inside

    c = np.array(values, dtype=np.float64)
    bounds = np.sort(np.array(ends + ends[:1] + list(c[:on_edge]), dtype=np.float64))
    bounds = bounds[: len(bounds) // 2 * 2] if len(bounds) > 1 else np.repeat(bounds, 2)
    expected = np.searchsorted(bounds, c, side="right") & 1 == 1
    assert (_inside(c, bounds) == expected).all()


def test_std_near_the_float_limit_overflows_exactly_when_in_memory_does(tiny: None, tmp_path: Path) -> None:
    """Values near 1e154, mixed with small ones and infinities, in batches of three: the
    streamed std is None exactly when the in-memory one is, else equal to rounding
    (a merge once squared a difference of means alone and overflowed where the in-memory sum did not)."""
    rng = np.random.default_rng(1)
    cases = [[8.589617100240892e153, -np.inf, -672516.69, np.inf, -1.9516314248290834e152, 674942.84, 1.754905641327691e153],
             [1.3733668980319207e154, -9.277643074207926e151, -np.inf, np.nan],
             [218566.75, -4.463782916277261e152, -5531.69, -4.192691037992381e152, -7.572607358898587e153, np.inf]]
    for _ in range(150):
        cases.append([rng.choice([rng.uniform(-1e6, 1e6), np.nan, np.inf, -np.inf,
                                  rng.choice([-1, 1]) * 10 ** rng.uniform(150, 155)]) for _ in range(rng.integers(2, 16))])
    path = tmp_path / "huge.csv"
    for values in cases:
        path.write_text("f\n" + "".join(("" if v != v else repr(float(v))) + "\n" for v in values))
        streamed = tabular.profile_file(path)["columns"][0].get("std")
        memory = in_memory(path)["columns"][0].get("std")
        assert (streamed is None) == (memory is None), (values, streamed, memory)
        assert streamed is None or streamed == pytest.approx(memory, rel=1e-6), (values, streamed, memory)
