"""Which outputs ``dvc push`` at a commit sends, from that commit's DVC files
(pure: the documents come parsed; where they come from is the api's).

DVC pushes every cached output of every ``.dvc`` file and every ``dvc.lock``
stage, except one marked ``cache: false`` or ``push: false``, one that names
another ``remote:``, and the outputs of ``dvc import`` from another
repository (``dvc pull`` gets those from their own repository). An output's
flags are in its ``.dvc`` file, or for a stage in ``dvc.yaml``, not in
``dvc.lock``. Everything here came from a repository: hashes must be DVC's
md5 and paths must stay inside the project, else the file is refused whole.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from mlver.domain import validate
from mlver.errors import UntrustedInput

LOCK_FILE = "dvc.lock"
STAGE_FILE = "dvc.yaml"
MAX_FILE_BYTES = 16 * 1024 * 1024  # DVC's own files of a project are kilobytes
_OUT_KEYS = ("outs", "metrics", "plots")


@dataclass(frozen=True)
class Pushed:
    path: str  # from the repository's root
    md5: str


@dataclass(frozen=True)
class Outs:
    """What one DVC file says ``dvc push`` sends to a remote."""
    pushed: tuple[Pushed, ...] = ()
    legacy: tuple[str, ...] = ()  # paths hashed by DVC 2 (no ``hash: md5``): kept in the remote's old layout
    deps: frozenset[str] = frozenset()  # a lock's stages' inputs, by hash (which ``.dvc`` files feed the pipeline)


def is_dvc_file(name: str) -> bool:
    """A file name DVC reads its tracked outputs (and their flags) from."""
    return name.endswith(".dvc") or name in (LOCK_FILE, STAGE_FILE)


def outs_pushed(path: str, doc: Any, stages: Any, remote: str) -> Outs:
    """What ``dvc push -r remote`` sends of the DVC file at ``path`` (a ``.dvc``
    file or a ``dvc.lock``; ``stages``: the ``dvc.yaml`` beside a lock, parsed).
    UntrustedInput when an entry has a hash that is not one or a path outside."""
    if doc is None:
        return Outs()
    if not isinstance(doc, dict):
        raise UntrustedInput("content", type(doc).__name__, path, "DVC's files are mappings")
    folder, deps = posixpath.dirname(path), frozenset[str]()
    if posixpath.basename(path) == LOCK_FILE:
        entries = [(e, _stage_flags(stages, name, e.get("path"))) for name, e in _lock_outs(doc, path)]
        deps = frozenset(e["md5"] for _, e in _lock_outs(doc, path, "deps")
                         if isinstance(e.get("md5"), str) and validate.MD5.fullmatch(e["md5"]))
    else:
        if _repo_import(doc):
            return Outs()  # `dvc pull` fetches it from the repository it was imported from
        entries = [(e, e) for e in _listed(doc.get("outs"), path, "outs")]
    pushed, legacy = [], []
    for entry, flags in entries:
        if not _sent_to(flags, remote) or entry.get("md5") is None:
            continue
        where = _inside(folder, entry.get("path"), path)
        md5 = validate.check_md5(entry["md5"], path, f"md5 of {where}")
        if entry.get("hash") == "md5":
            pushed.append(Pushed(where, md5))
        else:
            legacy.append(where)
    return Outs(tuple(pushed), tuple(legacy), deps)


def _listed(value: Any, where: str, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise UntrustedInput(what, type(value).__name__, where, f"{what} is a list of mappings")
    return value


def _lock_outs(doc: dict[str, Any], where: str, key: str = "outs") -> list[tuple[str, dict[str, Any]]]:
    """(stage name, out entry, or ``key``'s) of every stage of a ``dvc.lock`` (schema 2)."""
    stages = doc.get("stages") or {}
    if not isinstance(stages, dict):
        raise UntrustedInput("stages", type(stages).__name__, where, "a dvc.lock's stages are a mapping")
    out = []
    for name, stage in stages.items():
        if not isinstance(stage, dict):
            raise UntrustedInput(f"stages.{name}", type(stage).__name__, where, "a stage is a mapping")
        out += [(str(name), e) for e in _listed(stage.get(key), where, f"stages.{name}.{key}")]
    return out


def _repo_import(doc: dict[str, Any]) -> bool:
    deps = doc.get("deps")
    return isinstance(deps, list) and any(isinstance(d, dict) and "repo" in d for d in deps)


def _stage_flags(stages: Any, name: str, path: Any) -> dict[str, Any]:
    """The flags (cache, push, remote) ``dvc.yaml`` gives stage ``name``'s output
    ``path``; none when it cannot say (a templated path: DVC's defaults then).
    A ``foreach``/``matrix`` stage is locked as ``name@key``."""
    defined = stages.get("stages") if isinstance(stages, dict) else None
    if not isinstance(defined, dict):
        return {}
    stage = defined.get(name, defined.get(name.split("@", 1)[0]))
    if isinstance(stage, dict) and isinstance(stage.get("do"), dict):
        stage = stage["do"]
    if not isinstance(stage, dict):
        return {}
    for key in _OUT_KEYS:
        listed = stage.get(key)
        for entry in listed if isinstance(listed, list) else ():
            if isinstance(entry, dict) and path in entry:
                return entry[path] if isinstance(entry[path], dict) else {}
    return {}


def _sent_to(flags: Any, remote: str) -> bool:
    if not isinstance(flags, dict):
        return True
    named = flags.get("remote")
    return flags.get("cache", True) is not False and flags.get("push", True) is not False \
        and (named is None or named == remote)


def _inside(folder: str, path: Any, where: str) -> str:
    """An output's path from the repository root; refused when it is not a
    path or leaves the project (DVC's external outputs are not pushed either)."""
    if not isinstance(path, str):
        raise UntrustedInput("path", type(path).__name__, where, "an output's path is a string")
    return validate.check_relpath(posixpath.normpath(posixpath.join(folder, path)), where, "path")


def pipelines_of(found: dict[str, Outs], anchors: set[str]) -> list[str]:
    """Of one commit's DVC files (path -> what each sends), those a version whose
    record names ``anchors`` (its artifact's hash) needs: every ``dvc.lock`` that
    outputs one of them (its other stages, upstream and down, are that version's
    pipeline) and the ``.dvc`` files that feed those locks (the raw data)."""
    locks = [p for p, outs in found.items() if posixpath.basename(p) == LOCK_FILE
             and anchors & {o.md5 for o in outs.pushed}]
    fed = frozenset().union(*(found[p].deps for p in locks))
    return locks + [p for p, outs in found.items() if posixpath.basename(p) != LOCK_FILE
                    and fed & {o.md5 for o in outs.pushed}]
