"""Small caches of what mlver derives from files, kept in this clone's git
directory (``.git/mlver/cache/``: never part of the tree, never pushed).

An entry is only ever used for the exact input it was derived from: it is
keyed by the input's (size, mtime_ns, ctime_ns, inode, device), or by the
input itself. A file changed within the last ``RACY_S`` seconds is not
cached, because a second write in the same clock tick may leave size and
times unchanged (git's "racily clean" problem). Losing the cache, or not
being able to write it, only makes the next command slower.
"""
from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

RACY_S = 2
FORMAT = 1
# A cache file larger than this is not read (a first verify's facts at 100,000 versions: ~90 MB).
MAX_BYTES = 1 << 30


def open_regular(path: Path | str, binary: bool = True) -> IO[Any] | None:
    """``path`` opened for reading when it is a regular file of at most
    ``MAX_BYTES``, else None. A cache is only ever written by a rename, so
    anything else in its place was planted (a checkout can bring a symlink
    into ``.dvc/tmp``): a FIFO would block the command, a link to /dev/zero
    fill its memory. O_NONBLOCK: opening a FIFO does not wait for a writer."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_size <= MAX_BYTES:
            # Text: lines end at "\n" only (universal newlines would end one at a "\r" a value holds).
            return os.fdopen(fd, "rb") if binary else open(fd, encoding="utf-8", errors="replace", newline="\n")
    except OSError:
        pass
    os.close(fd)
    return None


def read_bytes(path: Path | str) -> bytes | None:
    """The content of the regular file ``path`` (see ``open_regular``), or None."""
    fh = open_regular(path)
    if fh is None:
        return None
    try:
        with fh:
            return read_upto(fh, MAX_BYTES)
    except OSError:
        return None


def read_upto(fh: IO[bytes], limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of ``fh`` (the caller refuses a longer one),
    allocating what the file holds: ``read(n)`` allocates n bytes at once,
    so reading a 500-byte cache with a 1 GiB bound took 1 GiB for a moment."""
    try:
        size = os.fstat(fh.fileno()).st_size
    except (OSError, ValueError):
        size = limit
    want = min(size, limit) + 1
    data = fh.read(want)
    if len(data) < want or want > limit:
        return data
    parts, got = [data], len(data)  # longer than its size says (growing, or a device): on, a MiB at a time
    while got <= limit and (chunk := fh.read(min(1 << 20, limit + 1 - got))):
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def loads(raw: bytes | str | None) -> Any:
    """The JSON document ``raw``, or None when it is not one (damaged, or
    nested too deep for the parser: RecursionError, not ValueError)."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def git_dir(root: Path) -> Path | None:
    """The repository's git directory without running git: ``.git`` itself,
    or the folder a ``.git`` file (a worktree, a submodule) names."""
    dot = Path(root) / ".git"
    try:
        if dot.is_dir():
            return dot
        text = dot.read_text(errors="replace").strip()
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    target = Path(text[len("gitdir:"):].strip())
    target = target if target.is_absolute() else Path(root) / target
    return target if target.is_dir() else None


def stat_key(path: Path) -> list[int] | None:
    """What a file's cached derivation is keyed by; None when it is missing or
    too recently changed to be told apart from its next change."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) < RACY_S * 1_000_000_000:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def files_key(paths: list[str]) -> list[list[int]] | None:
    """``stat_key`` of each of ``paths``, ``[]`` for one that does not exist (its
    creation changes the key); None when one cannot be told apart from its
    next change (too recent) or cannot be looked at."""
    keys: list[list[int]] = []
    now = time.time_ns()
    for path in paths:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            keys.append([])
            continue
        except OSError:
            return None
        if now - max(st.st_mtime_ns, st.st_ctime_ns) < RACY_S * 1_000_000_000:
            return None
        keys.append([st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev])
    return keys


def _file(root: Path, name: str) -> Path | None:
    base = git_dir(root)
    return base / "mlver" / "cache" / f"{name}.json" if base else None


def read(root: Path, name: str) -> Any:
    """The cached document ``name``, or None (missing, unreadable, another format)."""
    path = _file(root, name)
    if path is None:
        return None
    doc = loads(read_bytes(path))
    return doc.get("data") if isinstance(doc, dict) and doc.get("format") == FORMAT else None


def write(root: Path, name: str, data: Any) -> None:
    """Replace the cached document ``name`` atomically; a read-only or full
    git directory just goes without."""
    path = _file(root, name)
    if path is None:
        return
    from mlver.adapters.atomic import write_bytes

    try:
        write_bytes(path, json.dumps({"format": FORMAT, "data": data}, separators=(",", ":")).encode())
    except OSError:
        pass


def per_file(root: Path, name: str, files: list[str], derive: Callable[[str], list[Any]],
             valid: Callable[[Any], bool] = lambda row: True, code: str = "") -> dict[str, list[Any]]:
    """``derive(file)`` (JSON rows) for each repo-relative file, reusing the
    rows cached under ``name`` for every file whose stat key is unchanged
    and that the same ``code`` derived (the stamp of the source that derives
    them: an upgrade that reads the files otherwise derives them again), and
    whose cached rows are each ``valid`` (the cache is a file anyone with the
    clone can edit)."""
    cached = read(root, name)
    cached = cached if isinstance(cached, dict) else {}
    rows: dict[str, list[Any]] = {}
    kept: dict[str, Any] = {}
    for file in files:
        key = stat_key(Path(root) / file)
        entry = cached.get(file)
        if (key is not None and isinstance(entry, dict) and entry.get("key") == key and entry.get("code", "") == code
                and isinstance(entry.get("rows"), list) and all(valid(row) for row in entry["rows"])):
            rows[file] = entry["rows"]
            kept[file] = entry
            continue
        rows[file] = derive(file)
        if key is not None:
            kept[file] = {"key": key, "code": code, "rows": rows[file]}
    if kept != cached:
        write(root, name, kept)
    return rows


_KEYED_MAGIC = b"mlver-keyed-cache 1\n"


def read_keyed(root: Path, name: str, key: bytes) -> Any:
    """The document cached under ``name`` for exactly ``key`` (compared byte
    for byte, so no hash can collide), or None."""
    path = _file(root, name)
    if path is None:
        return None
    raw = read_bytes(path.with_suffix(".bin"))
    if raw is None:
        return None
    head = len(_KEYED_MAGIC)
    size_end = raw.find(b"\n", head)
    if not raw.startswith(_KEYED_MAGIC) or size_end < 0 or not raw[head:size_end].isdigit():
        return None
    start = size_end + 1
    end = start + int(raw[head:size_end])
    if raw[start:end] != key:
        return None
    return loads(raw[end:])


def write_keyed(root: Path, name: str, key: bytes, data: Any) -> None:
    """Replace what ``name`` caches with ``data``, valid for ``key`` only."""
    path = _file(root, name)
    if path is None:
        return
    from mlver.adapters.atomic import write_bytes

    body = json.dumps(data, separators=(",", ":")).encode()
    try:
        write_bytes(path.with_suffix(".bin"), _KEYED_MAGIC + str(len(key)).encode() + b"\n" + key + body)
    except OSError:
        pass
