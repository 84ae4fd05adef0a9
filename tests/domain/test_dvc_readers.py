"""The readers of DVC's entries beside ``dvcentries``' own
(``adapters/dvc.py``'s ``out_from_dvcfile`` and ``outs_from_lock``: REFUSE;
``retention.hashes_in_dvcfile``: KEEP) are dvcentries under a policy. For
arbitrary YAML-ish documents they answer as the hand-written readers they
replaced did, kept here as the reference, but where dvcentries' documented
rules (hashes DVC's, paths inside the project, sizes bounded) refuse what
those accepted, or the old ones crashed: there the new ones refuse.
"""
from __future__ import annotations

import os
import posixpath
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlver.adapters import dvc
from mlver.domain import retention, validate
from mlver.domain.validate import MD5
from mlver.errors import MlverError, UntrustedInput

A, D = "a" * 32, "d" * 32 + ".dir"

# -- the old readers, verbatim (main at eb303af), as the oracle --------------


def old_out_from_dvcfile(text: bytes | str, path: str) -> dvc.Out | None:
    where = dvc.dvcfile_for(path)
    outs = _old_dvcfile_outs(dvc._yaml(text, where), where)
    if not outs or "md5" not in outs[0]:
        return None
    entry = outs[0]
    md5 = validate.check_md5(entry["md5"], where, "outs[0].md5")
    if "path" in entry:
        folder = os.path.dirname(path)
        joined = os.path.normpath(os.path.join(folder, entry["path"])) if isinstance(entry["path"], str) else entry["path"]
        validate.check_relpath(joined, where, "outs[0].path")
    return dvc.Out(path=path, md5=md5, size=_old_count(entry.get("size"), where, "outs[0].size"),
                   nfiles=_old_count(entry.get("nfiles"), where, "outs[0].nfiles"))


def _old_dvcfile_outs(doc: Any, where: str) -> list[dict[str, Any]]:
    if doc is None:
        return []
    if not isinstance(doc, dict):
        raise UntrustedInput("content", doc, where, "a .dvc file is a mapping with an outs list")
    outs = doc.get("outs") or []
    if not isinstance(outs, list) or not all(isinstance(o, dict) for o in outs):
        raise UntrustedInput("outs", outs, where, "a .dvc file's outs is a list of mappings")
    return outs


def _old_count(value: Any, where: str, what: str) -> int | None:
    if value is None or (type(value) is int and value >= 0):
        return value
    raise UntrustedInput(what, value, where, "a size is a whole number of bytes or files")


def old_outs_from_lock_entries(entries: list[dict[str, Any]], wdir: str = "") -> list[dvc.Out]:
    return [
        dvc.Out(
            path=os.path.normpath(os.path.join(wdir, e["path"])),
            md5=validate.check_md5(e["md5"], dvc.LOCK_FILE, f"md5 of {e['path']}") if e.get("md5") else "",
            size=e.get("size"),
            nfiles=e.get("nfiles"),
        )
        for e in entries
    ]


def old_hashes_in_dvcfile(doc: Any) -> set[str]:
    entries: list[Any] = []
    if isinstance(doc, dict):
        for key in ("outs", "deps"):
            if isinstance(doc.get(key), list):
                entries += doc[key]
        stages = doc.get("stages")
        for stage in stages.values() if isinstance(stages, dict) else ():
            for key in ("outs", "deps"):
                if isinstance(stage, dict) and isinstance(stage.get(key), list):
                    entries += stage[key]
    return {e["md5"] for e in entries if isinstance(e, dict) and isinstance(e.get("md5"), str) and MD5.fullmatch(e["md5"])}


# -- documents ---------------------------------------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                     st.floats(allow_nan=False), st.text(max_size=12),
                     st.sampled_from([A, D, A.upper(), A[:31], D + ".dir", "md5", "", "..", "s3://b/k"]))
_PATHS = st.one_of(st.text(alphabet="ab./\\: ", max_size=12), st.sampled_from(
    ["m", "a/b", "../m", "/m", ".git/x", ".dvc/x", ".mlver/x", "a/../../b", "./m", "a//b", "https://h/x", ""]))
_NESTED = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.sampled_from(["path", "md5", "outs", "a"]), inner, max_size=3),
                       max_leaves=8)
# Past validate.MAX_DEPTH (32): the readers never walk into a value, whatever its depth.
_DEEP = st.integers(30, 40).map(lambda depth: _nest(depth))


def _nest(depth: int) -> Any:
    value: Any = A
    for level in range(depth):
        value = [value] if level % 2 else {"md5": value}
    return value


_NESTED = st.one_of(_NESTED, _DEEP)
_ENTRY = st.fixed_dictionaries({}, optional={
    "path": st.one_of(_PATHS, _SCALARS), "md5": st.one_of(st.sampled_from([A, D]), _SCALARS),
    "size": _SCALARS, "nfiles": _SCALARS, "hash": _SCALARS, "cache": _SCALARS, "x": _NESTED})
_GOOD = st.fixed_dictionaries({"path": st.sampled_from(["m", "a/b", "./m", "s3://b/k"])}, optional={
    "md5": st.sampled_from([A, D, None]), "size": st.integers(0, 9), "nfiles": st.integers(0, 9)})
_ANY_ENTRY = st.one_of(_ENTRY, _ENTRY, _GOOD, _NESTED)
_ENTRIES = st.one_of(st.lists(_ANY_ENTRY, max_size=4), st.lists(_ENTRY, max_size=4), st.lists(_GOOD, max_size=3),
                     _NESTED)
_STAGE = st.one_of(st.fixed_dictionaries({}, optional={"cmd": _SCALARS, "outs": _ENTRIES, "deps": _ENTRIES,
                                                        "params": _NESTED}), _NESTED)
_DOC = st.one_of(
    st.fixed_dictionaries({}, optional={"outs": _ENTRIES, "deps": _ENTRIES, "md5": _SCALARS, "stages": st.one_of(
        st.dictionaries(st.one_of(st.text(alphabet="ab1", max_size=2), st.integers(0, 2)), _STAGE, max_size=4),
        _NESTED)}),
    _NESTED)


def _outcome(call: Any, *args: Any) -> Any:
    try:
        return "ok", call(*args)
    except MlverError:
        return "refused", None
    except Exception as exc:  # the old readers' crashes (exit 4)
        return "crash", type(exc).__name__


def _entry_ok(entry: object, folder: str, dep: bool) -> bool:
    """dvcentries' rules for one entry, restated: a mapping whose path is a
    non-empty string inside the project once joined to its folder (a URL, or a
    dependency's path outside, is allowed), whose md5 is DVC's and whose size
    and nfiles are whole numbers from 0 to 2**63-1."""
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"]:
        return False
    path = entry["path"]
    try:
        if "://" not in path and not dep:
            validate.check_project_path(posixpath.normpath(posixpath.join(folder, path)), "t")
        if entry.get("md5") is not None:
            validate.check_md5(entry["md5"], "t")
    except MlverError:
        return False
    return all(entry.get(k) is None or (type(entry[k]) is int and 0 <= entry[k] < 2**63) for k in ("size", "nfiles"))


def _agree(new: Any, old: Any, tightened: bool) -> None:
    """The new reader answers as the old did, but for two kinds of input:
    where the old one crashed (a KeyError, exit 4) or accepted what the rules
    refuse (``tightened``), the new one refuses with a message."""
    if old[0] == "crash" or tightened:
        assert new[0] == "refused"
    else:
        assert new == old


@settings(max_examples=1000, deadline=None)
@given(_DOC, st.sampled_from(["m.pkl", "sub/m.pkl", "a/b/m"]))
def test_out_from_dvcfile_is_dvcentries_refuse(doc: Any, path: str) -> None:
    text = yaml.safe_dump(doc)
    outs = doc.get("outs") if isinstance(doc, dict) else None
    folder = posixpath.dirname(path)
    # The old reader checked only the first entry (a missing or a URL path not
    # at all, nor the project's reserved folders, nor a size past off_t), and
    # read a false ``outs`` (0, '', {}) as none; DVC's schema refuses all of them.
    tightened = (isinstance(outs, list) and not all(_entry_ok(e, folder, False) for e in outs)) or (
        outs is not None and not outs and not isinstance(outs, list))
    first = outs[0] if isinstance(outs, list) and outs else None
    if isinstance(first, dict) and "md5" in first and first["md5"] is None and not tightened:
        # ``md5: null``: no hash, as if it were absent (the old reader refused it)
        assert dvc.out_from_dvcfile(text, path) is None
        return
    _agree(_outcome(dvc.out_from_dvcfile, text, path), _outcome(old_out_from_dvcfile, text, path), tightened)


@settings(max_examples=1000, deadline=None)
@given(_ENTRIES, st.sampled_from(["", ".", "sub", "a/b"]), st.booleans())
def test_outs_from_lock_is_dvcentries_refuse(value: Any, wdir: str, dep: bool) -> None:
    folder = "" if wdir == "." else wdir
    old = _outcome(old_outs_from_lock_entries, value or [], folder)
    tightened = isinstance(value, list) and not all(_entry_ok(e, folder, dep) for e in value)
    if old[0] == "ok" and not tightened:
        # A URL, or a dependency outside the project, names nothing here: no Out
        # (the old reader made one of its path, '../x' or 's3:/b/k').
        old = "ok", [o for o, e in zip(old[1], value or [], strict=True) if not _outside(e["path"], folder)]
    _agree(_outcome(dvc.outs_from_lock, value or None, wdir, dep), old, tightened)


def _outside(path: str, folder: str) -> bool:
    try:
        validate.check_project_path(posixpath.normpath(posixpath.join(folder, path)), "t")
    except MlverError:
        return True
    return "://" in path


@settings(max_examples=1000, deadline=None)
@given(_DOC)
def test_hashes_in_dvcfile_is_dvcentries_keep(doc: Any) -> None:
    assert retention.hashes_in_dvcfile(doc) == old_hashes_in_dvcfile(doc)
