"""The text of ``ls NAME``: a terminal table and CSV (render.py writes them)."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from mlver import formats
from mlver.models import Lineage, MetricCell, VersionRow, VersionsTable


def _delta(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:+.4g}" if isinstance(value, float) else f"{value:+d}"


def _stages(row: VersionRow) -> str:
    now = ", ".join(row.stages)
    before = f"(was {', '.join(row.stages_before)})" if row.stages_before else ""
    return " ".join(x for x in (now, before) if x)


def _data(row: VersionRow) -> str:
    return "; ".join(f"{d.path} {(d.md5 or '-')[:8]}{'*' if d.changed else ''}"
                     + (f" {d.rows} rows" if d.rows is not None else "") for d in row.data)


def _params(row: VersionRow) -> str:
    return ", ".join(f"{p.key} {formats.number(p.old)}->{formats.number(p.new)}" for p in row.params_changed)


def _cell(cell: MetricCell | None, against: str | None) -> str:
    if cell is None:
        return "-"
    text = formats.number(cell.value)
    versus = f"{against} {_delta(cell.against_delta)}" if against and cell.against_delta is not None else ""
    moved = [d for d in (_delta(cell.delta), versus) if d]
    return f"{text} ({', '.join(moved)})" if moved else text


def versions_text(t: VersionsTable, table: Callable[[list[str], list[list[str]]], str]) -> str:
    """``table`` is render's (its styles): render imports this module, not the other way round."""
    if not t.rows:
        return f"{t.model} has no released versions: release one with `mlver release {t.model}`"
    against = t.against
    head = [f"{t.model}: {len(t.rows)} version{'' if len(t.rows) == 1 else 's'}, deltas against the previous version"
            + (f" and {t.against} ({t.against_version})" if against else "")
            + (f", best {t.sort_by} first" if t.sort_by else "")]
    headers = ["VERSION", "STAGES", "RELEASED", "BY", "DATA (* changed)", "PARAMS CHANGED", *[m.upper() for m in t.metrics]]
    rows = [
        [r.version + (" (derived)" if r.derived else "" if r.record else " (no record)") + ("" if r.intact else " (!digest)"),
         _stages(r), r.released, r.released_by, _data(r), _params(r), *[_cell(r.metrics.get(m), against) for m in t.metrics]]
        for r in t.rows
    ]
    return "\n".join([*head, table(headers, rows)])


def _exact(value: Any) -> Any:
    """A delta without the float noise of a subtraction (0.01 - 0.0049 = 0.0049000000000000155)."""
    return f"{value:.12g}" if isinstance(value, float) else value


def _safe(value: Any) -> Any:
    """Text from a record as a CSV cell a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def versions_csv(t: VersionsTable) -> str:
    """One line per version; per metric its value, its delta against the
    previous version and (with --against) against the stage's version."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    extra = [f"{m}{suffix}" for m in t.metrics
             for suffix in ("", "_delta", *((f"_vs_{t.against}",) if t.against else ()))]
    writer.writerow(["version", "commit", "released", "released_by", "stages", "stages_before", "previous",
                     "data", "data_rows", "params_changed", *extra])
    for r in t.rows:
        cells: list[Any] = []
        for m in t.metrics:
            cell = r.metrics.get(m)
            cells += [_safe(cell.value) if cell else "", "" if cell is None or cell.delta is None else _exact(cell.delta)]
            if t.against:
                cells.append("" if cell is None or cell.against_delta is None else _exact(cell.against_delta))
        writer.writerow([
            r.version, r.commit, r.released, _safe(r.released_by), " ".join(r.stages), " ".join(r.stages_before),
            r.previous or "", _safe(" ".join(f"{d.path}:{d.md5 or ''}" for d in r.data)),
            " ".join("" if d.rows is None else str(d.rows) for d in r.data),
            _safe("; ".join(f"{p.key}={formats.number(p.old)}->{formats.number(p.new)}" for p in r.params_changed)), *cells,
        ])
    return buffer.getvalue()


def lineage_text(g: Lineage) -> str:
    """One line per edge, each end as its label and first detail (a hash, a command)."""
    by_id = {n.id: n for n in g.nodes}

    def name(node_id: str) -> str:
        n = by_id[node_id]
        return f"{n.label} ({n.detail[0]})" if n.detail and n.kind in ("data", "file", "training", "stage") else n.label

    versions = ", ".join(v for v in g.versions if v) or "an unreleased record"
    lines = [f"{g.model}: lineage of {versions}"]
    lines += [f"  {name(e.source)} {'-' + e.label + '->' if e.label else '->'} {name(e.target)}" for e in g.edges]
    return "\n".join(lines)
