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

import re
from functools import lru_cache
from typing import Any

from mlver import formats
from mlver.diffview import delta_text, pct_text, psi_text, text
from mlver.models import ModelDiff, ReviewResult, VersionsTable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from mlver.diffview import DiffView, Line

MARKER = "<!-- mlver-review -->"  # CI finds and updates its one comment by this line
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
        from mlver.diffview import code_view, view

        env.globals.update(summary=summary, verdict=verdict, view=view, code_view=code_view, marker=_safe(MARKER))
        return env

    # Markdown: every printed value through md(); autoescape only so that
    # macros hand back markup that md() lets through. HTML: Jinja's own
    # escaping. CI workflows (YAML) are rendered from trusted values only.
    html = environment(autoescape=True)
    # The diff macro's module made once, not imported again by each of a site's 10,000 version pages.
    html.globals["diff_section"] = lambda v: html.get_template("_diff.html.j2").module.model_diff(v)
    return {"md": environment(autoescape=True, finalize=md), "html": html, "raw": environment(autoescape=False)}


def render_template(name: str, **context: Any) -> str:
    kind = "md" if ".md" in name else "html" if ".html" in name else "raw"
    return str(_environment()[kind].get_template(name).render(**context))


# --- formatting -------------------------------------------------------------------


# One text per value for every format: mlver/diffview.py's; markdown and HTML write "–" for none.
def num(x: Any) -> str:
    return _dash(text(x))


def delta(x: Any) -> str:
    return _dash(delta_text(x))


def psi(x: Any) -> str:
    return _dash(psi_text(x))


def pct(x: Any) -> str:
    return _dash(pct_text(x))


def _dash(value: str | None) -> str:
    return "–" if value is None else value


def size(n: Any) -> str:
    return formats.size(n, missing="–")


def short(sha: Any, n: int = 12) -> str:
    return "–" if not sha else str(sha)[:n]


def cell(text: Any) -> Any:
    """A value as markdown text (what every printed value gets anyway), numbers formatted."""
    return md(text if hasattr(text, "__html__") else num(text))


_TREND = {"up": "▲", "down": "▼", "same": "="}


def verdict(line: Line) -> str:
    """A metric line's trend and, where the name tells, its verdict (mlver/diffview.py decides both)."""
    mark = _TREND.get(line.trend or "", "")
    return mark + (f" {line.verdict}" if line.verdict in ("better", "worse") else "")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(v: DiffView, markdown: bool = True) -> Any:
    """One line per model for the top of a report, from its diffview: what a
    reviewer looks at first; markdown (its values escaped), or plain text for a terminal."""
    lit, span, bold = (md, code, "**drift**") if markdown else (str, str, "drift")
    if v.status == "added":
        return "new model (no record on the base side)"
    if v.status == "removed":
        return "model removed (no record on the head side)"
    if v.status == "unchanged":
        return "no changes"
    parts = []
    for m in v.moved:
        change = f" ({m.pct} {verdict(m)})" if m.pct is not None else ""
        parts.append(f"{lit(m.label)} {lit(num(m.old))} → {lit(num(m.new))}{change}")
    if v.params:
        parts.append(_count(len(v.params), "param") + " changed")
    for x in v.data:
        what = [f"{span(x.path)} {x.status}"]
        if x.rows and x.rows_changed:
            what.append(f"{x.rows.delta} rows")
        if x.columns_added:
            what.append(_count(len(x.columns_added), "column") + " added")
        if x.columns_removed:
            what.append(_count(len(x.columns_removed), "column") + " removed")
        if x.drifted:
            what.append(f"{bold} in " + ", ".join(str(span(c)) for c in x.drifted[:3]) + (" …" if len(x.drifted) > 3 else ""))
        if x.hash_only:
            what.append("hash only")
        parts.append(" ".join(what[:1]) + (": " + ", ".join(what[1:]) if what[1:] else ""))
    if v.code and v.code.files:
        parts.append(f"code {_count(len(v.code.files), 'file')} (+{v.code.added} −{v.code.removed})")
    if v.artifact:
        parts.append(f"artifact {num(v.artifact.size.old)} → {num(v.artifact.size.new)}")
    if v.env:
        parts.append(_count(len(v.env), "environment change"))
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
