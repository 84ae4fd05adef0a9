"""md5 of workspace files and cache objects, re-hashed only when their stat changed.

Like git's index and DVC's state database: an entry is (size, mtime_ns,
inode, ctime_ns) -> md5, kept in DVC's untracked tmp folder. A file
modified within the mtime granularity of its last hash could keep its stat,
so entries younger than a few seconds are not trusted (git's "racy" rule);
files mlver places itself get an mtime in the past, so a later write always
changes it. The ctime cannot be set back by a user (``touch -d`` moves it
forward), so restoring an edited file's mtime does not fool the cache.
Keys are paths relative to the project, or absolute for a cache outside it.
"""
from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

CACHE_FILE = ".dvc/tmp/mlver/md5s.json"
_RACY_S = 2.0


def _elsewhere(root: Path) -> bool:
    """Whether the cache's folder is reached through a symlink (a commit can carry
    one into .dvc/tmp): entries read from, and written to, a folder outside the project."""
    from mlver.domain.validate import through_symlink

    return through_symlink(root, os.path.dirname(CACHE_FILE))


def _load(root: Path) -> dict[str, list]:
    from mlver.adapters import statcache

    if _elsewhere(root):
        return {}

    # No cache yet, a damaged one or something else in its place (.dvc/tmp is in the tree): hash again.
    doc = statcache.loads(statcache.read_bytes(root / CACHE_FILE))
    return doc if isinstance(doc, dict) else {}


def _key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]


def _save(root: Path, cache: dict[str, list]) -> None:
    from mlver.adapters.atomic import write_text

    if (root / ".dvc").is_dir() and not _elsewhere(root):  # never create a .dvc folder in a plain git repository
        try:
            write_text(root / CACHE_FILE, json.dumps(cache, sort_keys=True, separators=(",", ":")))
        except OSError:
            pass  # a read-only checkout or a full disk: correct, only slower next time


def _normal(rel: str) -> bool:
    """A relative POSIX path pathlib would spell the same (no empty or '.' parts)."""
    parts = rel.split("/")
    return os.sep == "/" and bool(rel) and "" not in parts and "." not in parts


def _name(root: Path, path: str | Path) -> str:
    text = os.fspath(path)
    if not os.path.isabs(text):
        return text if _normal(text) else Path(text).as_posix()
    top = os.fspath(root)
    top = top if top.endswith(os.sep) else top + os.sep
    if text.startswith(top):  # the common case, without pathlib per file
        rest = text[len(top):]
        if _normal(rest):
            return rest
    try:
        return Path(text).relative_to(root).as_posix()
    except ValueError:
        return text


class Known:
    """The entries of one run: look up many files, remember what was written, save once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache = _load(root)
        self.changed = False

    def md5(self, path: str | Path, st: os.stat_result | None = None) -> str | None:
        """The md5 recorded for ``path`` if its stat still matches, else None (hash it)."""
        try:
            st = st or os.lstat(os.path.join(self.root, path))
        except OSError:
            return None
        return self.lookup(_name(self.root, path), st)

    def lookup(self, name: str, st: os.stat_result) -> str | None:
        """The md5 recorded under ``name`` (a key as ``_name`` makes it) if ``st`` still matches.
        Only a regular file's stat vouches for bytes: a symlink's lstat stays the same
        while the file it points to changes."""
        entry = self.cache.get(name)
        if (stat.S_ISREG(st.st_mode) and isinstance(entry, list) and len(entry) == 5 and entry[0] == st.st_size and entry[1] == st.st_mtime_ns
                and entry[2] == st.st_ino and entry[3] == st.st_ctime_ns and isinstance(entry[4], str)):
            return entry[4]
        return None

    def remember(self, path: str | Path, md5: str, st: os.stat_result | None = None) -> None:
        try:
            st = st or os.lstat(os.path.join(self.root, path))
        except OSError:
            return
        if not stat.S_ISREG(st.st_mode):
            return  # (see lookup)
        entry, name = [*_key(st), md5], _name(self.root, path)
        if self.cache.get(name) != entry:
            self.cache[name] = entry
            self.changed = True

    def forget(self, path: str | Path) -> None:
        if self.cache.pop(_name(self.root, path), None) is not None:
            self.changed = True

    def save(self) -> None:
        if self.changed:
            _save(self.root, self.cache)
            self.changed = False


def md5s(root: Path, paths: list[str]) -> dict[str, str | None]:
    """Each path's md5, None for a path that is not a regular file."""
    from mlver.adapters.storage import md5_file

    known = Known(root)
    found: dict[str, str | None] = {}
    now = time.time_ns()
    for path in dict.fromkeys(paths):
        target = root / path
        try:
            st = target.stat()
        except OSError:
            found[path] = None
            continue
        if not target.is_file():
            found[path] = None
            continue
        hit = known.md5(path, st)
        if hit is not None:
            found[path] = hit
            continue
        found[path] = md5_file(target)
        # Its last change by ctime too: ``cp -p``, ``rsync -t`` or ``touch -d`` put an old mtime
        # on new bytes, and a write in the same ctime tick (a second on some filesystems) would
        # leave the whole stat as it was.
        if now - max(st.st_mtime_ns, st.st_ctime_ns) > _RACY_S * 1_000_000_000:
            known.remember(path, found[path] or "", st)
    known.save()
    return found
