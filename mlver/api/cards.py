"""``card``: a model card from the record, the declaration and the registry."""
from __future__ import annotations

from typing import Any

from mlver.adapters import git
from mlver.api._common import iso, load_registry, resolve_record
from mlver.api.trust import signers
from mlver.domain.registry import ModelState
from mlver.domain.tags import Action
from mlver.errors import ConfigError, MlverError
from mlver.models import Card, Record
from mlver.project import CONFIG, GTO_INDEX, PathLike, Project, artifacts_in, parse_config
from mlver.report import render_template

Declarations = tuple[dict[str, Any], dict[str, Any]]  # (dvc.yaml's artifacts, mlver.yaml's models) at one commit


def declarations_at(project: Project, commit: str) -> Declarations:
    """dvc.yaml's artifacts and mlver.yaml's models at ``commit``, read and parsed once."""
    blobs = git.read_blobs(project.root, [f"{commit}:dvc.yaml", f"{commit}:{CONFIG}", f"{commit}:{GTO_INDEX}"])
    dvc_text, config_text, index_text = (blobs.get(f"{commit}:{f}") for f in ("dvc.yaml", CONFIG, GTO_INDEX))
    try:
        artifacts = artifacts_in(index_text, f"{GTO_INDEX} at {commit[:12]}") if index_text else {}
    except MlverError:
        artifacts = {}  # GTO's old index unreadable: dvc.yaml's declarations alone
    artifacts.update(artifacts_in(dvc_text, f"dvc.yaml at {commit[:12]}") if dvc_text else {})  # dvc.yaml's wins
    try:
        specs = dict(parse_config(config_text, f"{CONFIG} at {commit[:12]}").models)
    except ConfigError:
        specs = {}  # a card is documentation: an unreadable old declaration only leaves its fields out
    return dict(artifacts), specs


def declared_fields(model: str, declarations: list[Declarations]) -> dict[str, Any]:
    """desc and labels from dvc.yaml's artifacts, intended use and
    limitations from mlver.yaml: documentation is often written after a
    release, so the first (newest) commit that has each field wins."""
    found: dict[str, Any] = {}
    for artifacts, specs in declarations:
        for source in (artifacts.get(model), specs.get(model)):
            for field in ("desc", "labels", "intended_use", "limitations"):
                if value := getattr(source, field, None):
                    found.setdefault(field, value)
    return found


def _declaration(project: Project, model: str, commits: list[str]) -> dict[str, Any]:
    return declared_fields(model, [declarations_at(project, c) for c in commits])


def card(ref: str, html: bool = False, repo: PathLike = None) -> Card:
    project = Project.find(repo, require_config=False)
    registry = load_registry(project, None, detail=True)
    parsed, record, version = resolve_record(project, ref, registry)
    state = registry.model(parsed.model)
    staged = [e for e in (state.events if state else []) if e.commit == record.commit
              and e.tag.action in (Action.ASSIGN, Action.UNASSIGN)]
    released = state.versions.get(version) if state and version else None
    principals = signers(project, staged + ([released] if released else []))
    declared = _declaration(project, parsed.model, [c for c in (git.head(project.root), record.commit) if c])
    from mlver.api.lineages import record_lineage

    context = card_context(str(parsed), record, version, state, declared, principals)
    context["lineage"] = graph = record_lineage(project, str(parsed), record, version, state)
    if html:
        from markupsafe import Markup

        from mlver.domain.charts import lineage_svg

        context["lineage_svg"] = Markup(lineage_svg(graph, f"Lineage of {str(parsed)}"))  # mlver.domain.charts escapes its text
    name = "card.html.j2" if html else "card.md.j2"
    return Card(ref=str(parsed), format="html" if html else "md", text=render_template(name, **context))


def card_context(ref: str, record: Record, version: str | None, state: ModelState | None, declared: dict[str, Any],
                 principals: dict[str, str] | None) -> dict[str, Any]:
    """What a card template reads (``mlver card`` and the site's version pages)."""
    history = []
    staged = [e for e in (state.events if state else []) if e.commit == record.commit
              and e.tag.action in (Action.ASSIGN, Action.UNASSIGN)]
    released = state.versions.get(version) if state and version else None
    for event in staged:
        by = event.info.tagger if event.info else ""
        if principals is not None:
            by += f" (signed by {principals[event.name]})" if principals.get(event.name) else " (signature NOT verified)"
        history.append({
            "stage": event.tag.stage, "action": "assigned" if event.tag.action is Action.ASSIGN else "removed",
            "by": by, "time": iso(event.timestamp),
        })
    current = sorted(s for s, v in (state.stages.items() if state else []) if v == version)
    return {
        "model": record.model,
        "version": version,
        "ref": ref,
        "commit": record.commit,
        "intact": record.intact,
        "derived": record.derived,
        "doc": record.typed,  # mlver/models/record.py's types: the templates read their fields
        "desc": declared.get("desc") or "",
        "labels": declared.get("labels") or [],
        "intended_use": declared.get("intended_use") or "",
        "limitations": declared.get("limitations") or "",
        "stages": current,
        "stage_history": history,
        # None: signing is off, nothing was checked; "": the release tag does not verify
        "release_signer": principals.get(released.name, "") if principals is not None and released else None,
    }
