"""Writing files so that a crash leaves the old file or the new one, never half.

mkstemp creates files readable by their owner only; every file we put in
place gets the mode a plain open() would have given it (0666 less umask).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_mode() -> int:
    return 0o666 & ~_umask()


def temp_beside(path: Path) -> tuple[int, str]:
    """A temporary file in ``path``'s folder (same filesystem: rename is atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".mlver-tmp", dir=path.parent)


def write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, default_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode())
