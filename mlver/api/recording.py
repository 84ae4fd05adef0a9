"""Writing a lineage record and its commit, all or nothing.

Every file mlver writes is snapshotted first and put back, and HEAD moved
back, if anything fails or the user hits Ctrl-C before the commit is in
place. ``run``, ``record`` and the Python API all end here, so the CLI and
the API write the same record for the same inputs.
"""
from __future__ import annotations

import os
import platform
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlver.adapters import dvc, git
from mlver.adapters.atomic import Snapshot, write_text
from mlver.adapters.paramfiles import read_metrics, read_params
from mlver.adapters.storage import object_relpath
from mlver.api._common import now_iso, read_record
from mlver.api.managed import StageRun, managed_paths
from mlver.api.profiles import profile_for
from mlver.domain import record as rec
from mlver.domain import validate
from mlver.domain.pipeline import covers
from mlver.errors import (
    ArtifactMissing,
    LockOutOfDate,
    MetricsNotProduced,
    RecordIgnored,
    TrackedByGit,
    TrainedByStage,
    UntrustedInput,
    WriteFailed,
)
from mlver.models import RecordResult
from mlver.project import ModelSpec, Project

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


def committable(root: Path, paths: list[str], record_path: str, stage_run: StageRun | None = None) -> list[str]:
    """The paths git may take: never a gitignored file or an output DVC caches
    (``eval/metrics.json`` inside ``eval/``); committing one breaks `dvc repro`
    ("output 'eval' is already tracked by SCM")."""
    ignored = git.ignored(root, paths)
    if record_path in ignored:
        raise RecordIgnored(record_path)
    cached = stage_run.plan.cached(stage_run.pipeline) if stage_run else []
    taken = [p for p in paths if p not in ignored and not any(covers(out, p) for out in cached)]
    folders = [p for p in taken if (root / p).is_dir()]  # a stage's `cache: false` folder (plots/): its files
    if not folders:
        return taken
    files = git.files_under(root, folders)
    refused = git.ignored(root, files)
    inside = [f for f in files if f not in refused]
    return [p for p in taken if p not in folders] + inside


def _installed_versions() -> dict[str, str]:
    """Versions of every installed distribution from the names of their
    ``*.dist-info`` folders: one directory listing instead of a metadata
    search per package (5 ms each in a big environment)."""
    import sys

    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info") and "-" in name:
                dist, _, version = name[: -len(".dist-info")].rpartition("-")
                found.setdefault(dist.lower().replace("_", "-").replace(".", "-"), version)
    return found


def environment(extra_packages: tuple[str, ...] = ()) -> dict[str, Any]:
    from importlib import metadata

    listed = _installed_versions()
    packages = {}
    for name in (*ENV_PACKAGES, *extra_packages):
        version = listed.get(name.lower().replace("_", "-").replace(".", "-"))
        if version is None:
            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        packages[name] = version
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


def _lock_outs(entry: dict[str, Any], wdir: str, key: str = "outs") -> dict[str, dvc.Out]:
    return {o.path: o for o in dvc.outs_from_lock(entry.get(key) or None, wdir, dep=key == "deps")}


def _stage_lineage(project: Project, spec: ModelSpec, run: StageRun) -> tuple[dvc.Out, list[dvc.Out], dict[str, Any], dict[str, Any]]:
    """(artifact, data, params, lock entries) of a stage model from dvc.lock and
    the .dvc files: every data source upstream of the model and of its
    metrics, and the params of every stage on the way."""
    root, pipeline, plan = project.root, run.pipeline, run.plan
    entries: dict[str, dict[str, Any]] = {}
    for stage in plan.lock_stages(pipeline):
        entry = dvc.lock_entry(root, stage.lockfile, stage.key)
        if entry is None:
            raise LockOutOfDate(spec.name, [f"stage {stage.name} has no entry in {stage.lockfile}"])
        entries[stage.name] = entry
    trainer = pipeline.stages[plan.model_stage]
    artifact = _lock_outs(entries[trainer.name], trainer.wdir).get(spec.path)
    if artifact is None or not artifact.md5:
        raise LockOutOfDate(spec.name, [f"stage {trainer.name} has no hash for {spec.path} in {trainer.lockfile}"])
    params: dict[str, Any] = {}
    for name in entries:
        for values in (entries[name].get("params") or {}).values():
            params.update(rec.flatten(values or {}))
    if spec.params:
        params.update(read_params(root, spec.params)[1])  # declared by the user: never dropped
    data: list[dvc.Out] = []
    for path in plan.sources:
        source = pipeline.producer(path)
        out = dvc.out_from_dvcfile((root / source.name).read_text(), path) if source else None
        if out is not None:
            data.append(out)
    for path in spec.data:  # an intermediate output declared as data: its hash from dvc.lock
        if any(covers(d.path, path) for d in data):
            continue
        producer = pipeline.producer(path)
        if producer is not None and producer.name in entries:
            out = next((o for o in _lock_outs(entries[producer.name], producer.wdir).values() if covers(o.path, path)), None)
            if out is not None and out.md5:
                data.append(out)
    return artifact, data, params, entries


def _check_stage_metrics(project: Project, spec: ModelSpec, run: StageRun, entries: dict[str, Any],
                         artifact: dvc.Out) -> None:
    """The metrics must be what the pipeline wrote for this model, not a leftover."""
    from mlver.adapters.storage import md5_file

    if not spec.metrics:
        return
    root, pipeline, plan = project.root, run.pipeline, run.plan
    target = root / spec.metrics
    if not target.exists():
        raise MetricsNotProduced(spec.metrics, "does not exist: this run did not write it")
    if plan.metrics_stage is None:  # a file git tracks, that no stage declares
        if target.stat().st_mtime < (root / spec.path).stat().st_mtime:
            raise MetricsNotProduced(spec.metrics, f"predates the model {spec.path}: this run did not write it")
        return
    writer = pipeline.stages[plan.metrics_stage]
    entry = entries[writer.name]
    raw = {posixpath.normpath(posixpath.join(writer.wdir, str(o.get("path", "")))): o
           for o in entry.get("outs") or [] if isinstance(o, dict)}
    covering = next((p for p in raw if covers(p, spec.metrics)), None)
    expected = None
    if covering is not None and raw[covering].get("hash") == "md5":
        md5 = str(raw[covering].get("md5") or "")
        if covering == spec.metrics:
            expected = md5
        elif md5.endswith(".dir") and (manifest := dvc.cache_dir(root) / object_relpath(md5)).is_file():
            rel = posixpath.relpath(spec.metrics, covering)
            expected = dict(dvc.parse_dir_manifest(manifest.read_bytes())).get(rel)
    if expected is not None and md5_file(target) != expected:
        raise MetricsNotProduced(spec.metrics, f"is not what stage {writer.name} wrote (dvc.lock): it was not produced by this run")
    if writer.name != plan.model_stage:
        used = _lock_outs(entry, writer.wdir, "deps").get(spec.path)
        if used is not None and used.md5 != artifact.md5:
            raise MetricsNotProduced(spec.metrics, f"was computed by stage {writer.name} on another {spec.path}: it predates the model")


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
    stage_run: StageRun | None = None,
) -> RecordResult:
    """Track the artifact, write the record and commit mlver's outputs.

    ``params``/``metrics`` given by the caller replace the files'; ``extra``
    adds fields (the API's input signature); ``also_commit`` names files the
    caller wrote for this record (a declaration made by the API);
    ``stage_run`` is a stage model's pipeline, where its lineage comes from.
    """
    root = project.root
    params, metrics, lineage = _inputs(project, spec, stage_run, params, metrics)
    managed = managed_paths(spec, stage_run)
    outputs = sorted(committable(root, sorted(set(managed) | set(also_commit)), rec.record_path(spec.name), stage_run))
    # (what the training wrote stays as it left it: the metrics, a stage's outs git keeps)
    produced = set(stage_run.plan.uncached(stage_run.pipeline)) if stage_run else set()
    touched = [p for p in managed if p != spec.metrics and p not in produced]
    snapshot = Snapshot(root, touched)
    old_head = code.commit
    try:
        artifact, data_outs = lineage or _tracked(root, spec)  # (inside the undo)
        doc = _new_record(project, spec, code, execution, artifact, data_outs, params, metrics, outputs, extra,
                          extra_packages)
        # (the Python API's fit, with what it adds and declares, is a training of its own)
        recorded = _already_recorded(project, spec, code, execution, stage_run, doc) if not (extra or also_commit) else None
        commit = code.commit if recorded else _commit_record(root, spec, code, doc, outputs, metrics)
        # Built inside: a Ctrl-C up to here undoes the commit (the CLI says "nothing was recorded").
        result = RecordResult(
            model=spec.name,
            commit=commit,
            digest=recorded or doc["digest"],
            path=rec.record_path(spec.name),
            artifact_md5=artifact.md5,
            metrics=dict(metrics),
            dirty=not code.clean,
            unchanged=recorded is not None,
        )
    except BaseException:
        # Every path the commit staged goes back in the index, the metrics file too (its
        # work-tree copy is the training's and stays): else it stayed staged under the old HEAD.
        git.restore_head(root, old_head, outputs)
        snapshot.restore()
        raise
    return result


def _already_recorded(project: Project, spec: ModelSpec, code: CodeState, execution: Execution,
                      stage_run: StageRun | None, doc: Mapping[str, Any]) -> str | None:
    """The digest of HEAD's record when HEAD is that record's own commit and
    ``doc`` says what it says of the training (artifact, data, params,
    metrics, environment: another library version is another claim about the
    training, so it gets its own record): a second `mlver record` with nothing trained since, or a `mlver
    run` whose `dvc repro` had nothing to do. Writing it again would put a
    training that never happened into the model's history (`mlver log`)."""
    parent = doc.get("parent")
    if not code.clean or parent is None or parent["commit"] != code.commit:
        return None
    if execution.exit_code is not None and stage_run is None:
        return None  # mlver ran the command: a training happened, even one that gave the same bytes
    head = read_record(project, spec.name, code.commit)
    if head is None or not head.intact or head.digest != parent["digest"]:
        return None  # (an edited record is replaced by a sound one)

    from mlver.api.objects import named

    def training(d: Mapping[str, Any]) -> tuple[Any, ...]:
        return [(o.kind, o.path, o.md5) for o in named(d)], d.get("params"), d.get("metrics"), d.get("env")

    return head.digest if training(head.doc) == training(doc) else None


def _tracked(root: Path, spec: ModelSpec) -> tuple[dvc.Out, list[dvc.Out]]:
    """A command model's artifact, tracked now, and its data's outs (a stage's
    outputs come from its pipeline: DVC tracked them already)."""
    data_outs = [o for o in (dvc.read_dvcfile_out(root, d) for d in spec.data) if o is not None]
    return dvc.track_file(root, spec.path), data_outs


def _inputs(project: Project, spec: ModelSpec, stage_run: StageRun | None, params: Mapping[str, Any] | None,
            metrics: Mapping[str, Any] | None) -> tuple[Mapping[str, Any], Mapping[str, Any], Any]:
    """Refuse what cannot be recorded before anything is written; then the params and
    metrics to record (the caller's, else the files') and, for a stage model, its lineage."""
    root = project.root
    if not (root / spec.path).exists():
        raise ArtifactMissing(spec.path)
    git.check_index_free(root)  # before anything is written; commit_paths takes the lock itself
    if not spec.stage and git.tracked(root, spec.path):
        raise TrackedByGit("model file", spec.path)
    if params is None:
        params = read_params(root, spec.params)[1] if spec.params and not spec.stage else {}
    if spec.stage and stage_run is None:
        raise TrainedByStage(spec.name, spec.stage)
    lineage = None
    if spec.stage and stage_run is not None:  # None was refused above
        artifact, data_outs, stage_params, entries = _stage_lineage(project, spec, stage_run)
        _check_stage_metrics(project, spec, stage_run, entries, artifact)
        params = {**stage_params, **params}
        lineage = (artifact, data_outs)
    if metrics is None:
        metrics = read_metrics(root, spec.metrics) if spec.metrics else {}
    return params, metrics, lineage


def _new_record(project: Project, spec: ModelSpec, code: CodeState, execution: Execution, artifact: Any,
                data_outs: list[Any], params: Mapping[str, Any], metrics: Mapping[str, Any], outputs: list[str],
                extra: Mapping[str, Any] | None, extra_packages: tuple[str, ...]) -> dict[str, Any]:
    """The sealed record document, linked to the record it replaces, checked as pull will check it."""
    default_remote = dvc.default_remote_name(project.root)
    parent_ref = _parent_ref(project, spec, code, artifact, data_outs, params)
    name, email = git.user(project.root)
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
        "code": _code_doc(code, execution, outputs),
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
    return doc


def _parent_ref(project: Project, spec: ModelSpec, code: CodeState, artifact: Any, data_outs: list[Any],
                params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The record this one replaces (HEAD's), by commit and digest; None when
    there is none, or none a command will read. A pulled model recorded as
    trained on other inputs is refused first (check_not_pulled)."""
    old_head = code.commit
    try:
        parent = read_record(project, spec.name, old_head)
    except UntrustedInput:
        parent = None  # a record no command will read is replaced, not linked to
    from mlver.api.pending import check_not_pulled

    check_not_pulled(project, spec.name, spec.path, artifact.md5, dict(params),
                     {o.path: o.md5 for o in data_outs if o is not None}, parent)
    if parent is None:
        return None
    history = git.log_path(project.root, rec.record_path(spec.name), old_head, max_count=1)  # the newest only: git stops there
    return {"commit": history[0].commit if history else old_head, "digest": parent.digest}


def _code_doc(code: CodeState, execution: Execution, outputs: list[str]) -> dict[str, Any]:
    return {
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
    }


def _commit_record(root: Path, spec: ModelSpec, code: CodeState, doc: dict[str, Any], outputs: list[str],
                   metrics: Mapping[str, Any]) -> str:
    """Write the record and commit it with what the command made (the artifact's .dvc file, ...)."""
    try:
        write_text(root / rec.record_path(spec.name), rec.dumps(doc))
    except OSError as exc:
        raise WriteFailed(rec.record_path(spec.name), str(exc.strerror or exc),
                          "check that .mlver/records is a writable folder") from exc
    to_commit = [p for p in outputs if (root / p).exists() or git.tracked(root, p)]
    summary = ", ".join(f"{k}={v:.4g}" for k, v in list(metrics.items())[:3])
    message = (
        f"mlver: record {spec.name}" + (f" ({summary})" if summary else "")
        + f"\n\nTrained at {code.commit[:12]}{'' if code.clean else ' (dirty)'}."
        + f"\nRecord digest: {doc['digest']}\n"
    )
    return git.commit_paths(root, to_commit, message)
