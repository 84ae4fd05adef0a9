"""Checks for everything mlver reads from a source it does not control.

A record, a ``.dvc`` file, ``dvc.lock``, a ``.dir`` manifest or a remote can
be written by someone else (a teammate's push, a cloned repository, a shared
bucket). Before a value from one of them becomes a file name, a path to
write or an object key, it passes through here, so each rule lives in one
place: hashes are DVC's md5, paths are relative and stay inside their
destination (symlinks followed, as DVC's own ``.dir`` loader demands), names
and documents have bounded sizes.

Every check raises an ``UntrustedInput`` naming the field, the value and the
document it came from. Only ``inside`` touches the file system (it resolves
symlinks); the rest is pure.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlver.errors import BadHash, InputTooLarge, NameTooLong, RecordShapeError, UnsafePath

MD5 = re.compile(r"[0-9a-f]{32}(\.dir)?")
FILE_MD5 = re.compile(r"[0-9a-f]{32}")
COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_DRIVE = re.compile(r"[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

MAX_NAME = 100  # model and stage names: a tag, a file name and a git ref component on every platform
MAX_DEPTH = 32  # mlver writes records 6 levels deep; past this is not a record
MAX_RECORD_BYTES = 64 * 1024 * 1024
MAX_PATH_BYTES = 4096
MAX_COMPONENT_BYTES = 255


def check_md5(value: object, where: str, what: str = "md5", directory: bool = True) -> str:
    """DVC's md5 (``.dir`` suffix for a directory when ``directory``), before it becomes ``files/md5/ab/cd...``."""
    pattern = MD5 if directory else FILE_MD5
    if not isinstance(value, str) or not pattern.fullmatch(value):
        expected = "32 lowercase hex digits" + (" (with '.dir' for a directory)" if directory else "")
        raise BadHash(what, value, where, f"a hash is {expected}")
    return value


def check_commit(value: object, where: str, what: str = "commit") -> str:
    """A full git object id, before it is handed to git (where '-x' would be an option)."""
    if not isinstance(value, str) or not COMMIT.fullmatch(value):
        raise BadHash(what, value, where, "a commit is 40 (or 64) lowercase hex digits")
    return value


# Paths that pass every rule of check_relpath at a glance (ASCII, no component
# starting with '.', none longer than a file name may be): a verify checks
# 200,000 of them. Anything else takes the rules one by one.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}(?:/[A-Za-z0-9_-][A-Za-z0-9._-]{0,254})*")


def check_relpath(value: object, where: str, what: str = "path") -> str:
    """A relative POSIX path in normal form that cannot climb out of the folder it is joined to."""
    if isinstance(value, str) and len(value) <= MAX_PATH_BYTES and _PLAIN_PATH.fullmatch(value):
        return value
    return _relpath_rules(value, where, what)


def _relpath_rules(value: object, where: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise UnsafePath(what, value, where, "it is not a path")
    why = ""
    if "\\" in value:
        why = "it contains a backslash (paths use '/')"
    elif value.startswith("/"):
        why = "it is absolute"
    elif _DRIVE.match(value):
        why = "it names a drive"
    elif _CONTROL.search(value):
        why = "it contains control characters"
    elif len(value.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        why = f"it is longer than {MAX_PATH_BYTES} bytes"
    else:
        parts = value.split("/")
        if ".." in parts:
            why = "it climbs out of its folder with '..'"
        elif any(p in ("", ".") for p in parts):
            why = "it is not in normal form (empty or '.' components)"
        elif any(len(p.encode("utf-8", "surrogatepass")) > MAX_COMPONENT_BYTES for p in parts):
            why = f"a component is longer than {MAX_COMPONENT_BYTES} bytes"
        elif any(p.casefold() == ".git" for p in parts):
            why = "it writes into a .git folder (git would run what it finds there)"
    if why:
        raise UnsafePath(what, value, where, why)
    return value


# Folders of a project that no recorded path may name: writing there would
# rewrite git's or DVC's settings, or forge mlver's own records.
RESERVED = (".git", ".dvc", ".mlver")


def check_project_path(value: object, where: str, what: str = "path") -> str:
    """A path relative to the project root (a record's artifact or data path)."""
    path = check_relpath(value, where, what)
    top = path.partition("/")[0]
    if top.casefold() in RESERVED:
        raise UnsafePath(what, path, where, f"it writes into {top}/, which belongs to git, DVC or mlver")
    return path


def inside(root: Path, path: Path) -> bool:
    """Whether writing ``path`` stays under ``root``, with every symlink of its
    folders (and of ``root``) resolved.

    The last component is not followed: mlver puts a file in place by renaming
    onto it, which replaces a symlink there instead of writing through it.
    """
    name = os.path.basename(path)
    if name in ("", ".", ".."):
        return False
    base = os.path.realpath(root)
    target = os.path.join(os.path.realpath(os.path.dirname(os.path.abspath(path))), name)
    return target != base and os.path.commonpath([base, target]) == base


def check_inside(root: Path, path: Path, where: str, what: str = "destination") -> Path:
    if not inside(root, path):
        raise UnsafePath(what, str(path), where, f"it resolves outside {root} (through '..' or a symlink)",
                         "remove the symlink on the way, or pull with -o to a folder of your choice")
    return path


def through_symlink(root: Path, relpath: str) -> bool:
    """Whether the project's own folder ``relpath`` (existing or not) is reached
    through a symlink, the last component's too (a commit can carry one into
    ``.dvc/tmp``, pointing anywhere)."""
    return os.path.realpath(os.path.join(root, relpath)) != os.path.join(os.path.realpath(root), relpath)


def outside_of(root: Path, folder: Path, relpaths: Iterable[str]) -> str | None:
    """The first of ``relpaths`` (checked relative paths of files under
    ``folder``) whose destination does not stay under ``root`` as ``inside``
    says, None when every one does. Each distinct parent folder is resolved
    once: a directory of 100,000 files in 100 folders costs 100 ``realpath``
    calls, not 100,000."""
    base = os.path.realpath(root)
    prefix = base if base.endswith(os.sep) else base + os.sep
    top = os.path.abspath(folder)
    verdict: dict[str, bool] = {}
    for rel in relpaths:
        head, _, name = rel.rpartition("/")
        if name in ("", ".", ".."):
            return rel
        # A cache only (without it each file's folder is resolved again, to the same
        # answer): its mutants are equivalent, hence none on this line.
        ok = verdict.get(head)  # pragma: no mutate
        if ok is None:
            # The file's name is one component: it stays where its folder resolves to.
            parent = os.path.realpath(os.path.join(top, head))
            ok = verdict[head] = parent == base or parent.startswith(prefix)
        if not ok:
            return rel
    return None


def check_all_inside(root: Path, folder: Path, relpaths: list[str], where: str) -> None:
    """``check_inside(root, folder / rel)`` for every one of ``relpaths``, at the cost of one check per folder."""
    bad = outside_of(root, folder, relpaths)
    if bad is not None:
        check_inside(root, folder / bad, f"{where}/{bad}")


def check_name_length(name: str, kind: str = "model") -> str:
    if len(name) > MAX_NAME:
        raise NameTooLong(kind, name, MAX_NAME)
    return name


def check_depth(doc: Any, where: str, limit: int = MAX_DEPTH) -> None:
    """Refuse a JSON document nested deeper than ``limit`` (without recursing
    ourselves: one level at a time, so a record costs one pass over its containers)."""
    level = [doc]
    depth = 1
    while level:
        if depth > limit:
            raise InputTooLarge("nesting", f"over {limit} levels", where, "no mlver document is nested that deep")
        below: list[Any] = []
        for node in level:
            if isinstance(node, dict):
                below += [v for v in node.values() if isinstance(v, _CONTAINERS)]
            elif isinstance(node, list):
                below += [v for v in node if isinstance(v, _CONTAINERS)]
        level = below
        depth += 1


_CONTAINERS = (dict, list)


def check_size(content: bytes, where: str, limit: int = MAX_RECORD_BYTES) -> None:
    if len(content) > limit:
        raise too_large(len(content), where, limit)


def too_large(size: int, where: str, limit: int = MAX_RECORD_BYTES) -> InputTooLarge:
    """``check_size``'s refusal, of a document known by its size alone (git's header: its content never read)."""
    return InputTooLarge("size", f"{size} bytes", where, f"mlver reads at most {limit} bytes here")


_NUMBER = (int, float)
# The JSON type of every record field a command reads (absent or null is
# fine, unknown fields pass): a re-sealed record whose "params" is a string
# is refused here, not met as a crash in whichever renderer reads it first.
_RECORD_SHAPE: dict[str, Any] = {
    "model": str, "created": str, "digest": str, "params": dict, "metrics": dict, "data": list,
    "framework": dict, "signature": dict,
    "artifact": {"path": str, "md5": str, "size": int, "nfiles": int, "remote": str},
    "code": {"commit": str, "clean": bool, "dirty_files": list, "diff_sha256": str, "command": str,
             "exit_code": int, "started": str, "duration_s": _NUMBER, "outputs": list},
    "env": {"packages": dict, "platform": str, "python": str},
    "author": {"name": str, "email": str},
    "parent": {"commit": str, "digest": str},
}
_DATA_SHAPE: dict[str, Any] = {"path": str, "md5": str, "size": int, "nfiles": int, "profile": dict, "profile_error": str}
_PROFILE_SHAPE: dict[str, Any] = {"schema": int, "format": str, "rows": int, "columns": list}
_COLUMN_SHAPE: dict[str, Any] = {
    "name": str, "dtype": str, "kind": str, "nulls": int, "unique": int, "other": int, "top": list,
    "quantiles": dict, "histogram": {"edges": list, "counts": list},
    "min": (int, float, str), "max": (int, float, str), "mean": _NUMBER, "std": _NUMBER,
    "approximate": dict, "top_error": int,
}


def _compiled(shape: dict[str, Any]) -> tuple[tuple[str, Any, Any, bool, frozenset[type]], ...]:
    """A shape as (key, expected type(s), sub-shape, integer?, exact types) rows,
    worked out once: a registry verify checks 100,000 records against it."""
    rows = []
    for key, kind in shape.items():
        expected = dict if isinstance(kind, dict) else kind
        exact = frozenset(expected if isinstance(expected, tuple) else (expected,))
        rows.append((key, expected, _compiled(kind) if isinstance(kind, dict) else None, expected in (int, _NUMBER), exact))
    return tuple(rows)


def _table(shape: tuple[tuple[str, Any, Any, bool, frozenset[type]], ...]) -> dict[str, tuple[frozenset[type], Any]]:
    """A compiled shape as key -> (exact types, sub-table or None), for ``_fits``."""
    return {key: (exact, _table(sub) if sub is not None else None) for key, _, sub, _, exact in shape}


def _fits(obj: dict[str, Any], table: dict[str, tuple[frozenset[type], Any]]) -> bool:
    """Whether every field of ``obj`` the table names has one of its exact
    types (what JSON gives), its sub-fields too: one pass over the fields
    ``obj`` has. True means ``_check_shape`` would pass; False only sends it
    the slow way (a subclass, a bool for an int, or a real error, raised
    there in the shape's order)."""
    for key, value in obj.items():
        row = table.get(key)
        if row is None or value is None:
            continue
        if type(value) not in row[0]:
            return False
        if row[1] is not None and not _fits(value, row[1]):
            return False
    return True


def _check_shape(obj: dict[str, Any], shape: tuple[tuple[str, Any, Any, bool, frozenset[type]], ...],
                 where: str, prefix: str) -> None:
    """``prefix``: the field's path so far with its dot ("data[0]."), "" at the top."""
    table = _TABLES.get(id(shape))
    if table is not None and _fits(obj, table):
        return
    for key, expected, sub, integer, exact in shape:
        value = obj.get(key)
        if value is None:
            continue
        # The exact type (what JSON gives) answers at once; bool is not int here. The
        # test after it gives every exact type the same answer, only slower: a mutant
        # that drops the shortcut is equivalent, hence no mutants of this line.
        shortcut = type(value) in exact  # pragma: no mutate
        if not shortcut and (not isinstance(value, expected) or (integer and isinstance(value, bool))):
            names = expected if isinstance(expected, tuple) else (expected,)
            raise RecordShapeError(prefix + key, value, where, f"it is not {' or '.join(_JSON_NAMES[t] for t in names)}")
        if sub is not None:
            _check_shape(value, sub, where, f"{prefix}{key}.")


_JSON_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "an object", list: "a list"}


_RECORD_ROWS, _DATA_ROWS, _PROFILE_ROWS, _COLUMN_ROWS = (
    _compiled(_RECORD_SHAPE), _compiled(_DATA_SHAPE), _compiled(_PROFILE_SHAPE), _compiled(_COLUMN_SHAPE))
# The one-pass tables of the top-level shapes (these rows live as long as the module: ids stay theirs).
_TABLES = {id(rows): _table(rows) for rows in (_RECORD_ROWS, _DATA_ROWS, _PROFILE_ROWS, _COLUMN_ROWS)}


def _check_record_shape(doc: dict[str, Any], where: str) -> None:
    _check_shape(doc, _RECORD_ROWS, where, "")
    for i, entry in enumerate(doc.get("data") or []):
        if not isinstance(entry, dict):
            raise RecordShapeError(f"data[{i}]", entry, where, "it is not an object")
        if not isinstance(entry.get("path"), str):
            raise RecordShapeError(f"data[{i}].path", entry.get("path"), where, "every data input has a path")
        _check_shape(entry, _DATA_ROWS, where, f"data[{i}].")
        if entry.get("profile") is not None:
            check_profile(entry["profile"], where, f"data[{i}].profile")
    if isinstance(doc.get("artifact"), dict) and not isinstance(doc["artifact"].get("path"), str):
        # absent: a path of another type was refused above (as a path, then as a string)
        raise RecordShapeError("artifact.path", None, where, "an artifact has a path")


def check_profile(profile: Any, where: str, what: str = "profile") -> None:
    """The JSON type of every field of a data profile (in a record, or cached) a command reads."""
    if not isinstance(profile, dict):
        raise RecordShapeError(what, profile, where, "it is not an object")
    _check_shape(profile, _PROFILE_ROWS, where, f"{what}.")
    for j, column in enumerate(profile.get("columns") or []):
        if not isinstance(column, dict):
            raise RecordShapeError(f"{what}.columns[{j}]", column, where, "it is not an object")
        _check_shape(column, _COLUMN_ROWS, where, f"{what}.columns[{j}].")


def check_record(doc: dict[str, Any], where: str, containers: int | None = None) -> bool:
    """The fields of a lineage record that become paths, object keys or git
    arguments, and the JSON type of every field a command reads.
    ``containers``: at most that many objects and lists in the document
    (counted in its text): no deeper than that, so not walked for depth.
    True when it passed at a glance (``_plain_record``: every field of its
    exact JSON type, the artifact and each data input an object with a
    plain path and, where they have one, an md5 or ""), which what reads
    the record next may count on."""
    if containers is None or containers > MAX_DEPTH:
        check_depth(doc, where)
    if _plain_record(doc):
        return True
    artifact = doc.get("artifact")
    if artifact is not None:
        if not isinstance(artifact, dict):
            raise UnsafePath("artifact", artifact, where, "it is not an object")
        _check_entry(artifact, where, "artifact")
    data = doc.get("data")
    if data is not None:
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise UnsafePath("data", data, where, "it is not a list of objects")
        for i, entry in enumerate(data):
            _check_entry(entry, where, f"data[{i}]")
    for key in ("code", "parent"):
        part = doc.get(key)
        if isinstance(part, dict) and part.get("commit") is not None:
            check_commit(part["commit"], where, f"{key}.commit")
    _check_record_shape(doc, where)
    return False


def _plain_record(doc: dict[str, Any]) -> bool:
    """Whether the rules below (after the depth) pass ``doc`` at a glance:
    every field of its JSON type in one pass (``_fits``), the paths plain,
    the hashes and commits well formed. True means none of them raises;
    False only sends ``doc`` through them one by one, which raise the error
    they always raised (a verify checks 100,000 records: 2x faster so)."""
    record_table, data_table = _TABLES.get(id(_RECORD_ROWS)), _TABLES.get(id(_DATA_ROWS))
    if record_table is None or data_table is None or not _fits(doc, record_table):
        return False
    for key in ("code", "parent"):
        part = doc.get(key)  # an object or null, as _fits found
        if part is not None and (commit := part.get("commit")) is not None and not COMMIT.fullmatch(commit):
            return False
    artifact = doc.get("artifact")
    if artifact is not None and not _plain_entry(artifact):
        return False
    for entry in doc.get("data") or ():  # a list or null, as _fits found
        if type(entry) is not dict or not _plain_entry(entry) or not _fits(entry, data_table):
            return False
        if entry.get("profile") is not None and not _plain_profile(entry["profile"]):
            return False
    return True


def _plain_entry(entry: dict[str, Any]) -> bool:
    """``_check_entry`` and the path a record's artifact and data need, passing at a glance.
    A plain path cannot start a component with '.', so it names no reserved folder."""
    path, md5 = entry.get("path"), entry.get("md5")
    if type(path) is not str:
        return False
    plain = _PLAIN_PATHS.get(path)
    if plain is None:
        plain = len(path) <= MAX_PATH_BYTES and _PLAIN_PATH.fullmatch(path) is not None
        if len(_PLAIN_PATHS) >= _KEEP_PATHS:
            _PLAIN_PATHS.clear()
        _PLAIN_PATHS[path] = plain
    return plain and (md5 is None or md5 == "" or (type(md5) is str and MD5.fullmatch(md5) is not None))


# The verdict of _PLAIN_PATH on each path met: 100,000 records of a registry name
# the same few paths (models/m.pkl, data/train.csv), each matched once a process.
_PLAIN_PATHS: dict[str, bool] = {}
_KEEP_PATHS = 4096


def _plain_profile(profile: Any) -> bool:
    profile_table, column_table = _TABLES.get(id(_PROFILE_ROWS)), _TABLES.get(id(_COLUMN_ROWS))
    if type(profile) is not dict or profile_table is None or column_table is None or not _fits(profile, profile_table):
        return False
    return all(type(column) is dict and _fits(column, column_table) for column in profile.get("columns") or ())


def _check_entry(entry: dict[str, Any], where: str, what: str) -> None:
    if "path" in entry:
        check_project_path(entry["path"], where, f"{what}.path")
    if entry.get("md5") is not None and entry.get("md5") != "":
        check_md5(entry["md5"], where, f"{what}.md5")


def check_manifest(entries: Iterable[tuple[object, object]], where: str) -> list[tuple[str, str]]:
    """A ``.dir`` manifest's (relpath, md5) entries: each path safe and file md5
    valid, and no path listed twice or both as a file and as a folder (one
    entry would silently replace or redirect another)."""
    checked: list[tuple[str, str]] = []
    seen: set[str] = set()
    for relpath, md5 in entries:
        path = check_relpath(relpath, where, "relpath")
        check_md5(md5, where, f"md5 of {path}", directory=False)
        if path in seen:
            raise UnsafePath("relpath", path, where, "it is listed twice")
        seen.add(path)
        checked.append((path, md5))  # type: ignore[arg-type]
    folders = {p.rsplit("/", 1)[0] for p in seen if "/" in p}
    prefixes = set(folders)
    for folder in folders:  # and every folder above each
        while "/" in folder:
            folder = folder.rsplit("/", 1)[0]
            prefixes.add(folder)
    clash = sorted(seen & prefixes)
    if clash:
        raise UnsafePath("relpath", clash[0], where, "it is listed both as a file and as a folder")
    return checked
