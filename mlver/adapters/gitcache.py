"""Facts derived from git objects, kept in this clone's ``.git/mlver/cache``.

Only what an object id decides goes in: "blob X is a record with digest
D", "tag object T says this", "commit C was made at time t". An id names
its content, so such a fact cannot go stale and nobody who can push can
make it lie. Facts about history (what a commit's ancestors changed) also
depend on the shallow boundary, grafts and replace refs: each cache file
carries a stamp of that context (``git.history_context``) and of the code
that computed it (``code_stamp``); any difference or a damaged file starts
the cache afresh. Never pushed, never read from the tree.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

CACHE_DIR = "mlver/cache"
_FORMAT = 1


def code_stamp(*files: str | Path | None) -> str:
    """The rules that produced the facts: mlver's version and the source
    ``files`` (of the modules whose checks are cached), so a changed check is
    never skipped by a fact the old code wrote."""
    import mlver

    digest = hashlib.sha256(str(getattr(mlver, "__version__", "")).encode())
    for file in files:
        try:
            digest.update(Path(str(file)).read_bytes())
        except OSError:
            digest.update(str(file).encode())
    return digest.hexdigest()[:16]


def path(root: Path, name: str) -> Path:
    from mlver.adapters import git

    return git.private_path(root, f"{CACHE_DIR}/{name}.json")


def load(file: Path, stamp: str) -> dict[str, Any]:
    """The cached tables of ``file``; empty when missing, damaged, or written
    under another ``stamp`` (code version and history context)."""
    from mlver.adapters import statcache

    doc = statcache.loads(statcache.read_bytes(file))
    if (not isinstance(doc, dict) or doc.get("format") != _FORMAT or doc.get("stamp") != stamp
            or not isinstance(doc.get("tables"), dict)):
        return {}
    return {k: v for k, v in doc["tables"].items() if isinstance(v, dict)}


def save(file: Path, tables: dict[str, Any], stamp: str) -> None:
    """Replace ``file`` atomically; a clone we cannot write to is only slower."""
    from mlver.adapters.atomic import write_bytes

    doc = {"format": _FORMAT, "stamp": stamp, "tables": tables}
    try:
        write_bytes(file, json.dumps(doc, separators=(",", ":")).encode())
    except OSError:
        pass


_BLOB_MD5 = "blob-md5"
_BLOB_STAMP = "md5 and size of a blob's own content (no replace refs) 1"
_BLOB_KEPT = 4096  # a model's blobs over its history; the oldest go first
_MD5 = re.compile("[0-9a-f]{32}")


def blob_md5(root: Path, oid: str, size: int | None = None) -> tuple[str, int] | None:
    """(md5, size) of blob ``oid`` (a model committed to git), hashed once per
    clone: the id names the content, so the fact cannot go stale. A cached
    entry that is not an md5 and a size, or not the ``size`` git gives the
    blob (a damaged cache file), is hashed again."""
    from mlver.adapters import git

    file = path(root, _BLOB_MD5)
    table = load(file, _BLOB_STAMP).get("md5", {})
    entry = table.get(oid)
    if (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str) and _MD5.fullmatch(entry[0])
            and type(entry[1]) is int and entry[1] >= 0 and size in (None, entry[1])):
        return entry[0], entry[1]
    found = git.blob_md5(root, oid)
    if found is not None:
        table.pop(oid, None)
        table[oid] = list(found)
        kept = dict(list(table.items())[-_BLOB_KEPT:])
        save(file, {"md5": kept}, _BLOB_STAMP)
    return found
