"""md5 of workspace files, re-hashed only when their stat changed.

Like git's index and DVC's state database: an entry is (size, mtime_ns,
inode) -> md5, kept in DVC's untracked tmp folder. A file modified within
the mtime granularity of its last hash could keep its stat, so entries
younger than a few seconds are not trusted (git's "racy" rule).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

CACHE_FILE = ".dvc/tmp/mlver/md5s.json"
_RACY_S = 2.0


def _load(root: Path) -> dict[str, list]:
    try:
        doc = json.loads((root / CACHE_FILE).read_text())
    except (OSError, ValueError):
        return {}  # no cache yet, or a damaged one: hash again
    return doc if isinstance(doc, dict) else {}


def md5s(root: Path, paths: list[str]) -> dict[str, str | None]:
    """Each path's md5, None for a path that is not a regular file."""
    from mlver.adapters.atomic import write_text
    from mlver.adapters.storage import md5_file

    cache = _load(root)
    found: dict[str, str | None] = {}
    changed = False
    now = time.time()
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
        key = [st.st_size, st.st_mtime_ns, st.st_ino]
        entry = cache.get(path)
        if isinstance(entry, list) and len(entry) == 4 and entry[:3] == key and isinstance(entry[3], str):
            found[path] = entry[3]
            continue
        found[path] = md5_file(target)
        if now - st.st_mtime > _RACY_S:
            cache[path] = [*key, found[path]]
            changed = True
    if changed and (root / ".dvc").is_dir():  # never create a .dvc folder in a plain git repository
        try:
            write_text(root / CACHE_FILE, json.dumps(cache, sort_keys=True))
        except OSError:
            pass  # a read-only checkout: correct, only slower next time
    return found
