"""The lineage graph (``mlver lineage``): pure, from records and dvc.lock stages.

Data versions (and, for a pipeline, every dvc.lock dependency upstream)
flow through the training (its commit, command and params) into a model
version and the registry stages it holds or held. Nodes that are the same
thing (one data version used by several trainings, one stage's unchanged
outputs) are drawn once.

Every label comes from a record or a dvc.lock somebody pushed: the text
forms here escape them for their language (mermaid entity codes, DOT
quoted strings); the site's HTML escapes them with Jinja's autoescape.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlver import formats
from mlver.models import Lineage, LineageEdge, LineageNode

LABEL_MAX = 80  # characters of one label line; a record's value can be any length
PARAMS_SHOWN = 6
METRICS_SHOWN = 4


@dataclass(frozen=True)
class Trained:
    """One record to draw: the version it was released as, and what the api read for it."""

    version: str  # "" for a record that was never released
    commit: str | None
    doc: Mapping[str, Any]
    stages_now: tuple[str, ...] = ()
    stages_before: tuple[str, ...] = ()
    pipeline: Sequence[Mapping[str, Any]] = field(default_factory=tuple)  # dvc.lock stages, the model's first


def as_map(value: Any) -> Mapping[str, Any]:
    """A record's field that should be a mapping, or an empty one (records are untrusted)."""
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    text = str(value)
    if not text.isprintable():  # rare: most labels need no pass over their characters
        text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= LABEL_MAX else text[:LABEL_MAX - 1] + "…"


def _value(value: Any) -> str:
    return formats.number(value)


def _short(sha: Any, n: int = 8) -> str:
    return str(sha)[:n] if sha else "-"


class _Graph:
    def __init__(self) -> None:
        self.nodes: dict[tuple[Any, ...], LineageNode] = {}
        self.edges: dict[tuple[str, str, str], LineageEdge] = {}
        self.counts: dict[str, int] = {}

    def node(self, kind: str, key: tuple[Any, ...], label: str, detail: Sequence[str] = ()) -> str:
        """The node of (kind, key): one per thing however many records name it."""
        found = self.nodes.get((kind, *key))
        if found is None:
            prefix = {"data": "d", "file": "f", "stage": "s", "training": "t", "version": "v", "registry": "g"}[kind]
            self.counts[prefix] = self.counts.get(prefix, 0) + 1
            found = self.nodes[(kind, *key)] = LineageNode(f"{prefix}{self.counts[prefix]}", kind, _text(label),
                                                  tuple(_text(d) for d in detail))
        return found.id

    def edge(self, source: str, target: str, label: str = "") -> None:
        self.edges.setdefault((source, target, label), LineageEdge(source, target, _text(label)))


def _data_node(g: _Graph, entry: Mapping[str, Any]) -> str:
    profile = entry.get("profile") if isinstance(entry.get("profile"), Mapping) else None
    rows = profile.get("rows") if profile else None
    detail = [f"md5 {_short(entry.get('md5'), 12)}"] + ([f"{rows} rows"] if isinstance(rows, int) else [])
    return g.node("data", (entry.get("path"), entry.get("md5")), str(entry.get("path") or "?"), detail)


def _command(cmd: Any) -> str:
    if isinstance(cmd, list):
        return " && ".join(str(c) for c in cmd)
    return str(cmd) if cmd else ""


def _training(g: _Graph, item: Trained, model_stage: Mapping[str, Any] | None) -> str:
    code, params = as_map(item.doc.get("code")), as_map(item.doc.get("params"))
    shown = [f"{k}={_value(v)}" for k, v in sorted(params.items())[:PARAMS_SHOWN]]
    if len(params) > PARAMS_SHOWN:
        shown.append(f"+{len(params) - PARAMS_SHOWN} more params")
    command = _command(code.get("command") or (model_stage or {}).get("cmd"))
    what = f"stage {model_stage.get('name')}" if model_stage else "training"
    label = f"{what} at {_short(code.get('commit'), 12)}"
    return g.node("training", (item.commit, item.doc.get("digest")), label,
                  ([command] if command else []) + shown)


def _pipeline(g: _Graph, item: Trained, training: str) -> set[str]:
    """Stages upstream of the model's (the first), their deps and the edges
    between them; returns the record's data paths the pipeline reached."""
    data = {d.get("path"): d for d in item.doc.get("data") or [] if isinstance(d, Mapping)}
    stages = list(item.pipeline)
    producer = {o.get("path"): s.get("name") for s in stages for o in s.get("outs") or []}
    ids: dict[Any, str] = {}
    for i, stage in enumerate(stages):
        if i == 0:
            ids[stage.get("name")] = training
        else:
            outs = tuple(sorted((str(o.get("path")), str(o.get("md5"))) for o in stage.get("outs") or []))
            ids[stage.get("name")] = g.node("stage", (stage.get("name"), outs), f"stage {stage.get('name')}",
                                            [_command(stage.get("cmd"))] if stage.get("cmd") else [])
    reached = set()
    for stage in stages:
        target = ids[stage.get("name")]
        for dep in stage.get("deps") or []:
            path = dep.get("path")
            if path in producer and producer[path] in ids and producer[path] != stage.get("name"):
                g.edge(ids[producer[path]], target, str(path))
            elif path in data:
                reached.add(path)
                g.edge(_data_node(g, data[path]), target)
            else:
                g.edge(g.node("file", (path, dep.get("md5")), str(path), [f"md5 {_short(dep.get('md5'), 12)}"]), target)
    return reached


def lineage_graph(ref: str, model: str, items: Sequence[Trained]) -> Lineage:
    """One graph for ``items`` (newest first): shared data and stages drawn once."""
    g = _Graph()
    for item in items:
        model_stage = item.pipeline[0] if item.pipeline else None
        training = _training(g, item, model_stage)
        reached = _pipeline(g, item, training)
        for entry in item.doc.get("data") or []:
            if isinstance(entry, Mapping) and entry.get("path") not in reached:
                g.edge(_data_node(g, entry), training)
        metrics = as_map(item.doc.get("metrics"))
        shown = [f"{k}={_value(v)}" for k, v in sorted(metrics.items())[:METRICS_SHOWN]]
        label = f"{model} {item.version}" if item.version else f"{model} record at {_short(item.commit, 12)}"
        version = g.node("version", (item.version or item.commit,), label, shown)
        g.edge(training, version)
        for stage in item.stages_now:
            g.edge(version, g.node("registry", (stage,), stage), "holds")
        for stage in item.stages_before:
            g.edge(version, g.node("registry", (stage,), stage), "held")
    return Lineage(ref=ref, model=model, versions=tuple(i.version for i in items),
                   nodes=tuple(g.nodes.values()), edges=tuple(g.edges.values()))


# --- text forms ---------------------------------------------------------------------

# Mermaid reads its own entity codes (#35; is "#") in labels; everything but
# these characters becomes one, so no quote, bracket, pipe, backtick (a
# markdown fence) or HTML tag from a record reaches the diagram's syntax.
_MERMAID_PLAIN = re.compile(r"[A-Za-z0-9 .,_:/=+\-]")
_MERMAID_SHAPES = {"data": ('[("', '")]'), "file": ('["', '"]'), "stage": ('[["', '"]]'), "training": ('("', '")'),
                   "version": ('{{"', '"}}'), "registry": ('(["', '"])')}


_MERMAID_STYLES = {"data": "fill:#e8f0fe,stroke:#4a6fa5", "file": "fill:#f5f5f5,stroke:#999999",
                   "stage": "fill:#fff4e0,stroke:#b07a1e", "training": "fill:#fff4e0,stroke:#b07a1e",
                   "version": "fill:#e6f4ea,stroke:#2e7d32", "registry": "fill:#fce8e6,stroke:#c5221f"}


def mermaid_text(text: str) -> str:
    return "".join(ch if _MERMAID_PLAIN.fullmatch(ch) else f"#{ord(ch)};" for ch in text)


def to_mermaid(graph: Lineage) -> str:
    lines = ["flowchart LR"]
    for n in graph.nodes:
        start, end = _MERMAID_SHAPES[n.kind]
        lines.append(f"  {n.id}{start}{'<br/>'.join(mermaid_text(x) for x in (n.label, *n.detail))}{end}")
    for e in graph.edges:
        arrow = "-.->" if e.label == "held" else "-->"
        label = f'|"{mermaid_text(e.label)}"|' if e.label else ""
        lines.append(f"  {e.source} {arrow}{label} {e.target}")
    for kind in _MERMAID_SHAPES:
        ids = [n.id for n in graph.nodes if n.kind == kind]
        if ids:
            lines.append(f"  classDef {kind} {_MERMAID_STYLES[kind]}")
            lines.append(f"  class {','.join(ids)} {kind}")
    return "\n".join(lines) + "\n"


def dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


_DOT_SHAPES = {"data": "cylinder", "file": "note", "stage": "box", "training": "box", "version": "hexagon",
               "registry": "ellipse"}


def to_dot(graph: Lineage) -> str:
    lines = ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    for n in graph.nodes:
        label = "\\n".join(dot_text(x) for x in (n.label, *n.detail))
        style = ', style="rounded"' if n.kind == "training" else ""
        lines.append(f'  {n.id} [label="{label}", shape={_DOT_SHAPES[n.kind]}{style}];')
    for e in graph.edges:
        attrs = [f'label="{dot_text(e.label)}"'] if e.label else []
        if e.label == "held":
            attrs.append("style=dashed")
        lines.append(f"  {e.source} -> {e.target}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"
