"""The end of every download: what arrived becomes the object only if it is.

Each transport streams an object into a temporary file of its own (a local
copy, one S3 GET, a DVC filesystem's reader), hashing the bytes on the way;
``settle`` is the one step after that, for all of them: the temporary file
is renamed onto its destination when its md5 is the object's name, and is
removed otherwise, so a corrupt or truncated object never lands anywhere.
The caller names a mismatch in its own terms (which remote, which version).
"""
from __future__ import annotations

import hashlib
import os
import queue
import threading
from pathlib import Path

from mlver.adapters.atomic import default_mode

# Blocks handed to a Md5Beside and not hashed yet, at most: what it holds in memory is this many blocks.
DEPTH = 3


class Md5Beside:
    """The md5 of the blocks given to ``update``, computed on a thread of its
    own, in order: hashlib lets go of the GIL over a large buffer, so the hash
    of one block runs on the second core while the transport receives and
    writes the next (a download of 512 MiB spends ~0.7 s of CPU in md5 alone,
    as long as the receiving and writing together). ``update`` blocks while
    ``DEPTH`` blocks wait, so memory stays bounded; ``hexdigest`` ends the
    thread, as ``close`` does on the way out of a failed download. The blocks
    must not change after they are given (bytes do not)."""

    def __init__(self) -> None:
        self._digest = hashlib.md5()
        self._blocks: queue.Queue[bytes | None] = queue.Queue(DEPTH)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="mlver-md5", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (block := self._blocks.get()) is not None:
            if self._error is None:
                try:
                    self._digest.update(block)
                except BaseException as exc:  # (MemoryError): told by hexdigest; the blocks are still taken
                    self._error = exc

    def update(self, block: bytes) -> None:
        self._blocks.put(block)

    def close(self) -> None:
        if self._thread.is_alive():
            self._blocks.put(None)
            self._thread.join()

    def hexdigest(self) -> str:
        self.close()
        if self._error is not None:
            raise self._error
        return self._digest.hexdigest()


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
