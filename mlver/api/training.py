"""Training and recording: ``run`` and ``record``: check, train, then write the record."""
from __future__ import annotations

import hashlib
import time
from dataclasses import replace

from mlver.adapters import dvc, git
from mlver.adapters.paramfiles import read_params
from mlver.adapters.process import run_to_stderr
from mlver.api._common import iso
from mlver.api.recording import CodeState, Execution, StageRun, managed_paths, write_record
from mlver.domain import pipeline as pl
from mlver.errors import (
    ArtifactOutsideProject,
    DataChanged,
    DataNotPulled,
    DataNotTracked,
    DirtyTree,
    InsideExperiment,
    LockOutOfDate,
    MlverError,
    NoCommits,
    NothingToRun,
    OutputInGit,
    StageOutputUnbound,
    TrainingFailed,
)
from mlver.models import RecordResult
from mlver.project import CONFIG, ModelSpec, PathLike, Project


def check_code(project: Project, spec: ModelSpec, allow_dirty: bool, also: tuple[str, ...] = (),
               stage_run: StageRun | None = None) -> CodeState:
    """The commit to record; refuses uncommitted changes unless ``allow_dirty``.

    ``also`` names files that must be committed too even though git may not
    track them yet: the params file, mlver.yaml, a notebook recording itself.
    """
    root = project.root
    head = git.head(root)
    if head is None:
        raise NoCommits()
    managed = set(managed_paths(spec, stage_run))
    dirty = [p for p in git.changed_tracked(root) if p not in managed and not any(pl.covers(m, p) for m in managed)]
    params_file = spec.params.partition(":")[0] if spec.params else None
    wanted = list(filter(None, [params_file, CONFIG, *also]))
    committed = git.tracked_at(root, head, wanted)  # one git call for them all
    for path in wanted:
        if path not in committed and path not in dirty:
            dirty.append(path)
    if dirty and not allow_dirty:
        raise DirtyTree(dirty)
    digest = hashlib.sha256(git.diff_against_head(root)).hexdigest() if dirty else None
    return CodeState(head, not dirty, tuple(sorted(dirty)), digest)


def check_data(project: Project, spec: ModelSpec) -> None:
    """Declared data must be tracked, committed, and unchanged in the workspace."""
    if spec.stage or not spec.data:
        return
    for path in spec.data:
        if dvc.read_dvcfile_out(project.root, path) is None:
            raise DataNotTracked(path)
        name = dvc.dvcfile_for(path)
        _check_committed(project, path, name, git.read_blob(project.root, "HEAD", name))
    _check_workspace(project, spec, dvc.changed(project.root, list(spec.data)))


def _check_committed(project: Project, path: str, name: str, committed: bytes | None) -> None:
    """The .dvc file ``name`` of ``path`` says what HEAD's says (by hashes, not bytes)."""
    if committed is None:
        raise DataChanged(path, f"is tracked, but {name} is not committed")
    if not dvc.same_hashes(committed, (project.root / name).read_bytes(), name):
        raise DataChanged(path, f"has a new hash in {name} that is not committed")


def _check_workspace(project: Project, spec: ModelSpec, changed: dict[str, str]) -> None:
    """Data whose workspace copy is not its .dvc file's: not pulled yet (a fresh
    clone), deleted, or changed."""
    for path, state in sorted(changed.items()):
        if not (project.root / path).exists() and state in ("not in cache", "deleted"):
            if state == "not in cache":
                raise DataNotPulled(path, spec.name)
            raise DataChanged(path, "is missing from the workspace")
        raise DataChanged(path, f"has changed since it was committed ({state})")


def plan_stage(project: Project, spec: ModelSpec, session: dvc.PipelineSession) -> StageRun:
    """A stage model's declaration checked against its pipeline (dvc.yaml as it is now)."""
    pipeline = session.pipeline()
    metrics_in_git = bool(spec.metrics and pipeline.producer(spec.metrics) is None and git.tracked(project.root, spec.metrics))
    plan = pl.plan(pipeline, spec.name, spec.stage or "", spec.path, spec.metrics, spec.data, metrics_in_git)
    return StageRun(pipeline, plan)


def check_sources(project: Project, spec: ModelSpec, session: dvc.PipelineSession, stage_run: StageRun) -> None:
    """The data upstream of a stage model: committed .dvc files, unchanged workspace
    copies; and no output DVC caches held in git too (an older mlver committed them).

    `dvc repro` would otherwise hash the changed data into its .dvc file and
    train on a version no commit names.
    """
    pipeline, root = stage_run.pipeline, project.root
    cached = stage_run.plan.cached(pipeline)
    in_git = sorted(git.tracked_at(root, "HEAD", cached)) if cached else []
    for out in cached:
        inside = [f for f in in_git if pl.covers(out, f)]
        if inside:
            raise OutputInGit(out, inside)
    names = [n for n in stage_run.plan.needed if pipeline.stages[n].source]
    blobs = git.read_blobs(root, [f"HEAD:{n}" for n in names])
    for name in names:
        path = pipeline.stages[name].outs[0] if pipeline.stages[name].outs else name
        _check_committed(project, path, name, blobs[f"HEAD:{name}"])
    _check_workspace(project, spec, session.changed_sources(names))


def _run_command(project: Project, command: str) -> Execution:
    started = time.time()
    # Training output goes to stderr: stdout carries only mlver's result.
    code = run_to_stderr(command, cwd=project.root, shell=True)
    duration = round(time.time() - started, 3)
    if code != 0:
        raise TrainingFailed(command, code)
    return Execution(command, code, iso(started), duration)


def _run_stage(project: Project, spec: ModelSpec, allow_dirty: bool, command: str | None) -> RecordResult:
    """`dvc repro` of the stage that writes the model and of those that write its
    metrics (DVC runs whatever upstream changed), then the record."""
    with dvc.pipeline_session(project.root) as session:
        stage_run = plan_stage(project, spec, session)
        code = check_code(project, spec, allow_dirty, stage_run=stage_run)
        check_sources(project, spec, session, stage_run)
        if command:
            execution = _run_command(project, command)
        else:
            targets = list(stage_run.plan.targets)
            started = time.time()
            session.reproduce(targets)
            execution = Execution("dvc repro " + " ".join(targets), 0, iso(started), round(time.time() - started, 3))
        left = session.stale(pl.downstream(stage_run.pipeline, stage_run.plan.targets))
    result = write_record(project, spec, code, execution, stage_run=stage_run)
    if not left:
        return result
    # A model declared without metrics from a later stage: that stage was not run,
    # and `dvc status` now lists it. Said, so nobody reads its old metrics as this model's.
    return replace(result, notes=(
        f"not run, and now out of date: {', '.join(left)} (after {spec.stage} in the pipeline); "
        f"`dvc repro` runs {'them' if len(left) > 1 else 'it'}",))


def _writer(project: Project, path: str) -> str | None:
    """The DVC stage that writes ``path`` (a dvc.yaml model adopted as it is), if any."""
    try:
        with dvc.pipeline_session(project.root) as session:
            stage = session.pipeline().producer(path)
    except MlverError:
        return None  # a dvc.yaml that does not parse: the plain hint
    return stage.name if stage is not None and not stage.source else None


def _not_a_stage_output(project: Project, spec: ModelSpec, verb: str) -> None:
    """Refuse, before anything runs, a model declared without its stage whose
    path a dvc.yaml stage writes: DVC would refuse to track it on its own
    (its output "overlaps with an output of stage"), after the training."""
    if dvc.has_stages(project.root):
        stage = _writer(project, spec.path)
        if stage is not None:
            raise StageOutputUnbound(spec.name, spec.path, stage, verb)


def _in_project(spec: ModelSpec, verb: str) -> ModelSpec:
    """Refuse a model GTO keeps at a URL before anything runs: no file here to train, hash or record."""
    if "://" in spec.path:
        raise ArtifactOutsideProject(spec.name, spec.path, verb)
    return spec


def _outside_experiment(name: str) -> None:
    """Refuse to record from a stage of ``dvc exp run``, which DVC marks in its
    stages' environment: DVC runs it on a detached HEAD, commits the experiment
    on top and checks the branch out again."""
    import os

    if os.environ.get("DVC_EXP_BASELINE_REV"):
        raise InsideExperiment(name, os.environ.get("DVC_EXP_NAME") or "NAME")


def run(name: str, command: str | None = None, allow_dirty: bool = False, repo: PathLike = None) -> RecordResult:
    """Check the tree and the data, run the training, then record it."""
    _outside_experiment(name)
    project = Project.find(repo)
    spec = _in_project(project.model(name), "run")
    if spec.params:
        read_params(project.root, spec.params)
    if spec.stage:
        return _run_stage(project, spec, allow_dirty, command)
    code = check_code(project, spec, allow_dirty)
    check_data(project, spec)
    command = command or spec.command
    if not command:
        raise NothingToRun(name, spec.path, _writer(project, spec.path))
    _not_a_stage_output(project, spec, "run")
    return write_record(project, spec, code, _run_command(project, command))


def record(name: str, allow_dirty: bool = False, repo: PathLike = None) -> RecordResult:
    """Record a model that was trained outside mlver."""
    _outside_experiment(name)
    project = Project.find(repo)
    spec = _in_project(project.model(name), "record")
    if spec.stage:
        with dvc.pipeline_session(project.root) as session:
            stage_run = plan_stage(project, spec, session)
            code = check_code(project, spec, allow_dirty, stage_run=stage_run)
            check_sources(project, spec, session, stage_run)
            stale = session.outdated(list(stage_run.plan.targets))
            if stale:
                raise LockOutOfDate(name, stale)
        return write_record(project, spec, code, Execution(None, None, None, None), stage_run=stage_run)
    _not_a_stage_output(project, spec, "record")
    code = check_code(project, spec, allow_dirty)
    check_data(project, spec)
    return write_record(project, spec, code, Execution(spec.command, None, None, None))
