"""The data profile of a table, and comparing profiles (diff and drift).

A profile is what a lineage record keeps of a tabular input: small, stable
JSON that is enough to diff two data versions or check drift later without
the data. Pure logic: the caller reads the file (mlver.adapters.tabular).

Shape (columns is a list in file order: records are dumped with sort_keys and
a dict would lose the order)::

    {"format": "csv", "rows": 3, "columns": [
      {"name": "age", "dtype": "int64", "kind": "numeric", "nulls": 0,
       "min": 1.0, "max": 3.0, "mean": 2.0, "std": 1.0,
       "quantiles": {"p01": 1.02, "p25": 1.5, "p50": 2.0, "p75": 2.5, "p99": 2.98},
       "histogram": {"edges": [11 floats], "counts": [10 ints]}},
      {"name": "city", "dtype": "str", "kind": "categorical", "nulls": 0,
       "unique": 2, "top": [["paris", 2], ["rome", 1]], "other": 0}]}

Numeric statistics ignore +-inf (JSON has no inf) but the histogram counts
them in its first/last bin, so its counts sum to rows - nulls. The histogram
is None when a column has no finite value; a constant column has one bin
(edges [v, v]). Datetime columns keep ISO "min"/"max" and a histogram over
epoch seconds. Quantiles are exact (numpy's linear interpolation).

pandas and numpy are imported inside functions: importing this module must
stay cheap because every mlver command imports the domain.
"""
from __future__ import annotations

import math
from typing import Any

BINS = 10
TOP = 10
QUANTILES = (("p01", 0.01), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p99", 0.99))
# Empty bins' proportions are raised to this before taking logs, else PSI is
# infinite. 1e-4 is the customary floor: a category that vanishes from a 10%
# share still adds ~0.8, so it shows as drift without swamping everything.
PSI_EPSILON = 1e-4
DEFAULT_THRESHOLD = 0.2
# Counting happens on _FINE bins, summed into BINS afterwards: the fine counts
# tell which bins hold each quantile, so exact quantiles only partition those.
_FINE = 1000
# Columns are swept in chunks that fit in the CPU cache: profiling is bound by
# memory bandwidth, and one pass per chunk beats one pass per numpy operation.
_CHUNK = 1 << 15
# Integer columns spanning fewer values than this are counted value by value.
_DENSE = 1 << 16
_PARALLEL_CELLS = 1_000_000  # below this a thread pool costs more than it saves


def _sig(x: Any, digits: int = 6) -> float | None:
    """A float rounded to `digits` significant digits; None for None/NaN/inf."""
    if x is None or not math.isfinite(x := float(x)):
        return None
    return float(f"{x:.{digits}g}")


# --- one column -----------------------------------------------------------------


def _kind(dtype: Any) -> str:
    from pandas.api import types as t

    if t.is_bool_dtype(dtype):
        return "boolean"
    if t.is_datetime64_any_dtype(dtype):
        return "datetime"
    if t.is_numeric_dtype(dtype) and not t.is_complex_dtype(dtype):
        return "numeric"
    return "categorical"


def _as_numbers(s: Any, kind: str) -> Any:
    """A 1-D numpy array: numbers as they are, NA as NaN, datetimes as epoch seconds."""
    import numpy as np

    if kind == "datetime":
        if getattr(s.dtype, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        a = s.to_numpy()
        per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[np.datetime_data(a.dtype)[0]]
        out = a.view("int64") / per_second
        out[np.isnat(a)] = np.nan
        return out
    if isinstance(s.dtype, np.dtype):  # plain numpy: no copy, ints stay ints
        return s.to_numpy()
    return s.to_numpy(dtype=np.float64, na_value=np.nan)  # nullable / arrow-backed


def _numbers_summary(a: Any, quantiles: bool) -> dict[str, Any]:
    """nulls, min/max/mean/std, histogram and exact quantiles of an array.

    Most of profiling's time is spent here, CPU bound at a nanosecond or two
    per element and numpy operation: so few operations over cache-sized
    chunks (no column-sized temporaries), in up to three sweeps: (1) nulls,
    infs, min, max, sums of x - x0 and of its squares (shifting by a data
    value x0 keeps this one-pass variance accurate) (2) the fine histogram
    (3) the values in the few fine bins that hold a quantile. Integers over a
    small range (counts, codes, ints with NaN) are counted value by value.
    """
    import numpy as np

    if a.dtype.kind in "iu" and len(a):
        lo, hi = int(a.min()), int(a.max())
        if hi - lo < _DENSE and -(2**53) < lo and hi < 2**53:
            chunks = [a[i : i + _CHUNK] for i in range(0, len(a), _CHUNK)]
            return _dense_summary(_dense_counts(chunks, lo, hi - lo + 1), lo, 0, 0, 0)
    x0 = 0.0
    for i in range(0, len(a), _CHUNK):
        head = a[i : i + _CHUNK]
        if len(head := head[np.isfinite(head)]):
            x0 = float(head[0])
            break
    chunks, n, nulls, n_neg, n_pos = [], 0, 0, 0, 0
    lo, hi, sums, squares, clean = math.inf, -math.inf, [], 0.0, True
    for i in range(0, len(a), _CHUNK):
        c = a[i : i + _CHUNK]
        if clean:  # a finite sum tells a clean chunk without an isfinite pass
            t = np.subtract(c, x0, dtype=np.float64)
            total = float(t.sum())
            clean = math.isfinite(total) or a.dtype.kind != "f"
        if not clean:
            raw, c = c, c[np.isfinite(c)]
            if len(c) < len(raw):  # fmin/fmax skip NaN but see inf
                c_lo, c_hi = float(np.fmin.reduce(raw)), float(np.fmax.reduce(raw))
                neg = int(np.count_nonzero(raw == -np.inf)) if c_lo == -np.inf else 0
                pos = int(np.count_nonzero(raw == np.inf)) if c_hi == np.inf else 0
                n_neg, n_pos, nulls = n_neg + neg, n_pos + pos, nulls + len(raw) - len(c) - neg - pos
            t = np.subtract(c, x0, dtype=np.float64)
            total = float(t.sum())
        if len(c):
            if clean or len(c) == len(raw) or not (math.isfinite(c_lo) and math.isfinite(c_hi)):
                c_lo, c_hi = float(c.min()), float(c.max())
            chunks.append(c)
            n += len(c)
            lo, hi = min(lo, c_lo), max(hi, c_hi)
            sums.append(total)
            squares += float(np.einsum("i,i->", t, t))  # not np.dot: BLAS threads stall on a busy machine
    if not n:
        return _summary(nulls, 0, lo, hi, None, None, None, None)
    shifted = math.fsum(sums) / n
    var = max(0.0, (squares - shifted * shifted * n) / (n - 1)) if n > 1 else None
    if lo == hi or not math.isfinite(hi - lo):  # constant; or wider than floats: no bins
        return _summary(nulls, n + n_neg + n_pos, lo, hi, x0 + shifted, var, None, None)
    if lo.is_integer() and hi - lo < _DENSE and abs(lo) < 2**53 and abs(hi) < 2**53:
        counts = _dense_counts(chunks, int(lo), int(hi - lo) + 1)
        if counts is not None:  # ints read as floats because of NaN
            return _dense_summary(counts, int(lo), nulls, n_neg, n_pos)
    fine, bins = _fine_histogram(chunks, lo, hi, keep=quantiles)
    counts = fine.reshape(BINS, -1).sum(axis=1)
    counts[0] += n_neg
    counts[-1] += n_pos
    qs = _exact_quantiles(chunks, bins, fine) if quantiles else None
    return _summary(nulls, n + n_neg + n_pos, lo, hi, x0 + shifted, var, counts, qs)


def _dense_counts(chunks: list, lo: int, size: int) -> Any:
    """How many times each integer lo, lo+1, ... occurs; None if a value is not an integer."""
    import numpy as np

    counts = np.zeros(size, dtype=np.int64)
    for c in chunks:
        t = np.subtract(c, lo, dtype=np.float64 if c.dtype.kind == "f" else np.intp)
        idx = t.astype(np.intp, copy=False)
        if t.dtype.kind == "f" and not np.equal(idx, t).all():
            return None
        counts += np.bincount(idx, minlength=size)
    return counts


def _dense_summary(counts: Any, lo: int, nulls: int, n_neg: int, n_pos: int) -> dict[str, Any]:
    """Everything, exactly, from how many times each integer lo, lo+1, ... occurs."""
    import numpy as np

    n = int(counts.sum())
    values = np.arange(len(counts), dtype=np.float64) + lo
    weights = counts.astype(np.float64)
    mean = float(np.einsum("i,i->", values, weights)) / n
    var = float(np.einsum("i,i,i->", values - mean, values - mean, weights)) / (n - 1) if n > 1 else None
    hi = lo + len(counts) - 1
    if lo == hi:
        return _summary(nulls, n + n_neg + n_pos, lo, hi, mean, var, None, None)
    cum = np.cumsum(counts)
    qs = _interpolate(lambda r: float(values[np.searchsorted(cum, r, side="right")]), n)
    fine = np.minimum(_fine_index(values, float(lo), float(hi - lo)), _FINE - 1)
    coarse = np.bincount(fine // (_FINE // BINS), weights=counts, minlength=BINS).astype(np.int64)
    coarse[0] += n_neg
    coarse[-1] += n_pos
    return _summary(nulls, n + n_neg + n_pos, lo, hi, mean, var, coarse, qs)


def _summary(nulls: int, values: int, lo: float, hi: float, mean: float | None, var: float | None, counts: Any, qs: list | None) -> dict[str, Any]:
    hist = None
    if values and lo == hi:  # constant: one bin
        hist, qs = {"edges": [float(lo), float(hi)], "counts": [values]}, [lo] * len(QUANTILES)
    elif counts is not None:
        hist = {"edges": _edges(lo, hi), "counts": [int(x) for x in counts]}
    return {
        "nulls": nulls,
        "min": lo if values else None,
        "max": hi if values else None,
        "mean": mean,
        "std": math.sqrt(var) if var is not None else None,
        "histogram": hist,
        "quantiles": {k: _sig(q) for (k, _), q in zip(QUANTILES, qs or [None] * len(QUANTILES))},
    }


def _interpolate(order_statistic: Any, n: int) -> list[float]:
    """QUANTILES by numpy's default (linear) method, given the k-th smallest value."""
    out = []
    for _, q in QUANTILES:
        pos = q * (n - 1)
        below, above = order_statistic(math.floor(pos)), order_statistic(math.ceil(pos))
        out.append(below + (above - below) * (pos - math.floor(pos)))
    return out


def _fine_index(c: Any, lo: float, span: float, out: Any = None) -> Any:
    """Fine bin numbers: floor((x - lo) * _FINE / span).

    This arithmetic, not the rounded inner edges, defines the histogram's bins
    (so drift_frame bins new data exactly like the profile did). Multiplying
    before dividing keeps values that sit exactly on an edge, as integers
    often do, in the bin above it: bins are [a, b), the last one [a, b].
    """
    import numpy as np

    t = np.subtract(c, lo, out=out, dtype=np.float64)
    if math.isfinite(span * _FINE):
        t *= _FINE
        t /= span
    else:  # a span near the float limit would overflow: edges need not be exact there
        t /= span
        t *= _FINE
    return t.astype(np.intp)


def _fine_histogram(chunks: list, lo: float, hi: float, keep: bool) -> tuple[Any, list]:
    """(counts in _FINE equal bins over [lo, hi], each chunk's bin numbers if `keep`)."""
    import numpy as np

    fine, kept = np.zeros(_FINE + 1, dtype=np.int64), []
    buf = np.empty(_CHUNK)
    for c in chunks:
        idx = _fine_index(c, lo, hi - lo, out=buf[: len(c)])
        fine += np.bincount(idx, minlength=_FINE + 1)
        if keep:
            kept.append(idx.astype(np.uint16))
    fine[_FINE - 1] += fine[_FINE]  # x == hi: the last bin is closed
    return fine[:_FINE], kept


def _edges(lo: float, hi: float) -> list[float]:
    """The histogram's edges: lo and hi exactly (they define the bins, see
    _fine_index), the inner ones rounded for reading and re-binning. 6 digits
    do not keep a narrow range far from 0 (1000000.1..1000000.5) increasing,
    so add as many digits as the range is smaller than the values."""
    extra = math.ceil(math.log10(max(abs(lo), abs(hi)) / (hi - lo)))
    digits = min(17, 6 + max(0, extra))
    return [float(lo)] + [float(f"{lo + (hi - lo) / BINS * k:.{digits}g}") for k in range(1, BINS)] + [float(hi)]


def _exact_quantiles(chunks: list, bins: list, fine: Any) -> list[float]:
    """Quantiles by numpy's default (linear) method, exactly: the fine
    histogram tells which bin holds each order statistic needed, and only
    the values in those bins are partitioned."""
    import numpy as np

    n, cum = int(fine.sum()), np.cumsum(fine)
    ranks = sorted({r for _, q in QUANTILES for r in (math.floor(q * (n - 1)), math.ceil(q * (n - 1)))})
    home = {r: int(np.searchsorted(cum, r, side="right")) for r in ranks}
    wanted = sorted(set(home.values()))
    compare = wanted + [_FINE] if wanted[-1] == _FINE - 1 else wanted  # x == hi
    picked, where = [], []
    for c, idx in zip(chunks, bins):
        m = idx == compare[0]
        for b in compare[1:]:  # a few compares beat a table lookup
            m |= idx == b
        picked.append(c[m])
        where.append(idx[m])
    sub, sub_idx = np.concatenate(picked).astype(np.float64), np.minimum(np.concatenate(where), _FINE - 1)
    value: dict[int, float] = {}
    for b in wanted:
        vals, before = sub[sub_idx == b], int(cum[b] - fine[b])
        local = [r - before for r in ranks if home[r] == b]
        if vals.min() == vals.max():  # common for integers: nothing to partition
            value.update((r + before, float(vals[0])) for r in local)
        else:
            part = np.partition(vals, local)
            value.update((r + before, float(part[r])) for r in local)
    return _interpolate(value.__getitem__, n)


def _category_counts(s: Any) -> tuple[Any, Any, int]:
    """(distinct non-null values as a str Index, their counts, null count)."""
    import numpy as np
    import pandas as pd

    if s.dtype == bool:  # numpy bool: counting is one pass, hashing is ten
        true = int(np.count_nonzero(s.to_numpy()))
        keys, counts = pd.Index(["True", "False"]), np.array([true, len(s) - true])
        return keys[counts > 0], counts[counts > 0], 0
    if s.dtype == object:
        # Count mixed objects by their text: 1 and "1" are one value, and
        # unhashable cells (lists from Parquet) can be counted.
        s = s.dropna().astype(str).reindex(s.index)
    vc = s.value_counts(dropna=True, sort=False)
    vc = vc[vc.to_numpy() > 0]  # categoricals list their unused categories
    keys = vc.index if isinstance(vc.index.dtype, pd.StringDtype) else vc.index.astype(str)
    counts = vc.to_numpy(dtype=np.int64)
    return keys, counts, len(s) - int(counts.sum())


def _top(keys: Any, counts: Any) -> list[list[Any]]:
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
        return [[v, c] for v, c in zip(best["v"].to_pylist(), best["c"].to_pylist())]
    pairs = sorted(((str(keys[i]), int(counts[i])) for i in pick), key=lambda kv: (-kv[1], kv[0]))
    return [[k, c] for k, c in pairs[:TOP]]


def _profile_column(name: str, s: Any) -> dict[str, Any]:
    import numpy as np

    with np.errstate(all="ignore"):  # inf - inf and overflows are handled, not worth a warning
        return _profile_series(name, s)


def _profile_series(name: str, s: Any) -> dict[str, Any]:
    kind = _kind(s.dtype)
    col: dict[str, Any] = {"name": name, "dtype": str(s.dtype), "kind": kind}
    if kind in ("numeric", "datetime"):
        summary = _numbers_summary(_as_numbers(s, kind), quantiles=kind == "numeric")
        col["nulls"] = summary["nulls"]
        if kind == "numeric":
            col.update((k, _sig(summary[k])) for k in ("min", "max", "mean", "std"))
            col["quantiles"] = summary["quantiles"]
        else:  # from the column, not float seconds, so ISO strings are exact
            has = summary["histogram"] is not None
            col.update(min=s.min().isoformat() if has else None, max=s.max().isoformat() if has else None)
        col["histogram"] = summary["histogram"]
    else:
        keys, counts, col["nulls"] = _category_counts(s)
        top = _top(keys, counts)
        col.update(unique=len(keys), top=top, other=int(counts.sum()) - sum(c for _, c in top))
    return col


def profile_frame(df: Any, fmt: str) -> dict[str, Any]:
    """The profile of a DataFrame read from a `fmt` ("csv" or "parquet") file."""
    import os

    # iloc, not df[name]: a duplicated column name would return a frame.
    jobs = [(str(name), df.iloc[:, i]) for i, name in enumerate(df.columns)]
    hashed = [i for i, (_, s) in enumerate(jobs) if _kind(s.dtype) == "categorical"]
    columns: list[Any] = [None] * len(jobs)
    if (os.cpu_count() or 1) > 1 and hashed and len(df) * len(jobs) >= _PARALLEL_CELLS:
        # Counting categories is one long arrow/pandas hashing call that runs
        # without the GIL, so it overlaps with the numeric columns done here.
        # (Numeric work is many short numpy calls: threads only fight over the
        # GIL, measured slower.)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max(1, min(len(hashed), (os.cpu_count() or 2) - 1))) as pool:
            futures = {i: pool.submit(_profile_column, *jobs[i]) for i in hashed}
            for i, job in enumerate(jobs):
                if i not in futures:
                    columns[i] = _profile_column(*job)
            for i, future in futures.items():
                columns[i] = future.result()
    else:
        columns = [_profile_column(*job) for job in jobs]
    return {"format": fmt, "rows": int(len(df)), "columns": columns}


# --- PSI and comparing ----------------------------------------------------------


def psi(expected_counts: list[float], actual_counts: list[float]) -> float:
    """Population Stability Index of two binned distributions over the same bins.

    Counts become proportions; a proportion of 0 is raised to PSI_EPSILON (1e-4)
    so empty bins give a large but finite term. 0.0 when both sides are empty;
    ValueError when only one is (there is nothing to compare it with).
    """
    if len(expected_counts) != len(actual_counts):
        raise ValueError(f"psi needs the same bins on both sides: {len(expected_counts)} != {len(actual_counts)}")
    te, ta = float(sum(expected_counts)), float(sum(actual_counts))
    if te == 0 and ta == 0:
        return 0.0
    if te == 0 or ta == 0:
        raise ValueError("psi of an empty distribution")
    total = 0.0
    for e, a in zip(expected_counts, actual_counts):
        pe, pa = max(e / te, PSI_EPSILON), max(a / ta, PSI_EPSILON)
        total += (pa - pe) * math.log(pa / pe)
    return total


def _rebin(hist: dict, edges: list[float]) -> list[float]:
    """`hist`'s counts moved onto `edges`, assuming values uniform within a bin.

    Mass below/above `edges` goes to the first/last bin. One-bin (constant)
    `edges` [c, c] get three virtual bins: below c, at c, above c, so that a
    constant column that starts to vary is seen.
    """
    import numpy as np

    src, counts = np.asarray(hist["edges"], dtype=float), np.asarray(hist["counts"], dtype=float)
    total = float(counts.sum())
    if src[0] == src[-1]:  # a point mass at src[0]

        def below(x: Any) -> Any:  # mass strictly below x
            return np.where(np.asarray(x) > src[0], total, 0.0)
    else:
        cum = np.concatenate([[0.0], np.cumsum(counts)])

        def below(x: Any) -> Any:
            return np.interp(x, src, cum)

    if edges[0] == edges[-1]:
        under = float(below(edges[0]))
        at = float(below(np.nextafter(edges[0], np.inf))) - under
        return [under, at, total - under - at]
    cdf = np.concatenate([[0.0], below(np.asarray(edges[1:-1], dtype=float)), [total]])
    return [float(x) for x in np.diff(cdf)]


def _bin_exact(v: Any, edges: list[float]) -> list[int]:
    """Counts of values (NaN removed) in a stored histogram's bins, exactly as
    the profile counted them; out-of-range values go to the first/last bin."""
    import numpy as np

    lo, hi = edges[0], edges[-1]
    if lo == hi:  # the stored single bin holds +-inf as well: so does "at" here
        finite = v[np.isfinite(v)]
        under, above = int(np.count_nonzero(finite < lo)), int(np.count_nonzero(finite > lo))
        return [under, len(v) - under - above, above]
    idx = _fine_index(np.clip(v, lo, hi), lo, hi - lo)  # clipped: no overflow, inf included
    coarse = np.minimum(idx, _FINE - 1) // (_FINE // BINS)
    return [int(x) for x in np.bincount(coarse, minlength=len(edges) - 1)]


def _expected(col: dict) -> list[int]:
    """A stored histogram as PSI's expected counts (three bins if constant)."""
    counts = col["histogram"]["counts"]
    return [0, counts[0], 0] if len(counts) == 1 else list(counts)


def _categorical_bins(old: dict, new_counts: dict[str, int], new_total: int, names: list[str]) -> tuple[list, list]:
    # Bins: each name, then "other". A name outside a side's top list counts 0
    # there (its rows are in that side's "other"), so both sides keep their totals.
    old_top = dict((k, c) for k, c in old["top"])
    actual = [new_counts.get(k, 0) for k in names]
    return [old_top.get(k, 0) for k in names] + [old["other"]], actual + [new_total - sum(actual)]


def _psi_with_nulls(old: dict, new: dict, expected: list, actual: list) -> float | None:
    # Missing values are one more bin: a column that starts to be empty drifts.
    try:
        return _sig(psi(expected + [old["nulls"]], actual + [new["nulls"]]))
    except ValueError:  # one side has no rows at all
        return None


def _profile_psi(old: dict, new: dict, rows: dict) -> float | None:
    if old["kind"] != new["kind"]:
        return None
    if old["kind"] in ("numeric", "datetime"):
        oh, nh = old["histogram"], new["histogram"]
        if oh is None or nh is None:  # no finite value on a side: one bin for all values
            return _psi_with_nulls(old, new, [rows["old"] - old["nulls"]], [rows["new"] - new["nulls"]])
        return _psi_with_nulls(old, new, _expected(old), _rebin(nh, oh["edges"]))
    names = list(dict.fromkeys([k for k, _ in old["top"]] + [k for k, _ in new["top"]]))
    total = sum(c for _, c in new["top"]) + new["other"]
    return _psi_with_nulls(old, new, *_categorical_bins(old, dict((k, c) for k, c in new["top"]), total, names))


def _pair(old: Any, new: Any, delta: bool = False) -> dict[str, Any]:
    out = {"old": old, "new": new}
    if delta:
        out["delta"] = _sig(new - old) if old is not None and new is not None else None
    return out


def _rate(nulls: int, rows: int | None) -> float | None:
    return _sig(nulls / rows) if rows else None


def _changes(old: dict, new: dict, rows: dict, value: float | None, threshold: float) -> dict[str, Any]:
    """One column's entry in compare_profiles / drift_frame."""
    entry: dict[str, Any] = {"name": new["name"], "kind": new["kind"]}
    entry["null_rate"] = _pair(_rate(old["nulls"], rows["old"]), _rate(new["nulls"], rows["new"]))
    if old["kind"] == new["kind"] == "numeric":
        entry.update(mean=_pair(old["mean"], new["mean"], True), std=_pair(old["std"], new["std"], True))
    elif old["kind"] == new["kind"] == "datetime":
        entry.update(min=_pair(old["min"], new["min"]), max=_pair(old["max"], new["max"]))
    elif old["kind"] == new["kind"]:
        # By the set of top values: counts always move and the order of
        # near-equal values flips on noise; PSI measures how much changed.
        entry["top_changed"] = {k for k, _ in old["top"]} != {k for k, _ in new["top"]}
        entry["top"] = _pair(old["top"], new["top"])
    entry.update(psi=value, drifted=value is not None and value >= threshold)
    return entry


def _diff(old: dict | None, new: dict | None) -> tuple[dict, dict, list[str], dict]:
    """(old columns by name, new columns by name, common names in new order, rows)."""
    old_cols: dict[str, dict] = {}
    new_cols: dict[str, dict] = {}
    for cols, side in ((old_cols, old), (new_cols, new)):
        for c in (side or {}).get("columns", []):
            cols.setdefault(c["name"], c)  # a duplicated name: its first column
    o, n = (old or {}).get("rows"), (new or {}).get("rows")
    common = [c["name"] for c in (new or {}).get("columns", []) if c["name"] in old_cols]
    rows = {"old": o, "new": n, "delta": n - o if o is not None and n is not None else None}
    return old_cols, new_cols, list(dict.fromkeys(common)), rows


def _report(old_cols: dict, new_cols: dict, common: list[str], rows: dict, columns: list[dict]) -> dict:
    return {
        "rows": rows,
        "type_changed": [
            {"name": n, "old": old_cols[n]["dtype"], "new": new_cols[n]["dtype"]}
            for n in common
            if old_cols[n]["dtype"] != new_cols[n]["dtype"]
        ],
        "columns": columns,
        "drifted_columns": [c["name"] for c in columns if c["drifted"]],
    }


def compare_profiles(old: dict | None, new: dict | None, threshold: float = DEFAULT_THRESHOLD) -> dict:
    """What changed between two profiles; None on a side means no profile
    (a non-tabular or missing input). A common column whose kind changed
    (numeric -> categorical) is in type_changed with psi None: its values
    cannot be compared."""
    old_cols, new_cols, common, rows = _diff(old, new)
    columns = [_changes(old_cols[n], new_cols[n], rows, _profile_psi(old_cols[n], new_cols[n], rows), threshold) for n in common]
    return {
        "columns_added": [n for n in new_cols if n not in old_cols],
        "columns_removed": [n for n in old_cols if n not in new_cols],
        **_report(old_cols, new_cols, common, rows, columns),
    }


def _exact_psi(old: dict, new: dict, s: Any, rows: dict) -> float | None:
    """PSI of a column's new data against its stored profile, binned exactly."""
    import numpy as np

    if old["kind"] != new["kind"]:
        return None
    if old["kind"] in ("numeric", "datetime"):
        v = _as_numbers(s, old["kind"]).astype(np.float64, copy=False)
        v = v[~np.isnan(v)]
        if old["histogram"] is None:
            return _psi_with_nulls(old, new, [rows["old"] - old["nulls"]], [len(v)])
        return _psi_with_nulls(old, new, _expected(old), _bin_exact(v, old["histogram"]["edges"]))
    keys, counts, _ = _category_counts(s)
    names = [k for k, _ in old["top"]]
    found = dict(zip(keys[np.isin(keys, names)], counts[np.isin(keys, names)].tolist())) if names else {}
    return _psi_with_nulls(old, new, *_categorical_bins(old, found, int(counts.sum()), names))


def drift_frame(profile: dict, df: Any, threshold: float = DEFAULT_THRESHOLD) -> dict:
    """Drift of new data `df` against a stored `profile`: like compare_profiles,
    but the new values are binned exactly into the stored histogram edges and
    the stored top values (+ other) instead of being re-binned."""
    new = profile_frame(df, profile.get("format", ""))
    old_cols, new_cols, common, rows = _diff(profile, new)
    position: dict[str, int] = {}
    for i, name in enumerate(df.columns):
        position.setdefault(str(name), i)
    columns = [
        _changes(old_cols[n], new_cols[n], rows, _exact_psi(old_cols[n], new_cols[n], df.iloc[:, position[n]], rows), threshold)
        for n in common
    ]
    return {
        "missing_columns": [n for n in old_cols if n not in new_cols],
        "extra_columns": [n for n in new_cols if n not in old_cols],
        **_report(old_cols, new_cols, common, rows, columns),
    }
