"""Reading CSV/TSV/Parquet files and profiling them, on real files."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlver.adapters.tabular import TABULAR_SUFFIXES, is_tabular, profile_file, read_frame
from mlver.domain.drift import compare_profiles
from mlver.errors import DataError, ExitCode, MlverError


def frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "amount": np.where(rng.random(n) < 0.1, np.nan, rng.normal(100, 15, n)),
            "city": rng.choice(["paris", "rome", "oslo"], n),
            "churned": rng.random(n) < 0.2,
        }
    )


def names(profile: dict) -> list[str]:
    return [c["name"] for c in profile["columns"]]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("train.csv", True), ("train.CSV", True), ("x.tsv", True), ("x.parquet", True), ("x.PQ", True),
        ("model.pkl", False), ("train.csv.gz", False), ("csv", False), ("dir/", False), ("x.json", False),
    ],
)
def test_is_tabular(name: str, expected: bool) -> None:
    assert is_tabular(name) is expected
    assert is_tabular(Path(name)) is expected


def test_suffixes() -> None:
    assert set(TABULAR_SUFFIXES) == {".csv", ".tsv", ".parquet", ".pq"}


def test_csv_round_trip(tmp_path: Path) -> None:
    df = frame()
    path = tmp_path / "train.csv"
    df.to_csv(path, index=False)
    p = profile_file(path)
    assert p["format"] == "csv" and p["rows"] == 200 and names(p) == ["id", "amount", "city", "churned"]
    assert [c["kind"] for c in p["columns"]] == ["numeric", "numeric", "categorical", "boolean"]
    assert p["columns"][1]["nulls"] == int(df["amount"].isna().sum())
    assert p["columns"][1]["mean"] == pytest.approx(df["amount"].mean(), rel=1e-5)
    json.dumps(p, allow_nan=False)
    assert read_frame(path).shape == (200, 4)


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_round_trip(tmp_path: Path, suffix: str) -> None:
    df = frame().assign(
        when=pd.date_range("2024-01-01", periods=200, freq="h"),
        grade=pd.Categorical(["a", "b"] * 100),
    )
    path = tmp_path / f"train{suffix}"
    df.to_parquet(path)
    p = profile_file(path)
    assert p["format"] == "parquet" and p["rows"] == 200
    assert names(p) == ["id", "amount", "city", "churned", "when", "grade"]
    assert [c["kind"] for c in p["columns"]] == ["numeric", "numeric", "categorical", "boolean", "datetime", "categorical"]
    when = p["columns"][4]
    assert when["min"] == "2024-01-01T00:00:00" and when["max"] == "2024-01-09T07:00:00"
    json.dumps(p, allow_nan=False)


def test_csv_and_parquet_of_the_same_data_profile_alike(tmp_path: Path) -> None:
    df = frame()
    df.to_csv(tmp_path / "a.csv", index=False)
    df.to_parquet(tmp_path / "a.parquet")
    diff = compare_profiles(profile_file(tmp_path / "a.csv"), profile_file(tmp_path / "a.parquet"))
    assert diff["drifted_columns"] == [] and diff["columns_added"] == diff["columns_removed"] == []
    assert all(c["psi"] == 0.0 for c in diff["columns"])


def test_tsv(tmp_path: Path) -> None:
    path = tmp_path / "data.tsv"
    path.write_text("a\tb\n1\tx, y\n2\tz\n")
    p = profile_file(path)
    assert p["format"] == "csv" and p["rows"] == 2 and names(p) == ["a", "b"]
    assert p["columns"][1]["top"] == [["x, y", 1], ["z", 1]]


def test_dates_in_csv_stay_strings(tmp_path: Path) -> None:
    # The C engine (the one used) keeps ISO dates as text; the profile must not
    # depend on which engine read the file.
    path = tmp_path / "d.csv"
    path.write_text("day\n2024-01-01\n2024-01-02\n")
    assert profile_file(path)["columns"][0]["kind"] == "categorical"


def test_header_only_csv_has_zero_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("a,b\n")
    p = profile_file(path)
    assert p["rows"] == 0 and names(p) == ["a", "b"]
    json.dumps(p, allow_nan=False)


def assert_data_error(exc: DataError, path: Path) -> None:
    assert isinstance(exc, MlverError) and exc.exit_code == ExitCode.ERROR
    assert str(path) in exc.message and "\n" not in exc.message
    assert exc.hint and "\n" not in exc.hint


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (b"a,b\n1,2\n3,4,5\n", "Expected 2 columns"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (b"\xff\xfe\xfd\xfc,\xfb\n\xfa,\xf9\n", "not UTF-8"),
        (b"", "empty"),
    ],
)
def test_unreadable_csv_is_a_data_error(tmp_path: Path, content: bytes, cause: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        profile_file(path)
    assert_data_error(info.value, path)
    assert cause in info.value.message and "as CSV" in info.value.message


def test_random_bytes_with_csv_suffix(tmp_path: Path) -> None:
    path = tmp_path / "model.csv"
    path.write_bytes(os.urandom(4096) + b"\0")
    with pytest.raises(DataError) as info:
        read_frame(path)
    assert_data_error(info.value, path)


def test_corrupt_parquet_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(DataError) as info:
        profile_file(path)
    assert_data_error(info.value, path)
    assert "as Parquet" in info.value.message


def test_missing_file_directory_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        profile_file(tmp_path / "nope.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(DataError, match="directory"):
        profile_file(tmp_path / "dir.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(DataError, match="unknown suffix"):
        profile_file(tmp_path / "x.json")


def test_a_quote_left_open_runs_to_the_end_of_the_file(tmp_path: Path) -> None:
    # pandas refused this ("EOF inside string"); pyarrow's streaming reader,
    # which profiles now use, reads the rest of the file as the value.
    path = tmp_path / "open.csv"
    path.write_bytes(b'a,b\n1,"unclosed\n')
    assert profile_file(path)["columns"][1]["top"] == [["unclosed\n", 1]]
