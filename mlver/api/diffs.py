"""``diff``: what changed between two records of a model, or two revisions."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mlver.adapters import git
from mlver.api._common import (
    declared,
    load_registry,
    models_at,
    record_bytes,
    record_from_bytes,
    resolve,
    version_record,
)
from mlver.domain import compare
from mlver.domain import record as rec
from mlver.domain.refs import parse_ref
from mlver.errors import (
    ArgumentMissing,
    InvalidReference,
    MlverError,
    NoCommits,
    NoDefaultBranch,
    RecordNotFound,
    RecordSchemaError,
    RecordVersionError,
    RevisionNotFound,
    UnknownModel,
)
from mlver.models import ModelDiff, Record
from mlver.models.diff import CodeChange, FileChange
from mlver.project import PathLike, Project


@dataclass
class _Cache:
    """Git answers shared by every model of one diff: 20 models trained on
    the same code commits need one ``git diff --numstat``, not 20."""

    numstat: dict[tuple[str, str], list[tuple[str, int | None, int | None]] | None] = field(default_factory=dict)
    # What every record read in this diff wrote (not just this model's two):
    # in a repository of many models, their record commits sit between any
    # two code commits, and their metrics and .dvc files are not code.
    outputs: set[str] = field(default_factory=set)


def _not_code(*records: Record) -> set[str]:
    """Paths whose changes the other sections report: data .dvc files, and
    the .gitignore files records' commits touched. Nothing else a record
    lists is taken on its word: a re-sealed record listing train.py among
    its outputs must not hide it."""
    paths: set[str] = set()
    for record in records:
        typed = record.typed
        outputs = (typed.code.outputs if typed.code else None) or []
        paths.update(p for p in outputs if isinstance(p, str) and p.rsplit("/", 1)[-1] == ".gitignore")
        paths.update(f"{d.path}.dvc" for d in typed.data or ())
    return paths


def _outputs(project: Project) -> set[str]:
    """Training outputs declared in mlver.yaml: every model's metrics file."""
    try:
        return {spec.metrics for spec in project.models().values() if spec.metrics}
    except MlverError:  # a broken mlver.yaml is reported by the commands that need it
        return set()


def _is_output(path: str, skip: set[str]) -> bool:
    # .dvc files and dvc.lock point at data and models: the data and artifact
    # sections report them; records live under .mlver/.
    return (path in skip or path.startswith(rec.RECORDS_DIR + "/") or path.endswith(".dvc")
            or path.rsplit("/", 1)[-1] == "dvc.lock")


def _code_diff(project: Project, old: str | None, new: str | None, skip: set[str], cache: _Cache | None = None) -> CodeChange | None:
    if not old or not new:
        return None
    if old == new:
        return CodeChange(old, new, files=())
    cache = cache or _Cache()
    skip = skip | cache.outputs | _outputs(project)
    if (old, new) not in cache.numstat:
        present = git.resolve_commit(project.root, old) is not None and git.resolve_commit(project.root, new) is not None
        cache.numstat[(old, new)] = git.numstat(project.root, old, new) if present else None
    stat = cache.numstat[(old, new)]
    if stat is None:
        return CodeChange(old, new, files=None, note="a code commit is not in this repository")
    files = tuple(FileChange(path, added, removed) for path, added, removed in stat if not _is_output(path, skip))
    return CodeChange(old, new, files=files, added=sum(f.added or 0 for f in files),
                      removed=sum(f.removed or 0 for f in files))


def _threshold(project: Project, threshold: float | None) -> float:
    return project.config.review.drift_threshold if threshold is None else threshold


def compare_records(project: Project, model: str, old: Record | None, new: Record | None, old_ref: str, new_ref: str,
                    *, threshold: float | None = None, notes: list[str] | None = None, cache: _Cache | None = None) -> ModelDiff:
    notes = list(notes or [])
    if old is None or new is None:
        return ModelDiff(
            model=model, old_ref=old_ref, new_ref=new_ref,
            old_commit=old.commit if old else None, new_commit=new.commit if new else None,
            status="added" if old is None else "removed", notes=tuple(notes),
        )
    a, b = old.typed, new.typed
    code = _code_diff(project, a.code.commit if a.code else None, b.code.commit if b.code else None, _not_code(old, new), cache)
    return compare.model_diff(model, old_ref, new_ref, old.commit, new.commit, a, b, _threshold(project, threshold),
                              code=code, notes=tuple(notes))


# --- records of any mlver --------------------------------------------------------


def _readable(doc: dict[str, Any]) -> bool:
    """Whether a record of another schema still has the shape a diff reads."""
    if not any(k in doc for k in ("artifact", "metrics", "params", "data")):
        return False
    kinds = {"artifact": dict, "code": dict, "params": dict, "metrics": dict, "env": dict, "data": list}
    if any(doc.get(k) is not None and not isinstance(doc[k], t) for k, t in kinds.items()):
        return False
    return all(isinstance(d, dict) and isinstance(d.get("path"), str) for d in doc.get("data") or [])


def load_record(model: str, commit: str | None, content: bytes | git.Oversized, where: str
                ) -> tuple[Record, list[str]]:
    """A record as this mlver reads it, plus notes; a record of another
    schema is read as far as its shape allows (a diff only reads it), else
    RecordVersionError naming the mlver that wrote it and this one."""
    from mlver import __version__

    content = record_bytes(model, commit, content)
    try:
        return record_from_bytes(model, commit, content), []
    except RecordSchemaError:
        doc = json.loads(content)  # loads() got this far, so it is a JSON object
    env = doc.get("env")
    packages = env.get("packages") if isinstance(env, dict) else None
    writer = packages.get("mlver") if isinstance(packages, dict) else None
    schema = doc.get("schema")
    if not _readable(doc):
        raise RecordVersionError(model, where, writer, schema, __version__, rec.SCHEMA)
    from mlver.domain import validate

    validate.check_record(doc, where)  # another schema is no reason to skip the checks
    note = (f"the record of {model} at {where} was written by mlver {writer or '(unknown)'} (record schema {schema}); "
            f"this is mlver {__version__} (schema {rec.SCHEMA}): shown as far as it is understood")
    return Record(model=model, commit=commit, doc=doc, intact=rec.is_intact(doc)), [note]


def read_records(project: Project, wanted: list[tuple[str, str, str]]) -> dict[tuple[str, str], tuple[Record | None, list[str]]]:
    """(model, commit, label) -> record or None, with notes; one ``git cat-file`` for all."""
    specs = {f"{commit}:{rec.record_path(model)}": (model, commit, label) for model, commit, label in wanted}
    blobs = git.read_blobs(project.root, specs)
    out: dict[tuple[str, str], tuple[Record | None, list[str]]] = {}
    for spec, (model, commit, label) in specs.items():
        content = blobs.get(spec)
        out[(model, commit)] = (None, []) if content is None else load_record(model, commit, content, label)
    return out


# --- the verb --------------------------------------------------------------------


def _is_model_ref(token: str) -> bool:
    return "@" in token or "#" in token


def commit_of(project: Project, rev: str, what: str = "revision") -> str:
    commit = git.resolve_commit(project.root, rev)
    if commit is None:
        raise NoCommits() if git.head(project.root) is None else RevisionNotFound(rev, what)
    return commit


def default_base(project: Project, head: str = "HEAD") -> tuple[str, str]:
    """(default branch, its merge base with ``head``): what a pull request of head changes."""
    from mlver.errors import NoCommonHistory

    branch = git.default_branch(project.root)
    if branch is None:
        raise NoDefaultBranch("compare with", "name the base: `mlver diff BASE HEAD`")
    base = git.merge_base(project.root, commit_of(project, branch), commit_of(project, head))
    if base is None:
        raise NoCommonHistory(branch, head)
    return branch, base


Found = dict[tuple[str, str], tuple[Record | None, list[str]]]


def collect_records(project: Project, old_commit: str, new_commit: str, old_label: str, new_label: str,
                    model: str | None = None) -> tuple[list[str], Found]:
    """The models with a record at either commit (or just ``model``) and
    those records: two ``ls-tree`` and one ``cat-file`` for any number of models."""
    names = sorted(set(models_at(project, old_commit)) | set(models_at(project, new_commit)))
    if model is not None:
        if model not in names:
            if not declared(project, model):
                raise UnknownModel(model, names)
            return [], {}
        names = [model]
    found = read_records(project, [(n, c, f"{n}@{label}") for n in names
                                   for c, label in ((old_commit, old_label), (new_commit, new_label))])
    return names, found


def diffs_of(project: Project, names: list[str], found: Found, old_commit: str, new_commit: str,
             old_label: str, new_label: str, threshold: float | None = None) -> list[ModelDiff]:
    threshold, cache, diffs = _threshold(project, threshold), _Cache(), []
    cache.outputs = _not_code(*(r for r, _ in found.values() if r is not None))
    for name in names:
        (old, notes_old), (new, notes_new) = found[(name, old_commit)], found[(name, new_commit)]
        if old is None and new is None:
            continue
        if old is None:
            old, notes_old = _gto_version_at(project, name, old_commit, old_label)
        elif new is None:
            new, notes_new = _gto_version_at(project, name, new_commit, new_label)
        diffs.append(compare_records(project, name, old, new, f"{name}@{old_label}", f"{name}@{new_label}",
                                     threshold=threshold, notes=notes_old + notes_new, cache=cache))
    return diffs


def _gto_version_at(project: Project, model: str, commit: str, label: str) -> tuple[Record | None, list[str]]:
    """A commit with no record that a version tag of ``model`` points at (GTO's,
    as example-get-started's main at v1.2.0): its derived lineage, as `diff
    MODEL@vX.Y.Z` shows it, not "model added"; None for any other commit."""
    state = load_registry(project, model).model(model)
    versions = state.by_commit.get(commit) if state else None
    derived = version_record(project, model, commit) if versions else None
    if derived is None or versions is None:
        return None, []
    return derived, [f"{model}@{label} has no mlver record: its lineage is derived from commit {commit[:12]} "
                     f"({model}@{', '.join(versions)})"]


def revision_diff(project: Project, old_commit: str, new_commit: str, old_label: str, new_label: str,
                  model: str | None = None, threshold: float | None = None) -> list[ModelDiff]:
    """Every model with a record at either commit (or just ``model``)."""
    names, found = collect_records(project, old_commit, new_commit, old_label, new_label, model)
    return diffs_of(project, names, found, old_commit, new_commit, old_label, new_label, threshold)


def _side(project: Project, text: str, registry: Any) -> tuple[str, Record | None, list[str]]:
    """A model reference -> (label, record or None when a revision has none, notes)."""
    ref, commit, version = resolve(project, text, registry)
    label = f"{ref.model}@{version}" if version and not ref.rev else str(ref)
    content = git.read_blob_bounded(project.root, commit, rec.record_path(ref.model))
    if content is None:
        derived = version_record(project, ref.model, commit) if version is not None or ref.stage else None
        if derived is not None:
            return str(ref), derived, [f"{label} has no mlver record: its lineage is derived from commit {commit[:12]}"]
        if ref.rev:  # a branch without the model: it was added or removed, not an error
            return str(ref), None, []
        raise RecordNotFound(ref.model, version and f"{ref.model}@{version}" or commit[:12])
    record, notes = load_record(ref.model, commit, content, label)
    return str(ref), record, notes


def diff(a: str | None = None, b: str | None = None, model: str | None = None, repo: PathLike = None,
         threshold: float | None = None) -> list[ModelDiff]:
    """Compare two model references (``churn@v0.1.0 churn@v0.2.0``) or two git
    revisions (every model, or ``model``). ``b`` defaults to HEAD; with no
    ``a``, the merge base of the default branch and HEAD is compared with
    HEAD (what a pull request from this branch changes). ``threshold``: the
    PSI at which a column is flagged (default ``review.drift_threshold``)."""
    project = Project.find(repo, require_config=False)
    if a is None:
        if b is not None:
            raise ArgumentMissing("A", "to compare with B", "mlver diff main HEAD")
        branch, base = default_base(project)
        return revision_diff(project, base, commit_of(project, "HEAD"), base[:12], "HEAD", model, threshold)
    if _is_model_ref(a) or (b is None and model is None and declared(project, a)):
        first = parse_ref(a).model
        registry = load_registry(project, first)
        old_label, old, notes_old = _side(project, a, registry)
        b = b or "HEAD"
        if not _is_model_ref(b):
            b = f"{first}@{b}"
        new_label, new, notes_new = _side(project, b, registry if parse_ref(b).model == first else None)
        if old is None and new is None:
            raise RecordNotFound(first, f"{a} or {b}")
        return [compare_records(project, first, old, new, old_label, new_label,
                                threshold=threshold, notes=notes_old + notes_new)]
    new_rev = b or "HEAD"
    if _is_model_ref(new_rev):
        raise InvalidReference(new_rev, "compare a model reference with a model reference, or a revision with a revision")
    old_commit, new_commit = commit_of(project, a), commit_of(project, new_rev)
    return revision_diff(project, old_commit, new_commit, a, new_rev, model, threshold)
