"""Training and recording: ``run`` and ``record``: check, train, then write the record."""
from __future__ import annotations

import hashlib
import time

from mlver.adapters import dvc, git
from mlver.adapters.paramfiles import read_params
from mlver.adapters.process import run_to_stderr
from mlver.api._common import iso
from mlver.api.recording import CodeState, Execution, managed_paths, write_record
from mlver.errors import ConfigError, DataChanged, DataNotTracked, DirtyTree, GitError, TrainingFailed
from mlver.models import RecordResult
from mlver.project import CONFIG, ModelSpec, PathLike, Project


def check_code(project: Project, spec: ModelSpec, allow_dirty: bool, also: tuple[str, ...] = ()) -> CodeState:
    """The commit to record; refuses uncommitted changes unless ``allow_dirty``.

    ``also`` names files that must be committed too even though git may not
    track them yet: the params file, mlver.yaml, a notebook recording itself.
    """
    root = project.root
    head = git.head(root)
    if head is None:
        raise GitError("the repository has no commit yet", "commit your code first: `git add -A && git commit -m 'initial'`")
    managed = set(managed_paths(spec))
    dirty = [p for p in git.changed_tracked(root) if p not in managed]
    params_file = spec.params.partition(":")[0] if spec.params else None
    for path in filter(None, [params_file, CONFIG, *also]):
        if not git.tracked(root, path) and path not in dirty:
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


def run(name: str, command: str | None = None, allow_dirty: bool = False, repo: PathLike = None) -> RecordResult:
    """Check the tree and the data, run the training, then record it."""
    project = Project.find(repo)
    spec = project.model(name)
    if spec.params:
        read_params(project.root, spec.params)
    code = check_code(project, spec, allow_dirty)
    check_data(project, spec)
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
    return write_record(project, spec, code, execution)


def record(name: str, allow_dirty: bool = False, repo: PathLike = None) -> RecordResult:
    """Record a model that was trained outside mlver."""
    project = Project.find(repo)
    spec = project.model(name)
    code = check_code(project, spec, allow_dirty)
    check_data(project, spec)
    return write_record(project, spec, code, Execution(spec.command, None, None, None))


