"""Reading tabular data files (CSV, TSV, Parquet) to profile them.

The only module that reads tables; pandas and pyarrow are imported inside
functions so that importing mlver stays cheap.

Profiles and drift stream the file in batches (``scan``): pyarrow's CSV
streaming reader and ``ParquetFile.iter_batches``, so memory does not grow
with the file. The batches are read as pandas' C engine reads the whole
file (``read_frame``, kept for callers that want a frame): the same null
markers and booleans, dates kept as text, an all-empty column float64,
duplicated names mangled ``a.1``. pyarrow fixes a CSV column's type from
the first block; a later value that does not fit (text in a number column)
widens that column (int -> float -> text) and the scan starts again, so a
column's type is that of all its values, as in memory.
"""
from __future__ import annotations

import contextlib
import csv
import os
import pathlib
from collections.abc import Callable, Iterator
from typing import Any

from mlver.errors import DataError, DataUnreadable, NotTabular, ProfileSpillFailed

TABULAR_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
_SNIFF = 8192  # bytes looked at to tell a binary file from text


def is_tabular(path: str | os.PathLike[str]) -> bool:
    """Whether mlver profiles this file, by its suffix (case-insensitive)."""
    return pathlib.Path(path).suffix.lower() in TABULAR_SUFFIXES


def reading(path: str | os.PathLike[str]) -> str:
    """How a tabular file's bytes are parsed: "parquet", "tsv" or "csv". The
    same bytes read two ways are two profiles (a cache of one is keyed by it)."""
    suffix = pathlib.Path(path).suffix.lower()
    return "parquet" if suffix in (".parquet", ".pq") else "tsv" if suffix == ".tsv" else "csv"


def _format(path: pathlib.Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in TABULAR_SUFFIXES:
        raise NotTabular(str(path), path.suffix, list(TABULAR_SUFFIXES))
    return "parquet" if suffix in (".parquet", ".pq") else "csv"


def _fail(path: pathlib.Path, what: str, reason: object) -> DataError:
    text = " ".join(str(reason).split()) or type(reason).__name__  # one line
    if len(text) > 200:
        text = text[:197] + "..."
    return DataUnreadable(str(path), what, text)


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
    except pa.ArrowInvalid as exc:
        if "invalid UTF8" in str(exc):
            raise _fail(path, what, "not UTF-8 text") from exc
        raise _fail(path, what, exc) from exc
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


def read_frame(path: pathlib.Path, columns: list[str] | None = None) -> Any:  # the in-memory reference
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


# pandas' default null markers (read_csv's na_values), so a streamed CSV has the nulls it had in memory.
_NA = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
       "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]
_BLOCK = 4 << 20  # bytes of CSV per batch (8 MiB: 10-20% more CPU, its buffers often went back to the OS)
_ROWS = 1 << 16  # rows of Parquet per batch
_SPILL_BUDGET = 128 << 20  # bytes of numbers kept in memory before they go to temporary files
_RETRIES = 64  # re-reads of a CSV whose columns widen (each widens a column one step)


def _mangle(names: list[str]) -> list[str]:
    """Column names as pandas makes them: "Unnamed: i" for an empty one, "a.1" for a second "a"."""
    out: list[str] = []
    counts: dict[str, int] = {}
    for i, name in enumerate(names):
        col = name if name != "" else f"Unnamed: {i}"
        cur = counts.get(col, 0)
        while cur > 0:
            counts[col] = cur + 1
            col = f"{col}.{cur}"
            cur = counts.get(col, 0)
        out.append(col)
        counts[col] = cur + 1
    return out


class _Widen(Exception):
    """A CSV column held a value its type from the first block cannot: read again."""


def _csv_type(t: Any, has_rows: bool) -> Any:
    import pyarrow as pa

    if pa.types.is_null(t):  # nothing in the first block: pandas' all-NaN column
        return pa.float64() if has_rows else t
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_string(t):
        return t
    return pa.string()  # dates, times, timestamps, binary: text, as pandas keeps them


def _widen(t: Any, was_null: bool) -> Any:
    """The next type to try for a CSV column that held a value `t` cannot: ints
    become floats, then text; a column empty in the first block is tried as
    floats, then booleans, then text (pandas' NaN and True is an object column)."""
    import pyarrow as pa

    if pa.types.is_integer(t):
        return pa.float64()
    if was_null and pa.types.is_floating(t):
        return pa.bool_()
    return pa.string()


def _csv_batches(path: pathlib.Path, columns: list[str] | None, types: dict[str, Any], nulls: set[str]) -> Iterator[Any]:
    """(declared columns, then pandas Series lists per batch); _Widen(types,
    nulls) with a column widened. `nulls`: the columns empty in the first block."""
    import pyarrow as pa

    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open(path, newline="", encoding="utf-8-sig") as f:
        names = _mangle(next(csv.reader(f, delimiter=delimiter), []))
    include = names if columns is None else [n for n in names if n in set(columns)]
    reader, fixed = _typed_reader(lambda given: _open_csv(path, delimiter, names, include, given), types, nulls)
    schema = pa.schema([(n, fixed[n]) for n in include])
    empty = schema.empty_table().to_pandas()
    yield [(n, empty.dtypes.iloc[i]) for i, n in enumerate(include)]
    try:
        while True:
            batch = reader.read_next_batch()
            if batch.num_rows:
                yield batch.num_rows, [batch.column(i).to_pandas() for i in range(batch.num_columns)]
    except StopIteration:
        return
    except pa.ArrowInvalid as exc:
        widen = _widening(exc, names, fixed, nulls)
        if widen is None:
            raise
        raise widen from None


def _open_csv(path: pathlib.Path, delimiter: str, names: list[str], include: list[str], types: dict[str, Any]) -> Any:
    import pyarrow.csv as pcsv

    return pcsv.open_csv(
        path,
        # One thread: pyarrow's parallel parse of a stream costs a third more CPU (measured: 4.4-5.1 s
        # instead of 3.3-3.6 s for a 0.5 GB profile, most of it system time) for no gain in wall time.
        read_options=pcsv.ReadOptions(block_size=_BLOCK, column_names=names, skip_rows_after_names=1,  # a row, quotes and all
                                      use_threads=False),
        parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),  # as pandas: quoted newlines
        convert_options=pcsv.ConvertOptions(
            column_types=types, include_columns=include, null_values=_NA, strings_can_be_null=True,
            true_values=["True", "TRUE", "true"], false_values=["False", "FALSE", "false"]),
    )


def _typed_reader(open_reader: Callable[[dict[str, Any]], Any], types: dict[str, Any],
                  nulls: set[str]) -> tuple[Any, dict[str, Any]]:
    """A reader of the CSV with every column's type given, and those types:
    ``types`` where known, else what pyarrow infers from the first block (a
    column null there is added to ``nulls``)."""
    import pyarrow as pa

    reader = open_reader(types)
    first = None
    try:
        first = reader.read_next_batch()
    except StopIteration:
        pass
    if first is not None:
        nulls |= {f.name for f in reader.schema if pa.types.is_null(f.type) and f.name not in types}
    fixed = {f.name: _csv_type(types.get(f.name, f.type), first is not None) for f in reader.schema}
    if first is not None:
        # Read again with every type given: pyarrow otherwise keeps paying for
        # inference block after block (measured: 0.9 s instead of 0.55 s of
        # CPU per 125 MB); the first block is read twice, which is nothing.
        reader = open_reader(fixed)
    return reader, fixed


def _widening(exc: Exception, names: list[str], fixed: dict[str, Any], nulls: set[str]) -> _Widen | None:
    """The _Widen a conversion error calls for (the column it names, one type
    wider); None when it names no column or that column cannot widen."""
    import re

    found = re.search(r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to (\w+)", str(exc))
    if not found or int(found.group(1)) >= len(names):
        return None
    name = names[int(found.group(1))]
    was = fixed[name]
    if (widened := _widen(was, name in nulls)) == was:
        return None
    return _Widen(fixed | {name: widened}, nulls)


def _parquet_batches(path: pathlib.Path, columns: list[str] | None) -> Iterator[Any]:
    """(declared columns, then pandas Series lists per batch; None for a
    column the file's statistics say is all null: it is not read)."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    schema = pf.schema_arrow
    # What pandas makes the index is not a column (pd.read_parquet's frame, column for column).
    index = {c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)}
    kept = [n for n in schema.names if n not in index and not n.startswith("__index_level_")]
    dtypes = dict(zip(kept, schema.empty_table().to_pandas().dtypes, strict=False))
    names = [n for n in kept if columns is None or n in set(columns)]
    yield [(n, dtypes[n]) for n in names]
    empty = _all_null(pf, names)
    read = [n for n in names if n not in empty]
    if not read:
        if pf.metadata.num_rows:
            yield pf.metadata.num_rows, [None] * len(names)
        return
    for batch in pf.iter_batches(batch_size=_ROWS, columns=read):
        if batch.num_rows:
            got = iter([batch.column(i).to_pandas() for i in range(batch.num_columns)])
            yield batch.num_rows, [None if n in empty else next(got) for n in names]


def _all_null(pf: Any, names: list[str]) -> set[str]:
    """The flat columns whose statistics, in every row group, count as many nulls as rows."""
    md = pf.metadata
    leaves = {md.schema.column(i).path: i for i in range(md.num_columns)}
    out = set()
    for name in names:
        if (i := leaves.get(name)) is None or md.num_rows == 0:
            continue
        stats = [md.row_group(g).column(i).statistics for g in range(md.num_row_groups)]
        if all(st is not None and st.has_null_count for st in stats) and sum(st.null_count for st in stats) == md.num_rows:
            out.add(name)
    return out


def scan(path: pathlib.Path, consumer: Callable[[list[tuple[str, Any]], str], Any],
         columns: list[str] | None = None) -> Any:
    """Stream the table at ``path`` (only ``columns``, when given) into
    ``consumer(declared, fmt)``, an object with ``add(rows, series)``;
    returns it. A CSV read again from the start gets a fresh consumer."""
    path = pathlib.Path(path)
    fmt = _format(path)
    what = _what(path, fmt)
    types: dict[str, Any] = {}
    nulls: set[str] = set()
    with _reading(path, what):
        if fmt == "csv":
            _check_text(path, what)
            if path.stat().st_size == 0:
                raise _fail(path, what, "the file is empty")
        for _ in range(_RETRIES):
            batches = _parquet_batches(path, columns) if fmt == "parquet" else _csv_batches(path, columns, types, nulls)
            try:
                sink = consumer(next(batches), fmt)
                for rows, series in batches:
                    sink.add(rows, series)
                return sink
            except _Widen as exc:
                types, nulls = exc.args
        raise _fail(path, what, f"its column types kept changing after {_RETRIES} reads")


class _Spill:
    """Numbers of each column until the table ends: in memory up to a
    budget, then appended to temporary files, read back a chunk at a time
    (not mapped: mapped pages would count as the process's memory)."""

    def __init__(self, budget: int = _SPILL_BUDGET) -> None:
        self.budget, self.used = budget, 0
        self.memory: dict[int, list[Any]] = {}
        self.files: dict[tuple[int, str], int] = {}  # (key, dtype) -> values written
        self.dir: str | None = None

    def __enter__(self) -> _Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.dir is not None:
            import shutil

            shutil.rmtree(self.dir, ignore_errors=True)

    def _path(self, key: int, dtype: str) -> str:
        return os.path.join(self.dir or "", f"{key}-{dtype}.bin")

    def append(self, key: int, values: Any) -> None:
        if not len(values):
            return
        # Not copied: a view keeps only its own column's buffer of the batch alive.
        self.memory.setdefault(key, []).append(values)
        self.used += values.nbytes
        if self.used > self.budget:
            self._flush()

    def _flush(self) -> None:
        import tempfile

        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="mlver-profile-")
        try:
            for key, arrays in self.memory.items():
                for a in arrays:
                    with open(self._path(key, a.dtype.str), "ab") as f:
                        a.tofile(f)
                    self.files[(key, a.dtype.str)] = self.files.get((key, a.dtype.str), 0) + len(a)
        except OSError as exc:
            raise ProfileSpillFailed(str(self.dir), str(exc.strerror or exc)) from exc
        self.memory, self.used = {}, 0

    def reset(self) -> None:
        for key in {k for k, _ in self.files} | set(self.memory):
            self.drop(key)
        self.used = 0

    def chunks(self, key: int) -> Any:
        return _Chunks(self, key)

    def drop(self, key: int) -> None:
        self.memory.pop(key, None)
        for k, dtype in [k for k in self.files if k[0] == key]:
            os.unlink(self._path(k, dtype))
            del self.files[(k, dtype)]


class _Chunks:
    """A spilled column: iterable any number of times, CHUNK values at a time."""

    def __init__(self, spill: _Spill, key: int) -> None:
        self.spill, self.key = spill, key

    def __iter__(self) -> Iterator[Any]:
        import numpy as np

        from mlver.domain.profile import CHUNK

        for (key, dtype), count in list(self.spill.files.items()):
            if key != self.key:
                continue
            with open(self.spill._path(key, dtype), "rb") as f:
                for start in range(0, count, CHUNK):
                    yield np.fromfile(f, dtype=np.dtype(dtype), count=min(CHUNK, count - start))
        for a in self.spill.memory.get(self.key, []):
            for start in range(0, len(a), CHUNK):
                yield a[start : start + CHUNK]


def profile_file(path: pathlib.Path) -> dict:
    """The profile (see mlver.domain.profile_stream) of a tabular file, in bounded memory."""
    from mlver.domain.profile_stream import StreamProfile

    path = pathlib.Path(path)
    with _Spill() as spill:
        def start(declared: list[tuple[str, Any]], fmt: str) -> StreamProfile:
            spill.reset()  # a CSV read again starts from nothing
            return StreamProfile(declared, fmt, spill)

        profile = scan(path, start)
        with _reading(path, _what(path, _format(path))):
            return profile.finish()


def drift_file(profile: dict, path: pathlib.Path, columns: list[str], threshold: float) -> dict:
    """mlver.domain.drift.drift_frame's report for the file at ``path``
    (its ``columns``), streamed: the new values are counted into the
    stored bins batch by batch."""
    from mlver.domain.drift import drift_stream, drift_targets
    from mlver.domain.profile_stream import StreamProfile

    def start(declared: list[tuple[str, Any]], fmt: str) -> StreamProfile:
        edges, names = drift_targets(profile, declared)
        return StreamProfile(declared, profile.get("format", ""), None, edges, names)

    return drift_stream(profile, scan(pathlib.Path(path), start, columns), threshold)
