"""Documents from the Jinja2 templates in mlver/templates: model cards,
review and diff reports in markdown, CI workflows.

The only module that imports jinja2 (imported inside functions: most
commands never render a template). Number formatting for markdown lives
here too, so ``mlver diff --md`` and ``mlver review`` print the same tables.

Every value a markdown template prints is escaped on the way out (the
environment's ``finalize``, so no template can forget it): a column name,
data path, note or param of a pull request cannot add a gate line, raw
HTML, an image or a table cell to the report. Markup the templates build
themselves is marked safe (``code``, macros, ``summary``).
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from mlver import formats
from mlver.models import ModelDiff, ReviewResult, VersionsTable
from mlver.models.diff import MetricChange

MARKER = "<!-- mlver-review -->"  # CI finds and updates its one comment by this line
COLUMNS_SHOWN = 12  # per data input; the rest are summarised in one line
# What markdown (GitHub's and GitLab's) reads as markup inside a line:
# emphasis, code, links and images, raw HTML and entities, table cells,
# strikethrough; and an @mention, which notifies whoever it names.
_MARKDOWN = re.compile(r"[\\`*_\[\]<|~&]|(?<!\w)@")


def _safe(text: str) -> Any:
    from markupsafe import Markup

    return Markup(text)


def md(value: Any) -> Any:
    """Any value as literal text on one markdown line."""
    if hasattr(value, "__html__"):
        return value  # markup a template or macro built, its values escaped already
    text = formats.printable(formats.redact(str(value))).replace("\r", " ").replace("\n", " ")
    return _safe(_MARKDOWN.sub(lambda m: "\\" + m.group(), text))


def code(value: Any) -> Any:
    """A value as an inline code span (where backslash escapes do not work):
    a fence longer than any run of backticks in it, pipes escaped for tables."""
    text = formats.printable(formats.redact(num(value))).replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    fence = "`" * (max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return _safe(f"{fence}{pad}{text}{pad}{fence}")


def prose(value: Any) -> Any:
    """The project's own markdown (a model's description, intended use) as
    markdown, but with raw HTML shown as text."""
    text = formats.printable(str(value))
    return _safe(text.replace("&", "&amp;").replace("<", "&lt;"))


def mermaid(graph: Any) -> Any:
    """A lineage graph as a fenced mermaid block; its labels are escaped by
    mlver.domain.lineage (entity codes), so it is markup, not text to escape."""
    from mlver.domain.lineage import to_mermaid

    return _safe("```mermaid\n" + to_mermaid(graph) + "```")


def link(url: Any) -> Any:
    """A URL as a link destination: nothing in it can close the link."""
    from urllib.parse import quote

    return _safe(quote(str(url), safe=":/?&=#%+-._~"))


@lru_cache(maxsize=1)
def _environment() -> Any:
    from importlib import resources

    import jinja2

    def load(name: str) -> str | None:
        try:
            return (resources.files("mlver") / "templates" / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def environment(**kw: Any) -> Any:
        env = jinja2.Environment(loader=jinja2.FunctionLoader(load), trim_blocks=True, lstrip_blocks=True,
                                 keep_trailing_newline=True, **kw)
        env.filters.update(num=num, pct=pct, size=size, cell=cell, short=short, delta=delta, psi=psi,
                           code=code, prose=prose, link=link, mermaid=mermaid)
        env.globals.update(summary=summary, arrow=arrow, columns_shown=columns_shown, marker=_safe(MARKER))
        return env

    # Markdown: every printed value through md(); autoescape only so that
    # macros hand back markup that md() lets through. HTML: Jinja's own
    # escaping. CI workflows (YAML) are rendered from trusted values only.
    return {"md": environment(autoescape=True, finalize=md), "html": environment(autoescape=True),
            "raw": environment(autoescape=False)}


def render_template(name: str, **context: Any) -> str:
    kind = "md" if ".md" in name else "html" if ".html" in name else "raw"
    return str(_environment()[kind].get_template(name).render(**context))


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


def cell(text: Any) -> Any:
    """A value as markdown text (what every printed value gets anyway), numbers formatted."""
    return md(text if hasattr(text, "__html__") else num(text))


def arrow(row: MetricChange) -> str:
    mark = {"up": "▲", "down": "▼", "same": "="}.get(row.direction or "", "")
    better = row.better
    return mark + ("" if better is None else " better" if better else " worse")


def columns_shown(profile: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The columns worth a row: largest PSI first, at most COLUMNS_SHOWN."""
    cols = sorted(profile.get("columns") or [], key=lambda c: -(c.get("psi") or 0.0))
    return cols[:COLUMNS_SHOWN], max(0, len(cols) - COLUMNS_SHOWN)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(d: ModelDiff, markdown: bool = True) -> Any:
    """One line per model for the top of a report: what a reviewer looks at
    first; markdown (its values escaped), or plain text for a terminal."""
    lit, span, bold = (md, code, "**drift**") if markdown else (str, str, "drift")
    if d.status == "added":
        return "new model (no record on the base side)"
    if d.status == "removed":
        return "model removed (no record on the head side)"
    if d.status == "unchanged":
        return "no changes"
    parts = []
    for m in d.metrics:
        if m.changed:
            change = f" ({pct(m.pct)} {arrow(m)})" if m.pct is not None else ""
            parts.append(f"{lit(m.key)} {lit(num(m.old))} → {lit(num(m.new))}{change}")
    if d.params:
        parts.append(_count(len(d.params), "param") + " changed")
    for x in d.data:
        if x.status == "unchanged":
            continue
        prof, what = x.profile, [f"{span(x.path)} {x.status}"]
        if prof:
            rows = prof.get("rows") or {}
            if rows.get("delta"):
                what.append(f"{rows['delta']:+d} rows")
            if prof.get("columns_added"):
                what.append(_count(len(prof["columns_added"]), "column") + " added")
            if prof.get("columns_removed"):
                what.append(_count(len(prof["columns_removed"]), "column") + " removed")
            if prof.get("drifted_columns"):
                what.append(f"{bold} in " + ", ".join(str(span(c)) for c in prof["drifted_columns"][:3])
                            + (" …" if len(prof["drifted_columns"]) > 3 else ""))
        elif x.status == "changed":
            what.append("hash only")
        parts.append(" ".join(what[:1]) + (": " + ", ".join(what[1:]) if what[1:] else ""))
    if d.code is not None and d.code.files:
        parts.append(f"code {_count(len(d.code.files), 'file')} (+{d.code.added or 0} −{d.code.removed or 0})")
    if d.artifact is not None and d.artifact.changed:
        parts.append(f"artifact {size(d.artifact.old_size)} → {size(d.artifact.new_size)}")
    if d.env:
        parts.append(_count(len(d.env), "environment change"))
    text = "; ".join(str(p) for p in parts) or "record re-made, nothing compared changed"
    return _safe(text) if markdown else text


# --- the documents ------------------------------------------------------------------


def diff_markdown(diffs: list[ModelDiff]) -> str:
    return render_template("diff.md.j2", diffs=diffs)


def versions_markdown(table: VersionsTable) -> str:
    return render_template("versions.md.j2", t=table)


def review_markdown(result: ReviewResult) -> str:
    return render_template("review.md.j2", r=result)


def ci_workflow(forge: str, **context: Any) -> str:
    def expr(text: str) -> str:  # a GitHub Actions expression, which Jinja's own {{ }} would swallow
        return "${{ " + text + " }}"

    return render_template(f"{forge}.yml.j2", expr=expr, **context)
