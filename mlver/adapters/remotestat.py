"""Which objects of local-directory remotes mlver has hashed, and their stat then.

A pull from a folder remote need not hash an object again when mlver
itself wrote it (a push, which hashed the bytes or copied a cache object
it knew) or verified it (an earlier pull) and its stat is still the one
recorded: (device, inode, size, mtime_ns, ctime_ns). Rewriting a file
changes its mtime; restoring the mtime (``os.utime``, ``touch -d``) moves
its ctime, which no user can set back; replacing it changes its inode.

The entries live in one small file per user and machine
(``$XDG_CACHE_HOME/mlver/remote-objects.json``), so what one clone
pushed another clone pulls without hashing. Keyed by the object's real
path: another remote (another path to the same file too) is hashed.

A stat is only recorded when no later change can leave it unchanged:

- after a pull's hash, when the object's last change (mtime, ctime) was
  ``RACY_S`` before the first look at it, and it kept the same stat
  throughout the copy;
- after a push, the staged file's mtime is set ``BACK_NS`` into the past
  before it is renamed into place (so any later write gives it a newer
  mtime), and the stat is taken at least ``BACK_NS`` after its ctime (so
  a later change gets a later ctime). A filesystem that does not keep
  that mtime to the nanosecond (coarse clocks) gets no entry.

The times compared are the local clock's and the file's: on a network
filesystem whose server stamps the times with another clock, a folder
remote's objects are better kept where DVC would hash them too.

The file is local state anyone with this account can edit, and may be
damaged: it is read only when it is a regular file owned by this user
and writable by no one else, up to ``MAX_BYTES``; an entry that is not
exactly what ``remember`` writes is ignored (the object is hashed).
Losing the file only makes the next pull slower.
"""
from __future__ import annotations

import json
import os
import re
import stat
import time
from pathlib import Path

FORMAT = 1
RACY_S = 2
BACK_NS = 40_000_000  # 40 ms: four ticks of the coarsest kernel clock (HZ=100) that stamps file times
MAX_ENTRIES = 4096
MAX_BYTES = 2 * 1024 * 1024
_MD5 = re.compile(r"[0-9a-f]{32}")



def store_file() -> str | None:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mlver", "remote-objects.json") if os.path.isabs(base) else None


def _key(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _valid(entry: object) -> bool:
    return (isinstance(entry, list) and len(entry) == 6 and all(type(n) is int and n >= 0 for n in entry[:5])
            and isinstance(entry[5], str) and _MD5.fullmatch(entry[5]) is not None)


def _load(path: str | None) -> dict[str, list]:
    if path is None:
        return {}
    from mlver.adapters import statcache

    fh = statcache.open_regular(path)  # (a regular file, not a symlink: a FIFO would block)
    if fh is None:
        return {}
    try:
        with fh:
            st = os.fstat(fh.fileno())
            if st.st_uid != os.getuid() or st.st_mode & 0o022 or st.st_size > MAX_BYTES:
                return {}
            doc = statcache.loads(fh.read(MAX_BYTES + 1))
    except OSError:
        return {}
    objects = doc.get("objects") if isinstance(doc, dict) and doc.get("format") == FORMAT else None
    if not isinstance(objects, dict):
        return {}
    return {k: v for k, v in objects.items() if isinstance(k, str) and _valid(v)}


class Ledger:
    """The entries of one command: look up, remember, save once (at the end of
    ``with Ledger() as ledger:``). The folder remotes a command opens hold it
    (``storage.LocalStore``): their writes are recorded in it, their reads consult it."""

    def __init__(self, path: str | None = None) -> None:
        self.path = store_file() if path is None else path
        self.entries = _load(self.path)
        self._set: dict[str, list | None] = {}
        self._pushed: list[tuple[str, str, os.stat_result]] = []
        # What reads did with large objects: copied on trust, or hashed (evidence for tests and benchmarks).
        self.counts = {"trusted": 0, "hashed": 0}

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.save()

    def trusts(self, name: str, md5: str, st: os.stat_result) -> bool:
        """Whether the object at real path ``name`` with stat ``st`` was hashed to ``md5`` with that stat."""
        entry = self.entries.get(name)
        return entry is not None and entry[:5] == _key(st) and entry[5] == md5

    def remember(self, name: str, md5: str, st: os.stat_result) -> None:
        entry = [*_key(st), md5]
        if self.entries.get(name) != entry:
            self.entries[name] = self._set[name] = entry

    def forget(self, name: str) -> None:
        if self.entries.pop(name, None) is not None:
            self._set[name] = None

    def verified(self, name: str, md5: str, before: os.stat_result, after: os.stat_result, looked_ns: int) -> None:
        """A pull hashed the object at ``name`` to ``md5``: its stat was ``before``
        at ``looked_ns`` (taken before that stat) and ``after`` once copied."""
        if (_key(before) == _key(after) and stat.S_ISREG(after.st_mode)
                and looked_ns - max(after.st_mtime_ns, after.st_ctime_ns) >= RACY_S * 1_000_000_000):
            self.remember(name, md5, after)
        else:
            self.forget(name)

    @staticmethod
    def backdate(staged: str) -> os.stat_result | None:
        """Before a push renames its staged object (a file of its own) into place: set
        its mtime ``BACK_NS`` into the past; its stat then, or None when the
        filesystem did not keep that time exactly (then nothing is recorded)."""
        now = time.time_ns()
        try:
            os.utime(staged, ns=(now, now - BACK_NS))
            st = os.stat(staged)
        except OSError:
            return None
        return st if st.st_mtime_ns == now - BACK_NS else None

    def pushed(self, name: str, md5: str, staged: os.stat_result) -> None:
        """A push installed object ``md5`` at ``name``, whose staged file had stat ``staged`` (see ``backdate``)."""
        self._pushed.append((name, md5, staged))

    def save(self) -> None:
        if self._pushed:
            self._seal_pushed()
        if not self._set or self.path is None:
            return
        from mlver.adapters.atomic import write_bytes

        entries = _load(self.path)  # what other commands recorded meanwhile
        for name, entry in self._set.items():
            entries.pop(name, None)
            if entry is not None:
                entries[name] = entry  # (last: the newest are kept when the file is full)
        kept = dict(list(entries.items())[-MAX_ENTRIES:])
        try:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            # 0600 before it is in place: open()'s mode first, even for a moment, would let
            # whoever the umask lets write (its group) open it and write entries later.
            write_bytes(Path(self.path), json.dumps({"format": FORMAT, "objects": kept}, separators=(",", ":")).encode(),
                        0o600)
        except OSError:
            pass  # a read-only or full disk: correct, only slower next time
        self._set.clear()

    def _seal_pushed(self) -> None:
        pushed, self._pushed = self._pushed, []
        for name, md5, staged in pushed:
            try:
                looked, st = time.time_ns(), os.stat(name)
                if looked - st.st_ctime_ns < BACK_NS:
                    # Looked at too soon after its last change for a later one to show:
                    # once per push in practice (its last object), at most BACK_NS.
                    time.sleep((st.st_ctime_ns + BACK_NS - looked) / 1e9)
                    looked, st = time.time_ns(), os.stat(name)
            except OSError:
                continue
            if (stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
                    == (staged.st_dev, staged.st_ino, staged.st_size, staged.st_mtime_ns)):
                self.remember(name, md5, st)
            else:
                self.forget(name)

