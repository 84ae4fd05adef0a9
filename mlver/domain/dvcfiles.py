"""Which outputs ``dvc push`` at a commit sends, from that commit's DVC files
(pure: the documents come parsed; where they come from is the api's).

DVC pushes every cached output of every ``.dvc`` file and every ``dvc.lock``
stage, except one marked ``cache: false`` or ``push: false``, one that names
another ``remote:``, and the outputs of ``dvc import`` from another
repository (``dvc pull`` gets those from their own repository). An output's
flags are in its ``.dvc`` file, or for a stage in ``dvc.yaml``, not in
``dvc.lock``. Everything here came from a repository: its entries are read
by ``domain/dvcentries.py``, whose REFUSE policy refuses the file whole for
an md5 that is not DVC's or a path outside the project.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from typing import Any

from mlver.domain import dvcentries
from mlver.domain.dvcentries import Policy
from mlver.errors import UnsafePath

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
    UntrustedInput when an entry has a hash that is not one or a path outside
    (``dvcentries.Policy.REFUSE``: the file is refused whole)."""
    folder, deps = posixpath.dirname(path), frozenset[str]()
    if posixpath.basename(path) == LOCK_FILE:
        locked = dvcentries.lock_stages(doc, folder, path, Policy.REFUSE)
        entries = [_flagged(e, _stage_flags(stages, name, folder, e.path)) for name, s in locked.items() for e in s.outs]
        deps = frozenset(e.md5 for s in locked.values() for e in s.deps if e.md5)
    else:
        if isinstance(doc, dict) and _repo_import(doc):
            return Outs()  # `dvc pull` fetches it from the repository it was imported from
        entries = list(dvcentries.dvcfile_outs(doc, folder, path, Policy.REFUSE))
    pushed, legacy = [], []
    for entry in entries:
        if not _sent_to(entry, remote) or entry.md5 is None:
            continue
        if entry.path is None:  # DVC 3 neither caches nor pushes an output outside the project
            raise UnsafePath("path", "(a URL)", path, "a cached output is inside the project")
        if entry.dvc3:
            pushed.append(Pushed(entry.path, entry.md5))
        else:
            legacy.append(entry.path)
    return Outs(tuple(pushed), tuple(legacy), deps)


def _flagged(entry: dvcentries.Entry, flags: dict[str, Any]) -> dvcentries.Entry:
    return replace(entry, **flags) if flags else entry


def _repo_import(doc: dict[str, Any]) -> bool:
    deps = doc.get("deps")
    return isinstance(deps, list) and any(isinstance(d, dict) and "repo" in d for d in deps)


def _stage_flags(stages: Any, name: str, folder: str, path: str | None) -> dict[str, Any]:
    """The flags (cache, push, remote) ``dvc.yaml`` gives stage ``name``'s output
    ``path`` (from the root); DVC's defaults when it cannot say (a templated
    path). A ``foreach``/``matrix`` stage is locked as ``name@key``."""
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
            for named, options in entry.items() if isinstance(entry, dict) else ():
                if isinstance(named, str) and posixpath.normpath(posixpath.join(folder, named) if folder else named) == path:
                    return dvcentries.flags(options) if isinstance(options, dict) else {}
    return {}


def _sent_to(entry: dvcentries.Entry, remote: str) -> bool:
    return entry.cache and entry.push and (entry.remote is None or entry.remote == remote)


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
