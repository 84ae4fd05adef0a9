"""``reproduce``: retrain a recorded version from its recorded code, data and
params in a throw-away git worktree, and compare.

The user's working tree is never touched: the worktree lives in a temporary
folder, data objects are restored into it from the cache or the remote by
their recorded hashes, and it is removed afterwards.

What runs is never taken from the record (anyone who can push can re-seal
one): it is the command mlver.yaml declares at the code commit, or, for a
model bound to a DVC stage, ``dvc repro`` of that stage and of the stage
writing its metrics, with every input upstream of them restored by hash.
"""
from __future__ import annotations

import os
import posixpath
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from mlver.adapters import dvc, git
from mlver.adapters.yamlfile import safe_load
from mlver.adapters.paramfiles import read_metrics, read_params
from mlver.adapters.process import run_to_stderr
from mlver.adapters.storage import md5_file
from mlver.api._common import resolve_record
from mlver.api.storage import restore
from mlver.domain import dag, validate
from mlver.errors import CodeNotFound, ConfigError, DvcError, RecordTampered, UnsafePath
from mlver.models import ReproduceResult
from mlver.project import CONFIG, ModelSpec, PathLike, Project, parse_config, spec_from

Inputs = dict[str, str]  # repo-relative path -> md5 to restore there


def _yaml_at(project: Project, commit: str, path: str) -> Any:
    """dvc.yaml or dvc.lock as a commit has it (None when it has none): read
    from git, not the worktree, so a committed symlink cannot point elsewhere."""
    content = git.read_blob(project.root, commit, path)
    return safe_load(content, f"{path} at {commit[:12]}", DvcError) if content is not None else None


def _spec_at(project: Project, model: str, commit: str, label: str) -> ModelSpec:
    """The model's declaration as it was at the code commit (it may have changed since)."""
    content = git.read_blob(project.root, commit, CONFIG)
    doc = parse_config(content, f"{CONFIG} at {commit[:12]}") if content is not None else None
    models = doc.get("models") if isinstance(doc, dict) else None
    raw = models.get(model) if isinstance(models, dict) else None
    spec = spec_from(model, raw) if raw else None
    if spec is None or not (spec.command or spec.stage):
        raise ConfigError(
            f"{CONFIG} at the code commit {commit[:12]} of {label} declares no command or stage for {model}",
            f"reproduce runs only what is committed with the code: declare it (`mlver model add {model} --command ...` "
            f"or `--stage ...`), commit, and `mlver run {model}`",
        )
    return spec


def _record_inputs(doc: dict, label: str) -> Inputs:
    found: Inputs = {}
    for entry in doc.get("data") or []:
        if entry.get("md5"):
            path = validate.check_relpath(entry.get("path"), f"the record of {label}", "data path")
            found[path] = validate.check_md5(entry["md5"], f"the record of {label}", f"md5 of {path}")
    return found


def _lock_deps(project: Project, commits: list[str], stages: dict[str, dag.Stage], needed: list[str]) -> Inputs:
    """Each needed stage's deps with their hashes, from the first of ``commits`` with a dvc.lock."""
    for commit in commits:
        doc = _yaml_at(project, commit, dvc.LOCK_FILE)
        if doc is None:
            continue
        locked = doc.get("stages") if isinstance(doc, dict) else None
        found: Inputs = {}
        for name in needed:
            entry = locked.get(name) if isinstance(locked, dict) else None
            deps = entry.get("deps") if isinstance(entry, dict) else None
            for dep in deps if isinstance(deps, list) else ():
                if isinstance(dep, dict) and isinstance(dep.get("path"), str) and dep.get("md5"):
                    path = posixpath.normpath(posixpath.join(stages[name].wdir, dep["path"]))
                    found[path] = validate.check_md5(dep["md5"], f"{dvc.LOCK_FILE} at {commit[:12]}", f"md5 of {path}")
        return found
    return {}


def _pipeline_inputs(project: Project, spec: ModelSpec, commit: str, record_commit: str | None,
                     label: str, recorded: Inputs) -> tuple[list[str], Inputs, list[str]]:
    """The stages to rerun (the model's and its metrics'), every input upstream of
    them that git does not hold (from its ``.dvc`` file at the code commit, else
    from dvc.lock), and notes on inputs that cannot be restored. Of the
    ``recorded`` inputs, what a stage writes is rerun, not restored."""
    where = f"dvc.yaml at the code commit {commit[:12]} of {label}"
    stages = dag.stages_of(_yaml_at(project, commit, "dvc.yaml"))
    if spec.stage not in stages:
        raise ConfigError(f"{where} has no stage {spec.stage!r}, which {spec.name} is bound to",
                          f"check `git show {commit[:12]}:dvc.yaml`; reproduce runs the pipeline as it was committed")
    targets = [spec.stage]
    metrics_stage = dag.producer(stages, spec.metrics) if spec.metrics else None
    if metrics_stage and metrics_stage not in targets:
        targets.append(metrics_stage)
    needed = dag.upstream(stages, targets)
    paths, notes = [], []
    for p in dag.inputs(stages, needed):
        try:
            paths.append(validate.check_relpath(p, where, "dependency"))
        except UnsafePath:  # outside the repository: nothing of ours to restore, nor to write there
            notes.append(f"input {p} is outside the repository: the stages read it as this machine has it")
    # One git call for every place an input can live: the path itself (in git),
    # its own .dvc file, or the .dvc file of a folder holding it.
    candidates = {c for p in paths for c in [p, *(f"{'/'.join(p.split('/')[:i])}.dvc" for i in range(1, p.count('/') + 2))]}
    in_git = git.tracked_at(project.root, commit, sorted(candidates))
    dvcfiles = sorted(f for f in in_git if f.endswith(".dvc") and any(dag.overlaps(f[:-4], p) for p in paths))
    blobs = git.read_blobs(project.root, [f"{commit}:{f}" for f in dvcfiles])
    found: Inputs = {p: m for p, m in recorded.items() if dag.producer(stages, p) is None}
    covered: list[str] = []
    for f in dvcfiles:
        out = dvc.out_from_dvcfile(blobs.get(f"{commit}:{f}") or b"", f[:-4])
        if out is not None:
            path = validate.check_relpath(out.path, f"{f} at {commit[:12]}")
            found[path] = validate.check_md5(out.md5, f"{f} at {commit[:12]}")
            covered.append(path)
    # The record's own commit has the dvc.lock its training wrote; the code commit's may be older.
    locked = _lock_deps(project, [c for c in (record_commit, commit) if c], stages, needed)
    for p in paths:
        if any(dag.overlaps(p, c) for c in covered) or any(g == p or g.startswith(p + "/") for g in in_git):
            continue
        if p in locked:
            found[p] = locked[p]
        else:
            notes.append(f"input {p} is not in git, not tracked by DVC and not in dvc.lock: it could not be restored")
    return targets, found, notes


def _compare_metrics(recorded: dict, got: dict, tolerance: float) -> list[dict]:
    rows = []
    for key in sorted(recorded):
        old, new = recorded[key], got.get(key)
        delta = None if new is None else new - old
        rows.append({"key": key, "recorded": old, "reproduced": new, "delta": delta,
                     "within": delta is not None and abs(delta) <= tolerance})
    return rows


def reproduce(ref: str, tolerance: float = 0.01, remote: str | None = None, repo: PathLike = None,
              on_command: Callable[[str], None] | None = None) -> ReproduceResult:
    """Retrain ``ref`` and say whether it reproduced bit-for-bit, within
    ``tolerance`` on every recorded metric (absolute), or not at all.
    ``on_command`` is told the command before it runs."""
    project = Project.find(repo)
    parsed, record, version = resolve_record(project, ref)
    label = f"{parsed.model}@{version}" if version else str(parsed)
    if not record.intact:
        raise RecordTampered(parsed.model, label)
    doc = record.doc
    code = doc.get("code") or {}
    commit = code.get("commit") or ""
    if not commit or git.resolve_commit(project.root, commit) is None:
        raise CodeNotFound(label, commit or "(none)")
    spec = _spec_at(project, parsed.model, commit, label)
    where = f"the record of {label}"
    artifact = validate.check_relpath(doc["artifact"]["path"], where, "artifact path")
    metrics_file = validate.check_relpath(spec.metrics, f"{CONFIG} at {commit[:12]}", "metrics") if spec.metrics else None
    inputs = _record_inputs(doc, label)
    notes = []
    if spec.stage:
        targets, inputs, more = _pipeline_inputs(project, spec, commit, record.commit, label, inputs)
        notes += more
        command = f"dvc repro --force {' '.join(targets)}"
    else:
        command = spec.command or ""
        if code.get("command") and code["command"] != command:
            notes.append(f"the record says `{code['command']}` ran; this ran `{command}`, "
                         f"what {CONFIG} declares at the code commit")
    if not code.get("clean", True):
        notes.append(f"trained on a dirty tree ({', '.join(code.get('dirty_files') or [])}); reproduced from the committed code")

    with tempfile.TemporaryDirectory(prefix="mlver-reproduce-") as tmp:
        worktree = Path(tmp) / "worktree"
        git.worktree_add(project.root, worktree, commit)
        try:
            in_git = git.tracked_at(project.root, commit, sorted(inputs))
            # Every destination, each file of a directory too, must resolve inside the worktree.
            restore(project, [(md5, f"{label} {path}", worktree / path) for path, md5 in sorted(inputs.items())
                              if path not in in_git], remote, within=worktree)
            if spec.params and not spec.stage:
                now = read_params(worktree, spec.params)[1]
                if now != doc.get("params"):
                    notes.append("the params file at the code commit differs from the recorded params")
            if on_command:
                on_command(command)
            if spec.stage:
                env = dict(os.environ, DVC_NO_ANALYTICS="1")
                rc = run_to_stderr([sys.executable, "-m", "dvc", "repro", "--force", *targets], cwd=worktree, env=env)
            else:
                rc = run_to_stderr(command, cwd=worktree, shell=True)
            if rc != 0:
                notes.append(f"the training command exited with {rc}")
            artifact_path = worktree / artifact
            got_md5 = (md5_file(artifact_path) if rc == 0 and validate.inside(worktree, artifact_path)
                       and artifact_path.is_file() else None)
            got_metrics = (read_metrics(worktree, metrics_file) if rc == 0 and metrics_file
                           and validate.inside(worktree, worktree / metrics_file) and (worktree / metrics_file).exists() else {})
        finally:
            git.worktree_remove(project.root, worktree)

    recorded_md5 = doc["artifact"]["md5"]
    metrics = _compare_metrics(doc.get("metrics") or {}, got_metrics, tolerance)
    if got_md5 == recorded_md5:
        verdict = "bit-for-bit"
    elif got_md5 and metrics and all(m["within"] for m in metrics):
        verdict = "statistically"
    else:
        verdict = "not reproduced"
        if got_md5 and not metrics:
            notes.append("the artifact differs and there are no recorded metrics to compare")
    return ReproduceResult(
        ref=str(parsed), model=parsed.model, version=version, code_commit=commit, command=command,
        verdict=verdict, artifact={"path": artifact, "recorded_md5": recorded_md5, "reproduced_md5": got_md5},
        metrics=tuple(metrics), tolerance=tolerance, notes=tuple(notes),
    )
