"""Documents from the Jinja2 templates in mlver/templates: model cards,
review and diff reports in markdown, CI workflows.

The only module that imports jinja2 (imported inside functions: most
commands never render a template). Number formatting for markdown lives
here too, so ``mlver diff --md`` and ``mlver review`` print the same tables.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Mapping

from mlver import formats

from mlver.models import ModelDiff, ReviewResult

MARKER = "<!-- mlver-review -->"  # CI finds and updates its one comment by this line
COLUMNS_SHOWN = 12  # per data input; the rest are summarised in one line


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2
    from importlib import resources

    def load(name: str) -> str | None:
        try:
            return (resources.files("mlver") / "templates" / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        autoescape=lambda name: bool(name) and ".html" in name,  # card.html.j2; markdown and YAML stay raw
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters.update(num=num, pct=pct, size=size, cell=cell, short=short, delta=delta, psi=psi)
    env.globals.update(summary=summary, arrow=arrow, columns_shown=columns_shown, marker=MARKER)
    return env


def render_template(name: str, **context: Any) -> str:
    return _environment().get_template(name).render(**context)


# --- formatting -------------------------------------------------------------------


def num(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float):
        return f"{x:.6g}" if math.isfinite(x) else str(x)
    return str(x)


def delta(x: Any) -> str:
    return "–" if x is None else (f"{x:+.6g}" if isinstance(x, float) else f"{x:+d}" if isinstance(x, int) else str(x))


def psi(x: Any) -> str:
    return "–" if x is None else f"{x:.3f}"


def pct(x: Any) -> str:
    return "–" if x is None else f"{x:+.2f}%"


def size(n: Any) -> str:
    return formats.size(n, missing="–")


def short(sha: Any, n: int = 12) -> str:
    return "–" if not sha else str(sha)[:n]


def cell(text: Any) -> str:
    """Text safe inside a markdown table cell."""
    return num(text).replace("|", "\\|").replace("\n", " ")


def arrow(row: Mapping[str, Any]) -> str:
    mark = {"up": "▲", "down": "▼", "same": "="}.get(row.get("direction") or "", "")
    better = row.get("better")
    return mark + ("" if better is None else " better" if better else " worse")


def columns_shown(profile: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The columns worth a row: largest PSI first, at most COLUMNS_SHOWN."""
    cols = sorted(profile.get("columns") or [], key=lambda c: -(c.get("psi") or 0.0))
    return cols[:COLUMNS_SHOWN], max(0, len(cols) - COLUMNS_SHOWN)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(d: ModelDiff) -> str:
    """One line per model for the top of a report: what a reviewer looks at first."""
    if d.status == "added":
        return "new model (no record on the base side)"
    if d.status == "removed":
        return "model removed (no record on the head side)"
    if d.status == "unchanged":
        return "no changes"
    parts = []
    for m in d.metrics:
        if m["old"] != m["new"]:
            change = f" ({pct(m['pct'])} {arrow(m)})" if m.get("pct") is not None else ""
            parts.append(f"{m['key']} {num(m['old'])} → {num(m['new'])}{change}")
    if d.params:
        parts.append(_count(len(d.params), "param") + " changed")
    for x in d.data:
        if x["status"] == "unchanged":
            continue
        prof, what = x.get("profile"), [f"`{x['path']}` {x['status']}"]
        if prof:
            rows = prof.get("rows") or {}
            if rows.get("delta"):
                what.append(f"{rows['delta']:+d} rows")
            if prof.get("columns_added"):
                what.append(_count(len(prof["columns_added"]), "column") + " added")
            if prof.get("columns_removed"):
                what.append(_count(len(prof["columns_removed"]), "column") + " removed")
            if prof.get("drifted_columns"):
                what.append("**drift** in " + ", ".join(f"`{c}`" for c in prof["drifted_columns"][:3])
                            + (" …" if len(prof["drifted_columns"]) > 3 else ""))
        elif x["status"] == "changed":
            what.append("hash only")
        parts.append(" ".join(what[:1]) + (": " + ", ".join(what[1:]) if what[1:] else ""))
    files = (d.code or {}).get("files")
    if files:
        parts.append(f"code {_count(len(files), 'file')} (+{d.code.get('added', 0)} −{d.code.get('removed', 0)})")
    if (d.artifact or {}).get("changed"):
        parts.append(f"artifact {size(d.artifact.get('old_size'))} → {size(d.artifact.get('new_size'))}")
    if d.env:
        parts.append(_count(len(d.env), "environment change"))
    return "; ".join(parts) or "record re-made, nothing compared changed"


# --- the documents ------------------------------------------------------------------


def diff_markdown(diffs: list[ModelDiff]) -> str:
    return render_template("diff.md.j2", diffs=diffs)


def review_markdown(result: ReviewResult) -> str:
    return render_template("review.md.j2", r=result)


def ci_workflow(forge: str, **context: Any) -> str:
    def expr(text: str) -> str:  # a GitHub Actions expression, which Jinja's own {{ }} would swallow
        return "${{ " + text + " }}"

    return render_template(f"{forge}.yml.j2", expr=expr, **context)
