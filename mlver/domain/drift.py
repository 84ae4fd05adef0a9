"""Comparing data profiles: PSI, the diff of two profiles, drift of new data.

Split from mlver.domain.profile, which computes the profiles; the binning
arithmetic (fine_index) is shared so that new data is binned exactly as the
profile was. Pure logic: numpy is imported inside functions.
"""
from __future__ import annotations

import math

from mlver.domain.profile import (
    BINS,
    DEFAULT_THRESHOLD,
    FINE,
    PSI_EPSILON,
    as_numbers,
    cap,
    category_counts,
    fine_index,
    profile_frame,
    significant,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from mlver.models.record import ColumnProfile, ProfileDoc

__all__ = ["DEFAULT_THRESHOLD", "PSI_EPSILON", "check_stored", "compare_profiles", "drift_frame", "psi"]


def check_stored(profile: ProfileDoc, where: str, what: str) -> None:
    """What comparing reads of a stored profile beyond the JSON types the record
    check gives it (which let null and absent through): each column's name,
    kind, dtype and nulls; a number column's histogram, edges one more than its
    counts; a category column's [value, count] pairs and its "other" count.
    RecordShapeError names the field, where a crafted record would otherwise
    meet the PSI arithmetic as an internal error."""
    from mlver.errors import RecordShapeError

    if profile.columns and not _count(profile.rows):
        raise RecordShapeError(f"{what}.rows", profile.rows, where, "a profile with columns counts its rows")
    for j, column in enumerate(profile.columns or ()):
        at = f"{what}.columns[{j}]"
        for key in ("name", "kind", "dtype"):
            if getattr(column, key) is None:
                raise RecordShapeError(f"{at}.{key}", None, where, "every profiled column has one")
        if not _count(column.nulls):
            raise RecordShapeError(f"{at}.nulls", column.nulls, where, "it is not a count")
        problem = _number_problem(column) if column.kind in ("numeric", "datetime") else _category_problem(column)
        if problem is not None:
            field, value, why = problem
            raise RecordShapeError(f"{at}.{field}", value, where, why)


def _count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _number_problem(column: ColumnProfile) -> tuple[str, Any, str] | None:
    for key in ("histogram",) + (("mean", "std") if column.kind == "numeric" else ("min", "max")):
        if key not in column.keys:
            return key, None, f"a {column.kind} column has one (null when no value is finite)"
    hist = column.histogram
    if hist is None:
        return None
    edges, counts = hist.edges, hist.counts
    if not isinstance(edges, list) or not all(type(e) in (int, float) for e in edges):
        return "histogram.edges", edges, "it is not a list of numbers"
    if not isinstance(counts, list) or not all(_count(c) for c in counts):
        return "histogram.counts", counts, "it is not a list of counts"
    if not counts:
        return "histogram.counts", counts, "a histogram has a bin at least"
    if len(edges) != len(counts) + 1:
        return "histogram.edges", edges, f"{len(counts)} counts need {len(counts) + 1} edges, one more than the bins"
    return None


def _category_problem(column: ColumnProfile) -> tuple[str, Any, str] | None:
    top = column.top
    if not isinstance(top, list):
        return "top", top, f"a {column.kind} column lists its top values"
    for k, pair in enumerate(top):
        if not (isinstance(pair, list) and len(pair) == 2 and type(pair[0]) in (str, int, float, bool) and _count(pair[1])):
            return f"top[{k}]", pair, "it is not a [value, count] pair"
    if not _count(column.other):
        return "other", column.other, "it is not a count (the rows outside the top values)"
    return None


def psi(expected_counts: list[float], actual_counts: list[float]) -> float:
    """Population Stability Index of two binned distributions over the same bins.

    Counts become proportions; a proportion of 0 is raised to PSI_EPSILON
    (1e-4) so that empty bins give a large but finite term. 0.0 when both
    sides are empty; ValueError when only one is.
    """
    if len(expected_counts) != len(actual_counts):
        raise ValueError(f"psi needs the same bins on both sides: {len(expected_counts)} != {len(actual_counts)}")
    te, ta = float(sum(expected_counts)), float(sum(actual_counts))
    if te == 0 or ta == 0:
        if te == ta:
            return 0.0
        raise ValueError("psi of an empty distribution")
    total = 0.0
    for e, a in zip(expected_counts, actual_counts, strict=False):
        pe, pa = max(e / te, PSI_EPSILON), max(a / ta, PSI_EPSILON)
        total += (pa - pe) * math.log(pa / pe)
    return total


def _rebin(hist: dict, edges: list[float]) -> list[float]:
    """`hist`'s counts moved onto `edges`, values assumed uniform within a bin;
    mass outside `edges` goes to the first/last bin. Constant `edges` [c, c]
    get three bins, below c, at c, above c, so a constant that varies is seen.

    Plain Python, not numpy: at 11 edges a loop is as fast, and a review of
    many models then never imports numpy (~0.1 s of its start-up)."""
    import bisect

    src, counts = [float(e) for e in hist["edges"]], [float(c) for c in hist["counts"]]
    cum = [0.0]
    for c in counts:
        cum.append(cum[-1] + c)
    total = cum[-1]

    def below(x: float) -> float:  # mass below x: linear within a source bin, as np.interp
        if src[0] == src[-1]:
            return total if x > src[0] else 0.0
        if x <= src[0]:
            return 0.0
        if x >= src[-1]:
            return total
        j = bisect.bisect_right(src, x)
        return cum[j - 1] + (cum[j] - cum[j - 1]) * (x - src[j - 1]) / (src[j] - src[j - 1])

    if edges[0] == edges[-1]:
        under = below(edges[0])
        at = below(math.nextafter(edges[0], math.inf)) - under
        return [under, at, total - under - at]
    marks = [0.0] + [below(float(e)) for e in edges[1:-1]] + [total]
    return [b - a for a, b in zip(marks, marks[1:], strict=False)]


def bin_exact(v: Any, edges: list[float]) -> list[int]:
    """Non-null values counted in a stored histogram's bins exactly as the
    profile counted them; out-of-range values go to the first/last bin."""
    import numpy as np

    lo, hi = edges[0], edges[-1]
    if lo == hi:  # the stored single bin holds +-inf too: so does "at"
        finite = v[np.isfinite(v)]
        under, above = int(np.count_nonzero(finite < lo)), int(np.count_nonzero(finite > lo))
        return [under, len(v) - under - above, above]
    coarse = np.minimum(fine_index(np.clip(v, lo, hi), lo, hi - lo), FINE - 1) // (FINE // BINS)
    return np.bincount(coarse, minlength=BINS).tolist()


def _categorical_bins(old: dict, new_counts: dict[str, int], new_total: int, names: list[str]) -> tuple[list, list]:
    # A bin per name, then "other". A name outside a side's top counts 0 there
    # (its rows are in that side's "other"), so both sides keep their totals.
    old_top, actual = dict(old["top"]), [new_counts.get(k, 0) for k in names]
    return [old_top.get(k, 0) for k in names] + [old["other"]], actual + [new_total - sum(actual)]


def _column_psi(old: dict, new: dict, rows: dict, s: Any = None, binned: Any = None) -> float | None:
    """PSI of a column against its stored profile `old`: of its new profile
    `new` (re-binned), or, given its data `s`, of the data binned exactly,
    or of `binned`, its counts already binned exactly (a streamed table)."""
    if old["kind"] != new["kind"]:
        return None
    if binned is not None:
        if old["kind"] in ("numeric", "datetime"):
            if old["histogram"] is None or new["histogram"] is None:
                expected, actual = [rows["old"] - old["nulls"]], [rows["new"] - new["nulls"]]
            else:
                counts = old["histogram"]["counts"]
                expected, actual = ([0, counts[0], 0] if len(counts) == 1 else counts), list(binned)
        else:
            total = sum(c for _, c in new["top"]) + new["other"]
            expected, actual = _categorical_bins(old, binned, total, [k for k, _ in old["top"]])
    elif old["kind"] in ("numeric", "datetime"):
        v = None
        if s is not None:  # numpy only with data: comparing two profiles needs none
            import numpy as np

            v = as_numbers(s, old["kind"]).astype(np.float64)
            v = v[~np.isnan(v)]
        if old["histogram"] is None or new["histogram"] is None:  # no finite value: one bin for all
            expected, actual = [rows["old"] - old["nulls"]], [rows["new"] - new["nulls"]]
        else:
            counts, edges = old["histogram"]["counts"], old["histogram"]["edges"]
            expected = [0, counts[0], 0] if len(counts) == 1 else counts
            actual = _rebin(new["histogram"], edges) if v is None else bin_exact(v, edges)
    elif s is None:
        names = list(dict.fromkeys([k for k, _ in old["top"]] + [k for k, _ in new["top"]]))
        total = sum(c for _, c in new["top"]) + new["other"]
        expected, actual = _categorical_bins(old, dict(new["top"]), total, names)
    else:
        import numpy as np

        keys, counts, _ = category_counts(s)
        names, found = [k for k, _ in old["top"]], np.isin(keys, [k for k, _ in old["top"]])
        expected, actual = _categorical_bins(old, dict(zip(keys[found], counts[found].tolist(), strict=False)), int(counts.sum()), names)
    try:  # missing values are one more bin: a column that starts to be empty drifts
        return significant(psi(expected + [old["nulls"]], actual + [new["nulls"]]))
    except ValueError:  # one side has no rows
        return None


def _pair(old: Any, new: Any, delta: bool = False) -> dict[str, Any]:
    if not delta:
        return {"old": old, "new": new}
    return {"old": old, "new": new, "delta": significant(new - old) if old is not None and new is not None else None}


def _compare(old: dict | None, new: dict | None, threshold: float, psi_of: Any) -> dict[str, Any]:
    """What compare_profiles and drift_frame share; psi_of(old_col, new_col, rows)."""
    cols: tuple[dict[str, dict], dict[str, dict]] = ({}, {})
    for by_name, side in zip(cols, (old, new), strict=False):
        for c in (side or {}).get("columns") or []:  # null: none
            by_name.setdefault(c["name"], c)  # a duplicated name: its first column
    (o, n), (old_cols, new_cols) = ((old or {}).get("rows"), (new or {}).get("rows")), cols
    rows = {"old": o, "new": n, "delta": n - o if o is not None and n is not None else None}
    report: dict[str, Any] = {"rows": rows, "type_changed": [], "columns": []}
    for name in (name for name in new_cols if name in old_cols):
        a, b = old_cols[name], new_cols[name]
        if a["dtype"] != b["dtype"]:
            report["type_changed"].append({"name": name, "old": a["dtype"], "new": b["dtype"]})
        rates = [c["nulls"] / r if r else None for c, r in ((a, o), (b, n))]
        entry: dict[str, Any] = {"name": name, "kind": b["kind"], "null_rate": _pair(significant(rates[0]), significant(rates[1]))}
        if a["kind"] == b["kind"] == "numeric":
            entry.update(mean=_pair(a["mean"], b["mean"], True), std=_pair(a["std"], b["std"], True))
        elif a["kind"] == b["kind"] == "datetime":
            entry.update(min=_pair(a["min"], b["min"]), max=_pair(a["max"], b["max"]))
        elif a["kind"] == b["kind"]:
            # By the set of top values: counts always move, and the order of
            # near-equal values flips on noise; PSI tells how much changed.
            entry.update(top_changed={k for k, _ in a["top"]} != {k for k, _ in b["top"]}, top=_pair(a["top"], b["top"]))
        value = psi_of(a, b, rows)
        report["columns"].append(entry | {"psi": value, "drifted": value is not None and value >= threshold})
    report["drifted_columns"] = [c["name"] for c in report["columns"] if c["drifted"]]
    return report | {"added": [c for c in new_cols if c not in old_cols], "removed": [c for c in old_cols if c not in new_cols]}


def compare_profiles(old: dict | None, new: dict | None, threshold: float = DEFAULT_THRESHOLD) -> dict:
    """What changed between two profiles; None on a side means no profile (a
    non-tabular or missing input). A common column whose kind changed
    (numeric -> categorical) is in type_changed with psi None: its values
    cannot be compared."""
    report = _compare(old, new, threshold, _column_psi)
    added, removed = report.pop("added"), report.pop("removed")
    return report | {"columns_added": added, "columns_removed": removed}


def drift_frame(profile: dict, df: Any, threshold: float = DEFAULT_THRESHOLD) -> dict:
    """Drift of new data `df` against a stored `profile`: like compare_profiles,
    but the new values are binned exactly into the stored histogram edges and
    the stored top values (+ other) instead of being re-binned."""
    position: dict[str, int] = {}
    for i, name in enumerate(df.columns):
        position.setdefault(cap(str(name)), i)

    def exact(a: dict, b: dict, rows: dict) -> float | None:
        return _column_psi(a, b, rows, df.iloc[:, position[a["name"]]])

    report = _compare(profile, profile_frame(df, profile.get("format", "")), threshold, exact)
    added, removed = report.pop("added"), report.pop("removed")
    return report | {"missing_columns": removed, "extra_columns": added}


def drift_targets(profile: dict, declared: list[tuple[str, Any]]) -> tuple[dict[int, list[float]], dict[int, list[str]]]:
    """What to count exactly in a streamed table of columns ``declared``:
    (column index -> the stored histogram's edges, column index -> the
    stored top values), for the first column of each stored name."""
    old: dict[str, dict] = {}
    for c in profile.get("columns") or []:
        old.setdefault(c["name"], c)
    edges: dict[int, list[float]] = {}
    names: dict[int, list[str]] = {}
    seen = set()
    for i, (name, _) in enumerate(declared):
        if (key := cap(str(name))) in seen or (o := old.get(key)) is None:
            continue
        seen.add(key)
        if o["kind"] in ("numeric", "datetime") and o.get("histogram"):
            edges[i] = [float(e) for e in o["histogram"]["edges"]]
        elif o["kind"] in ("categorical", "boolean"):
            names[i] = [str(k) for k, _ in o.get("top") or []]
    return edges, names


def drift_stream(profile: dict, new: Any, threshold: float = DEFAULT_THRESHOLD) -> dict:
    """drift_frame's report for a table streamed into ``new`` (a
    mlver.domain.profile_stream.StreamProfile built with drift_targets)."""
    binned, position = new.binned, dict[str, int]()
    for i, name in enumerate(new.names):
        position.setdefault(name, i)

    def exact(a: dict, b: dict, rows: dict) -> float | None:
        return _column_psi(a, b, rows, binned=binned.get(position[a["name"]]))

    report = _compare(profile, new.finish(), threshold, exact)
    added, removed = report.pop("added"), report.pop("removed")
    return report | {"missing_columns": removed, "extra_columns": added}
