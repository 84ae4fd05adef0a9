"""``lineage REF``: data -> training -> version -> stages, from the records
(and, for a pipeline model, dvc.lock at the record's commit)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlver.api._common import load_registry, resolve_record
from mlver.api.derived import pipelines_at
from mlver.api.views import released
from mlver.domain.lineage import Trained, as_map, lineage_graph
from mlver.domain.refs import parse_ref
from mlver.domain.registry import ModelState
from mlver.domain.versions import Released, stage_spans
from mlver.models import Lineage, Record
from mlver.project import PathLike, Project

LAST = 10  # versions drawn for a whole model: past a dozen a graph is no longer read


def _pipelined(doc: Mapping[str, Any]) -> bool:
    """Whether the record was made from a pipeline: its commit wrote dvc.lock
    (mlver's record of a stage model), or it was derived through dvc.lock's stages."""
    outputs = as_map(doc.get("code")).get("outputs")
    outputs = outputs if isinstance(outputs, list) else []
    derived = as_map(doc.get("derived_from"))
    return any(isinstance(o, str) and o.rsplit("/", 1)[-1] == "dvc.lock" for o in outputs) or bool(derived.get("stages"))


def trained(project: Project, model: str, state: ModelState | None, items: Sequence[Released]) -> list[Trained]:
    """What a graph needs of each released version (records already read):
    its stages and, for a pipeline model, the dvc.lock stages upstream of it."""
    spans = stage_spans(state) if state is not None else {}
    wanted = {}
    for item in items:
        artifact = (item.doc or {}).get("artifact")
        if item.doc and _pipelined(item.doc) and isinstance(artifact, Mapping) and isinstance(artifact.get("path"), str):
            wanted[item.commit] = artifact["path"]
    pipelines = pipelines_at(project.root, model, wanted) if wanted else {}
    return [Trained(version=i.version, commit=i.commit, doc=i.doc or {}, stages_now=spans.get(i.version, ((), ()))[0],
                    stages_before=spans.get(i.version, ((), ()))[1], pipeline=tuple(pipelines.get(i.commit, ())))
            for i in items]


def lineage(ref: str, last: int = LAST, repo: PathLike = None) -> Lineage:
    """The lineage graph of one version (``churn@v1.2.0``, ``churn#prod``,
    ``churn@<rev>``) or, for a bare model name, of its ``last`` versions."""
    project = Project.find(repo, require_config=False)
    parsed = parse_ref(ref)
    registry = load_registry(project, parsed.model, detail=True)
    state = registry.model(parsed.model)
    whole = not (parsed.version or parsed.stage or parsed.rev)
    if whole and state is not None and state.active_versions():
        items = released(project, parsed.model, state)[::-1][:max(1, last)]
        return lineage_graph(str(parsed), parsed.model, trained(project, parsed.model, state, items))
    _, record, version = resolve_record(project, parsed, registry)
    return record_lineage(project, str(parsed), record, version, state)


def record_lineage(project: Project, ref: str, record: Record, version: str | None, state: ModelState | None) -> Lineage:
    """The graph of one record already read (a card's, a review's head)."""
    item = Released(version=version or "", commit=record.commit or "", time="", by="", email="", doc=record.doc,
                    derived=record.derived, intact=record.intact)
    return lineage_graph(ref, record.model, trained(project, record.model, state, [item]))
