"""``diff``: what changed between two records of a model, or two revisions."""
from __future__ import annotations

from mlver.adapters import git
from mlver.api._common import load_registry, models_at, read_record, resolve_record
from mlver.domain import compare
from mlver.domain.refs import parse_ref
from mlver.errors import ConfigError, InvalidReference
from mlver.models import ModelDiff, Record
from mlver.project import PathLike, Project


def _not_code(*docs: dict) -> set[str]:
    """Paths whose changes the other sections report: records' outputs and data .dvc files."""
    paths: set[str] = set()
    for doc in docs:
        paths.update((doc.get("code") or {}).get("outputs") or [])
        paths.update(f"{d['path']}.dvc" for d in doc.get("data") or [])
    return paths


def _code_diff(project: Project, old: str | None, new: str | None, skip: set[str]) -> dict:
    if not old or not new:
        return {}
    if old == new:
        return {"old_commit": old, "new_commit": new, "files": []}
    if git.resolve_commit(project.root, old) is None or git.resolve_commit(project.root, new) is None:
        return {"old_commit": old, "new_commit": new, "files": None, "note": "a code commit is not in this repository"}
    files = [
        {"path": path, "added": added, "removed": removed}
        for path, added, removed in git.numstat(project.root, old, new)
        if not path.startswith(".mlver/") and path not in skip
    ]
    return {"old_commit": old, "new_commit": new, "files": files}


def compare_records(project: Project, model: str, old: Record | None, new: Record | None, old_ref: str, new_ref: str) -> ModelDiff:
    if old is None or new is None:
        return ModelDiff(
            model=model, old_ref=old_ref, new_ref=new_ref,
            old_commit=old and old.commit, new_commit=new and new.commit,
            status="added" if old is None else "removed",
        )
    a, b = old.doc, new.doc
    params = compare.params_diff(a.get("params") or {}, b.get("params") or {})
    metrics = compare.metrics_diff(a.get("metrics") or {}, b.get("metrics") or {})
    data = compare.data_diff(a.get("data") or [], b.get("data") or [])
    artifact = compare.artifact_diff(a.get("artifact") or {}, b.get("artifact") or {})
    env = compare.env_diff(a.get("env") or {}, b.get("env") or {})
    code = _code_diff(project, (a.get("code") or {}).get("commit"), (b.get("code") or {}).get("commit"), _not_code(a, b))
    changed = (
        params or artifact["changed"] or code.get("files")
        or any(d["status"] != "unchanged" for d in data)
        or any(m["old"] != m["new"] for m in metrics)
    )
    return ModelDiff(
        model=model, old_ref=old_ref, new_ref=new_ref, old_commit=old.commit, new_commit=new.commit,
        status="changed" if changed else "unchanged",
        params=params, metrics=metrics, data=data, code=code, artifact=artifact, env=env,
    )


def _is_model_ref(token: str) -> bool:
    return "@" in token or "#" in token


def diff(a: str | None = None, b: str | None = None, model: str | None = None, repo: PathLike = None) -> list[ModelDiff]:
    """Compare two model references (``churn@v0.1.0 churn@v0.2.0``) or two
    git revisions (all models, or ``model``); ``b`` defaults to HEAD."""
    project = Project.find(repo)
    if a is None:
        raise ConfigError("diff needs at least one reference", "e.g. `mlver diff churn@v0.1.0 churn@v0.2.0`")
    if _is_model_ref(a) or (b is None and model is None and a in project.models()):
        registry = load_registry(project, parse_ref(a).model)
        old_ref, old, _ = resolve_record(project, a, registry)
        if b is None:
            b = f"{old_ref.model}@HEAD"
        if not _is_model_ref(b):
            b = f"{old_ref.model}@{b}"
        new_ref, new, _ = resolve_record(project, b, registry if parse_ref(b).model == old_ref.model else None)
        return [compare_records(project, old_ref.model, old, new, str(old_ref), str(new_ref))]
    old_commit = git.resolve_commit(project.root, a)
    new_rev = b or "HEAD"
    new_commit = git.resolve_commit(project.root, new_rev)
    for rev, commit in ((a, old_commit), (new_rev, new_commit)):
        if commit is None:
            raise InvalidReference(rev, "not a model reference or a git revision")
    names = [model] if model else sorted(set(models_at(project, old_commit)) | set(models_at(project, new_commit)))
    diffs = []
    for name in names:
        old = read_record(project, name, old_commit)
        new = read_record(project, name, new_commit)
        if old is None and new is None:
            continue
        diffs.append(compare_records(project, name, old, new, f"{name}@{a}", f"{name}@{new_rev}"))
    return diffs
