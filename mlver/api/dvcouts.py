"""The objects DVC's own files name at a commit (``.dvc`` files, ``dvc.lock``):
what ``dvc push`` at that commit would send. ``mlver push`` sends them with
the versions it pushes, so a teammate's ``git clone`` + ``dvc pull`` of a
pipeline finds its intermediate outputs too, not only the model and its data;
``mlver gc`` keeps them for every version and stage it keeps."""
from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlver.adapters import git, gitcache
from mlver.adapters.yamlfile import safe_load
from mlver.api.objects import ObjectRef
from mlver.domain import dvcfiles, validate
from mlver.domain.retention import hashes_in_dvcfile
from mlver.errors import InputTooLarge, MlverError
from mlver.project import Project

# Not DVC's files: DVC's own folder (config, cache) and mlver's records.
_SKIP = frozenset({".dvc", ".mlver", ".git"})
_LISTINGS = "dvc-files"
_MAX_KEPT = 2_000_000  # (path, blob) pairs kept in the cache file, over every commit's listing


@dataclass(frozen=True)
class CommitOuts:
    """What DVC's files at the commits asked about name, for push."""
    objects: tuple[ObjectRef, ...]  # first place each md5 is named
    notes: tuple[str, ...]  # files refused, outputs hashed by DVC 2


def _files(project: Project, commits: list[str],
           only_pipelines: set[str] | None = None) -> tuple[dict[str, dict[str, str]], dict[str, bytes | None]]:
    """(commit -> {path: blob id} of its DVC files, blob id -> content); the files
    of the ``only_pipelines`` commits are read only where one is a ``dvc.lock``."""
    found = listings(project.root, commits)
    blobs = {oid for commit, files in found.items() for oid in files.values()
             if not only_pipelines or commit not in only_pipelines or any(posixpath.basename(p) == dvcfiles.LOCK_FILE for p in files)}
    return found, git.read_blobs(project.root, sorted(blobs))


def listings(root: Path, commits: list[str]) -> dict[str, dict[str, str]]:
    """commit -> {path: blob id} of its DVC files (git.files_at), each commit's
    walked once per clone: a commit id fixes its tree, so the listing cannot
    go stale (replace refs and grafts, which could swap it, are in the stamp).
    A damaged or foreign entry is walked again."""
    file = gitcache.path(root, _LISTINGS)
    stamp = f"{git.history_context(root)}:{gitcache.code_stamp(__file__, dvcfiles.__file__)}:{sorted(_SKIP)}"
    tables = gitcache.load(file, stamp)
    by_commit, kept = tables.get("commits", {}), tables.get("listings", {})
    found: dict[str, dict[str, str]] = {}
    unknown = []
    for commit in dict.fromkeys(commits):
        key = by_commit.get(commit)
        listing = kept.get(key) if isinstance(key, str) else None
        if isinstance(listing, dict) and _sound(listing):
            found[commit] = listing
        else:
            unknown.append(commit)
    if not unknown:
        return found
    for commit, files in git.files_at(root, unknown, dvcfiles.is_dvc_file, _SKIP).items():
        key = hashlib.sha256("".join(f"{p}\0{o}\n" for p, o in sorted(files.items())).encode()).hexdigest()[:32]
        by_commit[commit], kept[key], found[commit] = key, files, files
    if sum(map(len, kept.values())) > _MAX_KEPT:  # (a history of huge pipelines: keep this run's only)
        by_commit, kept = {c: by_commit[c] for c in found}, {by_commit[c]: found[c] for c in found}
    gitcache.save(file, {"commits": by_commit, "listings": kept}, stamp)
    return found


def _sound(listing: dict) -> bool:
    """A listing as ``listings`` keeps it: DVC file paths to blob ids."""
    return all(
        type(path) is str and type(oid) is str and validate.COMMIT.fullmatch(oid) is not None
        and "\0" not in path and dvcfiles.is_dvc_file(posixpath.basename(path))
        and not {"", ".", ".."} & set(path.split("/"))  # (as a tree walk names them: inside the commit)
        for path, oid in listing.items())


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
