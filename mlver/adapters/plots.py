"""PNG charts for review reports: the only module that imports matplotlib.

Figures are built with ``matplotlib.figure.Figure`` directly, not pyplot:
no global state, no GUI backend chosen from the environment, nothing left
open between charts. Everything is drawn from what records hold (metrics,
profile histograms and top values): no data is read.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlver.errors import WriteFailed

_BASE, _HEAD = "#7f7f7f", "#1f77b4"  # grey for base, blue for head, in every chart
_MAX_METRICS = 6  # panels per history chart


@contextmanager
def _own_style() -> Iterator[None]:
    """matplotlib's own defaults while a chart is drawn, its labels plain text.
    matplotlib reads a matplotlibrc in the current folder (for a review in CI, the
    pull request's checkout): `text.usetex: True` there had it run latex on labels
    the records hold (TeX's \\input puts any readable file into the chart), or fail
    the review where there is no latex; and a name with `$...$` was parsed as math."""
    import matplotlib

    with matplotlib.rc_context():  # (everything set in it is undone at its end)
        matplotlib.rcdefaults()
        matplotlib.rcParams["text.parse_math"] = False
        yield


def _margins(fig: Any, bottom_in: float, top_in: float = 0.45) -> None:
    # Fixed margins in inches instead of a layout engine: "constrained"
    # layout costs ~40% of a chart's time, and these charts have one shape.
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.11, right=0.97, bottom=bottom_in / height, top=1 - top_in / height, hspace=0.15)


def _save(fig: Any, path: Path) -> None:
    """Write through a temporary file so a failed render leaves no half PNG."""
    from mlver.adapters.atomic import replacing

    try:
        with replacing(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
    except OSError as exc:
        raise WriteFailed(str(path), str(exc.strerror or exc), "check that the --plots folder is writable") from exc


@_own_style()
def metric_history(path: Path, title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]],
                   base: int | None, head: int | None) -> None:
    """One panel per metric: its value at every recorded training (oldest
    first, labelled by version or commit), base and head marked."""
    from matplotlib.figure import Figure

    names = list(series)[:_MAX_METRICS]
    fig = Figure(figsize=(7, 1.2 + 2.0 * len(names)))
    _margins(fig, bottom_in=0.9)
    axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
    xs = list(range(len(labels)))
    for ax, name in zip(axes, names, strict=False):
        values = series[name]
        pts = [(x, v) for x, v in zip(xs, values, strict=False) if v is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color="#444444", linewidth=1, markersize=3)
        for idx, color, label in ((base, _BASE, "base"), (head, _HEAD, "head")):
            if idx is not None and values[idx] is not None:
                ax.scatter([idx], [values[idx]], s=80, color=color, zorder=3, label=f"{label} {values[idx]:.4g}")
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", fontsize="small")
    axes[-1].set_xticks(xs)
    axes[-1].set_xticklabels(labels, rotation=45, ha="right", fontsize="small")
    for ax in axes[:-1]:
        ax.set_xticks(xs)
        ax.set_xticklabels([])
    fig.suptitle(title)
    _save(fig, path)


def _proportions(counts: Sequence[float]) -> list[float]:
    total = float(sum(counts))
    return [c / total if total else 0.0 for c in counts]


@_own_style()
def distribution(path: Path, title: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """A column's distribution in base and head, from their profiles: the
    histograms as step lines (share of rows per bin), or the top values'
    shares side by side."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.6))
    ax = fig.subplots()
    hist_old, hist_new = old.get("histogram"), new.get("histogram")
    if old.get("top") is not None and new.get("top") is not None:
        names = list(dict.fromkeys([k for k, _ in old["top"]] + [k for k, _ in new["top"]]))[:12]
        shares = []
        for side in (old, new):
            total = sum(c for _, c in side["top"]) + side.get("other", 0)
            found = dict(side["top"])
            shares.append([found.get(k, 0) / total if total else 0.0 for k in names])
        xs = list(range(len(names)))
        ax.bar([x - 0.2 for x in xs], shares[0], width=0.4, color=_BASE, label="base")
        ax.bar([x + 0.2 for x in xs], shares[1], width=0.4, color=_HEAD, label="head")
        ax.set_xticks(xs)
        ax.set_xticklabels([str(n)[:16] for n in names], rotation=45, ha="right", fontsize="small")
        ax.set_ylabel("share of rows")
    elif hist_old or hist_new:
        for hist, color, label in ((hist_old, _BASE, "base"), (hist_new, _HEAD, "head")):
            if not hist:
                continue
            edges, counts = hist["edges"], hist["counts"]
            if edges[0] == edges[-1]:  # a constant column: one value
                ax.bar([edges[0]], [1.0], width=0.02 * (abs(edges[0]) or 1.0), color=color, alpha=0.6, label=f"{label} (constant)")
            else:
                ax.stairs(_proportions(counts), edges, color=color, linewidth=2, label=label)
        ax.set_ylabel("share of rows per bin")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    ax.set_title(title, fontsize="medium")
    _margins(fig, bottom_in=0.9 if old.get("top") is not None else 0.5, top_in=0.35)
    _save(fig, path)
