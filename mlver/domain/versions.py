"""Versions side by side (``mlver ls NAME``): pure, from what the api read.

Each version is compared with the one before it in semver order (params
that changed, metric deltas, data whose hash changed) and, optionally, with
the version holding a stage now. Metric changes reuse ``compare``'s rules,
so "better" means what it means in ``diff`` and ``review``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlver.domain.compare import higher_is_better, is_number, metrics_diff, params_diff
from mlver.domain.registry import ModelState
from mlver.domain.semver import precedence
from mlver.domain.tags import Action
from mlver.errors import UnknownMetric
from mlver.models import DataInput, MetricCell, ParamChange, VersionRow, VersionsTable


@dataclass(frozen=True)
class Released:
    """One released version as the api read it: its tag and its record's document."""

    version: str
    commit: str
    time: str  # UTC ISO time of the version tag
    by: str
    email: str
    doc: Mapping[str, Any] | None  # None: no record, and nothing to derive
    derived: bool = False
    intact: bool = True


def stage_spans(state: ModelState) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Version (or bare commit) -> (stages it holds now, stages it was
    assigned once and holds no more), from the folded registry."""
    now: dict[str, set[str]] = {}
    ever: dict[str, set[str]] = {}
    for stage, holder in state.stages.items():
        now.setdefault(holder, set()).add(stage)
    for event in state.events:
        if event.tag.action is Action.ASSIGN:
            key = state.version_of(event.commit) or event.commit
            ever.setdefault(key, set()).add(event.tag.stage)
    return {key: (tuple(sorted(now.get(key, ()))), tuple(sorted(ever.get(key, set()) - now.get(key, set()))))
            for key in set(now) | set(ever)}


def _metrics(doc: Mapping[str, Any] | None) -> Mapping[str, Any]:
    metrics = (doc or {}).get("metrics")
    return metrics if isinstance(metrics, Mapping) else {}


def _data(doc: Mapping[str, Any] | None, before: Mapping[str, Any] | None) -> tuple[DataInput, ...]:
    old = {d.get("path"): d.get("md5") for d in ((before or {}).get("data") or []) if isinstance(d, Mapping)}
    out = []
    for d in (doc or {}).get("data") or []:
        if not isinstance(d, Mapping):
            continue
        profile = d.get("profile") if isinstance(d.get("profile"), Mapping) else {}
        rows = profile.get("rows") if profile else None
        path = str(d.get("path") or "")
        out.append(DataInput(path=path, md5=d.get("md5"), rows=rows if type(rows) is int else None,
                             changed=before is not None and old.get(path) != d.get("md5")))
    return tuple(out)


def _params(doc: Mapping[str, Any] | None, before: Mapping[str, Any] | None) -> tuple[ParamChange, ...]:
    if before is None or doc is None:
        return ()
    new, old = doc.get("params") or {}, before.get("params") or {}
    if not isinstance(new, Mapping) or not isinstance(old, Mapping):
        return ()
    return params_diff(old, new)


def _cells(metrics: Mapping[str, Any], before: Mapping[str, Any] | None,
           against: Mapping[str, Any] | None) -> dict[str, MetricCell]:
    prev = {r.key: r for r in metrics_diff(before, metrics)} if before is not None else {}
    vs = {r.key: r for r in metrics_diff(against, metrics)} if against is not None else {}
    cells = {}
    for key in sorted(metrics):
        p, a = prev.get(key), vs.get(key)
        cells[key] = MetricCell(value=metrics[key], delta=p.delta if p else None, pct=p.pct if p else None,
                                better=p.better if p else None,
                                against_delta=a.delta if a else None, against_better=a.better if a else None)
    return cells


def _sort_key(metric: str) -> Any:
    lower = higher_is_better(metric) is False

    def key(row: VersionRow) -> tuple[int, float]:
        cell = row.metrics.get(metric)
        if cell is None or not is_number(cell.value):
            return (1, 0.0)  # no such number: last
        return (0, float(cell.value) if lower else -float(cell.value))

    return key


def versions_table(model: str, released: Sequence[Released], state: ModelState | None = None,
                   against: str | None = None, against_version: str | None = None,
                   against_doc: Mapping[str, Any] | None = None, sort_by: str | None = None,
                   repo: str | None = None) -> VersionsTable:
    """The rows of ``mlver ls NAME``: newest version first, or best ``sort_by``
    first (lowest first for a metric whose name says lower is better:
    loss, error, latency...; versions without it last)."""
    ordered = sorted(released, key=lambda r: precedence(r.version))
    spans = stage_spans(state) if state is not None else {}
    against_metrics = _metrics(against_doc) if against else None
    rows = []
    before: Released | None = None
    for item in ordered:
        now, once = spans.get(item.version, ((), ()))
        rows.append(VersionRow(
            version=item.version, commit=item.commit, released=item.time, released_by=item.by, email=item.email,
            stages=now, stages_before=once, previous=before.version if before else None,
            data=_data(item.doc, before.doc if before else None),
            params_changed=_params(item.doc, before.doc if before else None),
            metrics=_cells(_metrics(item.doc), _metrics(before.doc) if before else None, against_metrics),
            record=item.doc is not None, derived=item.derived, intact=item.intact,
        ))
        before = item
    names = tuple(sorted({k for r in rows for k in r.metrics}))
    rows.reverse()
    if sort_by is not None:
        if sort_by not in names:
            raise UnknownMetric(model, sort_by, names)
        rows.sort(key=_sort_key(sort_by))  # stable: newest first among equals
    stages = dict(sorted(state.stages.items())) if state is not None else {}
    return VersionsTable(model=model, metrics=names, rows=tuple(rows), against=against,
                         against_version=against_version, sort_by=sort_by, repo=repo, stages=stages)
