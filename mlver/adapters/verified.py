"""The end of every download: what arrived becomes the object only if it is.

Each transport streams an object into a temporary file of its own (a local
copy, one S3 GET, a DVC filesystem's reader), hashing the bytes on the way;
``settle`` is the one step after that, for all of them: the temporary file
is renamed onto its destination when its md5 is the object's name, and is
removed otherwise, so a corrupt or truncated object never lands anywhere.
The caller names a mismatch in its own terms (which remote, which version).
"""
from __future__ import annotations

import os
from pathlib import Path

from mlver.adapters.atomic import default_mode


def expected(md5: str) -> str:
    """The md5 an object named ``md5`` hashes to (a directory's manifest is named ``<md5>.dir``)."""
    return md5.removesuffix(".dir")


def settle(tmp: Path | str, dst: Path | str, got: str, md5: str, mode: int | None = None) -> str:
    """Rename ``tmp`` (the bytes that arrived, hashing to ``got``) onto ``dst``
    with ``mode`` (default: what open() gives a new file) when they are
    object ``md5``; else remove ``tmp`` and leave ``dst`` as it was.
    Returns ``got``, which the caller compares with ``expected(md5)``."""
    try:
        if got != expected(md5):
            os.unlink(tmp)
            return got
        os.chmod(tmp, default_mode() if mode is None else mode)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return got
