"""The entries of DVC's own files, read once for every caller: an output or
dependency of a ``.dvc`` file or a ``dvc.lock`` stage (path, md5, size,
nfiles, ``hash:``, the cache/push/remote flags) and a lock's stages. Pure: the
documents come parsed (``api/dvcouts.py``'s ``parsed`` bounds and loads them).

Everything here came from a repository. The checks are the same for every
caller: a path is joined to its file's folder, put in normal form and must
stay in the project (``validate.check_project_path``), an md5 is DVC's
(``validate.check_md5``, ``.dir`` for a directory), a size or a count is a
non-negative ``int`` (not a bool) below ``MAX_COUNT``. What differs is what
a failed check costs, and that is the caller's ``Policy``:

- ``REFUSE`` (``push``, ``domain/dvcfiles.py``): the whole file is refused
  and named in a note. Push acts on the hashes (it sends them): a file read
  in part would send part of what ``dvc pull`` at that commit needs, with
  nothing said. Also ``adapters/dvc.py``'s ``out_from_dvcfile`` and
  ``outs_from_lock`` (record, reproduce): a hash they hand on is recorded or
  restored, and a file mlver cannot read whole is said, not half-read.
- ``SKIP`` (records derived from a GTO or DVC project, ``api/derived.py``):
  the entry whose path fails is passed over, a field that fails is left out
  (None). A derived record describes a commit mlver did not write, as far as
  it can: one hand-edited stage should not hide the lineage of the rest, and
  a missing hash is already a state the record says ("derived_from": "none").
- ``KEEP`` (``gc``, ``domain/retention.py``): nothing that names a hash is
  passed over. An entry whose path fails keeps its md5 (path None), a field
  that fails is None, every stage is read: gc keeps what ``dvc pull`` at that
  commit may need, and for deleting, keeping too much is the safe side.

A path with ``://`` names a place outside the project (DVC's external
outputs, ``import-url`` dependencies): its entry's ``path`` is None under
both policies; so is a dependency's path outside the project, which DVC
allows (an output's is refused, or skipped).
"""
from __future__ import annotations

import enum
import posixpath
from dataclasses import dataclass, field
from typing import Any

from mlver.domain import validate
from mlver.errors import MlverError, UntrustedInput

MAX_COUNT = 2**63 - 1  # the largest file size (or file count) a file system's off_t holds
MAX_STAGES = 1000  # stages a derived record reads of one dvc.lock (its pipeline walk is quadratic)


class Policy(enum.Enum):
    REFUSE = "refuse"  # a failed check refuses the file: UntrustedInput
    SKIP = "skip"  # a failed check passes over the entry (a bad path) or the field (None)
    KEEP = "keep"  # a failed check leaves the path or the field out (None); the entry stays


@dataclass(frozen=True)
class Entry:
    """One output or dependency, checked."""
    path: str | None  # from the repository's root; None: outside the project (a URL, an external dependency)
    md5: str | None = None
    size: int | None = None
    nfiles: int | None = None
    dvc3: bool = False  # ``hash: md5``: DVC 3's layout (without it, DVC 2 hashed it: the remote's old layout)
    cache: bool = True  # only ``cache: false`` / ``push: false`` say no; DVC's default is yes
    push: bool = True
    remote: object = None  # the remote named for it, compared as written (None: the default)


@dataclass(frozen=True)
class Stage:
    """One stage of a ``dvc.lock``."""
    name: str  # ``name@key`` for a ``foreach``/``matrix`` stage
    cmd: object  # a string or a list of them, as DVC writes it; the reader decides what it shows
    deps: tuple[Entry, ...] = ()
    outs: tuple[Entry, ...] = ()  # every output: outs, metrics and plots are all ``outs`` in a lock
    params: dict[str, Any] = field(default_factory=dict)


def flags(entry: dict[str, Any]) -> dict[str, Any]:
    """The cache/push/remote flags of an output's mapping (a ``.dvc`` entry or
    ``dvc.yaml``'s per-output options), DVC's defaults where it says nothing.
    Read leniently, for both policies: ``dvc.yaml`` may template them."""
    return {"cache": entry.get("cache", True) is not False, "push": entry.get("push", True) is not False,
            "remote": entry.get("remote")}


def read_entry(entry: object, folder: str, where: str, policy: Policy, dep: bool = False) -> Entry | None:
    """An output (``dep``: a dependency) of the DVC file at ``where`` whose
    folder is ``folder``, checked; None when ``SKIP`` or ``KEEP`` passes over
    it (``KEEP`` only over what is not a mapping: it has no hash)."""
    if not isinstance(entry, dict):
        if policy is Policy.REFUSE:
            raise UntrustedInput("entry", type(entry).__name__, where, "an output is a mapping")
        return None
    try:
        path = _path(entry.get("path"), folder, where, dep)
    except MlverError:
        if policy is Policy.REFUSE:
            raise
        if policy is Policy.SKIP:
            return None
        path = None
    label = path or str(entry.get("path"))
    return Entry(path, md5=_field(_md5, entry.get("md5"), where, f"md5 of {label}", policy),
                 size=_field(_count, entry.get("size"), where, f"size of {label}", policy),
                 nfiles=_field(_count, entry.get("nfiles"), where, f"nfiles of {label}", policy),
                 dvc3=entry.get("hash") == "md5", **flags(entry))


def _path(value: object, folder: str, where: str, dep: bool) -> str | None:
    if not isinstance(value, str) or not value:
        shown = value if isinstance(value, str) else type(value).__name__
        raise UntrustedInput("path", shown, where, "an output's path is a non-empty string")
    if "://" in value:
        return None
    joined = posixpath.normpath(posixpath.join(folder, value) if folder else value)
    if not dep:
        return validate.check_project_path(joined, where, "path")
    try:
        return validate.check_project_path(joined, where, "path")
    except MlverError:
        return None  # DVC depends on files outside the project too; nothing of them is sent or kept


def _field(check: Any, value: object, where: str, what: str, policy: Policy) -> Any:
    if value is None:
        return None
    try:
        return check(value, where, what)
    except MlverError:
        if policy is Policy.REFUSE:
            raise
        return None


def _md5(value: object, where: str, what: str) -> str:
    return validate.check_md5(value, where, what)


def _count(value: object, where: str, what: str) -> int:
    if type(value) is int and 0 <= value <= MAX_COUNT:
        return value
    raise UntrustedInput(what, value, where, f"a size or a count is a whole number from 0 to {MAX_COUNT}")


def _listed(value: object, where: str, what: str, policy: Policy) -> list[Any]:
    """A list of mappings (absent: none); SKIP and KEEP keep the mappings of whatever list they find."""
    if value is None:
        return []
    if isinstance(value, list) and (policy is not Policy.REFUSE or all(isinstance(e, dict) for e in value)):
        return value
    if policy is not Policy.REFUSE:
        return []
    raise UntrustedInput(what, type(value).__name__, where, f"{what} is a list of mappings")


def entries(value: object, folder: str, where: str, policy: Policy, what: str = "outs",
            dep: bool = False) -> tuple[Entry, ...]:
    """The checked entries of an ``outs`` (``dep``: ``deps``) list."""
    found = (read_entry(e, folder, where, policy, dep) for e in _listed(value, where, what, policy))
    return tuple(e for e in found if e is not None)


def dvcfile_outs(doc: object, folder: str, where: str, policy: Policy) -> tuple[Entry, ...]:
    """The outputs of a parsed ``.dvc`` file (none for an empty one)."""
    if doc is None or (policy is not Policy.REFUSE and not isinstance(doc, dict)):
        return ()
    if not isinstance(doc, dict):
        raise UntrustedInput("content", type(doc).__name__, where, "DVC's files are mappings")
    return entries(doc.get("outs"), folder, where, policy)


def lock_stages(doc: object, folder: str, where: str, policy: Policy) -> dict[str, Stage]:
    """The stages of a parsed ``dvc.lock`` (schema 2) by name, each with its
    checked deps and outs: ``stage_list``'s."""
    return {stage.name: stage for stage in stage_list(doc, folder, where, policy)}


def stage_list(doc: object, folder: str, where: str, policy: Policy) -> list[Stage]:
    """The stages of a parsed ``dvc.lock`` in its order. ``SKIP`` reads the
    first ``MAX_STAGES``; ``REFUSE`` and ``KEEP`` every one (the file's size
    bounds them: what push leaves out, it must say; what gc misses, it deletes).
    Two names YAML reads apart (``1`` and ``'1'``) are two stages here."""
    if policy is Policy.REFUSE and doc is not None and not isinstance(doc, dict):
        raise UntrustedInput("content", type(doc).__name__, where, "DVC's files are mappings")
    stages = (doc.get("stages") if isinstance(doc, dict) else None) or {}
    if not isinstance(stages, dict):
        if policy is Policy.REFUSE:
            raise UntrustedInput("stages", type(stages).__name__, where, "a dvc.lock's stages are a mapping")
        stages = {}
    items = list(stages.items())
    items = items[:MAX_STAGES] if policy is Policy.SKIP else items
    found: list[Stage] = []
    for name, stage in items:
        if not isinstance(stage, dict):
            if policy is Policy.REFUSE:
                raise UntrustedInput(f"stages.{name}", type(stage).__name__, where, "a stage is a mapping")
            continue
        key, params = f"stages.{name}", stage.get("params")
        found.append(Stage(
            str(name), stage.get("cmd"),
            deps=entries(stage.get("deps"), folder, where, policy, f"{key}.deps", dep=True),
            outs=entries(stage.get("outs"), folder, where, policy, f"{key}.outs"),
            params=params if isinstance(params, dict) else {}))
    return found
