"""Everything mlver asks of DVC: tracking, status, config and its layouts.

Reading a ``.dvc`` file or ``dvc.lock`` is plain YAML and stays here without
importing dvc (0.35 s); dvc itself is imported only by the calls that change
or check the workspace.
"""
from __future__ import annotations

import logging
import os
import posixpath
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlver.domain import dvcentries, validate
from mlver.domain.dvcentries import Policy
from mlver.errors import (
    DvcCommandFailed,
    DvcConfigInvalid,
    DvcError,
    DvcFailed,
    DvcLockCorrupt,
    DvcRefusedRemote,
    ObjectCorrupt,
)

if TYPE_CHECKING:
    from mlver.adapters.storage import LocalStore, Progress

LOCK_FILE = "dvc.lock"


@dataclass(frozen=True)
class Out:
    """A DVC-tracked path and its content hash as DVC wrote it."""

    path: str  # relative to the repository root
    md5: str  # ends with ".dir" for a directory
    size: int | None
    nfiles: int | None

    @property
    def is_dir(self) -> bool:
        return self.md5.endswith(".dir")


@contextmanager
def _dvc_errors(action: str, hint: str = "see `dvc doctor`; run with --traceback for details") -> Iterator[None]:
    from dvc.exceptions import DvcException

    try:
        yield
    except DvcException as exc:
        msg = " ".join(str(exc).split())
        raise DvcFailed(action, msg, hint) from exc


RWLOCK = ".dvc/tmp/rwlock"


def _rwlock_readable(content: bytes) -> bool:
    import json

    try:
        return isinstance(json.loads(content), dict)
    except ValueError:
        return False


def heal_rwlock(root: Path) -> None:
    """Clear DVC's ``.dvc/tmp/rwlock`` when a killed DVC (or mlver) left it
    empty or half written: DVC truncates it, then writes it, and from then on
    refuses every command ("Unable to read RWLock-file").

    Safe only when nobody depends on it: under DVC's own guard
    (``rwlock.lock``, so no DVC is editing it), and with no other dvc or mlver
    process working in this project (whose entries the lost content may have
    held); else DvcLockCorrupt names the file and the processes.
    """
    path = root / RWLOCK
    try:
        if _rwlock_readable(path.read_bytes()):
            return
    except OSError:
        return  # no lock file: nothing to heal
    import zc.lockfile

    try:
        guard = zc.lockfile.LockFile(str(root / ".dvc" / "tmp" / "rwlock.lock"))
    except zc.lockfile.LockError:
        return  # a live DVC is rewriting it right now: it writes it whole
    try:
        if _rwlock_readable(path.read_bytes()):
            return
        others = _processes_in(root)
        if others:
            raise DvcLockCorrupt(RWLOCK, others)
        path.unlink()  # an absent rwlock is DVC's empty one
    finally:
        guard.close()


def _processes_in(root: Path) -> list[int]:
    """Other dvc or mlver processes whose working directory is in the project."""
    import psutil

    here = os.path.realpath(root)
    found = []
    for proc in psutil.process_iter(["pid", "cwd", "cmdline"]):
        info = proc.info
        cwd, cmdline = info.get("cwd"), info.get("cmdline") or []
        if info["pid"] == os.getpid() or not cwd or not (cwd == here or cwd.startswith(here + os.sep)):
            continue
        if any(os.path.basename(arg) in ("dvc", "mlver") for arg in cmdline):
            found.append(info["pid"])
    return sorted(found)


@contextmanager
def _repo(root: Path) -> Iterator[Any]:
    # DVC would otherwise phone home and print INFO lines on stdout.
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    heal_rwlock(root)
    from dvc.repo import Repo

    logging.getLogger("dvc").setLevel(logging.WARNING)
    with _dvc_errors("open the repository", "run `mlver init`"):
        repo = Repo(str(root))
    try:
        yield repo
    finally:
        repo.close()  # releases DVC's state database and lock


def is_initialised(root: Path) -> bool:
    return (root / ".dvc").is_dir()


def init(root: Path) -> None:
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    from dvc.repo import Repo

    from mlver.adapters.placement import uninterrupted

    logging.getLogger("dvc").setLevel(logging.WARNING)
    # Ctrl-C waits the moment DVC takes: stopped half way, DVC's init leaves a .dvc
    # folder without its .gitignore, which then passes for a DVC project, and
    # .dvc/config.local (a machine's credentials) is no longer ignored by git.
    with _dvc_errors("initialise"), uninterrupted():
        Repo.init(str(root))


def add(root: Path, paths: list[str], progress: Progress | None = None) -> list[Out]:
    """Track ``paths`` (files or directories) with DVC; returns their outs.

    A plain file DVC's machinery is not needed for is hashed while it is
    copied into the cache (_add_file_fast: one read, where `dvc add` reads
    it twice); the rest goes through DVC's own add. ``progress`` hears the
    bytes the fast path hashes."""
    fast: dict[str, list[str] | None] = {}
    for p in paths:
        if _fast_add_possible(root, p, directories=True):
            fast[p] = _dir_files(root / p) if (root / p).is_dir() else None
            if (root / p).is_dir() and fast[p] is None:
                del fast[p]
    slow = [p for p in paths if p not in fast]
    if slow:
        with _repo(root) as repo, _dvc_errors(f"track {', '.join(slow)}", "check the path; see `dvc status`"):
            repo.add([str(root / p) for p in slow])
    outs = []
    for p in paths:
        if p in fast:
            files = fast[p]
            outs.append(_add_file_fast(root, p, progress) if files is None else _add_dir_fast(root, p, files, progress))
            continue
        out = read_dvcfile_out(root, p)
        if out is None:
            raise DvcFailed(f"write {p}.dvc", "", "run `dvc add` by hand to see why")
        if progress and out.size:
            progress(out.size)  # hashed by DVC, all at once: else the summary said "0 B" of what it added
        outs.append(out)
    return outs


_STANDARD_OUT_KEYS = {"md5", "size", "hash", "path", "nfiles"}


def _fast_add_possible(root: Path, path: str, directories: bool = False) -> bool:
    """Whether a plain file can be tracked without DVC's machinery.

    Only the common case: one regular file, the default cache, no dvc.yaml
    stages that might claim the path, and no extra fields in an existing
    .dvc file that we would have to carry over.
    """
    target = root / path
    if target.is_symlink() or not (target.is_file() or (directories and target.is_dir())):
        return False
    # Inside a tracked directory, or with .dvcignore patterns: DVC decides (and may refuse).
    if any((root / dvcfile_for(d.as_posix())).exists() for d in Path(path).parents if d != Path(".")):
        return False
    ignore = root / ".dvcignore"
    if ignore.exists() and any(line.strip() and not line.lstrip().startswith("#") for line in ignore.read_text().splitlines()):
        return False
    configs = [root / ".dvc" / "config", root / ".dvc" / "config.local"]
    if any("[cache]" in c.read_text() for c in configs if c.exists()):
        return False
    if has_stages(root):
        return False
    dvcfile = root / dvcfile_for(path)
    if dvcfile.exists():
        doc = _yaml(dvcfile.read_text(), dvcfile_for(path)) or {}
        outs = doc.get("outs") if isinstance(doc, dict) else None
        # Anything but the one plain out `dvc add` writes: DVC decides (a malformed file it rewrites).
        if (set(doc) != {"outs"} or not isinstance(outs, list) or len(outs) != 1 or not isinstance(outs[0], dict)
                or set(outs[0]) - _STANDARD_OUT_KEYS):
            return False
    return True


def has_stages(root: Path) -> bool:
    """Whether the project's dvc.yaml declares stages (read without DVC)."""
    if not (root / "dvc.yaml").exists():
        return False
    doc = _yaml((root / "dvc.yaml").read_text(), "dvc.yaml") or {}
    return bool(isinstance(doc, dict) and doc.get("stages"))


def _add_file_fast(root: Path, path: str, progress: Progress | None = None) -> Out:
    """What ``dvc add FILE`` does for one file, in a single read.

    The file is hashed while it is copied into the cache (DVC hashes first,
    then copies), then the .dvc file and the .gitignore line are written in
    DVC's own format, so `dvc status`, `dvc push` and `dvc pull` see no
    difference.
    """
    from mlver.adapters.hashcache import Known
    from mlver.adapters.storage import LocalStore, copy_hashing, install, readonly

    source = root / path
    cache = LocalStore(cache_dir(root), "the local cache")
    staging = cache.temp_path()
    try:
        md5 = copy_hashing(source, staging, progress)
        size = staging.stat().st_size
        final = cache.path(md5)
        if not final.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            readonly(staging)
            installed = install(staging, final)
            # Hashed on its way into the cache: push and pull need not hash it again
            # (the stat of the file hashed, not of whatever has its name now).
            known = Known(root)
            known.remember(final, md5, installed)
            known.save()
    finally:
        staging.unlink(missing_ok=True)
    _write_dvcfile(root, path, md5, size, None)
    return Out(path=path, md5=md5, size=size, nfiles=None)


def _write_dvcfile(root: Path, path: str, md5: str, size: int, nfiles: int | None) -> None:
    """The .dvc file ``dvc add`` writes for ``path`` (its format to the letter:
    ``nfiles`` for a directory) and the .gitignore line beside it."""
    from mlver.adapters.atomic import write_text

    name = os.path.basename(path.rstrip("/"))
    counted = f"  nfiles: {nfiles}\n" if nfiles is not None else ""
    write_text(root / dvcfile_for(path), f"outs:\n- md5: {md5}\n  size: {size}\n{counted}  hash: md5\n  path: {name}\n")
    gitignore = root / (os.path.dirname(path) or ".") / ".gitignore"
    lines = gitignore.read_text().splitlines() if gitignore.exists() else []
    if f"/{name}" not in lines:
        write_text(gitignore, "\n".join([*lines, f"/{name}"]) + "\n")


# Names DVC treats specially inside a tracked directory (its own and git's).
_DVC_SKIPS = {".git", ".hg", ".dvc", ".dvcignore"}
_SMALL = 1 << 24  # files up to this size are read in one call


def _dir_files(target: Path) -> list[str] | None:
    """The relative paths of every regular file under ``target``, or None if
    there is anything DVC treats specially (a symlink, a special file, a
    name it skips): then DVC's own add decides."""
    files: list[str] = []
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(target / rel if rel else target) as entries:
            for entry in entries:
                if entry.name in _DVC_SKIPS or entry.name.endswith(".dvc") or entry.is_symlink():
                    return None
                sub = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append(sub)
                elif entry.is_file(follow_symlinks=False):
                    files.append(sub)
                else:
                    return None
    return files


class _Batched:
    """Small files' bytes told to ``progress`` once per MiB, not once per file."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress, self.unsaid = progress, 0

    def __call__(self, nbytes: int) -> None:
        self.unsaid += nbytes
        if self.unsaid >= 1 << 20:
            self.flush()

    def flush(self) -> None:
        if self.progress and self.unsaid:
            self.progress(self.unsaid)
        self.unsaid = 0


def _add_dir_fast(root: Path, path: str, files: list[str], progress: Progress | None = None) -> Out:
    """What ``dvc add DIR`` writes, without DVC's machinery: every file
    hashed and copied into the cache in one read (objects already there are
    not written again), the ``.dir`` manifest (DVC's JSON: entries sorted by
    relpath, keys sorted), the .dvc file and the .gitignore line."""
    import hashlib
    import json

    from mlver.adapters.storage import LocalStore

    target, cache = root / path, cache_dir(root)
    store = LocalStore(cache, "the local cache")
    made: set[str] = set()
    entries, size = [], 0
    mode = 0o444  # DVC keeps cache objects read-only
    small = _Batched(progress)
    for rel in files:
        with open(target / rel, "rb") as f:
            data = f.read(_SMALL + 1)
            if len(data) > _SMALL:  # a large file: streamed, never whole in memory
                data = b""
        if data or os.path.getsize(target / rel) == 0:
            md5 = hashlib.md5(data).hexdigest()
            _put(cache, md5, data, made, mode)
            size += len(data)
            small(len(data))
        else:
            md5, length = _put_large(store, target / rel, progress)
            size += length
        entries.append({"md5": md5, "relpath": rel})
    small.flush()
    entries.sort(key=lambda e: e["relpath"])
    manifest = json.dumps(entries, sort_keys=True).encode("utf-8")
    dir_md5 = hashlib.md5(manifest).hexdigest() + ".dir"
    _put(cache, dir_md5, manifest, made, mode)
    _write_dvcfile(root, path, dir_md5, size, len(files))
    return Out(path=path, md5=dir_md5, size=size, nfiles=len(files))


def _put_large(store: LocalStore, source: Path, progress: Progress | None) -> tuple[str, int]:
    """A large file into the cache, hashed while it is copied (never whole in
    memory), through the store's staging folder: its md5 and size."""
    from mlver.adapters.storage import copy_hashing, readonly

    staging = store.temp_path()  # (the store's staging folder, not a fixed name beside the objects)
    md5 = copy_hashing(source, staging, progress)
    size = staging.stat().st_size
    final = store.objects_dir / md5[:2] / md5[2:]
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        staging.unlink()
    else:
        readonly(staging)
        os.replace(staging, final)
    return md5, size


def _put(cache: Path, md5: str, data: bytes, made: set[str], mode: int) -> None:
    """One object into the cache, read-only, by a rename: a crash leaves no half object."""
    folder = cache / md5[:2]
    if md5[:2] not in made:
        folder.mkdir(parents=True, exist_ok=True)
        made.add(md5[:2])
    final = folder / md5[2:]
    if os.path.exists(final):  # content addressed: already there is already right
        return
    import secrets

    from mlver.adapters.storage import write_new

    # A name no one can guess, created anew (O_EXCL): in a shared cache a co-user could
    # plant a symlink at a predictable one, and the bytes went wherever it pointed.
    tmp = folder / f".{md5[2:]}.{secrets.token_hex(8)}.mlver-tmp"
    write_new(os.fspath(tmp), data, mode)
    os.replace(tmp, final)


def track_file(root: Path, path: str) -> Out:
    """Track one output (a model file or directory) in the cache, as `dvc add` would."""
    if _fast_add_possible(root, path):
        return _add_file_fast(root, path)
    return add(root, [path])[0]


def dvcfile_for(path: str) -> str:
    return f"{path}.dvc"


def tracked_side_files(path: str) -> list[str]:
    """The files ``dvc add path`` writes besides the cache."""
    parent = os.path.dirname(path)
    return [dvcfile_for(path), f"{parent}/.gitignore" if parent else ".gitignore"]


def _yaml(text: bytes | str, where: str) -> Any:
    from mlver.adapters.yamlfile import safe_load

    return safe_load(text, where, DvcError)


def out_from_dvcfile(text: bytes | str, path: str) -> Out | None:
    """The first out of a ``.dvc`` file's content, None when it has no hash;
    UntrustedInput when an entry has another shape than DVC writes (hand-edited
    or crafted): ``dvcentries``' REFUSE policy, as for push."""
    where = dvcfile_for(path)
    outs = dvcentries.dvcfile_outs(_yaml(text, where), posixpath.dirname(path), where, Policy.REFUSE)
    if not outs or outs[0].md5 is None:
        return None
    return Out(path=path, md5=outs[0].md5, size=outs[0].size, nfiles=outs[0].nfiles)


def same_hashes(committed: bytes, current: bytes, where: str) -> bool:
    """Whether two versions of a ``.dvc`` file name the same data: each out's
    path and hash, read as YAML. Never raw bytes: a checkout with
    ``core.autocrlf=true`` (Git for Windows) has CRLF where the blob has LF."""

    def hashes(text: bytes) -> list[tuple[str, ...]]:
        doc = _yaml(text, where) or {}
        outs = doc.get("outs") if isinstance(doc, dict) else None
        return sorted(
            tuple(str(o.get(k)) for k in ("path", "md5", "hash", "etag", "checksum"))
            for o in (outs if isinstance(outs, list) else []) if isinstance(o, dict)
        )

    return committed == current or hashes(committed) == hashes(current)


def read_dvcfile_out(root: Path, path: str) -> Out | None:
    from mlver.adapters import repofile

    try:
        return out_from_dvcfile(repofile.read(root, dvcfile_for(path)), path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def lock_stage(root: Path, stage: str, text: bytes | str | None = None) -> dict[str, Any] | None:
    """A stage's entry of dvc.lock: deps, params, outs with their hashes."""
    if text is None:
        from mlver.adapters import repofile

        try:
            text = repofile.read(root, LOCK_FILE)
        except (FileNotFoundError, NotADirectoryError):
            return None
    doc = _yaml(text, LOCK_FILE) or {}
    return (doc.get("stages") or {}).get(stage)


def outs_from_lock(value: object, wdir: str = "", dep: bool = False) -> list[Out]:
    """The outs (``dep``: the deps) of a dvc.lock stage, checked by
    ``dvcentries``' REFUSE policy; an entry with no path in the project (a URL,
    a dependency outside it) has no Out, one without a hash has md5 ''."""
    what = "deps" if dep else "outs"
    found = dvcentries.entries(value, "" if wdir == "." else wdir, LOCK_FILE, Policy.REFUSE, what, dep)
    return [Out(path=e.path, md5=e.md5 or "", size=e.size, nfiles=e.nfiles) for e in found if e.path is not None]


def lock_out_paths(root: Path) -> list[str]:
    """Every out path dvc.lock names, of every stage (what a stage wrote: those
    git tracks are its ``cache: false`` outs); entries that fail dvcentries'
    checks are passed over (SKIP)."""
    from mlver.adapters import repofile

    try:
        doc = _yaml(repofile.read(root, LOCK_FILE), LOCK_FILE)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [out.path for stage in dvcentries.stage_list(doc, "", LOCK_FILE, Policy.SKIP)
            for out in stage.outs if out.path is not None]


def changed(root: Path, paths: list[str]) -> dict[str, str]:
    """Tracked paths whose workspace copy differs from their .dvc hash.

    Uses DVC's own state database, so unchanged large files are not re-hashed.
    """
    targets = [str(root / dvcfile_for(p)) for p in paths]
    with _repo(root) as repo, _dvc_errors("check the data status"):
        status = repo.status(targets=targets)
    found: dict[str, str] = {}
    for entries in status.values():
        for entry in entries:
            if isinstance(entry, dict):
                for outs in entry.values():
                    if isinstance(outs, dict):
                        for out_path, state in outs.items():
                            found[os.path.relpath(os.path.join(root, out_path), root)] = state
    return found


# -- pipelines ---------------------------------------------------------------


def _rel(root: Path, path: str) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """DVC's progress and the stages' own output go to stderr: stdout is mlver's result."""
    import contextlib

    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)  # the stage commands DVC starts inherit fd 1
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _status_of(path: str, state: object) -> str:
    """One entry of `dvc status` as DVC prints it: a params file's state is per key
    (``params.yaml: train.n_est modified``), never a Python dict."""
    if isinstance(state, dict):
        return f"{path}: " + ", ".join(f"{key} {value}" for key, value in state.items())
    return f"{path} {state}"


class PipelineSession:
    """One open DVC repository for a stage model: its pipeline, the state of
    its data and the reproduction share DVC's index (built once, 0.2 s)."""

    def __init__(self, root: Path, repo: Any) -> None:
        self.root = root
        self.repo = repo
        self._pipeline: Any = None
        self._objects: dict[str, Any] = {}

    def pipeline(self) -> Any:
        """The ``domain.pipeline.Pipeline`` of every dvc.yaml and .dvc file."""
        import networkx as nx
        from dvc.dependency.param import ParamsDependency
        from dvc.exceptions import DvcException
        from dvc.stage import PipelineStage

        from mlver.domain.pipeline import Pipeline, Stage
        from mlver.errors import PipelineInvalid

        if self._pipeline is not None:
            return self._pipeline
        try:
            index = self.repo.index
            graph = index.graph
        except DvcException as exc:
            detail = " ".join(str(exc).split())
            where = "dvc.yaml" if "dvc.yaml" in detail or "dvc.lock" not in detail else LOCK_FILE
            raise PipelineInvalid(where, detail[:200]) from exc
        stages = {}
        for st in index.stages:
            deps, params = [], []
            for dep in st.deps:
                if isinstance(dep, ParamsDependency):
                    params.append((_rel(self.root, dep.fs_path), tuple(dep.params or ())))
                elif dep.is_in_repo:
                    deps.append(_rel(self.root, dep.fs_path))
            pipeline_stage = isinstance(st, PipelineStage)
            folder = _rel(self.root, os.path.dirname(st.dvcfile.path))
            stages[st.addressing] = Stage(
                name=st.addressing,
                deps=tuple(deps),
                outs=tuple(_rel(self.root, o.fs_path) for o in st.outs if o.is_in_repo),
                cached=tuple(_rel(self.root, o.fs_path) for o in st.outs if o.is_in_repo and o.use_cache),
                params=tuple(params),
                upstream=frozenset(s.addressing for s in nx.descendants(graph, st)),
                source=not pipeline_stage,
                lockfile=(LOCK_FILE if folder == "." else f"{folder}/{LOCK_FILE}") if pipeline_stage else "",
                key=st.name if pipeline_stage else "",
                wdir=_rel(self.root, st.wdir) if pipeline_stage else "",
            )
            self._objects[st.addressing] = st
        self._pipeline = Pipeline(stages)
        return self._pipeline

    def changed_sources(self, names: list[str]) -> dict[str, str]:
        """Data (outs of .dvc files) whose workspace copy is not what its .dvc file
        says, from DVC's state database: unchanged large files are not re-hashed."""
        found: dict[str, str] = {}
        with _dvc_errors("check the data status"):
            for name in names:
                for out in self._objects[name].outs:
                    status = out.status()  # {the out as DVC prints it: its state}, or {}
                    if status:
                        found[_rel(self.root, out.fs_path)] = str(next(iter(status.values())))
        return found

    def outdated(self, targets: list[str]) -> list[str]:
        """What `dvc status` says about ``targets`` and their upstream, one line each."""
        with _dvc_errors("check the pipeline status"):
            status = self.repo.status(targets=targets, with_deps=True, check_updates=False)
        lines = []
        for name, entries in status.items():
            for entry in entries:
                if isinstance(entry, dict):
                    for what, paths in entry.items():
                        shown = ", ".join(_status_of(p, s) for p, s in paths.items()) if isinstance(paths, dict) else str(paths)
                        lines.append(f"stage {name}: {what} ({shown})")
                else:
                    lines.append(f"stage {name}: {entry}")
        return lines

    def stale(self, stages: list[str]) -> list[str]:
        """Those of ``stages`` that `dvc status` would list (their own state, not their upstream's)."""
        if not stages:
            return []
        with _dvc_errors("check the pipeline status"):
            status = self.repo.status(targets=stages, with_deps=False, check_updates=False)
        return [name for name in stages if status.get(name)]

    def reproduce(self, targets: list[str], force: bool = False) -> None:
        """`dvc repro TARGETS` in this process (no second DVC start-up);
        ``force`` reruns every stage upstream of them too, changed or not."""
        import re

        from dvc.exceptions import DvcException, ReproductionError

        from mlver.errors import TrainingFailed

        command = "dvc repro " + ("--force " if force else "") + " ".join(targets)
        try:
            with _stdout_to_stderr():
                self.repo.reproduce(targets=targets, force=force)
        except ReproductionError as exc:
            cause = " ".join(str(exc.__cause__ or exc).split())
            match = re.search(r"exited with (-?\d+)", cause)
            code = int(match.group(1)) if match else 1
            if code in (-2, 130):
                raise KeyboardInterrupt from exc  # the stage was stopped with Ctrl-C
            raise TrainingFailed(command, code) from exc
        except DvcException as exc:
            raise DvcCommandFailed(command, " ".join(str(exc).split())[:200]) from exc


@contextmanager
def pipeline_session(root: Path) -> Iterator[PipelineSession]:
    """The repository, locked against other DVC processes for the whole run.

    Holding DVC's (re-entrant) lock also keeps the index built for the
    pipeline alive into `reproduce`, which would otherwise build it again.
    """
    import contextlib

    from dvc.repo import lock_repo

    # DVC names stages and reads repro targets relative to the current
    # directory: work from the root, as the dvc CLI does (a subfolder of the
    # project, or reproduce's worktree elsewhere, would name them "../dvc.yaml:train").
    with contextlib.chdir(root), _repo(root) as repo, contextlib.ExitStack() as stack:
        with _dvc_errors("lock the repository", "wait for the other DVC command to finish, then run again"):
            stack.enter_context(lock_repo(repo))
        yield PipelineSession(root, repo)


def lock_entry(root: Path, lockfile: str, key: str) -> dict[str, Any] | None:
    """A stage's entry of a dvc.lock: deps, params, outs with their hashes."""
    from mlver.adapters import repofile

    try:
        text = repofile.read(root, lockfile)
    except (FileNotFoundError, NotADirectoryError):
        return None
    doc = _yaml(text, lockfile)
    stages = doc.get("stages") if isinstance(doc, dict) else None
    entry = stages.get(key) if isinstance(stages, dict) else None
    return entry if isinstance(entry, dict) else None


# -- remotes and layouts ----------------------------------------------------


@dataclass(frozen=True)
class Remote:
    name: str
    url: str
    options: dict[str, Any]


def remotes(root: Path) -> tuple[dict[str, Remote], str | None]:
    """All configured remotes (every config level merged) and the default's name.

    DVC's own reading of its config files, which costs importing dvc (0.15 s,
    most of a pull's start-up): its answer is kept in ``.git/mlver/cache/``
    for the exact content of the files it read (``_config_key``) and reused
    while they hold that content."""
    key = _config_key(root)
    cached = _cached_remotes(root, key) if key is not None else None
    if cached is not None:
        return cached
    from dvc.config import Config, ConfigError

    try:
        config = Config(dvc_dir=str(root / ".dvc"))
    except ConfigError as exc:
        raise DvcConfigInvalid(str(exc), ".dvc/config or .dvc/config.local") from exc
    found = {
        name: Remote(name, str(opts.get("url", "")), dict(opts))
        for name, opts in config.get("remote", {}).items()
    }
    default = config.get("core", {}).get("remote")
    # Kept only when DVC read those very files and they still hold what the key says.
    if key is not None and list(config.files.values()) == key["files"] and _config_key(root) == key:
        _cache_remotes(root, key, found, default)
    return found, default


# What decides which config files DVC reads (dvc.dirs: its variables, else
# platformdirs' XDG folders) and what a `~` in a remote's URL becomes.
_CONFIG_ENV = ("DVC_GLOBAL_CONFIG_DIR", "DVC_SYSTEM_CONFIG_DIR", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "HOME")
_REMOTES_CACHE = "dvc-remotes-2"
# Options that carry credentials: such a configuration is not copied into the cache.
_SECRETISH = re.compile(r"key|secret|pass|token|credential|sas|connection|auth|cert", re.I)


def _config_key(root: Path) -> dict[str, Any] | None:
    """What ``remotes(root)`` depends on: the variables above, the sha256 of
    each config file DVC reads (in its order: system, global, repo, local;
    None for one that does not exist), and the stat of the DVC code that
    parses them (an upgrade may read them differently). None when a file
    cannot be read or DVC is not where it was."""
    import hashlib
    import importlib.util

    from mlver.adapters import statcache

    spec = importlib.util.find_spec("dvc")
    if spec is None or not spec.submodule_search_locations:
        return None
    code = statcache.files_key([os.path.join(spec.submodule_search_locations[0], f)
                                for f in ("config.py", "config_schema.py")])
    if code is None:
        return None
    files = [str(p) for p in reversed(_config_files(root))]
    digests: list[str | None] = []
    for file in files:
        try:
            digests.append(hashlib.sha256(_config_bytes(root, Path(file))).hexdigest())
        except FileNotFoundError:
            digests.append(None)
        except OSError:
            return None
    return {"env": {v: os.environ.get(v) for v in _CONFIG_ENV}, "files": files, "sha256": digests, "code": code}


def _cached_remotes(root: Path, key: dict[str, Any]) -> tuple[dict[str, Remote], str | None] | None:
    from mlver.adapters import statcache

    doc = statcache.read(root, _REMOTES_CACHE)
    if not isinstance(doc, dict) or doc.get("key") != key:
        return None
    # The cache is a file anyone with the clone can edit: only the shape remotes() writes is read.
    found, default = doc.get("remotes"), doc.get("default")
    if not isinstance(found, dict) or not (default is None or isinstance(default, str)):
        return None
    out = {}
    for name, entry in found.items():
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
                and isinstance(entry[1], dict) and all(_plain(v) for v in entry[1].values())):
            return None
        out[name] = Remote(name, entry[0], entry[1])
    return out, default


def _plain(value: object) -> bool:
    return value is None or isinstance(value, (str, bool, int, float)) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value))


def _has_password(value: object) -> bool:
    """A URL with a password in it (``https://user:token@host/``), or what might be one."""
    from urllib.parse import urlsplit

    if not isinstance(value, str) or "@" not in value:
        return False
    try:
        return urlsplit(value).password is not None or ":" in value.partition("@")[0].rpartition("//")[2]
    except ValueError:
        return True


def _cache_remotes(root: Path, key: dict[str, Any], found: dict[str, Remote], default: str | None) -> None:
    import json

    from mlver.adapters import statcache

    if not all(_plain(v) for r in found.values() for v in r.options.values()) or any(
            _SECRETISH.search(k) or _has_password(v) for r in found.values() for k, v in r.options.items()):
        return
    entries = {name: [str(r.url), r.options] for name, r in found.items()}
    try:
        if json.loads(json.dumps(entries)) != entries:  # only what JSON gives back exactly
            return
    except (TypeError, ValueError):
        return
    statcache.write(root, _REMOTES_CACHE, {"key": key, "remotes": entries, "default": default})


def default_remote_name(root: Path) -> str | None:
    """The default remote's name without importing dvc (0.3 s): the first of
    DVC's config files that sets ``core.remote``, most specific first
    (config.local, config, global, system), as DVC's merge of the levels
    decides it; a file that is not plain INI is left to DVC."""
    import configparser

    for path in _config_files(root):
        try:
            text = _config_text(root, path)
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError):
            break
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(text)
        except configparser.Error:
            break  # not plain INI: let DVC read it
        # DVC lowercases section names too: `[CORE]` is core.
        core = [s for s in parser.sections() if s.strip().strip("'\"").lower() == "core"]
        if len(core) > 1:
            break
        if core and parser.has_option(core[0], "remote"):
            return parser.get(core[0], "remote").strip().strip("'\"") or None
    else:
        return None  # no level names one
    return remotes(root)[1]


def _config_bytes(root: Path, path: Path) -> bytes:
    """A DVC config file's bytes; the project's own two (a clone's: a link to
    /dev/zero, a pipe, a file out of the project) through ``repofile``, so
    that such a one is refused before DVC reads it (for ever)."""
    if path.parent == root / ".dvc":
        from mlver.adapters import repofile

        return repofile.read(root, f".dvc/{path.name}")
    return path.read_bytes()


def _config_text(root: Path, path: Path) -> str:
    return _config_bytes(root, path).decode()


def _config_files(root: Path) -> list[Path]:
    """DVC's config files, most specific first, where dvc.config puts them
    (dvc.dirs: the DVC_*_CONFIG_DIR variables, else platformdirs' folders)."""
    files = [root / ".dvc" / "config.local", root / ".dvc" / "config"]
    user = os.getenv("DVC_GLOBAL_CONFIG_DIR")
    site = os.getenv("DVC_SYSTEM_CONFIG_DIR")
    if not (user and site):
        import platformdirs

        user = user or platformdirs.user_config_dir("dvc", "iterative")
        site = site or platformdirs.site_config_dir("dvc", "iterative")
    return [*files, Path(user) / "config", Path(site) / "config"]


def set_remote(root: Path, name: str, url: str, level: str, default: bool,
               options: dict[str, str] | None = None) -> None:
    from dvc.config import Config, ConfigError

    from mlver.adapters.placement import uninterrupted

    config = Config(dvc_dir=str(root / ".dvc"))
    files = [root / ".dvc" / "config", root / ".dvc" / "config.local"]
    before = {f: f.read_bytes() if f.is_file() else None for f in files}
    # Ctrl-C waits for both files: stopped between them, .dvc/config named the new
    # default while config.local's old one still won on this machine (half a remote).
    # An error between or after them puts both back: each file can be valid alone
    # and the pair not (config.local's ssh keyfile for a remote now on s3).
    try:
        with uninterrupted():
            try:
                _write_remote(config, name, url, level, default, options)
                Config(dvc_dir=str(root / ".dvc"))  # DVC reads the files as one: both checked together
            except BaseException:
                _put_back(before)
                raise
    except ConfigError as exc:
        raise DvcRefusedRemote(name, str(exc)) from exc


def _write_remote(config: Any, name: str, url: str, level: str, default: bool, options: dict[str, str] | None) -> None:
    with config.edit(level) as conf:
        conf["remote"][name] = {"url": url, **(options or {})}
        if default:
            conf["core"]["remote"] = name
    if default and level == "repo" and config.load_one("local").get("core", {}).get("remote") not in (None, name):
        # config.local's default (e.g. mlver init's local remote) would
        # shadow the shared one on this machine; the user asked for this one.
        with config.edit("local") as conf:
            conf["core"]["remote"] = name


def _put_back(files: dict[Path, bytes | None]) -> None:
    """Each file as it was (absent: removed), switched in whole."""
    for path, content in files.items():
        if content is None:
            path.unlink(missing_ok=True)
            continue
        staged = path.with_name(f".{path.name}.mlver-restore")
        staged.write_bytes(content)
        os.replace(staged, path)


def remote_levels(root: Path) -> dict[str, str]:
    """Which config file defines each remote: "repo" (.dvc/config, shared in
    git), "local" (.dvc/config.local), "global" or "system"; the narrowest wins."""
    from dvc.config import Config, ConfigError

    try:
        config = Config(dvc_dir=str(root / ".dvc"))
        found: dict[str, str] = {}
        for level in ("system", "global", "repo", "local"):
            for name in config.load_one(level).get("remote", {}):
                found[name] = level
    except ConfigError as exc:
        raise DvcConfigInvalid(str(exc), ".dvc/config or .dvc/config.local") from exc
    return found


def own_endpoints(root: Path | None) -> set[str]:
    """Where the remotes this user configured send their credentials: the
    endpoint URLs (S3, gs) and the ssh hosts (``ssh_endpoint``) of every config
    level of the project at ``root``, or outside a project the global and system ones."""
    from dvc.config import Config, ConfigError

    try:
        config = Config(dvc_dir=str(root / ".dvc") if root and (root / ".dvc").is_dir() else None)
    except ConfigError:
        return set()
    found = set()
    for opts in config.get("remote", {}).values():
        if opts.get("endpointurl"):
            found.add(str(opts["endpointurl"]).rstrip("/"))
        if (host := ssh_endpoint(str(opts.get("url", "")), opts.get("port"))) is not None:
            found.add(host)
    return found


def ssh_endpoint(url: str, port: Any = None) -> str | None:
    """``ssh://host:port`` of an ssh remote's URL (port 22 unless the URL or
    ``port`` says otherwise), the form ``own_endpoints`` lists; None for another scheme."""
    from urllib.parse import urlsplit

    if not url.lower().startswith("ssh://"):
        return None
    try:
        parts = urlsplit(url)
        number = parts.port or int(port or 22)
    except ValueError:
        return None
    return f"ssh://{(parts.hostname or '').lower()}:{number}"


def remotes_in_text(text: str) -> tuple[dict[str, Remote], str | None]:
    """The remotes of one config file's content (e.g. ``.dvc/config`` at a
    commit of a repository we have no clone of), without importing dvc."""
    import configparser
    import re

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise DvcConfigInvalid(f"not valid INI: {exc}", ".dvc/config in that repository") from exc
    found = {}
    for section in parser.sections():
        match = re.fullmatch(r"""'?remote\s+"([^"]+)"'?""", section.strip())
        if match:
            opts = {k: v.strip().strip("'\"") for k, v in parser.items(section)}
            found[match.group(1)] = Remote(match.group(1), opts.get("url", ""), opts)
    default = parser.get("core", "remote", fallback="").strip().strip("'\"") or None
    return found, default


def remotes_over(root: Path, repo_text: str | None, local: bool = True) -> tuple[dict[str, Remote], str | None]:
    """The remotes as DVC would merge them if ``.dvc/config`` held
    ``repo_text`` (e.g. the base revision's, which a pull request cannot
    change): system, global, that text, then this machine's config.local."""
    from dvc.config import Config, ConfigError

    try:
        config = Config(dvc_dir=str(root / ".dvc"))
        levels = [config.load_one("system"), config.load_one("global")]
        if local:
            levels.append(config.load_one("local"))
    except ConfigError as exc:
        raise DvcConfigInvalid(str(exc), "~/.config/dvc/config or .dvc/config.local") from exc
    repo, repo_default = remotes_in_text(repo_text) if repo_text else ({}, None)
    sources = [(dict(level.get("remote", {})), level.get("core", {}).get("remote")) for level in levels]
    sources.insert(2, ({n: r.options for n, r in repo.items()}, repo_default))
    merged: dict[str, dict[str, Any]] = {}
    default = None
    for remotes_, core in sources:
        for name, opts in remotes_.items():
            merged.setdefault(name, {}).update(opts)
        default = core or default
    return {n: Remote(n, str(o.get("url", "")), o) for n, o in merged.items()}, default


def cache_dir(root: Path) -> Path:
    """The local cache's ``files/md5`` folder (DVC 3 layout)."""
    config = root / ".dvc" / "config"
    # The common case needs no dvc import: no custom cache dir configured.
    texts = [_config_text(root, p) for p in (config, root / ".dvc" / "config.local") if p.exists()]
    if not any("[cache]" in t for t in texts):
        return root / ".dvc" / "cache" / "files" / "md5"
    with _repo(root) as repo:
        return Path(repo.cache.local.path)



def parse_dir_manifest(content: bytes, where: str = "a directory manifest") -> list[tuple[str, str]]:
    """(relpath, md5) for every file of a ``.dir`` object, each relpath safe
    to join to the directory (see ``validate.check_manifest``)."""
    import json

    try:
        entries = json.loads(content)
        pairs = [(e["relpath"], e["md5"]) for e in entries]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ObjectCorrupt(where, ".dir object", "", "", "re-add the directory with `mlver data add`") from exc
    return validate.check_manifest(pairs, where)
