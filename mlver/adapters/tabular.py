"""Reading tabular data files (CSV, TSV, Parquet) to profile them.

The only module that reads tables with pandas; pandas and pyarrow are
imported inside functions so that importing mlver stays cheap.

CSV is read with pandas' C engine. The pyarrow engine was measured with
bench/bench_profile.py (1,000,000 x 20) on a 2-core machine: 1.3-1.5 times
slower (0.64-0.68 s vs 0.49 s), and it infers some types differently (ISO
date columns become object columns of dates, the C engine keeps them as
str), so a profile would depend on the engine that read the file.
"""
from __future__ import annotations

import contextlib
import csv
import os
import pathlib
from typing import Any, Iterator

from mlver.domain.profile import profile_frame
from mlver.errors import DataError

TABULAR_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
_SNIFF = 8192  # bytes looked at to tell a binary file from text


def is_tabular(path: str | os.PathLike[str]) -> bool:
    """Whether mlver profiles this file, by its suffix (case-insensitive)."""
    return pathlib.Path(path).suffix.lower() in TABULAR_SUFFIXES


def _format(path: pathlib.Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in TABULAR_SUFFIXES:
        raise DataError(
            f"cannot read {path} as a table: unknown suffix {path.suffix!r}",
            f"tabular files end in {', '.join(TABULAR_SUFFIXES)}",
        )
    return "parquet" if suffix in (".parquet", ".pq") else "csv"


def _fail(path: pathlib.Path, what: str, reason: object) -> DataError:
    text = " ".join(str(reason).split()) or type(reason).__name__  # one line
    if len(text) > 200:
        text = text[:197] + "..."
    return DataError(
        f"cannot read {path} as {what}: {text}",
        "check the file; until it can be read, mlver versions it by its hash only, with no profile",
    )


def _what(path: pathlib.Path, fmt: str) -> str:
    return "Parquet" if fmt == "parquet" else ("TSV" if path.suffix.lower() == ".tsv" else "CSV")


def _check_text(path: pathlib.Path, what: str) -> None:
    with open(path, "rb") as f:
        head = f.read(_SNIFF)
    # A text parser reads most binary files "successfully" as garbage;
    # NUL bytes never occur in CSV text.
    if b"\0" in head:
        raise _fail(path, what, "it is a binary file (it contains NUL bytes)")


@contextlib.contextmanager
def _reading(path: pathlib.Path, what: str) -> Iterator[None]:
    """Every way reading a table fails, as one DataError naming the file."""
    import pandas as pd
    import pyarrow as pa

    try:
        yield
    except DataError:
        raise
    except FileNotFoundError:
        raise _fail(path, what, "no such file") from None
    except IsADirectoryError:
        raise _fail(path, what, "it is a directory") from None
    except UnicodeDecodeError as exc:
        raise _fail(path, what, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except pd.errors.EmptyDataError:
        raise _fail(path, what, "the file is empty") from None
    except (ValueError, OSError, csv.Error, pd.errors.ParserError, pa.ArrowException) as exc:
        raise _fail(path, what, exc) from exc


def read_columns(path: pathlib.Path) -> list[str]:
    """The file's column names, from its header (CSV) or schema (Parquet)
    alone: a file of a million columns costs its first line."""
    path = pathlib.Path(path)
    fmt = _format(path)
    what = _what(path, fmt)
    with _reading(path, what):
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return [str(n) for n in pq.read_schema(path).names if not str(n).startswith("__index_level_")]
        _check_text(path, what)
        csv.field_size_limit(1 << 30)  # one long name is still a name; the first line is read once
        with open(path, newline="", encoding="utf-8") as f:
            return next(csv.reader(f, delimiter="\t" if path.suffix.lower() == ".tsv" else ","), [])


def read_frame(path: pathlib.Path, columns: list[str] | None = None) -> Any:
    """The file (only ``columns``, when given) as a pandas DataFrame; DataError if it cannot be read."""
    import warnings

    import pandas as pd

    path = pathlib.Path(path)
    fmt = _format(path)
    what = _what(path, fmt)
    with _reading(path, what):
        if fmt == "parquet":
            return pd.read_parquet(path, columns=columns)
        _check_text(path, what)
        with warnings.catch_warnings():
            # A column of mixed types is read as text: the profile says so, no need to warn.
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            return pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",",
                               usecols=None if columns is None else (lambda name, wanted=set(columns): name in wanted))


def profile_file(path: pathlib.Path) -> dict:
    """The profile (see mlver.domain.profile) of a tabular file."""
    path = pathlib.Path(path)
    return profile_frame(read_frame(path), _format(path))
