"""What a reader sees of a diff: the one place that decides it.

A ModelDiff's rows (mlver/models/diff.py) become the lines of a report:
each value's text, the delta and percentage, the trend (up/down/same), the
verdict (better/worse/same/unknown, from the metric's name), which data
columns are worth a row, what the one-line summary names. The terminal
(cli/render.py), markdown (templates/_diff.md.j2, via report.py) and HTML
(templates/_diff.html.j2, the site's version pages) only lay these out and
escape them, so the three cannot disagree on what changed or whether it is
better. A value with no text is None: each format writes its own dash.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlver import formats
from mlver.formats import value as text  # every format's text of a value, the terminal's too
from mlver.models.diff import CodeChange, DataChange, MetricChange, ValueChange
from mlver.models.profilediff import ColumnShift, Pair
from mlver.models.review import ModelDiff

COLUMNS_SHOWN = 12  # per data input, largest PSI first; the rest are counted
TOP_SHOWN = 3  # top values of a categorical column


def delta_text(x: Any) -> str | None:
    return text(x, "+")


def pct_text(x: float | None) -> str | None:
    return None if x is None else f"{x:+.2f}%"


def psi_text(x: float | None) -> str | None:
    return None if x is None else f"{x:.3f}"


def size_text(n: int | None) -> str | None:
    return None if n is None else formats.size(n)


def short(sha: str | None, n: int = 12) -> str | None:
    return sha[:n] if sha else None


@dataclass(frozen=True)
class Line:
    """One row of a params, metrics or environment table."""

    label: str
    old: str | None
    new: str | None
    status: str  # added | removed | changed | unchanged
    delta: str | None = None
    pct: str | None = None
    trend: str | None = None  # up | down | same (two numbers only)
    verdict: str = "unknown"  # better | worse | same | unknown


@dataclass(frozen=True)
class Shift:
    """An old -> new pair of a column statistic."""

    old: str | None
    new: str | None
    delta: str | None = None


@dataclass(frozen=True)
class ColumnLine:
    name: str
    null_rate: Shift
    mean: Shift | None = None  # numeric columns
    std: Shift | None = None
    top_old: tuple[str, ...] = ()  # categorical columns: the first TOP_SHOWN values
    top_new: tuple[str, ...] = ()
    top_changed: bool | None = None  # None: not a categorical column
    low: Shift | None = None  # datetime columns: the range
    high: Shift | None = None
    note: str = ""
    psi: str | None = None
    drifted: bool = False


@dataclass(frozen=True)
class DataView:
    path: str
    status: str  # added | removed | changed
    md5: Shift  # short hashes
    size: Shift
    files: Shift | None  # file counts, shown when either side is not a single file
    rows: Shift | None  # row counts with their delta, when both sides have one
    rows_changed: bool  # the row count moved
    note: str | None
    compared: bool  # profiles were compared (tabular data): the lines below mean something
    hash_only: bool  # changed, and the hash is all there is to compare
    columns_added: tuple[str, ...] = ()
    columns_removed: tuple[str, ...] = ()
    type_changed: tuple[tuple[str, str, str], ...] = ()  # (column, old type, new type)
    drifted: tuple[str, ...] = ()
    columns: tuple[ColumnLine, ...] = ()
    more_columns: int = 0


@dataclass(frozen=True)
class FileLine:
    path: str
    added: str  # "bin" for a binary file
    removed: str


@dataclass(frozen=True)
class CodeView:
    old: str  # short commits
    new: str
    files: tuple[FileLine, ...]
    added: int
    removed: int
    note: str | None  # why there is nothing to compare


@dataclass(frozen=True)
class ArtifactView:
    path: str | None
    md5: Shift
    size: Shift


@dataclass(frozen=True)
class DiffView:
    model: str
    old_ref: str
    new_ref: str
    status: str  # changed | unchanged | added | removed
    headline: str  # what the status means, in words
    notes: tuple[str, ...]
    params: tuple[Line, ...]
    metrics: tuple[Line, ...]
    data: tuple[DataView, ...]  # the inputs that changed (added, removed, changed)
    code: CodeView | None
    artifact: ArtifactView | None  # only when it changed
    env: tuple[Line, ...]

    @property
    def moved(self) -> tuple[Line, ...]:
        """The metrics whose value changed: what a summary names first."""
        return tuple(m for m in self.metrics if m.status != "unchanged")


HEADLINES = {
    "added": "new model: it has no record on the base side",
    "removed": "removed: it has no record on the head side",
    "unchanged": "no changes",
    "changed": "changed",
}


def value_line(row: ValueChange) -> Line:
    return Line(row.key, text(row.old), text(row.new), row.status)


def metric_line(row: MetricChange) -> Line:
    status = "unchanged" if not row.changed else "added" if row.old is None else "removed" if row.new is None else "changed"
    return Line(row.key, text(row.old), text(row.new), status, delta_text(row.delta), pct_text(row.pct),
                row.direction, row.verdict)


def column_line(c: ColumnShift) -> ColumnLine:
    """One column of a profile comparison (a diff's, or new data's against a profile in drift)."""
    def pair(stat: Pair | None, with_delta: bool = False) -> Shift | None:
        if stat is None:
            return None
        return Shift(text(stat.old), text(stat.new), delta_text(stat.delta) if with_delta else None)

    top = c.top
    return ColumnLine(
        name=str(c.name), null_rate=pair(c.null_rate) or Shift(None, None),
        mean=pair(c.mean, with_delta=True), std=pair(c.std),
        top_old=tuple(str(text(v[0])) for v in ((top.old if top else None) or [])[:TOP_SHOWN]),
        top_new=tuple(str(text(v[0])) for v in ((top.new if top else None) or [])[:TOP_SHOWN]),
        top_changed=None if top is None else bool(c.top_changed),
        low=pair(c.min), high=pair(c.max), note=str(c.note or ""),
        psi=psi_text(c.psi), drifted=bool(c.drifted),
    )


def data_view(row: DataChange) -> DataView:
    prof = row.profile
    rows = prof.rows if prof else None
    counts = None
    if rows is not None and rows.delta is not None:
        counts = Shift(text(rows.old), text(rows.new), delta_text(rows.delta))
    files = None
    if row.old_nfiles and row.new_nfiles and (row.old_nfiles != 1 or row.new_nfiles != 1):
        files = Shift(text(row.old_nfiles), text(row.new_nfiles))
    columns = sorted(prof.columns, key=lambda c: -(c.psi or 0.0)) if prof else []
    return DataView(
        path=row.path, status=row.status, md5=Shift(short(row.old_md5), short(row.new_md5)),
        size=Shift(size_text(row.old_size), size_text(row.new_size)), files=files, rows=counts,
        rows_changed=bool(rows and rows.delta), note=row.note,
        compared=bool(prof), hash_only=row.status == "changed" and not prof,
        columns_added=tuple(prof.columns_added or ()) if prof else (),
        columns_removed=tuple(prof.columns_removed or ()) if prof else (),
        type_changed=tuple((str(t.name), str(t.old), str(t.new)) for t in prof.type_changed) if prof else (),
        drifted=tuple(prof.drifted_columns or ()) if prof else (),
        columns=tuple(column_line(c) for c in columns[:COLUMNS_SHOWN]), more_columns=max(0, len(columns) - COLUMNS_SHOWN),
    )


def code_view(code: CodeChange | None) -> CodeView | None:
    """The files changed between two code commits; None when there is nothing to say."""
    if code is None or not (code.files or code.note):
        return None
    return CodeView(
        old=code.old_commit[:12], new=code.new_commit[:12],
        files=tuple(FileLine(f.path, "bin" if f.added is None else str(f.added), "bin" if f.removed is None else str(f.removed))
                    for f in code.files or ()),
        added=code.added or 0, removed=code.removed or 0, note=None if code.files else code.note)


def view(d: ModelDiff) -> DiffView:
    """Everything a reader sees of one model's diff (added, removed and unchanged models have no rows)."""
    compared = d.status in ("changed", "unchanged")
    artifact = None
    if compared and d.artifact is not None and d.artifact.changed:
        a = d.artifact
        artifact = ArtifactView(a.path, Shift(short(a.old_md5), short(a.new_md5)), Shift(size_text(a.old_size), size_text(a.new_size)))
    return DiffView(
        model=d.model, old_ref=d.old_ref, new_ref=d.new_ref, status=d.status, headline=HEADLINES.get(d.status, d.status),
        notes=d.notes, params=tuple(value_line(p) for p in d.params), metrics=tuple(metric_line(m) for m in d.metrics),
        data=tuple(data_view(x) for x in d.data if x.status != "unchanged"),
        code=code_view(d.code) if compared else None, artifact=artifact, env=tuple(value_line(e) for e in d.env),
    )
