"""The profile of a table read batch by batch, in bounded memory.

Same profile as mlver.domain.profile.profile_frame of the whole table, with
``"schema": 2`` (profiles without it are schema 1, from the whole table in
memory; both read alike). Per column, exactly as the in-memory profile:

- rows, nulls, min, max: counted per batch;
- mean and std: per-batch moments merged by Chan et al.'s pairwise update
  (``Moments``), equal to the in-memory figures to rounding;
- histogram and quantiles of numbers: the histogram's edges need the whole
  column's min and max, so its finite values are kept by a ``Spill`` (the
  adapter's: memory up to a budget, then temporary files) and summarised at
  the end by the same code as in memory, one column at a time; quantiles
  are interpolated within 1/1000 of the range, not exact, when the values
  around them would not fit in memory (see ``MAX_PICK``);
- top values, unique and other: exact up to ``EXACT_DISTINCT`` distinct
  values; past it, counted with the mergeable Misra-Gries summary (a count
  is low by at most ``top_error``, itself at most (rows - nulls) /
  ``EXACT_DISTINCT // 2``) and ``unique`` estimated from the ``SKETCH``
  smallest of the values' 64-bit hashes (KMV, about 1.6% relative error).

An approximate field is named, with its bound, in the column's
``"approximate"`` object; a column without one is exact. Pure logic:
numpy, pandas and pyarrow are imported inside functions.
"""
from __future__ import annotations

import math

from mlver.domain.profile import (
    DENSE,
    as_numbers,
    cap,
    category_counts,
    column_kind,
    dense_summary,
    significant,
    spilled_summary,
    top_values,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    class Spill(Protocol):
        """Where a column's finite numbers wait for the end of the table."""

        def append(self, key: int, values: Any) -> None: ...

        def chunks(self, key: int) -> Any:
            """An iterable (any number of times) of arrays of at most 32768 numbers."""

        def drop(self, key: int) -> None: ...


SCHEMA = 2
EXACT_DISTINCT = 200_000
SKETCH = 4096
MAX_PICK = 1 << 23  # values (64 MiB of float64) gathered per column to place its quantiles exactly
_MERGE_AT = 1 << 16  # pending (value, count) pairs before they are merged


class Moments:
    """Count, mean and sum of squared deviations of a stream of numbers,
    merged batch by batch (Chan, Golub, LeVeque 1979): stable where summing
    x and x**2 is not (a large mean, a small spread)."""

    __slots__ = ("n", "_mean", "m2", "squares", "shift", "_plain")

    def __init__(self) -> None:
        self.n, self._mean, self.m2 = 0, 0.0, 0.0
        # The sum of (x - shift)**2, only to say "overflowed" exactly when the
        # in-memory profile (which sums those squares) does.
        self.squares = 0.0
        # Moments of x - (the first value): a mean of 1e9 would otherwise cost
        # the merges the digits a spread of 1e-3 needs.
        self.shift: float | None = None
        # The mean of x itself, each batch's weighted by its share of the count: never past
        # the largest value, so it stays a float where x - shift overflows (values over half
        # the float range apart); read only then, as the in-memory profile does.
        self._plain = 0.0

    @property
    def mean(self) -> float:
        mean = (self.shift or 0.0) + self._mean
        return mean if math.isfinite(mean) else self._plain

    def add(self, values: Any) -> None:
        """Merge a batch of finite numbers."""
        import numpy as np

        k = len(values)
        if not k:
            return
        if self.shift is None:
            self.shift = float(values[0])
        with np.errstate(over="ignore", invalid="ignore"):  # overflows near the float limit are handled
            x = np.subtract(values, self.shift, dtype=np.float64)
            mean = float(x.mean())
            plain = self.shift + mean
            if not math.isfinite(plain):  # x - shift, or its sum, overflowed: each x / k does not
                plain = float(np.sum(np.divide(values, k, dtype=np.float64)))
            n = self.n + k
            self._plain = self._plain * (self.n / n) + plain * (k / n)
            x -= mean
            m2 = float(np.einsum("i,i->", x, x))  # not np.dot: BLAS threads stall on a busy machine
        self.merge(k, mean, m2)

    def merge(self, k: int, mean: float, m2: float) -> None:
        """Merge k numbers of (shifted) mean `mean` and squared deviations `m2`."""
        n = self.n + k
        delta = mean - self._mean
        self._mean += delta * k / n
        term = delta * delta * self.n * k / n
        if not math.isfinite(term):  # delta * delta alone overflows near 1.3e154 where the term may not
            weighted = delta * math.sqrt(self.n * k / n)
            term = weighted * weighted
        self.m2 += m2 + term
        self.squares += m2 + k * mean * mean
        self.n = n

    def std(self) -> float | None:
        # Not finite: the squares overflowed (values near 1e154 and above), as in memory.
        finite = math.isfinite(self.m2) and math.isfinite(self.squares)
        return math.sqrt(max(0.0, self.m2) / (self.n - 1)) if self.n > 1 and finite else None


class _Numbers:
    """A numeric or datetime column: counts and moments now, the rest at the end.

    Integers over a small range (DENSE values) are counted value by value as
    they come, as in memory, and never spilled; the first batch that breaks
    that moves the counts so far into the spill."""

    def __init__(self, key: int, spill: Spill | None, edges: list[float] | None = None) -> None:
        self.key, self.spill, self.edges = key, spill, edges
        self.binned: Any = None
        self.nulls = self.n_neg = self.n_pos = 0
        self.lo, self.hi = math.inf, -math.inf
        self.moments = Moments()
        self.first: Any = None  # datetimes: the column's own min and max, for exact ISO text
        self.last: Any = None
        self.dense: Any = None  # counts of lo, lo+1, ... while every value is an integer of a small range
        self.dense_lo = 0
        self.countable = spill is not None

    def add(self, s: Any, kind: str) -> None:
        import numpy as np

        a = as_numbers(s, kind)
        if a.dtype.kind == "f":
            finite = np.isfinite(a)
            v = a if finite.all() else a[finite]
            if len(v) < len(a):
                neg, pos = int(np.count_nonzero(a == -np.inf)), int(np.count_nonzero(a == np.inf))
                self.n_neg, self.n_pos, self.nulls = self.n_neg + neg, self.n_pos + pos, self.nulls + len(a) - len(v) - neg - pos
        else:
            v = a
        if len(v):
            self.lo, self.hi = min(self.lo, float(v.min())), max(self.hi, float(v.max()))
            if kind == "datetime":
                lo, hi = s.min(), s.max()
                self.first = lo if self.first is None else min(self.first, lo)
                self.last = hi if self.last is None else max(self.last, hi)
            self.moments.add(v)
            if self.spill is not None and not (self.countable and self._count(v)):
                self.spill.append(self.key, v)
        if self.edges is not None:
            from mlver.domain.drift import bin_exact

            counts = bin_exact(a[~np.isnan(a)] if a.dtype.kind == "f" else a.astype(np.float64), self.edges)
            self.binned = counts if self.binned is None else [x + y for x, y in zip(self.binned, counts, strict=False)]

    def _count(self, v: Any) -> bool:
        """Count `v` value by value if the column is still dense; False (and
        its counts so far spilled) once it is not."""
        import numpy as np

        lo, hi = self.lo, self.hi
        if lo.is_integer() and hi - lo < DENSE and max(-lo, hi) < 2**53:
            low, size = int(lo), int(hi - lo) + 1
            t = np.subtract(v, low, dtype=np.float64 if v.dtype.kind == "f" else np.intp, casting="unsafe")
            idx = t.astype(np.intp, copy=False)
            if v.dtype.kind != "f" or np.equal(idx, t).all():
                if self.dense is None:
                    self.dense, self.dense_lo = np.zeros(size, dtype=np.int64), low
                elif low != self.dense_lo or size != len(self.dense):  # the range grew: re-base
                    grown = np.zeros(size, dtype=np.int64)
                    grown[self.dense_lo - low : self.dense_lo - low + len(self.dense)] = self.dense
                    self.dense, self.dense_lo = grown, low
                self.dense += np.bincount(idx, minlength=size)
                return True
        self.countable = False
        if self.dense is not None and self.spill is not None:  # the values so far, in any order: a multiset is all that counts
            self.spill.append(self.key, np.repeat(np.arange(self.dense_lo, self.dense_lo + len(self.dense)), self.dense))
            self.dense = None
        return False

    def finish(self, col: dict[str, Any], kind: str) -> dict[str, Any]:
        m = self.moments
        if self.spill is None:
            values = m.n + self.n_neg + self.n_pos
            summary = {"nulls": self.nulls, "min": self.lo if m.n else None, "max": self.hi if m.n else None,
                       "quantiles": None, "histogram": {"edges": [self.lo, self.hi], "counts": [values]} if m.n else None}
        elif self.dense is not None and self.countable:
            summary = dense_summary(self.dense, self.dense_lo, self.nulls, self.n_neg, self.n_pos)
        else:
            summary = spilled_summary(self.spill.chunks(self.key), m.n, self.lo, self.hi, self.nulls, self.n_neg,
                                      self.n_pos, kind == "numeric", MAX_PICK)
            self.spill.drop(self.key)
        col["nulls"] = summary["nulls"]
        if kind == "numeric":
            col.update(min=significant(summary["min"]), max=significant(summary["max"]), mean=significant(m.mean) if m.n else None,
                       std=significant(m.std()), quantiles=summary["quantiles"])
            if note := summary.get("approximate"):
                col["approximate"] = {"quantiles": note}
        else:
            has = summary["histogram"] is not None
            col.update(min=self.first.isoformat() if has else None, max=self.last.isoformat() if has else None)
        return col | {"histogram": summary["histogram"]}


class _Counts:
    """A categorical or boolean column: (value, count) pairs merged as they come."""

    def __init__(self, names: list[str] | None = None) -> None:
        self.names = names
        self.binned: Any = None if names is None else dict.fromkeys(names, 0)
        self.keys: list[Any] = []  # arrow string arrays
        self.counts: list[Any] = []  # numpy int64 arrays
        self.pending = 0
        self.merged = 0  # distinct values after the last merge
        self.nulls = 0
        self.total = 0
        self.error = 0  # Misra-Gries: how much any count may be low by
        self.hashes: Any = None  # KMV sketch, once past EXACT_DISTINCT

    def add(self, s: Any, kind: str) -> None:
        keys, counts, nulls = _value_counts(s)
        if self.binned is not None and len(keys):
            import pyarrow as pa
            import pyarrow.compute as pc

            hit = pc.is_in(keys, value_set=pa.array(self.names, pa.large_string())).to_numpy(zero_copy_only=False)
            for k, c in zip(keys.filter(pa.array(hit)).to_pylist(), counts[hit].tolist(), strict=False):
                self.binned[k] += c
        self.nulls += nulls
        self.total += int(counts.sum())
        self.keys.append(keys)
        self.counts.append(counts)
        self.pending += len(counts)
        if self.pending > max(_MERGE_AT, 2 * self.merged):
            self._merge()

    def _merge(self) -> None:
        import numpy as np
        import pyarrow as pa

        if len(self.keys) > 1:
            table = pa.table({"k": pa.concat_arrays(self.keys), "c": np.concatenate(self.counts)})
            table = table.group_by("k").aggregate([("c", "sum")])
            self.keys, self.counts = [table["k"].combine_chunks()], [table["c_sum"].to_numpy()]
        if self.hashes is not None:
            self._sketch(self.keys[0])
        if len(self.counts[0]) > EXACT_DISTINCT:
            if self.hashes is None:
                self.hashes = np.empty(0, dtype=np.uint64)
                self._sketch(self.keys[0])
            # Subtract the (k+1)-th largest count from every count and keep
            # the positive ones (Agarwal et al., "Mergeable summaries").
            keep = EXACT_DISTINCT // 2
            counts = self.counts[0]
            cut = int(np.partition(counts, -(keep + 1))[-(keep + 1)])
            alive = counts > cut
            self.error += cut
            self.keys, self.counts = [self.keys[0].filter(pa.array(alive))], [counts[alive] - cut]
        self.pending = self.merged = len(self.counts[0])

    def _sketch(self, keys: Any) -> None:
        import numpy as np
        import pandas as pd

        h = pd.util.hash_array(keys.to_numpy(zero_copy_only=False).astype(object))
        self.hashes = np.unique(np.concatenate([self.hashes, h]))[:SKETCH]

    def finish(self, col: dict[str, Any], kind: str) -> dict[str, Any]:
        import numpy as np
        import pyarrow as pa

        if self.pending or not self.keys:
            if not self.keys:
                self.keys, self.counts = [pa.array([], pa.large_string())], [np.empty(0, dtype=np.int64)]
            self._merge()
        keys = self.keys[0].to_numpy(zero_copy_only=False)
        counts = self.counts[0]
        top = top_values(keys, counts)
        unique = len(keys)
        if self.hashes is not None:
            h = self.hashes
            unique = len(h) if len(h) < SKETCH else round((SKETCH - 1) / (float(h[-1]) / 2.0**64))
            col["approximate"] = {
                "top": f"Misra-Gries summary of {EXACT_DISTINCT // 2} counters: each count is low by at most top_error",
                "unique": f"KMV estimate from {SKETCH} hashes: about {100 / math.sqrt(SKETCH - 2):.1f}% relative error",
            }
            col["top_error"] = self.error
        return col | {"nulls": self.nulls, "unique": unique, "top": top, "other": self.total - sum(c for _, c in top)}


def _value_counts(s: Any) -> tuple[Any, Any, int]:
    """(distinct non-null values as an arrow large_string array, counts, nulls) of one batch."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":  # count in arrow: no Python strings
        import pyarrow.compute as pc

        arr = pa.array(s.array)
        vc = pc.value_counts(arr.drop_null())
        keys, counts = vc.field("values"), vc.field("counts").to_numpy().astype(np.int64)
        if len(keys) and pc.max(pc.utf8_length(keys)).as_py() > 256:
            keys = pa.array([cap(k) for k in keys.to_pylist()])
        return keys.cast(pa.large_string()), counts, arr.null_count
    keys, counts, nulls = category_counts(s)
    return pa.array(np.asarray(keys, dtype=object), type=pa.large_string()), counts, nulls


def _common_dtype(declared: Any, nulls: bool) -> str:
    """The dtype pandas gives the whole column: a column of numpy ints with a
    null is float64, of numpy bools with a null object."""
    import numpy as np

    if isinstance(declared, np.dtype) and nulls:
        if declared.kind in "iu":
            return "float64"
        if declared.kind == "b":
            return "object"
    return str(declared)


class StreamProfile:
    """Feed it batches (one pandas Series per column of ``declared``, in
    order), then ``finish()`` for the profile. ``declared`` is the list of
    (name, pandas dtype) the whole table would have had in memory.

    Without a ``spill`` (drift's side of new data), numbers get no
    histogram or quantiles: ``histogram`` is only None or not, as it would
    be (no finite value or some); ``edges[i]`` (histogram edges) or
    ``names[i]`` (top values) are counted exactly into ``binned[i]``."""

    def __init__(self, declared: list[tuple[str, Any]], fmt: str, spill: Spill | None,
                 edges: dict[int, list[float]] | None = None, names: dict[int, list[str]] | None = None) -> None:
        self.fmt, self.rows = fmt, 0
        self.names = [cap(str(name)) for name, _ in declared]
        self.dtypes = [dtype for _, dtype in declared]
        self.kinds = [column_kind(dtype) for dtype in self.dtypes]
        self.columns: list[Any] = [
            _Numbers(i, spill, (edges or {}).get(i)) if kind in ("numeric", "datetime") else _Counts((names or {}).get(i))
            for i, kind in enumerate(self.kinds)
        ]

    def add(self, rows: int, series: list[Any]) -> None:
        """A batch of `rows` rows: a Series per column, or None for a column known to be all null."""
        self.rows += rows
        for s, kind, acc in zip(series, self.kinds, self.columns, strict=False):
            if s is None:
                acc.nulls += rows
            else:
                acc.add(s, kind)

    @property
    def binned(self) -> dict[int, Any]:
        return {i: acc.binned for i, acc in enumerate(self.columns) if acc.binned is not None}

    def finish(self) -> dict[str, Any]:
        columns = []
        for name, declared, kind, acc in zip(self.names, self.dtypes, self.kinds, self.columns, strict=False):
            dtype = _common_dtype(declared, acc.nulls > 0)
            # A numpy bool column with a null is pandas' object column of True/False: categorical.
            final = "categorical" if kind == "boolean" and dtype == "object" else kind
            columns.append(acc.finish({"name": name, "dtype": dtype, "kind": final}, kind))
        return {"schema": SCHEMA, "format": self.fmt, "rows": self.rows, "columns": columns}
