"""Writing a lineage record and its commit, all or nothing.

Every file mlver writes is snapshotted first and put back, and HEAD moved
back, if anything fails or the user hits Ctrl-C before the commit is in
place. ``run``, ``record`` and the Python API all end here, so the CLI and
the API write the same record for the same inputs.
"""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from mlver.adapters import dvc, git
from mlver.adapters.atomic import write_text
from mlver.adapters.paramfiles import read_metrics, read_params
from mlver.api._common import now_iso, read_record
from mlver.api.profiles import profile_for
from mlver.domain import record as rec
from mlver.domain import validate
from mlver.errors import ArtifactMissing, ConfigError, StorageError
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


def managed_paths(spec: ModelSpec) -> list[str]:
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


def environment(extra_packages: tuple[str, ...] = ()) -> dict[str, Any]:
    from importlib import metadata

    packages = {}
    for name in (*ENV_PACKAGES, *extra_packages):
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
    for values in (lock.get("params") or {}).values():
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


def write_record(
    project: Project,
    spec: ModelSpec,
    code: CodeState,
    execution: Execution,
    *,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    also_commit: tuple[str, ...] = (),
    extra_packages: tuple[str, ...] = (),
) -> RecordResult:
    """Track the artifact, write the record and commit mlver's outputs.

    ``params``/``metrics`` given by the caller replace the files'; ``extra``
    adds fields (the API's input signature); ``also_commit`` names files the
    caller wrote for this record (a declaration made by the API).
    """
    root = project.root
    if not (root / spec.path).exists():
        raise ArtifactMissing(spec.path)
    if not spec.stage and git.tracked(root, spec.path):
        raise ConfigError(
            f"model file {spec.path} is tracked by git, so DVC cannot track it",
            f"stop tracking it in git: `git rm --cached {spec.path}` and commit",
        )
    if params is None:
        params = read_params(root, spec.params)[1] if spec.params and not spec.stage else {}
    if metrics is None:
        metrics = read_metrics(root, spec.metrics) if spec.metrics else {}

    outputs = sorted(set(managed_paths(spec)) | set(also_commit))
    touched = [p for p in managed_paths(spec) if p != spec.metrics]
    snapshot = _Snapshot(root, touched)
    old_head = code.commit
    try:
        if spec.stage:
            artifact, data_outs, stage_params = _stage_lineage(project, spec)
            params = {**stage_params, **params}
        else:
            artifact = dvc.track_file(root, spec.path)
            data_outs = [dvc.read_dvcfile_out(root, d) for d in spec.data]
        default_remote = dvc.default_remote_name(root)
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
                "remote": default_remote,
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
                "outputs": outputs,
            },
            "data": [_data_entry(project, out) for out in data_outs if out is not None],
            "params": dict(params),
            "metrics": dict(metrics),
            "env": environment(extra_packages),
            "created": now_iso(),
            "author": {"name": name, "email": email},
            "parent": parent_ref,
            **(extra or {}),
        })
        validate.check_record(doc, f"the new record of {spec.name}")  # never write one that pull would refuse
        try:
            write_text(root / rec.record_path(spec.name), rec.dumps(doc))
        except OSError as exc:
            raise StorageError(
                f"could not write {rec.record_path(spec.name)}: {exc.strerror or exc}",
                "check that .mlver/records is a writable folder",
            ) from exc
        to_commit = [p for p in outputs if (root / p).exists() or git.tracked(root, p)]
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
        metrics=dict(metrics),
        dirty=not code.clean,
    )
