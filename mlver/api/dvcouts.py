"""The objects DVC's own files name at a commit (``.dvc`` files, ``dvc.lock``):
what ``dvc push`` at that commit would send. ``mlver push`` sends them with
the versions it pushes, so a teammate's ``git clone`` + ``dvc pull`` of a
pipeline finds its intermediate outputs too, not only the model and its data;
``mlver gc`` keeps them for every version and stage it keeps."""
from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from mlver.adapters import git
from mlver.adapters.yamlfile import safe_load
from mlver.api.objects import ObjectRef
from mlver.domain import dvcfiles
from mlver.domain.retention import hashes_in_dvcfile
from mlver.errors import InputTooLarge, MlverError
from mlver.project import Project

# Not DVC's files: DVC's own folder (config, cache) and mlver's records.
_SKIP = frozenset({".dvc", ".mlver", ".git"})


@dataclass(frozen=True)
class CommitOuts:
    """What DVC's files at the commits asked about name, for push."""
    objects: tuple[ObjectRef, ...]  # first place each md5 is named
    notes: tuple[str, ...]  # files refused, outputs hashed by DVC 2


def _files(project: Project, commits: list[str],
           only_pipelines: set[str] | None = None) -> tuple[dict[str, dict[str, str]], dict[str, bytes | None]]:
    """(commit -> {path: blob id} of its DVC files, blob id -> content); the files
    of the ``only_pipelines`` commits are read only where one is a ``dvc.lock``."""
    found = git.files_at(project.root, commits, dvcfiles.is_dvc_file, _SKIP)
    blobs = {oid for commit, files in found.items() for oid in files.values()
             if not only_pipelines or commit not in only_pipelines or any(posixpath.basename(p) == dvcfiles.LOCK_FILE for p in files)}
    return found, git.read_blobs(project.root, sorted(blobs))


def parsed(content: bytes | None, where: str) -> object:
    """One of DVC's files from a repository, loaded as plain data: bounded in
    size (``dvcfiles.MAX_FILE_BYTES``), in depth and in alias growth (the one
    safe loader); None when absent. UntrustedInput or ConfigError otherwise."""
    if content is None:
        return None
    if len(content) > dvcfiles.MAX_FILE_BYTES:
        raise InputTooLarge("size", f"{len(content)} bytes", where, f"DVC's files are at most "
                            f"{dvcfiles.MAX_FILE_BYTES} bytes here")
    return safe_load(content, where)


def pushed_at(project: Project, commits: Mapping[str, tuple[str, set[str] | None]], remote: str) -> CommitOuts:
    """What ``dvc push -r remote`` at each commit would send: commit -> (the label
    its objects are named by, "churn@v1.2.0"; None for everything there, else the
    artifact hashes whose pipelines alone: ``dvcfiles.pipelines_of``). A file
    that fails its checks is left out and said."""
    found, blobs = _files(project, list(commits), {c for c, (_, anchors) in commits.items() if anchors is not None})
    seen: dict[tuple[str, str, str | None], dvcfiles.Outs | str] = {}  # (path, blob, dvc.yaml blob) -> outs or why refused
    objects: dict[str, ObjectRef] = {}
    notes: list[str] = []
    for commit, (label, anchors) in commits.items():
        files = found.get(commit, {})
        if anchors is not None and not any(posixpath.basename(p) == dvcfiles.LOCK_FILE for p in files):
            continue  # no pipeline at that commit: a version's own objects are all it has
        read: dict[str, dvcfiles.Outs] = {}
        for path, oid in sorted(files.items()):
            if posixpath.basename(path) == dvcfiles.STAGE_FILE:
                continue
            beside = files.get(posixpath.join(posixpath.dirname(path), dvcfiles.STAGE_FILE)) \
                if posixpath.basename(path) == dvcfiles.LOCK_FILE else None
            key = (path, oid, beside)
            if key not in seen:
                seen[key] = _outs(path, blobs.get(oid), blobs.get(beside) if beside else None, remote)
            outs = seen[key]
            if isinstance(outs, str):
                notes.append(f"{path} at {label} ({commit[:12]}): not read ({outs}); its outputs are not sent")
            else:
                read[path] = outs
        for path in read if anchors is None else dvcfiles.pipelines_of(read, anchors):
            for out in read[path].pushed:
                objects.setdefault(out.md5, ObjectRef(out.md5, f"{label} {out.path}"))
            if read[path].legacy:
                notes.append(f"{', '.join(read[path].legacy)} at {label}: hashed by DVC 2 (no `hash: md5` in {path}), "
                             "kept in the remote's old layout, which mlver does not write: `dvc push` sends them")
    return CommitOuts(tuple(objects.values()), tuple(dict.fromkeys(notes)))


def _outs(path: str, content: bytes | None, stages: bytes | None, remote: str) -> dvcfiles.Outs | str:
    """The outs of one DVC file, or why it is refused."""
    try:
        doc = parsed(content, path)
        beside = parsed(stages, posixpath.join(posixpath.dirname(path), dvcfiles.STAGE_FILE)) if stages else None
        return dvcfiles.outs_pushed(path, doc, beside, remote)
    except MlverError as exc:
        return exc.message


def named_at(project: Project, commits: list[str]) -> set[str]:
    """Every hash DVC's files at ``commits`` name (outs and deps, read leniently:
    what gc keeps so ``dvc pull`` and ``dvc checkout`` of those commits work)."""
    found, blobs = _files(project, commits)
    hashes: set[str] = set()
    for oid in {oid for files in found.values() for path, oid in files.items() if not path.endswith(dvcfiles.STAGE_FILE)}:
        try:
            hashes |= hashes_in_dvcfile(parsed(blobs.get(oid), f"blob {oid[:12]}"))
        except MlverError:
            continue
    return hashes
