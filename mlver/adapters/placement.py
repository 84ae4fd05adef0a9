"""Putting verified files and directories in place: the filesystem mechanics.

Temporary files never live inside a folder the user tracks: a run stages
what it writes in one scratch folder of its own, under ``.dvc/tmp/mlver/``
when that is on the destination's filesystem (so the final rename is
atomic), else in a hidden folder beside the destination. A scratch folder is
named after its process, so a later run removes those a killed run left
(and the ``.NAME.XXXX.mlver-tmp`` files older mlver versions left beside
destinations). A directory is staged whole and switched with one
``renameat2(RENAME_EXCHANGE)``, so a reader sees the old tree or the new
one, never a mix.
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import signal
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlver.domain.validate import through_symlink
from mlver.errors import DiskFull

SCRATCH_ROOT = ".dvc/tmp/mlver/place"
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine is running (anyone's)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _owner(name: str) -> int | None:
    """The pid a scratch name carries (``mlver-<pid>-<token>``), None for other names."""
    parts = name.split("mlver-", 1)[-1].split("-")
    return int(parts[0]) if len(parts) >= 2 and parts[0].isdigit() else None


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass  # a sweep is best effort: the next run tries again


def sweep_folder(folder: Path) -> None:
    """Remove what dead runs left in a scratch root (entries named ``mlver-<pid>-...``)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        pid = _owner(name)
        if pid is not None and not alive(pid):
            _remove(folder / name)


# A shared store's staging entry untouched this long is abandoned, wherever its run was.
STALE_S = 24 * 3600
_TAG: list[str] = []


def run_tag() -> str:
    """8 hex digits naming this machine, its boot and its pid namespace: a pid in
    a name that carries them can be checked here (elsewhere, it names another process)."""
    if not _TAG:
        import hashlib
        import socket

        parts = [socket.gethostname()]
        try:
            with open("/proc/sys/kernel/random/boot_id") as fh:
                parts.append(fh.read().strip())
        except OSError:
            parts.append("")
        try:
            parts.append(os.readlink("/proc/self/ns/pid"))
        except OSError:
            parts.append("")
        _TAG.append(hashlib.blake2b("\0".join(parts).encode(), digest_size=4).hexdigest())
    return _TAG[0]


def shared_token() -> str:
    """``mlver-<pid>-<run_tag><random>``: a name for what this run stages where others may stage too."""
    return f"mlver-{os.getpid()}-{run_tag()}{secrets.token_hex(4)}"


def _mine(path: Path) -> bool:
    try:
        return os.lstat(path).st_uid == os.geteuid()
    except OSError:
        return False


def _untouched(path: Path, seconds: float) -> bool:
    """Whether nothing was written to ``path`` (nor, for a folder, to what it holds) for ``seconds``."""
    import time

    try:
        st = os.lstat(path)
        newest = st.st_mtime
        if stat.S_ISDIR(st.st_mode):
            with os.scandir(path) as entries:
                newest = max([newest, *(e.stat(follow_symlinks=False).st_mtime for e in entries)])
    except OSError:
        return False
    return time.time() - newest > seconds


def sweep_shared(folder: Path) -> None:
    """Remove what dead runs left in a folder other runs may be writing in (a cache
    or remote's ``mlver-tmp``, shared by its users, and by this user's runs on other
    hosts over a network filesystem): only this user's entries, and only those
    provably abandoned: named by a run of this machine whose pid is gone, or,
    named elsewhere (another host, a container, an older mlver), untouched for
    STALE_S. A pid from elsewhere says nothing here."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if _abandoned_run(folder / name, name):
            _remove(folder / name)


def _abandoned_run(path: Path, name: str) -> bool:
    """Whether ``path``, named ``mlver-<pid>-<token>...``, is this user's and
    provably abandoned: its run was of this machine and its pid is gone, or,
    named elsewhere (another host, a container, an older mlver), it is
    untouched for STALE_S. A pid from elsewhere says nothing here."""
    pid = _owner(name)
    if pid is None or not _mine(path):
        return False
    fields = name.split("mlver-", 1)[-1].split("-")
    here = len(fields[1]) == 16 and fields[1][:8] == run_tag()  # (an older mlver's name has 8 random digits there)
    return (not alive(pid)) if here else _untouched(path, STALE_S)


def sweep_beside(dest: Path) -> None:
    """Remove what a dead run left next to ``dest`` (``leftover``): the folder
    is the user's, so nothing else is touched, however much its name looks like ours."""
    parent, prefix = dest.parent, f".{dest.name}."
    try:
        names = [n for n in os.listdir(parent) if n.startswith(prefix)]
    except OSError:
        return
    for name in names:
        if leftover(parent / name):
            _remove(parent / name)


_SCRATCH_BESIDE = re.compile(r"\..+\.(mlver-[0-9]+-[0-9a-f]{8}(?:[0-9a-f]{8})?)")
_OLD_TEMP = re.compile(r"\..+\.(?:[^.]+\.mlver-tmp|mlver-old)")


def leftover(path: Path) -> bool:
    """Whether ``path``, in a user's folder, is what a dead mlver run left there:
    a scratch folder of this version (``.NAME.mlver-<pid>-<token>``, a folder,
    this user's, its run provably gone: ``_abandoned_run``), or an older
    version's ``.NAME.XXXX.mlver-tmp`` or ``.NAME.mlver-old`` (no pid to ask:
    this user's, untouched for STALE_S; a younger one may be a run's at work).
    A user's own file whose name merely looks like ours is none of these."""
    name = path.name
    if (scratch := _SCRATCH_BESIDE.fullmatch(name)) is not None:
        try:
            is_dir = stat.S_ISDIR(os.lstat(path).st_mode)
        except OSError:
            return False
        return is_dir and _abandoned_run(path, scratch.group(1))
    return _OLD_TEMP.fullmatch(name) is not None and _mine(path) and _untouched(path, STALE_S)


def sweep_old_temps(folder: Path) -> None:
    """Remove the ``.NAME.XXXX.mlver-tmp`` files left beside objects in a store
    (older versions' downloads; ``data add`` writes one there before its rename):
    they carry no pid, so only this user's, untouched for STALE_S. Another
    user's, or one being written, is not a leftover."""
    try:
        names = [n for n in os.listdir(folder) if n.startswith(".") and n.endswith(".mlver-tmp")]
    except OSError:
        return
    for name in names:
        if _mine(folder / name) and _untouched(folder / name, STALE_S):
            _remove(folder / name)


def _device(path: Path) -> int | None:
    while True:
        try:
            return os.stat(path).st_dev
        except FileNotFoundError:
            if path.parent == path:
                return None
            path = path.parent
        except OSError:
            return None


class Scratch:
    """One run's staging area: a folder per filesystem, each removed at the end."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.token = shared_token()  # (its run tag: a sweep beside a destination can ask its pid)
        self._folders: dict[int | None, Path] = {}
        self._beside: list[Path] = []
        self._lock = threading.Lock()
        self._n = 0
        self._home_dev: int | None = None
        # Not through a symlink (a commit can carry one into .dvc/tmp): the files would be
        # staged, and dead runs' leftovers swept, in a folder outside the project.
        if root is not None and (root / ".dvc").is_dir() and not through_symlink(root, SCRATCH_ROOT):
            home = root / SCRATCH_ROOT
            try:
                home.mkdir(parents=True, exist_ok=True)
                sweep_folder(home)
                self._home_dev = os.stat(home).st_dev
            except OSError:
                self._home_dev = None

    def folder_for(self, dest: Path) -> Path:
        """A folder on ``dest``'s filesystem for staging it (created on first use)."""
        dev = _device(dest.parent)
        with self._lock:
            if dev in self._folders:
                return self._folders[dev]
            if self.root is not None and dev is not None and dev == self._home_dev:
                folder = self.root / SCRATCH_ROOT / self.token
            else:
                folder = dest.parent / f".{dest.name}.{self.token}"
            folder.mkdir(parents=True, exist_ok=True)
            self._folders[dev] = folder
            return folder

    def new_path(self, dest: Path) -> Path:
        """A fresh name in the scratch folder for ``dest``'s filesystem."""
        folder = self.folder_for(dest)
        with self._lock:
            self._n += 1
            return folder / f"{self._n}-{dest.name[:100]}"

    def close(self) -> None:
        for folder in self._folders.values():
            shutil.rmtree(folder, ignore_errors=True)
        self._folders.clear()


@contextmanager
def scratch(root: Path | None) -> Iterator[Scratch]:
    area = Scratch(root)
    try:
        yield area
    finally:
        area.close()


def copy_file(src: Path, dst: Path) -> int:
    """Copy bytes in the kernel (``copy_file_range``: a reflink where the
    filesystem shares extents); returns the size. ``dst`` is new."""
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        size = os.fstat(fin.fileno()).st_size
        done = 0
        try:
            while done < size:
                n = os.copy_file_range(fin.fileno(), fout.fileno(), size - done)
                if n == 0:
                    break
                done += n
        except OSError as exc:
            if exc.errno in _FULL:
                raise
            fin.seek(done)
            fout.seek(done)
            shutil.copyfileobj(fin, fout, 1024 * 1024)
            done = fout.tell()
    return done


_RENAMEAT2: list[Any] = []  # [the libc function or None], looked up once


def _renameat2() -> Any:
    if not _RENAMEAT2:
        try:
            import ctypes

            fn = ctypes.CDLL(None, use_errno=True).renameat2
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            _RENAMEAT2.append(fn)
        except (OSError, AttributeError):
            _RENAMEAT2.append(None)  # not glibc 2.28+: two renames instead
    return _RENAMEAT2[0]


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the system cannot (then nothing changed)."""
    fn = _renameat2()
    if fn is None:
        return False
    import ctypes

    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def switch(staged: Path, dest: Path) -> Path | None:
    """Put ``staged`` at ``dest``; returns where the old ``dest`` went (inside
    the scratch folder, removed with it), None when there was none."""
    if not os.path.lexists(dest):
        os.rename(staged, dest)
        return None
    if exchange(staged, dest):
        return staged
    # No atomic exchange here: two renames, the gap between them is a few microseconds.
    old = staged.with_name(staged.name + ".old")
    os.rename(dest, old)
    os.rename(staged, dest)
    return old


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold SIGINT/SIGTERM for a few renames, so a Ctrl-C cannot land between
    the switch of one destination and the next (delivered right after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def disk_full(exc: OSError, path: Path, where: str) -> DiskFull | None:
    """The clean error for a full disk (or a file-size limit), None for other errors."""
    if exc.errno not in _FULL:
        return None
    return DiskFull(str(path), where, exc.strerror or str(exc))
