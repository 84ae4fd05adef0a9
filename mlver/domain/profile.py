"""The data profile of a table (comparing profiles: mlver.domain.drift).

A profile is what a lineage record keeps of a tabular input: small, stable
JSON, enough to diff two data versions or check drift later without the
data. Columns are a list in file order (records are dumped with sort_keys)::

    {"format": "csv", "rows": 3, "columns": [
      {"name": "age", "dtype": "int64", "kind": "numeric", "nulls": 0,
       "min": 1.0, "max": 3.0, "mean": 2.0, "std": 1.0,
       "quantiles": {"p01": 1.02, "p25": 1.5, "p50": 2.0, "p75": 2.5, "p99": 2.98},
       "histogram": {"edges": [1.0, 1.2, ..., 3.0], "counts": [1, 0, ..., 1]}},
      {"name": "city", "dtype": "str", "kind": "categorical", "nulls": 0,
       "unique": 2, "top": [["paris", 2], ["rome", 1]], "other": 0}]}

Statistics are exact (quantiles by numpy's linear method) and ignore +-inf,
which JSON cannot hold; the histogram counts them in its first/last bin, so
its counts sum to rows - nulls. It is None when no value is finite, and has
one bin, edges [v, v], for a constant column. Datetime columns keep ISO
min/max and a histogram over epoch seconds.

Pure logic; pandas and numpy are imported inside functions because every
mlver command imports the domain.
"""
from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing alone would take most of this module's import time
    from typing import Any

BINS = 10
TOP = 10
QUANTILES = (("p01", 0.01), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p99", 0.99))
# Empty bins' proportions are raised to this before taking logs, else PSI is
# infinite. 1e-4 is the customary floor: a category that vanishes from a 10%
# share still adds ~0.8, so it shows as drift without swamping everything.
PSI_EPSILON = 1e-4
DEFAULT_THRESHOLD = 0.2
FINE = 1000  # histograms are counted on fine bins: they locate the quantiles
CHUNK = 1 << 15  # elements per numpy call: temporaries stay in the CPU cache
DENSE = 1 << 16  # integer columns spanning fewer values are counted value by value
_PARALLEL_CELLS = 1_000_000  # below this a second thread costs more than it saves
# A profile keeps names and values short: one 50 MB cell must not become a
# 50 MB record in git and a 50 MB PR comment. The hash of the whole text
# keeps two long values that share a prefix apart, and drift caps new data
# the same way, so a long value still matches itself.
MAX_TEXT = 256


def cap(text: str) -> str:
    """``text``, or its first MAX_TEXT characters, "…" and a hash of all of it."""
    if len(text) <= MAX_TEXT:
        return text
    import hashlib

    return f"{text[:MAX_TEXT]}…{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}"


def significant(x: Any, digits: int = 6) -> float | None:
    """A float rounded to `digits` significant digits; None for None/NaN/inf."""
    if x is None or not math.isfinite(x := float(x)):
        return None
    return float(f"{x:.{digits}g}")


# --- one column -----------------------------------------------------------------


def column_kind(dtype: Any) -> str:
    from pandas.api import types as t

    if t.is_bool_dtype(dtype):
        return "boolean"
    if t.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "numeric" if t.is_numeric_dtype(dtype) and not t.is_complex_dtype(dtype) else "categorical"


def as_numbers(s: Any, kind: str) -> Any:
    """A numpy array: numbers as they are, NA as NaN, datetimes as epoch seconds."""
    import numpy as np

    if kind == "datetime":
        if s.dt.tz is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        a = s.to_numpy() if isinstance(s.dtype, np.dtype) else s.to_numpy("datetime64[ns]", na_value=np.datetime64("NaT"))
        out = a.view("int64") / {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[np.datetime_data(a.dtype)[0]]
        out[np.isnat(a)] = np.nan
        return out
    if isinstance(s.dtype, np.dtype):  # plain numpy: no copy
        return s.to_numpy()
    return s.to_numpy(dtype=np.float64, na_value=np.nan)  # nullable or arrow-backed


def _numbers_summary(a: Any, quantiles: bool) -> dict[str, Any]:
    """nulls, min/max/mean/std, histogram and quantiles of a numeric array.

    Profiling's time goes here, CPU bound at a nanosecond or two per element
    and numpy call: so few calls, on cache-sized chunks, in up to three
    sweeps: (1) nulls, infs, min, max, sums of x - x0 and of its squares
    (shifting by a data value x0 keeps the one-pass variance accurate)
    (2) the fine histogram (3) the values in the few fine bins holding a
    quantile. Integers over a small range (ints read as floats because of
    NaN, too) are counted value by value instead: one sweep.
    """
    if a.dtype.kind in "iu" and len(a):
        if (high := int(a.max())) - (low := int(a.min())) < DENSE and max(-low, high) < 2**53:
            return dense_summary(_dense_counts(_chunks(a), low, high - low + 1), low, 0, 0, 0)
    x0 = _first_finite(a)
    kept, n, nulls, n_neg, n_pos, lo, hi, sums, squares = _first_sweep(a, x0)
    mean, var = _moments(kept, n, x0, sums, squares)
    if not n or lo == hi or not math.isfinite(hi - lo):  # nothing, constant, or wider than floats
        return _summary(nulls, n + n_neg + n_pos, lo, hi, mean, var, None, None)
    dense = lo.is_integer() and hi - lo < DENSE and max(-lo, hi) < 2**53
    if dense and (counts := _dense_counts(kept, int(lo), int(hi - lo) + 1)) is not None:
        return dense_summary(counts, int(lo), nulls, n_neg, n_pos)
    fine, bins = _fine_histogram(kept, lo, hi, keep=quantiles)
    counts = fine.reshape(BINS, -1).sum(axis=1)
    counts[0] += n_neg
    counts[-1] += n_pos
    qs = _exact_quantiles(kept, bins, fine, lo, hi)[0] if quantiles else None
    return _summary(nulls, n + n_neg + n_pos, lo, hi, mean, var, counts, qs)


def _first_sweep(a: Any, x0: float) -> tuple[list[Any], int, int, int, int, float, float, list[float], float]:
    """Sweep (1) of _numbers_summary, chunk by chunk: the finite values kept (per
    chunk), their count, the nulls, the -inf and +inf counts, min, max, and the sums
    of x - x0 (per chunk) and of its squares."""
    import numpy as np

    kept, n, nulls, n_neg, n_pos = [], 0, 0, 0, 0
    lo, hi, sums, squares, clean = math.inf, -math.inf, [], 0.0, True
    buf = np.empty(min(len(a), CHUNK))  # reused: allocating costs more than computing
    for raw in _chunks(a):
        c = raw
        if clean:  # a finite sum tells a clean chunk without an isfinite pass
            t = np.subtract(c, x0, out=buf[: len(c)], dtype=np.float64)
            clean = math.isfinite(total := float(t.sum())) or a.dtype.kind != "f"
        if not clean:
            c = raw[np.isfinite(raw)]
            c_lo, c_hi = float(np.fmin.reduce(raw)), float(np.fmax.reduce(raw))  # skip NaN, see inf
            neg = int(np.count_nonzero(raw == -np.inf)) if c_lo == -np.inf else 0
            pos = int(np.count_nonzero(raw == np.inf)) if c_hi == np.inf else 0
            n_neg, n_pos, nulls = n_neg + neg, n_pos + pos, nulls + len(raw) - len(c) - neg - pos
            t = np.subtract(c, x0, out=buf[: len(c)], dtype=np.float64)
            total = float(t.sum())
        if len(c):
            if clean or not (math.isfinite(c_lo) and math.isfinite(c_hi)):
                c_lo, c_hi = float(c.min()), float(c.max())
            kept.append(c)
            n, lo, hi = n + len(c), min(lo, c_lo), max(hi, c_hi)
            sums.append(total)
            squares += float(np.einsum("i,i->", t, t))  # not np.dot: BLAS threads stall on a busy machine
    return kept, n, nulls, n_neg, n_pos, lo, hi, sums, squares


def _first_finite(a: Any) -> float:
    """The shift of the one-pass variance: a value of the data (0.0 when none is finite)."""
    import numpy as np

    for head in _chunks(a):
        if len(head := head[np.isfinite(head)]):
            return float(head[0])
    return 0.0


def _moments(kept: list[Any], n: int, x0: float, sums: list[float], squares: float) -> tuple[float | None, float | None]:
    """Mean and sample variance of the ``n`` finite values ``kept`` (chunks), from
    the chunks' sums of x - x0 and the sum of its squares."""
    import numpy as np

    shift = _over(sums, n)
    var = max(0.0, (squares - shift * shift * n) / (n - 1)) if n > 1 and math.isfinite(squares) else None
    mean = x0 + shift if n else None
    if mean is not None and not math.isfinite(mean):
        # Values over half the float range apart: x - x0, or a chunk's sum of it, overflowed.
        # The mean of finite numbers is one; each x / n and their partial sums are within range.
        mean = math.fsum(float(np.sum(np.divide(c, n, dtype=np.float64))) for c in kept)
    return mean, var


def _over(sums: list[float], n: int) -> float:
    """fsum(sums) / n; NaN when a sum is infinite (the caller then takes the mean another way)."""
    if not n:
        return math.nan
    try:
        return math.fsum(sums) / n
    except OverflowError:  # values near the float limit: the total is not a float, the mean is
        return math.fsum(s / n for s in sums)
    except ValueError:  # an infinite sum each way: fsum refuses inf - inf
        return math.nan


def spilled_summary(chunks: Any, n: int, lo: float, hi: float, nulls: int, n_neg: int, n_pos: int,
                    quantiles: bool, max_pick: int) -> dict[str, Any]:
    """_numbers_summary of a streamed column whose count, finite min and max
    and infinities are known and whose finite values `chunks` yields, any
    number of times, without keeping them: two sweeps, the fine histogram
    and the values around the quantiles (at most `max_pick` of them, else
    interpolated; the summary then says so). mean and std are left to the
    caller, who merged them batch by batch."""
    import numpy as np

    if not n or lo == hi or not math.isfinite(hi - lo):  # nothing, constant, or wider than floats
        return _summary(nulls, n + n_neg + n_pos, lo, hi, None, None, None, None)
    with np.errstate(all="ignore"):
        fine, _ = _fine_histogram(chunks, lo, hi, keep=False)
        counts = fine.reshape(BINS, -1).sum(axis=1)
        counts[0] += n_neg
        counts[-1] += n_pos
        qs, note = _exact_quantiles(chunks, None, fine, lo, hi, max_pick) if quantiles else (None, None)
    out = _summary(nulls, n + n_neg + n_pos, lo, hi, None, None, counts, qs)
    return out | {"approximate": note} if note else out


def _chunks(a: Any) -> list:
    return [a[i : i + CHUNK] for i in range(0, len(a), CHUNK)]


def _dense_counts(chunks: list, lo: int, size: int) -> Any:
    """How many times each integer lo, lo+1, ... occurs; None if a value is not an integer."""
    import numpy as np

    counts = np.zeros(size, dtype=np.int64)
    for c in chunks:
        floats = c.dtype.kind == "f"
        t = np.subtract(c, lo, dtype=np.float64 if floats else np.intp, casting="unsafe")
        idx = t.astype(np.intp, copy=False)
        if floats and not np.equal(idx, t).all():
            return None
        counts += np.bincount(idx, minlength=size)
    return counts


def dense_summary(counts: Any, lo: int, nulls: int, n_neg: int, n_pos: int) -> dict[str, Any]:
    """Everything, exactly, from how many times each integer lo, lo+1, ... occurs."""
    import numpy as np

    n, hi = int(counts.sum()), lo + len(counts) - 1
    offsets, weights = np.arange(len(counts), dtype=np.float64), counts.astype(np.float64)
    values = offsets + lo
    # Moments of the offsets from lo: near 2**53 a sum of the values themselves loses the units
    # (50 values of 2**53 - 1 and 2**53 - 2 gave a std of 1.6 instead of 0.505).
    shift = float(np.einsum("i,i->", offsets, weights)) / n
    mean = lo + shift
    var = float(np.einsum("i,i,i->", offsets - shift, offsets - shift, weights)) / (n - 1) if n > 1 else None
    if lo == hi:
        return _summary(nulls, n + n_neg + n_pos, lo, hi, mean, var, None, None)
    cum = np.cumsum(counts)
    qs = _interpolate(lambda r: float(values[np.searchsorted(cum, r, side="right")]), n)
    fine = np.minimum(fine_index(values, float(lo), float(hi - lo)), FINE - 1)
    coarse = np.bincount(fine // (FINE // BINS), weights=weights, minlength=BINS).astype(np.int64)
    coarse[0] += n_neg
    coarse[-1] += n_pos
    return _summary(nulls, n + n_neg + n_pos, lo, hi, mean, var, coarse, qs)


def _summary(nulls: int, values: int, lo: float, hi: float, mean: Any, var: Any, counts: Any, qs: Any) -> dict[str, Any]:
    hist = None
    if values and lo == hi:  # constant: one bin
        hist, qs = {"edges": [float(lo), float(hi)], "counts": [values]}, [lo] * len(QUANTILES)
    elif counts is not None:
        hist = {"edges": _edges(lo, hi), "counts": [int(x) for x in counts]}
    return {
        "nulls": nulls, "min": lo if values else None, "max": hi if values else None, "mean": mean,
        "std": math.sqrt(var) if var is not None else None, "histogram": hist,
        "quantiles": {k: significant(q) for (k, _), q in zip(QUANTILES, qs or [None] * len(QUANTILES), strict=False)},
    }


def _interpolate(order_statistic: Any, n: int) -> list[float]:
    """QUANTILES by numpy's default (linear) method, given the k-th smallest value."""
    out = []
    for _, q in QUANTILES:
        pos = q * (n - 1)
        below, above = order_statistic(math.floor(pos)), order_statistic(math.ceil(pos))
        out.append(below + (above - below) * (pos - math.floor(pos)))
    return out


def fine_index(c: Any, lo: float, span: float, out: Any = None, index: Any = None) -> Any:
    """Fine bin numbers floor((x - lo) * FINE / span): this arithmetic, not the
    rounded inner edges, defines the bins, so drift_frame bins new data exactly
    as the profile did. Multiplying before dividing keeps a value exactly on an
    edge, as integers often are, in the bin above: bins are [a, b), the last
    one [a, b]."""
    import numpy as np

    t = np.subtract(c, lo, out=out, dtype=np.float64)
    if math.isfinite(span * FINE):
        t *= FINE
        t /= span
    else:  # would overflow; edges need not be exact near the float limit
        t /= span
        t *= FINE
    if index is None:
        return t.astype(np.intp)
    np.copyto(index, t, casting="unsafe")
    return index


def _fine_histogram(chunks: list, lo: float, hi: float, keep: bool) -> tuple[Any, Any]:
    """(counts in FINE bins over [lo, hi], every value's bin number if `keep`)."""
    import numpy as np

    fine, buf, ibuf = np.zeros(FINE + 1, dtype=np.int64), np.empty(CHUNK), np.empty(CHUNK, dtype=np.intp)
    bins, start = np.empty(sum(map(len, chunks)) if keep else 0, dtype=np.uint16), 0
    for c in chunks:
        idx = fine_index(c, lo, hi - lo, out=buf[: len(c)], index=ibuf[: len(c)])
        fine += np.bincount(idx, minlength=FINE + 1)
        if keep:
            np.copyto(bins[start : start + len(c)], idx, casting="unsafe")
            start += len(c)
    fine[FINE - 1] += fine[FINE]  # x == hi: the last bin is closed
    return fine[:FINE], bins


def _edges(lo: float, hi: float) -> list[float]:
    """lo and hi exactly (they define the bins), inner edges rounded: with as
    many more than 6 digits as the range is narrower than the values, so that
    1000000.1..1000000.5 still has increasing edges."""
    digits = min(17, 6 + max(0, math.ceil(math.log10(max(abs(lo), abs(hi)) / (hi - lo)))))
    return [float(lo)] + [float(f"{lo + (hi - lo) / BINS * k:.{digits}g}") for k in range(1, BINS)] + [float(hi)]


def _exact_quantiles(chunks: list, bins: Any, fine: Any, lo: float = 0.0, hi: float = 0.0,
                     max_pick: int | None = None) -> tuple[list[float], str | None]:
    """The fine histogram tells which bin holds each order statistic needed;
    only the values of those few bins are gathered and partitioned. `bins`
    None: recompute each value's bin. (quantiles, None), or, when the bins
    hold more than `max_pick` values, (quantiles interpolated within their
    fine bin, a note saying how far off they can be)."""
    import numpy as np

    n, cum = int(fine.sum()), np.cumsum(fine)
    ranks = sorted({r for _, q in QUANTILES for r in (math.floor(q * (n - 1)), math.ceil(q * (n - 1)))})
    home = {r: int(np.searchsorted(cum, r, side="right")) for r in ranks}
    wanted = sorted(set(home.values()))
    if max_pick is not None and sum(int(fine[b]) for b in wanted) > max_pick:
        width = (hi - lo) / FINE

        def at(r: int) -> float:  # uniform within the fine bin
            b = home[r]
            return lo + width * (b + (r - int(cum[b] - fine[b]) + 0.5) / int(fine[b]))

        note = f"quantiles interpolated within bins of 1/{FINE} of the range: off by at most {significant(width)}"
        return [min(hi, max(lo, q)) for q in _interpolate(at, n)], note
    compare = wanted + [FINE] if wanted[-1] == FINE - 1 else wanted  # x == hi is in bin FINE
    picked, where, start = [], [], 0
    bounds = _bounds(wanted, lo, hi) if bins is None else None
    for c in chunks:
        if bins is not None:
            idx, start = bins[start : start + len(c)], start + len(c)
        else:
            if bounds is not None:  # a value's range first (one pass), its exact bin only for the few inside
                c = c[_inside(c, bounds)]
            idx = fine_index(c, lo, hi - lo)
        m = idx == compare[0]
        for b in compare[1:]:  # a few compares beat a table lookup
            m |= idx == b
        picked.append(c[m])
        where.append(idx[m])
    sub, sub_idx = np.concatenate(picked).astype(np.float64), np.minimum(np.concatenate(where), FINE - 1)
    value: dict[int, float] = {}
    for b in wanted:
        vals, before = sub[sub_idx == b], int(cum[b] - fine[b])
        local = [r - before for r in ranks if home[r] == b]
        part = vals if vals.min() == vals.max() else np.partition(vals, local)  # integers: often all equal
        value.update((r + before, float(part[r])) for r in local)
    return _interpolate(value.__getitem__, n), None


def _inside(c: Any, bounds: Any) -> Any:
    """Which values lie in one of the ranges [bounds[0], bounds[1]), [bounds[2],
    bounds[3]), ...: two compares a range, not np.searchsorted, whose binary
    search into a handful of bounds cost ~90 ns a value (~17x these; it was
    a third of a 10 GB CSV's profile)."""
    inside = (c >= bounds[0]) & (c < bounds[1])
    for i in range(2, len(bounds), 2):
        inside |= (c >= bounds[i]) & (c < bounds[i + 1])
    return inside


def _bounds(wanted: list[int], lo: float, hi: float) -> Any:
    """None, or sorted [start, end) value ranges a little wider than the runs of
    fine bins `wanted`: every value of those bins falls inside one (the
    margin covers the rounding of lo + b * width), so a value's exact bin
    need only be computed for the values inside."""
    import numpy as np

    width = (hi - lo) / FINE
    slack = width / 64 + 8 * math.ulp(max(abs(lo), abs(hi)))
    if not slack < width / 8:  # a range of a few floats: no margin is safe, every value gets its bin
        return None
    runs: list[list[int]] = []
    for b in wanted:
        if runs and b <= runs[-1][1] + 2:  # bins this close would give overlapping ranges
            runs[-1][1] = b
        else:
            runs.append([b, b])
    return np.array([x for b0, b1 in runs for x in (lo + b0 * width - slack, lo + (b1 + 1) * width + slack)])


def category_counts(s: Any) -> tuple[Any, Any, int]:
    """(distinct non-null values as a str Index, their counts, null count)."""
    import numpy as np
    import pandas as pd

    size = len(s)
    if s.dtype == bool:  # numpy bool: counting is one pass, hashing is ten
        true = int(np.count_nonzero(s.to_numpy()))
        keys, counts = pd.Index(["True", "False"]), np.array([true, size - true])
        return keys[counts > 0], counts[counts > 0], 0
    if s.dtype == object:  # by text: 1 and "1" are one value, lists can be counted
        s = s.dropna().astype(str)
    vc = s.value_counts(dropna=True, sort=False)
    vc = vc[vc.to_numpy() > 0]  # categoricals list their unused categories
    keys = vc.index if isinstance(vc.index.dtype, pd.StringDtype) else vc.index.astype(str)
    counts = vc.to_numpy(dtype=np.int64)
    if len(keys) and int(keys.str.len().max()) > MAX_TEXT:  # one vectorised pass; only long values are rewritten
        keys = pd.Index([cap(str(k)) for k in keys], dtype=object)
    return keys, counts, size - int(counts.sum())


def top_values(keys: Any, counts: Any) -> list[list[Any]]:
    """The TOP most frequent values, ties broken by value so profiles are stable."""
    import numpy as np

    pick = np.arange(len(counts))
    if len(counts) > TOP:  # only values as frequent as the TOP-th can make it
        pick = np.flatnonzero(counts >= np.partition(counts, -TOP)[-TOP])
    if len(pick) > 50 * TOP:  # massive ties (an id column): select in arrow
        import pyarrow as pa
        import pyarrow.compute as pc

        table = pa.table({"v": pa.array(keys[pick]), "c": counts[pick]})
        best = table.take(pc.select_k_unstable(table, TOP, [("c", "descending"), ("v", "ascending")]))
        return [list(row) for row in zip(best["v"].to_pylist(), best["c"].to_pylist(), strict=False)]
    pairs = sorted(((str(keys[i]), int(counts[i])) for i in pick), key=lambda kv: (-kv[1], kv[0]))
    return [list(kv) for kv in pairs[:TOP]]


def _profile_column(name: str, s: Any) -> dict[str, Any]:
    import numpy as np

    kind = column_kind(s.dtype)
    col: dict[str, Any] = {"name": name, "dtype": str(s.dtype), "kind": kind}
    if kind == "categorical" or kind == "boolean":
        keys, counts, col["nulls"] = category_counts(s)
        top = top_values(keys, counts)
        return col | {"unique": len(keys), "top": top, "other": int(counts.sum()) - sum(c for _, c in top)}
    with np.errstate(all="ignore"):  # inf - inf and overflows are handled
        summary = _numbers_summary(as_numbers(s, kind), quantiles=kind == "numeric")
    col["nulls"] = summary["nulls"]
    if kind == "numeric":
        col.update({k: significant(summary[k]) for k in ("min", "max", "mean", "std")}, quantiles=summary["quantiles"])
    else:  # from the column, not float seconds, so ISO strings are exact
        has = summary["histogram"] is not None
        col.update(min=s.min().isoformat() if has else None, max=s.max().isoformat() if has else None)
    return col | {"histogram": summary["histogram"]}


def profile_frame(df: Any, fmt: str) -> dict[str, Any]:
    """The profile of a DataFrame read from a `fmt` ("csv" or "parquet") file."""
    import os

    # iloc, not df[name]: a duplicated column name would return a frame.
    jobs = [(cap(str(name)), df.iloc[:, i]) for i, name in enumerate(df.columns)]
    if (os.cpu_count() or 1) < 2 or len(df) * len(jobs) < _PARALLEL_CELLS:
        columns = [_profile_column(*job) for job in jobs]
    else:
        from concurrent.futures import ThreadPoolExecutor

        # Counting categories is one long hashing call that releases the GIL,
        # numeric columns are many short numpy calls that mostly keep it: two
        # threads, categorical columns first, overlap the two kinds of work.
        order = sorted(range(len(jobs)), key=lambda i: column_kind(jobs[i][1].dtype) not in ("categorical", "boolean"))
        with ThreadPoolExecutor(2) as pool:
            done = dict(zip(order, pool.map(lambda i: _profile_column(*jobs[i]), order), strict=False))
        columns = [done[i] for i in range(len(jobs))]
    return {"format": fmt, "rows": int(len(df)), "columns": columns}
