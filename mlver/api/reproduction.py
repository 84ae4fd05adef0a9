"""``reproduce``: retrain a recorded version from its recorded code, data and
params in a throw-away git worktree, and compare.

The user's working tree is never touched: the worktree lives in a temporary
folder, data objects are restored into it from the cache or the remote by
their recorded hashes, and it is removed afterwards.
"""
from __future__ import annotations

import shlex
import sys
import tempfile
from pathlib import Path

from mlver.adapters import git
from mlver.adapters.paramfiles import read_metrics, read_params
from mlver.adapters.process import run_to_stderr
from mlver.adapters.storage import md5_file
from mlver.api._common import resolve_record
from mlver.api.storage import restore
from mlver.errors import CodeNotFound, ConfigError
from mlver.models import ReproduceResult
from mlver.project import CONFIG, ModelSpec, PathLike, Project, parse_config, spec_from


def _spec_at(project: Project, model: str, commit: str) -> ModelSpec:
    """The model's declaration as it was at the code commit (it may have changed since)."""
    content = git.read_blob(project.root, commit, CONFIG)
    raw = (parse_config(content, f"{CONFIG} at {commit[:12]}").get("models") or {}).get(model) if content else None
    return spec_from(model, raw) if raw else project.model(model)


def _compare_metrics(recorded: dict, got: dict, tolerance: float) -> list[dict]:
    rows = []
    for key in sorted(recorded):
        old, new = recorded[key], got.get(key)
        delta = None if new is None else new - old
        rows.append({"key": key, "recorded": old, "reproduced": new, "delta": delta,
                     "within": delta is not None and abs(delta) <= tolerance})
    return rows


def reproduce(ref: str, tolerance: float = 0.01, remote: str | None = None, repo: PathLike = None) -> ReproduceResult:
    """Retrain ``ref`` and say whether it reproduced bit-for-bit, within
    ``tolerance`` on every recorded metric (absolute), or not at all."""
    project = Project.find(repo)
    parsed, record, version = resolve_record(project, ref)
    label = f"{parsed.model}@{version}" if version else str(parsed)
    doc = record.doc
    code = doc.get("code") or {}
    commit = code.get("commit") or ""
    if not commit or git.resolve_commit(project.root, commit) is None:
        raise CodeNotFound(label, commit or "(none)")
    spec = _spec_at(project, parsed.model, commit)
    command = code.get("command") or spec.command
    if spec.stage and not code.get("command"):
        command = f"dvc repro {spec.stage}"
    if not command:
        raise ConfigError(f"{label} records no training command", "only models trained with `mlver run` can be reproduced")
    notes = []
    if not code.get("clean", True):
        notes.append(f"trained on a dirty tree ({', '.join(code.get('dirty_files') or [])}); reproduced from the committed code")

    with tempfile.TemporaryDirectory(prefix="mlver-reproduce-") as tmp:
        worktree = Path(tmp) / "worktree"
        git.worktree_add(project.root, worktree, commit)
        try:
            data = [d for d in doc.get("data") or [] if d.get("md5")]
            in_git = git.tracked_at(project.root, commit, [d["path"] for d in data])
            restore(project, [(d["md5"], f"{label} {d['path']}", worktree / d["path"])
                              for d in data if d["path"] not in in_git], remote, within=worktree)
            if spec.params and not spec.stage:
                now = read_params(worktree, spec.params)[1]
                if now != doc.get("params"):
                    notes.append("the params file at the code commit differs from the recorded params")
            if command.startswith("dvc repro "):
                rc = run_to_stderr([sys.executable, "-m", "dvc", *shlex.split(command)[1:]], cwd=worktree)
            else:
                rc = run_to_stderr(command, cwd=worktree, shell=True)
            if rc != 0:
                notes.append(f"the training command exited with {rc}")
            artifact_path = worktree / doc["artifact"]["path"]
            got_md5 = md5_file(artifact_path) if rc == 0 and artifact_path.is_file() else None
            got_metrics = read_metrics(worktree, spec.metrics) if rc == 0 and spec.metrics and (worktree / spec.metrics).exists() else {}
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
        verdict=verdict, artifact={"path": doc["artifact"]["path"], "recorded_md5": recorded_md5, "reproduced_md5": got_md5},
        metrics=tuple(metrics), tolerance=tolerance, notes=tuple(notes),
    )
