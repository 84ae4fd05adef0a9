"""A DVC pipeline as a graph, from dvc.yaml's content: which stages a target
needs, which stage writes a path, and which inputs no stage produces (the
data a fresh checkout must be given). Pure: no I/O, no dvc import.

Paths are repo-relative POSIX paths, each stage's ``wdir`` applied; they are
not validated here (a caller turning one into a file name checks it).
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class Stage:
    name: str
    deps: tuple[str, ...]
    outs: tuple[str, ...]  # outs, metrics and plots: every path the stage writes
    wdir: str = "."  # what the stage's dvc.lock paths are relative to


def _paths(entries: Any, wdir: str) -> tuple[str, ...]:
    """A dvc.yaml path list: plain strings, or ``{path: {options}}`` mappings."""
    found = []
    for entry in entries if isinstance(entries, list) else ():
        names = [entry] if isinstance(entry, str) else list(entry) if isinstance(entry, dict) else []
        found += [posixpath.normpath(posixpath.join(wdir, str(n))) for n in names]
    return tuple(found)


def stages_of(doc: Any) -> dict[str, Stage]:
    """The stages of a parsed dvc.yaml (``foreach``/``matrix`` templates are not expanded)."""
    raw = doc.get("stages") if isinstance(doc, dict) else None
    stages = {}
    for name, body in (raw or {}).items() if isinstance(raw, dict) else ():
        if not isinstance(body, dict):
            continue
        wdir = str(body.get("wdir") or ".")
        outs = sum((_paths(body.get(key), wdir) for key in ("outs", "metrics", "plots")), ())
        stages[str(name)] = Stage(str(name), _paths(body.get("deps"), wdir), outs, wdir)
    return stages


def overlaps(a: str, b: str) -> bool:
    """One path is the other or inside it (a file in an output folder)."""
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/") or "." in (a, b)


def producer(stages: dict[str, Stage], path: str) -> str | None:
    """The stage that writes ``path`` (or the folder holding it)."""
    for stage in stages.values():
        if any(overlaps(path, out) for out in stage.outs):
            return stage.name
    return None


def upstream(stages: dict[str, Stage], targets: Iterable[str]) -> list[str]:
    """``targets`` and every stage they depend on, each after its dependencies."""
    order: list[str] = []
    seen: set[str] = set()
    # Depth-first without recursion: a dvc.yaml may come from anyone, and be deep.
    stack: list[tuple[str, bool]] = [(t, False) for t in reversed(list(targets))]
    while stack:
        name, expanded = stack.pop()
        if expanded:
            order.append(name)
            continue
        if name in seen:
            continue
        seen.add(name)  # a cycle (DVC refuses those) cannot loop forever
        stack.append((name, True))
        for dep in reversed(stages[name].deps):
            parent = producer(stages, dep)
            if parent is not None and parent not in seen:
                stack.append((parent, False))
    return order


def inputs(stages: dict[str, Stage], names: Iterable[str]) -> list[str]:
    """The deps of ``names`` that no stage of the pipeline produces."""
    found = {dep for name in names for dep in stages[name].deps if producer(stages, dep) is None}
    return sorted(found)
