"""SVG pictures mlver draws itself, for the registry site and the review:
metric history charts and the lineage graph.

Plain SVG text, no library and no script: a picture opens anywhere, offline,
and costs microseconds, so a site of 10,000 versions can draw all of them.
Every piece of text comes from records (a metric name, a version, a path)
and is XML-escaped here; ids inside a picture are mlver's own.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import NamedTuple

from mlver.models import Lineage

_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"'


def _x(text: object) -> str:
    return escape(str(text))  # quotes too: html.escape's default


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def metric_history(title: str, labels: Sequence[str], values: Sequence[float | None],
                   marks: Mapping[int, str] | None = None, width: int = 640, height: int = 240) -> str:
    """A line chart of one metric over versions (oldest first); ``marks``:
    index -> a stage name drawn at that point (who holds prod now)."""
    left, right, top, bottom = 56, 44, 28, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    points = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="t"><title id="t">{_x(title)}</title>',
             f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
             f'<text x="{left}" y="18" font-size="13" {_FONT} fill="#222">{_x(title)}</text>']
    if not points:
        parts.append(f'<text x="{left}" y="{top + plot_h // 2}" font-size="12" {_FONT} fill="#666">no numbers recorded</text>')
        return "".join(parts) + "</svg>\n"
    low, high = min(v for _, v in points), max(v for _, v in points)
    if high == low:
        low, high = low - (abs(low) * 0.05 or 1.0), high + (abs(high) * 0.05 or 1.0)
    frame = _frame(left, top, plot_w, plot_h, low, high, len(values))
    return "".join(parts + _axes(frame, labels) + _line(frame, points, labels, marks or {})) + "</svg>\n"


class _Frame(NamedTuple):
    """A metric chart's plot area, and where a version (px) and a value (py) land on it."""

    left: int
    top: int
    w: int
    h: int
    low: float
    high: float
    px: Callable[[int], float]
    py: Callable[[float], float]


def _frame(left: int, top: int, w: int, h: int, low: float, high: float, count: int) -> _Frame:
    n = max(count - 1, 1)

    def px(i: int) -> float:  # closures, not methods: a site draws thousands of points
        return left + (w * i / n if count > 1 else w / 2)

    def py(v: float) -> float:
        return top + h * (1 - (v - low) / (high - low))

    return _Frame(left, top, w, h, low, high, px, py)


def _axes(f: _Frame, labels: Sequence[str]) -> list[str]:
    """The two axes, three value lines with their numbers, and at most ~8 version labels."""
    left, top, bottom, px, py = f.left, f.top, f.top + f.h, f.px, f.py
    parts = [f'<line x1="{left}" y1="{bottom}" x2="{left + f.w}" y2="{bottom}" stroke="#999"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#999"/>']
    for v in (f.low, (f.low + f.high) / 2, f.high):
        y = py(v)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + f.w}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end" {_FONT} fill="#555">{_fmt(v)}</text>')
    step = max(1, math.ceil(len(labels) / 8))
    for i, label in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            parts.append(f'<text x="{px(i):.1f}" y="{bottom + 16}" font-size="10" text-anchor="middle" '
                         f'{_FONT} fill="#555">{_x(label)}</text>')
    return parts


def _line(f: _Frame, points: list[tuple[int, float]], labels: Sequence[str], marks: Mapping[int, str]) -> list[str]:
    """The metric's line, a dot per version, and the stages marked."""
    px, py = f.px, f.py
    path = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in points)
    parts = [f'<polyline points="{path}" fill="none" stroke="#1a73e8" stroke-width="2"/>']
    dots = len(points) <= 200  # past that, dots are a smear: the line says it
    for i, v in points:
        stage = marks.get(i)
        if dots or stage:
            color = "#c5221f" if stage else "#1a73e8"
            parts.append(f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="{4 if stage else 3}" fill="{color}">'
                         f'<title>{_x(labels[i] if i < len(labels) else i)}: {_fmt(v)}{" (" + _x(stage) + ")" if stage else ""}'
                         f'</title></circle>')
        if stage:
            parts.append(f'<text x="{px(i):.1f}" y="{py(v) - 8:.1f}" font-size="10" text-anchor="middle" '
                         f'{_FONT} fill="#c5221f">{_x(stage)}</text>')
    return parts


# --- the lineage graph ----------------------------------------------------------------

_BOX_W, _BOX_H, _GAP_X, _GAP_Y = 200, 58, 60, 18
_CHARS = 30  # per line in a box; the whole text is in the node's <title>
_FILL = {"data": ("#e8f0fe", "#4a6fa5"), "file": ("#f5f5f5", "#999999"), "stage": ("#fff4e0", "#b07a1e"),
         "training": ("#fff4e0", "#b07a1e"), "version": ("#e6f4ea", "#2e7d32"), "registry": ("#fce8e6", "#c5221f")}


def _layers(graph: Lineage) -> dict[str, int]:
    """Each node's column: the longest path to it from a node nothing points at
    (Kahn's order; a node on a cycle, which mlver's graphs never have, stays in column 0)."""
    outgoing: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    waiting = {n.id: 0 for n in graph.nodes}
    for e in graph.edges:
        outgoing[e.source].append(e.target)
        waiting[e.target] += 1
    layer = {n: 0 for n in waiting}
    ready = [n for n, count in waiting.items() if count == 0]
    while ready:
        node = ready.pop()
        for target in outgoing[node]:
            layer[target] = max(layer[target], layer[node] + 1)
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    return layer


def _clip(text: str) -> str:
    return text if len(text) <= _CHARS else text[:_CHARS - 1] + "…"


def lineage_svg(graph: Lineage, title: str) -> str:
    """The lineage graph laid out in columns (data, stages, training, version, stages held)."""
    layer = _layers(graph)
    columns: dict[int, list[str]] = {}
    for n in graph.nodes:
        columns.setdefault(layer[n.id], []).append(n.id)
    where: dict[str, tuple[float, float]] = {}
    for col, ids in columns.items():
        for row, node in enumerate(ids):
            where[node] = (16 + col * (_BOX_W + _GAP_X), 16 + row * (_BOX_H + _GAP_Y))
    width = 32 + (max(columns, default=0) + 1) * (_BOX_W + _GAP_X) - _GAP_X
    height = 32 + max((len(ids) for ids in columns.values()), default=1) * (_BOX_H + _GAP_Y) - _GAP_Y
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-labelledby="lt"><title id="lt">{_x(title)}</title>',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#777"/></marker></defs>']
    for e in graph.edges:
        (x1, y1), (x2, y2) = where[e.source], where[e.target]
        sx, sy, tx, ty = x1 + _BOX_W, y1 + _BOX_H / 2, x2, y2 + _BOX_H / 2
        mid = (sx + tx) / 2
        dash = ' stroke-dasharray="5,4"' if e.label == "held" else ""
        parts.append(f'<path d="M{sx:.0f},{sy:.0f} C{mid:.0f},{sy:.0f} {mid:.0f},{ty:.0f} {tx:.0f},{ty:.0f}" fill="none" '
                     f'stroke="#777" stroke-width="1.3"{dash} marker-end="url(#arrow)"/>')
        if e.label:
            parts.append(f'<text x="{mid:.0f}" y="{(sy + ty) / 2 - 4:.0f}" font-size="9" text-anchor="middle" {_FONT} '
                         f'fill="#555">{_x(_clip(e.label))}</text>')
    for n in graph.nodes:
        x, y = where[n.id]
        fill, stroke = _FILL.get(n.kind, ("#ffffff", "#999999"))
        radius = 14 if n.kind in ("training", "registry") else 4
        lines = [n.label, *n.detail][:3]
        parts.append(f'<g><title>{_x(" | ".join((n.label, *n.detail)))}</title>'
                     f'<rect x="{x:.0f}" y="{y:.0f}" width="{_BOX_W}" height="{_BOX_H}" rx="{radius}" fill="{fill}" stroke="{stroke}"/>')
        for i, line in enumerate(lines):
            weight = ' font-weight="600"' if i == 0 else ""
            parts.append(f'<text x="{x + 8:.0f}" y="{y + 17 + i * 15:.0f}" font-size="{11 if i == 0 else 10}"{weight} '
                         f'{_FONT} fill="#222">{_x(_clip(line))}</text>')
        parts.append("</g>")
    return "".join(parts) + "</svg>\n"
