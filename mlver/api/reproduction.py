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

import contextlib
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlver.adapters import dvc, git
from mlver.adapters.paramfiles import read_metrics, read_params
from mlver.adapters.process import run_to_stderr
from mlver.adapters.storage import md5_file
from mlver.api._common import resolve_record
from mlver.api.objects import named
from mlver.api.storage import restore
from mlver.domain import pipeline, validate
from mlver.domain import record as rec
from mlver.domain.compare import is_number
from mlver.errors import CodeNotFound, NothingToReproduce, RecordHasNoArtifact, RecordTampered, TrainingFailed
from mlver.models import ArtifactCheck, MetricCheck, Record, ReproduceResult
from mlver.models.record import CodeRun, RecordDoc
from mlver.project import CONFIG, ModelSpec, PathLike, Project, parse_config

Inputs = dict[str, str]  # repo-relative path -> md5 to restore there


def _spec_at(project: Project, model: str, commit: str, label: str) -> ModelSpec:
    """The model's declaration as it was at the code commit (it may have changed since)."""
    content = git.read_blob(project.root, commit, CONFIG)
    spec = parse_config(content, f"{CONFIG} at {commit[:12]}").models.get(model)
    if spec is None or not (spec.command or spec.stage):
        raise NothingToReproduce(model, label, commit, CONFIG)
    return spec


def _record_inputs(doc: dict, label: str) -> Inputs:
    found: Inputs = {}
    for entry in named(doc, artifact=False):
        if entry.md5:
            path = validate.check_relpath(entry.path, f"the record of {label}", "data path")
            found[path] = validate.check_md5(entry.md5, f"the record of {label}", f"md5 of {path}")
    return found


def _locked_deps(project: Project, commits: list[str], stage: pipeline.Stage) -> Inputs:
    """A pipeline stage's deps with their hashes, from the first of ``commits``
    whose dvc.lock has the stage (md5s are checked as the lock is read)."""
    for commit in commits:
        text = git.read_blob(project.root, commit, stage.lockfile)
        entry = dvc.lock_stage(project.root, stage.key, text) if text is not None else None
        deps = entry.get("deps") if isinstance(entry, dict) else None
        if isinstance(deps, list):
            # An entry with no path is passed over (it restores nothing); a bad hash refuses the lock.
            entries = [d for d in deps if isinstance(d, dict) and isinstance(d.get("path"), str) and d["path"]]
            return {o.path: o.md5 for o in dvc.outs_from_lock(entries, stage.wdir, dep=True) if o.md5}
    return {}


def _pipeline_inputs(project: Project, session: dvc.PipelineSession, spec: ModelSpec, commit: str,
                     record_commit: str | None, label: str, recorded: Inputs) -> tuple[list[str], Inputs, list[str]]:
    """The stages to rerun (the model's and its metrics'), every input upstream of
    them that git does not hold (data from its ``.dvc`` file at the code commit,
    any other source from dvc.lock), and notes on inputs that cannot be
    restored. Of the ``recorded`` inputs, what a stage writes is rerun, not restored."""
    pl = session.pipeline()  # the worktree's: dvc.yaml and .dvc files as the code commit has them
    metrics_in_git = bool(spec.metrics) and bool(git.tracked_at(project.root, commit, [spec.metrics or ""]))
    plan = pipeline.plan(pl, spec.name, spec.stage or "", spec.path, spec.metrics, (), metrics_in_git)

    def rerun(path: str) -> bool:
        writer = pl.producer(path)
        return writer is not None and not writer.source

    found: Inputs = {p: m for p, m in recorded.items() if not rerun(p)}
    sources = [pl.stages[n] for n in plan.needed if pl.stages[n].source]
    blobs = git.read_blobs(project.root, [f"{commit}:{s.name}" for s in sources])
    for source in sources:
        where = f"{source.name} at {commit[:12]}"
        for path in source.outs[:1]:
            out = dvc.out_from_dvcfile(blobs.get(f"{commit}:{source.name}") or b"", path)
            if out is not None:
                found[validate.check_relpath(path, where)] = out.md5
    # Sources no stage writes and no .dvc file tracks: their hash is in dvc.lock,
    # the record's own commit's first (the training wrote it), then the code commit's.
    loose = {}
    for name in plan.needed:
        stage = pl.stages[name]
        if stage.source:
            continue
        wanted = [d for d in stage.deps if pl.producer(d) is None]
        if wanted:
            locked = _locked_deps(project, [c for c in (record_commit, commit) if c], stage)
            loose.update({d: locked.get(d) for d in wanted})
    in_git = git.tracked_at(project.root, commit, sorted(loose))
    notes = []
    for path, md5 in sorted(loose.items()):
        if path in in_git or any(g.startswith(path.rstrip("/") + "/") for g in in_git):
            continue
        if md5:
            found[validate.check_relpath(path, f"{dvc.LOCK_FILE} at {commit[:12]}")] = md5
        else:
            notes.append(f"input {path} is not in git, not tracked by DVC and not in dvc.lock: it could not be restored")
    return list(plan.targets), found, notes


def _compare_metrics(recorded: Mapping[str, Any], got: Mapping[str, Any], tolerance: float) -> list[MetricCheck]:
    rows = []
    for key in sorted(recorded):
        old, new = recorded[key], got.get(key)
        # A metric may be any JSON value (a label, a list): only two numbers have a delta.
        delta = float(new - old) if is_number(old) and is_number(new) else None
        within = abs(delta) <= tolerance if delta is not None else (new is not None and new == old)
        rows.append(MetricCheck(key=key, recorded=old, reproduced=new, delta=delta, within=within))
    return rows


@dataclass(frozen=True)
class _Target:
    """What a record says to retrain, checked before anything runs."""

    label: str
    commit: str  # the code commit
    record_commit: str | None
    spec: ModelSpec  # the declaration at the code commit
    typed: RecordDoc
    artifact: str
    recorded_md5: str
    metrics_file: str | None
    inputs: Inputs


@dataclass(frozen=True)
class _Retrained:
    command: str
    md5: str | None  # of the artifact it wrote; None when it wrote none or failed
    metrics: Mapping[str, Any]
    notes: list[str]


def reproduce(ref: str, tolerance: float = 0.01, remote: str | None = None, repo: PathLike = None,
              on_command: Callable[[str], None] | None = None) -> ReproduceResult:
    """Retrain ``ref`` and say whether it reproduced bit-for-bit, within
    ``tolerance`` on every recorded metric (absolute), or not at all.
    ``on_command`` is told the command before it runs."""
    project = Project.find(repo)
    parsed, record, version = resolve_record(project, ref)
    target = _target(project, parsed.model, record, f"{parsed.model}@{version}" if version else str(parsed))
    done = _retrain(project, target, remote, on_command)
    metrics = _compare_metrics(target.typed.metrics or {}, done.metrics, tolerance)
    verdict = _verdict(done.md5, target.recorded_md5, metrics, done.notes)
    return ReproduceResult(
        ref=str(parsed), model=parsed.model, version=version, code_commit=target.commit, command=done.command,
        verdict=verdict, artifact=ArtifactCheck(path=target.artifact, recorded_md5=target.recorded_md5,
                                                reproduced_md5=done.md5),
        metrics=tuple(metrics), tolerance=tolerance, notes=tuple(done.notes),
    )


def _target(project: Project, model: str, record: Record, label: str) -> _Target:
    if not record.intact:
        raise RecordTampered(model, label, rec.record_path(model))
    typed = record.typed
    commit = (typed.code or CodeRun()).commit or ""
    if not commit or git.resolve_commit(project.root, commit) is None:
        raise CodeNotFound(label, commit or "(none)")
    spec = _spec_at(project, model, commit, label)
    # Null or absent (the record check lets both through): without a hash, a
    # training that wrote nothing would match it "bit-for-bit".
    if not (typed.artifact and typed.artifact.path and typed.artifact.md5):
        raise RecordHasNoArtifact(label, model)
    artifact = validate.check_relpath(typed.artifact.path, f"the record of {label}", "artifact path")
    metrics_file = validate.check_relpath(spec.metrics, f"{CONFIG} at {commit[:12]}", "metrics") if spec.metrics else None
    return _Target(label=label, commit=commit, record_commit=record.commit, spec=spec, typed=typed, artifact=artifact,
                   recorded_md5=typed.artifact.md5, metrics_file=metrics_file, inputs=_record_inputs(record.doc, label))


def _retrain(project: Project, target: _Target, remote: str | None,
             on_command: Callable[[str], None] | None) -> _Retrained:
    """Check out the code commit in a throw-away worktree, restore the inputs, train, and read what it wrote."""
    notes = _declared_notes(target.spec, target.typed.code or CodeRun())
    with tempfile.TemporaryDirectory(prefix="mlver-reproduce-") as tmp, contextlib.ExitStack() as stack:
        worktree = Path(tmp) / "worktree"
        git.worktree_add(project.root, worktree, target.commit)
        stack.callback(git.worktree_remove, project.root, worktree)
        session = stack.enter_context(dvc.pipeline_session(worktree)) if target.spec.stage else None
        targets, command, more = _prepare(project, target, session, worktree, remote)
        notes += more
        if on_command:
            on_command(command)
        rc = _train(session, targets, command, worktree)
        if rc != 0:
            notes.append(f"the training command exited with {rc}")
        artifact_path, metrics_file = worktree / target.artifact, target.metrics_file
        got_md5 = (md5_file(artifact_path) if rc == 0 and validate.inside(worktree, artifact_path)
                   and artifact_path.is_file() else None)
        got_metrics = (read_metrics(worktree, metrics_file) if rc == 0 and metrics_file
                       and validate.inside(worktree, worktree / metrics_file) and (worktree / metrics_file).exists() else {})
    return _Retrained(command=command, md5=got_md5, metrics=got_metrics, notes=notes)


def _prepare(project: Project, target: _Target, session: dvc.PipelineSession | None, worktree: Path,
             remote: str | None) -> tuple[list[str], str, list[str]]:
    """Restore every input git does not hold into the worktree: the stages to
    rerun (a stage model's), the command that trains, and notes on what differs."""
    spec, inputs, command = target.spec, target.inputs, target.spec.command or ""
    targets: list[str] = []
    notes: list[str] = []
    if session is not None:
        targets, inputs, notes = _pipeline_inputs(project, session, spec, target.commit, target.record_commit,
                                                  target.label, inputs)
        command = f"dvc repro --force {' '.join(targets)}"
    in_git = git.tracked_at(project.root, target.commit, sorted(inputs))
    # Every destination, each file of a directory too, must resolve inside the worktree.
    restore(project, [(md5, f"{target.label} {path}", worktree / path) for path, md5 in sorted(inputs.items())
                      if path not in in_git], remote, within=worktree)
    if spec.params and not spec.stage:
        now = read_params(worktree, spec.params)[1]
        if now != target.typed.params:
            notes.append("the params file at the code commit differs from the recorded params")
    return targets, command, notes


def _declared_notes(spec: ModelSpec, code: CodeRun) -> list[str]:
    """What differs between how the record says it was trained and what will run now."""
    notes = []
    if not spec.stage:
        command = spec.command or ""
        if code.command and code.command != command:
            notes.append(f"the record says `{code.command}` ran; this ran `{command}`, "
                         f"what {CONFIG} declares at the code commit")
    if "clean" in code.keys and not code.clean:  # absent: not known to be dirty
        notes.append(f"trained on a dirty tree ({', '.join(map(str, code.dirty_files or []))}); reproduced from the committed code")
    return notes


def _train(session: Any, targets: list[str], command: str, worktree: Path) -> int:
    """Run the training (the stage through DVC, else the command) in the worktree; its exit code."""
    if session is None:
        return run_to_stderr(command, cwd=worktree, shell=True)
    try:
        session.reproduce(targets, force=True)
    except TrainingFailed as exc:
        return exc.code
    return 0


def _verdict(got_md5: str | None, recorded_md5: str, metrics: list[MetricCheck], notes: list[str]) -> str:
    if got_md5 == recorded_md5:
        return "bit-for-bit"
    if got_md5 and metrics and all(m.within for m in metrics):
        return "statistically"
    if got_md5 and not metrics:
        notes.append("the artifact differs and there are no recorded metrics to compare")
    return "not reproduced"
