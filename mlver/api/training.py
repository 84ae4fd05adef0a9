"""Training and recording: ``run`` and ``record``.

The record commit is all-or-nothing: every file mlver writes is snapshotted
first and put back, and HEAD moved back, if anything fails or the user hits
Ctrl-C before the commit is in place.
"""
from __future__ import annotations

import hashlib
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlver.adapters import dvc, git
from mlver.adapters.paramfiles import read_metrics, read_params
from mlver.adapters.process import run_to_stderr
from mlver.api._common import iso, now_iso, read_record
from mlver.api.profiles import profile_for
from mlver.domain import record as rec
from mlver.errors import (
    ArtifactMissing,
    ConfigError,
    DataChanged,
    DataNotTracked,
    DirtyTree,
    GitError,
    StorageError,
    TrainingFailed,
)
from mlver.models import RecordResult
from mlver.project import CONFIG, ModelSpec, Project

# Packages whose versions decide whether a model can be reproduced.
ENV_PACKAGES = ("mlver", "dvc", "scikit-learn", "pandas", "numpy")


@dataclass(frozen=True)
class CodeState:
    commit: str
    clean: bool
    dirty_files: tuple[str, ...]
    diff_sha256: str | None


@dataclass(frozen=True)
class Execution:
    command: str | None
    exit_code: int | None
    started: str | None
    duration_s: float | None


def _managed(spec: ModelSpec) -> list[str]:
    """Files a record commit may touch: mlver's outputs and nothing else."""
    paths = [rec.record_path(spec.name)]
    if spec.stage:
        paths.append(dvc.LOCK_FILE)
        parent = os.path.dirname(spec.path)
        paths.append(f"{parent}/.gitignore" if parent else ".gitignore")
    else:
        paths.extend(dvc.tracked_side_files(spec.path))
    if spec.metrics:
        paths.append(spec.metrics)
    return paths


def _check_code(project: Project, spec: ModelSpec, allow_dirty: bool) -> CodeState:
    root = project.root
    head = git.head(root)
    if head is None:
        raise GitError("the repository has no commit yet", "commit your code first: `git add -A && git commit -m 'initial'`")
    managed = set(_managed(spec))
    dirty = [p for p in git.changed_tracked(root) if p not in managed]
    params_file = spec.params.partition(":")[0] if spec.params else None
    for path in filter(None, [params_file, CONFIG]):
        if not git.tracked(root, path) and path not in dirty:
            dirty.append(path)
    if dirty and not allow_dirty:
        raise DirtyTree(dirty)
    digest = hashlib.sha256(git.diff_against_head(root)).hexdigest() if dirty else None
    return CodeState(head, not dirty, tuple(sorted(dirty)), digest)


def _check_data(project: Project, spec: ModelSpec) -> None:
    """Declared data must be tracked, committed, and unchanged in the workspace."""
    if spec.stage or not spec.data:
        return
    for path in spec.data:
        if dvc.read_dvcfile_out(project.root, path) is None:
            raise DataNotTracked(path)
        if not git.tracked(project.root, dvc.dvcfile_for(path)):
            raise DataChanged(path, f"is tracked, but {dvc.dvcfile_for(path)} is not committed")
        committed = git.read_blob(project.root, "HEAD", dvc.dvcfile_for(path))
        if committed is None:
            raise DataChanged(path, f"is tracked, but {dvc.dvcfile_for(path)} is not committed")
        if committed != (project.root / dvc.dvcfile_for(path)).read_bytes():
            raise DataChanged(path, f"has a new hash in {dvc.dvcfile_for(path)} that is not committed")
    changed = dvc.changed(project.root, list(spec.data))
    for path, state in sorted(changed.items()):
        why = "is missing from the workspace" if state == "deleted" else f"has changed since it was committed ({state})"
        raise DataChanged(path, why)


def _run_command(project: Project, command: str) -> Execution:
    started = time.time()
    # Training output goes to stderr: stdout carries only mlver's result.
    code = run_to_stderr(command, cwd=project.root, shell=True)
    duration = round(time.time() - started, 3)
    if code != 0:
        raise TrainingFailed(command, code)
    return Execution(command, code, iso(started), duration)


def run(name: str, command: str | None = None, allow_dirty: bool = False) -> RecordResult:
    """Check the tree and the data, run the training, then record it."""
    project = Project.find()
    spec = project.model(name)
    if spec.params:
        read_params(project.root, spec.params)
    code = _check_code(project, spec, allow_dirty)
    _check_data(project, spec)
    if spec.stage and not command:
        started = time.time()
        code_rc = dvc.repro(project.root, spec.stage)
        if code_rc != 0:
            raise TrainingFailed(f"dvc repro {spec.stage}", code_rc)
        execution = Execution(f"dvc repro {spec.stage}", 0, iso(started), round(time.time() - started, 3))
    else:
        command = command or spec.command
        if not command:
            raise ConfigError(
                f"model {name} has no command or stage to run",
                f"pass one: `mlver run {name} -- python train.py`, or use `mlver record {name}`",
            )
        execution = _run_command(project, command)
    return _record(project, spec, code, execution)


def record(name: str, allow_dirty: bool = False) -> RecordResult:
    """Record a model that was trained outside mlver."""
    project = Project.find()
    spec = project.model(name)
    code = _check_code(project, spec, allow_dirty)
    _check_data(project, spec)
    return _record(project, spec, code, Execution(spec.command, None, None, None))


def _env() -> dict[str, Any]:
    from importlib import metadata

    packages = {}
    for name in ENV_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "packages": packages,
    }


def _data_entry(project: Project, out: dvc.Out) -> dict[str, Any]:
    profile, why_not = profile_for(project, out)
    entry: dict[str, Any] = {
        "path": out.path,
        "md5": out.md5,
        "size": out.size,
        "nfiles": out.nfiles if out.is_dir else 1,
        "profile": profile,
    }
    if why_not:
        entry["profile_error"] = why_not
    return entry


def _stage_lineage(project: Project, spec: ModelSpec) -> tuple[dvc.Out, list[dvc.Out], dict[str, Any]]:
    lock = dvc.lock_stage(project.root, spec.stage or "")
    if not lock:
        raise ConfigError(f"dvc.lock has no entry for stage {spec.stage}", f"run `dvc repro {spec.stage}`")
    outs = dvc.outs_from_lock_entries(lock.get("outs") or [])
    artifact = next((o for o in outs if o.path == spec.path), None)
    if artifact is None:
        raise ConfigError(
            f"stage {spec.stage} has no output {spec.path}",
            f"add it to the stage's outs in dvc.yaml, or fix the model's path in {CONFIG}",
        )
    deps = dvc.outs_from_lock_entries(lock.get("deps") or [])
    if spec.data:
        deps = [d for d in deps if d.path in spec.data]
    params: dict[str, Any] = {}
    for file, values in (lock.get("params") or {}).items():
        params.update(rec.flatten(values or {}))
    return artifact, deps, params


class _Snapshot:
    """Bytes of files before we touch them, to put back on failure."""

    def __init__(self, root: Path, paths: list[str]) -> None:
        self.root = root
        self.saved = {p: (root / p).read_bytes() if (root / p).is_file() else None for p in paths}

    def restore(self) -> None:
        for path, content in self.saved.items():
            target = self.root / path
            if content is None:
                try:
                    target.unlink()
                except (FileNotFoundError, NotADirectoryError):
                    pass  # never created: nothing to undo
            else:
                target.write_bytes(content)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _record(project: Project, spec: ModelSpec, code: CodeState, execution: Execution) -> RecordResult:
    root = project.root
    if not (root / spec.path).exists():
        raise ArtifactMissing(spec.path)
    params = read_params(root, spec.params)[1] if spec.params and not spec.stage else {}
    metrics = read_metrics(root, spec.metrics) if spec.metrics else {}

    touched = [p for p in _managed(spec) if p != spec.metrics]
    snapshot = _Snapshot(root, touched)
    old_head = code.commit
    try:
        if spec.stage:
            artifact, data_outs, params = _stage_lineage(project, spec)
        else:
            artifact = dvc.add(root, [spec.path])[0]
            data_outs = [dvc.read_dvcfile_out(root, d) for d in spec.data]
        remotes_name = _default_remote_name(project)
        parent = read_record(project, spec.name, old_head)
        parent_ref = None
        if parent is not None:
            history = git.log_path(root, rec.record_path(spec.name))
            parent_ref = {"commit": history[0].commit if history else old_head, "digest": parent.digest}
        name, email = git.user(root)
        doc = rec.seal({
            "schema": rec.SCHEMA,
            "model": spec.name,
            "artifact": {
                "path": artifact.path,
                "md5": artifact.md5,
                "size": artifact.size,
                "nfiles": artifact.nfiles if artifact.is_dir else 1,
                "remote": remotes_name,
            },
            "code": {
                "commit": code.commit,
                "clean": code.clean,
                "dirty_files": list(code.dirty_files),
                "diff_sha256": code.diff_sha256,
                "command": execution.command,
                "exit_code": execution.exit_code,
                "started": execution.started,
                "duration_s": execution.duration_s,
                # What the record commit writes, so a code diff can leave it out.
                "outputs": sorted(_managed(spec)),
            },
            "data": [_data_entry(project, out) for out in data_outs if out is not None],
            "params": params,
            "metrics": metrics,
            "env": _env(),
            "created": now_iso(),
            "author": {"name": name, "email": email},
            "parent": parent_ref,
        })
        try:
            _write_atomic(root / rec.record_path(spec.name), rec.dumps(doc))
        except OSError as exc:
            raise StorageError(
                f"could not write {rec.record_path(spec.name)}: {exc.strerror or exc}",
                "check that .mlver/records is a writable folder",
            ) from exc
        to_commit = [p for p in _managed(spec) if (root / p).exists() or git.tracked(root, p)]
        summary = ", ".join(f"{k}={v:.4g}" for k, v in list(metrics.items())[:3])
        message = (
            f"mlver: record {spec.name}" + (f" ({summary})" if summary else "")
            + f"\n\nTrained at {code.commit[:12]}{'' if code.clean else ' (dirty)'}."
            + f"\nRecord digest: {doc['digest']}\n"
        )
        commit = git.commit_paths(root, to_commit, message)
    except BaseException:
        git.restore_head(root, old_head, touched)
        snapshot.restore()
        raise
    return RecordResult(
        model=spec.name,
        commit=commit,
        digest=doc["digest"],
        path=rec.record_path(spec.name),
        artifact_md5=artifact.md5,
        metrics=metrics,
        dirty=not code.clean,
    )


def _default_remote_name(project: Project) -> str | None:
    _, default = dvc.remotes(project.root)
    return default
