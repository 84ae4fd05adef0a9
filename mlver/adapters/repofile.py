"""Reading a file of the work tree that the repository carries (params and
metrics files, dvc.yaml, GTO's artifacts.yaml, mlver.yaml): a clone or a pull
request can make it anything. It must be a regular file (a link to /dev/zero,
or a pipe, is read for ever), inside the project once its symlinks are
resolved (a link to someone's credentials would go into a record, committed
and pushed), and of a size a real one has (a 1 GB params file took minutes
and gigabytes to parse)."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from mlver.errors import InputTooLarge, UnsafePath, UntrustedInput

MAX_BYTES = 64 * 1024 * 1024  # as a record (domain/validate.py): no file mlver reads this way is near it


def read(root: Path, relpath: str, where: str | None = None) -> bytes:
    """The bytes of ``root/relpath``; FileNotFoundError when there is none (the
    caller says what that means), else refused: UnsafePath, InputTooLarge or
    UntrustedInput, naming ``where`` (default: the path)."""
    where = where or relpath
    path = os.path.join(root, relpath)
    base, real = os.path.realpath(root), os.path.realpath(path)
    if os.path.commonpath([base, real]) != base:
        raise UnsafePath("path", relpath, where, f"it resolves outside the project (to {real})",
                         f"make {relpath} a file of the project, not a link out of it")
    # O_NONBLOCK: opening a pipe does not wait for a writer that may never come.
    fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            what = ("it is a folder, not a file" if stat.S_ISDIR(st.st_mode)
                    else "it is not a regular file (a pipe or a device: its reading would not end)")
            raise UntrustedInput("file", relpath, where, what, f"make {relpath} a plain file")
        limit = MAX_BYTES
        data = _read_upto(fd, limit + 1) if st.st_size <= limit else b""
        if st.st_size > limit or len(data) > limit:
            raise InputTooLarge("size", f"{max(st.st_size, len(data)):,} bytes", where,
                                f"mlver reads at most {limit:,} bytes here", f"make {relpath} smaller")
        return data
    finally:
        os.close(fd)


def read_text(root: Path, relpath: str, where: str | None = None) -> str:
    return read(root, relpath, where).decode("utf-8", errors="replace")


def _read_upto(fd: int, n: int) -> bytes:
    parts: list[bytes] = []
    while n > 0:
        part = os.read(fd, min(n, 1024 * 1024))
        if not part:
            break
        parts.append(part)
        n -= len(part)
    return b"".join(parts)
