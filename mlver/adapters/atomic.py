"""Writing files so that a crash leaves the old file or the new one, never half.

mkstemp creates files readable by their owner only; every file we put in
place gets the mode a plain open() would have given it (0666 less umask).
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

_UMASK: list[int] = []  # [the process's umask], read once


def umask() -> int:
    """The process's umask, read once: os.umask can only read it by setting it,
    and a file another thread creates in between would get mode 0666 (S3
    transfers write on threads). Linux says it in /proc without setting it."""
    if not _UMASK:
        try:
            with open("/proc/self/status", "rb") as fh:
                mask = next((int(line[6:], 8) for line in fh if line.startswith(b"Umask:")), None)
        except (OSError, ValueError):
            mask = None
        if mask is None:  # not Linux: the first call comes before any transfer thread
            mask = os.umask(0o077)
            os.umask(mask)
        _UMASK.append(mask)
    return _UMASK[0]


def default_mode() -> int:
    """The mode open() gives a new file: 0666 less the umask."""
    return 0o666 & ~umask()


def temp_beside(path: Path) -> tuple[int, str]:
    """A temporary file in ``path``'s folder (same filesystem: rename is atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".mlver-tmp", dir=path.parent)


@contextmanager
def replacing(path: Path, mode: int | None = None) -> Iterator[Path]:
    """A temporary file beside ``path`` for a writer that wants a file name
    (matplotlib, joblib, skops): what it holds when the block ends replaces
    ``path`` in one rename, with open()'s mode (or ``mode``, which it has
    from the moment it is in place); after an error, nothing does."""
    fd, tmp = temp_beside(path)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, default_mode() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes, mode: int | None = None) -> None:
    with replacing(path, mode) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode())


class Snapshot:
    """The bytes of files (paths relative to ``root``) before a command writes
    them, put back if it fails; a file that did not exist is removed again.
    The one way mlver undoes what a failed command wrote (git's refs are
    put back by ``git.restore_head``)."""

    def __init__(self, root: Path, paths: Iterable[str]) -> None:
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
                target.write_bytes(content)  # in place: the file keeps its mode


def temp_folder_beside(path: Path) -> Path:
    """A new private folder beside ``path`` (same filesystem), to build a
    folder's new content in before ``replace_folder`` puts it in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".mlver-tmp", dir=path.parent))


def replace_folder(built: Path, path: Path) -> None:
    """Put the folder ``built`` (from ``temp_folder_beside``) where ``path`` is,
    as a pull switches a directory in (``placement.switch``: one rename, or
    one atomic exchange with the old folder, which is then removed), so a
    reader sees the old content or the new, never a mix. A file at ``path``
    is refused (NotADirectoryError): only a folder is replaced by a folder."""
    import errno
    import shutil

    from mlver.adapters.placement import switch

    os.chmod(built, 0o777 & ~umask())  # mkdtemp's folder is the owner's only
    if os.path.lexists(path) and not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
    old = switch(built, path)
    if old is not None and old.is_symlink():  # ``path`` was a link to a folder: the link is replaced
        old.unlink()
    elif old is not None:
        shutil.rmtree(old, ignore_errors=True)
