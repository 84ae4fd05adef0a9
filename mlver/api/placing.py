"""Materialising verified objects at their destinations: the one implementation
for ``pull``, ``pull --with-data``, ``pull --repo`` and ``reproduce``.

Everything is staged first (mlver/adapters/placement.py: a scratch folder on
the destination's filesystem, outside any tracked folder), then switched in
with one rename per destination while SIGINT waits, so Ctrl-C or kill -9
leaves each destination exactly as before or exactly as after. A directory
becomes exactly the version's tree: files it never had are gone. A file
already in place is kept when its stat still matches what mlver recorded
when it placed (or hashed) it; anything else is written again.
"""
from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlver.adapters import placement
from mlver.adapters.atomic import default_mode
from mlver.adapters.hashcache import Known
from mlver.errors import FileInTheWay, FolderNotEmpty, UnsavedFiles, WrongKindInTheWay
from mlver.models import PulledFile

# (md5, new file to create, what to call it in errors) -> bytes written; the bytes must hash to md5.
Fill = Callable[[str, Path, str], int]
# md5s -> the ones a cache (or the remote) holds: content that is not lost when its file is replaced.
Held = Callable[[set[str]], set[str]]
# Files mlver writes get an mtime this far in the past: any later write moves it,
# however coarse the filesystem's clock (the "racy" case of git's index).
_PAST_NS = 3_000_000_000


@dataclass
class Dest:
    md5: str
    where: str  # "churn@v0.1.0 models/churn.pkl"
    path: Path
    entries: list[tuple[str, str]] | None = None  # a directory's (relpath, md5), from its checked manifest
    # A folder the user named (-o) may hold their own files: a directory
    # pulled there never deletes what it did not put there.
    own_folder: bool = False


@dataclass
class Placed:
    files: list[PulledFile]
    written: int  # files written
    kept: int  # files already in place and left alone
    removed: int  # files a directory had that the version does not


def _in_the_way(dest: Path, where: str, exc: OSError) -> FileInTheWay:
    return FileInTheWay(where, str(dest))


def _rel(root: Path | None, path: Path) -> str | None:
    if root is None:
        return None
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def _age(path: Path) -> None:
    os.chmod(path, default_mode())
    past = time.time_ns() - _PAST_NS
    os.utime(path, ns=(past, past))


class _Run:
    def __init__(self, root: Path | None, fill: Fill, each: Callable[[Callable[[Any], Any], list[Any]], list[Any]],
                 known: Known | None, saved: Held | None = None) -> None:
        self.root = root
        self.fill = fill
        self.each = each
        self.known = known
        self.saved = saved  # None: replace whatever is there
        # What is being placed now: what a full disk's error names.
        self.where = ""
        self.path = Path(".")

    def at(self, where: str, path: Path) -> None:
        self.where, self.path = where, path

    def matches(self, path: Path, md5: str) -> bool:
        return in_place(self.root, path, md5, self.known)

    def refuse_unsaved(self, paths: list[Path]) -> None:
        """Refuse to replace or remove files of the project whose content no cache
        holds (hashed only when their stat is not one mlver recorded)."""
        if self.saved is None:
            return
        from mlver.adapters.storage import md5_file

        found: dict[str, str] = {}  # relpath -> md5
        for path in paths:
            rel = _rel(self.root, path)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if rel is None or not stat.S_ISREG(st.st_mode) or placement.leftover(path):
                continue  # outside the project (a place the caller chose), a symlink, a dead run's temporary file
            found[rel] = (self.known.lookup(rel, st) if self.known is not None else None) or md5_file(path)
        held = self.saved(set(found.values())) if found else set()
        if unsaved := sorted(rel for rel, md5 in found.items() if md5 not in held):
            raise UnsavedFiles(unsaved)

    def write(self, md5: str, target: Path, where: str) -> int:
        size = self.fill(md5, target, where)
        _age(target)
        return size


def in_place(root: Path | None, path: Path, md5: str, known: Known | None) -> bool:
    """Whether ``path`` is a regular file that is what mlver recorded for ``md5``
    (``known``, the stat cache of the project at ``root``): same size, mtime,
    inode and ctime."""
    rel = _rel(root, path)
    if known is None or rel is None:
        return False
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and known.lookup(rel, st) == md5


def _existing_tree(dest: Path) -> tuple[dict[str, os.stat_result], set[str]] | None:
    """(files -> lstat, folders) of the directory at ``dest``, as relpaths; None
    when it is not a plain directory. A symlink counts as a file (never followed)."""
    if dest.is_symlink() or not dest.is_dir():
        return None
    files: dict[str, os.stat_result] = {}
    dirs: set[str] = set()
    todo = [("", os.fspath(dest))]
    while todo:
        base, top = todo.pop()
        with os.scandir(top) as entries:
            for entry in entries:
                rel = base + entry.name
                if entry.is_dir(follow_symlinks=False):
                    dirs.add(rel)
                    todo.append((rel + "/", entry.path))
                else:
                    files[rel] = entry.stat(follow_symlinks=False)
    return files, dirs


def _parents(relpaths: list[str]) -> set[str]:
    out = set()
    for rel in relpaths:
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]))
    return out


def known_in(root: Path | None) -> Known | None:
    """The stat cache of a project (None outside one, or in a plain git repository)."""
    return Known(root) if root is not None and (root / ".dvc").is_dir() else None


@dataclass
class _Staged:
    """What staging the destinations made: the result so far, the (staged, target)
    renames still to make, and the (project-relative path, md5) of every file written."""
    files: list[PulledFile] = field(default_factory=list)
    written: int = 0
    kept: int = 0
    removed: int = 0
    switches: list[tuple[Path, Path]] = field(default_factory=list)
    touched: list[tuple[str, str]] = field(default_factory=list)


def place(root: Path | None, dests: list[Dest], fill: Fill,
          each: Callable[[Callable[[Any], Any], list[Any]], list[Any]] | None = None,
          known: Known | None = None, area: placement.Scratch | None = None,
          saved: Held | None = None) -> Placed:
    """Stage every destination, then switch them all in; see the module docstring.
    ``root``: the project (where scratch space lives), None outside one;
    ``known``: its stat cache, which says what is already in place;
    ``area``: the caller's scratch (it staged files there already); removed here;
    ``saved``: given, a file of the project that would be replaced or removed
    must hold content it says is held (else UnsavedFiles, before any switch)."""
    run = _Run(root, fill, each or (lambda fn, items: [fn(i) for i in items]), known, saved)
    staged = _Staged()
    try:
        # (A caller's scratch is removed here too: before the stats are recorded.)
        with placement.scratch(root) if area is None else closing(area) as area:
            for dest in dests:
                run.at(dest.where, dest.path)
                _make_room(dest)
                if dest.entries is None:
                    _stage_file(run, area, dest, staged)
                else:
                    _stage_dir(run, area, dest, staged)
            _switch_in(run, staged.switches)
        # The old trees went with the scratch folder; their unlinks changed the
        # ctime of files kept by a hard link, so stats are recorded only now
        # (only for what was written or relinked: a kept file's entry still holds).
        if run.known is not None:
            for rel, md5 in staged.touched:
                run.known.remember(rel, md5)
            run.known.save()
    except OSError as exc:
        full = placement.disk_full(exc, run.path, run.where)
        if full is not None:
            raise full from exc
        raise
    return Placed(staged.files, staged.written, staged.kept, staged.removed)


def _make_room(dest: Dest) -> None:
    """The destination's folder made, and what a killed run left beside it swept."""
    try:
        dest.path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise _in_the_way(dest.path, dest.where, exc) from exc
    placement.sweep_beside(dest.path)  # what a killed run (of any version) left next to it


def _stage_file(run: _Run, area: placement.Scratch, dest: Dest, staged: _Staged) -> None:
    """Keep a single file already in place, else write it to the scratch area."""
    if dest.path.is_dir() and not dest.path.is_symlink():
        raise WrongKindInTheWay(dest.where, str(dest.path), "folder", "file")
    if run.matches(dest.path, dest.md5):
        staged.kept += 1
        size = dest.path.stat().st_size
    else:
        run.refuse_unsaved([dest.path])
        new = area.new_path(dest.path)
        size = run.write(dest.md5, new, dest.where)
        staged.switches.append((new, dest.path))
        staged.written += 1
        if (rel := _rel(run.root, dest.path)) is not None:
            staged.touched.append((rel, dest.md5))
    staged.files.append(PulledFile(str(dest.path), dest.md5, size))


def _switch_in(run: _Run, switches: list[tuple[Path, Path]]) -> None:
    """Every staged destination renamed into place while SIGINT waits."""
    with placement.uninterrupted():
        for new, target in switches:
            run.at(str(target), target)
            placement.switch(new, target)


def _stage_dir(run: _Run, area: placement.Scratch, dest: Dest, staged: _Staged) -> None:
    """Keep a directory that is exactly the version's tree, else build that tree
    in the scratch area."""
    entries = dest.entries or []
    existing = _existing_tree(dest.path)
    if dest.path.exists() and existing is None and not dest.path.is_dir():
        raise WrongKindInTheWay(dest.where, str(dest.path), "file", "folder")
    have_files, have_dirs = existing or ({}, set())
    keep = _still_in_place(run, dest, have_files)
    wanted = {rel for rel, _ in entries}
    have = set(have_files)
    extra = (have - wanted) | (have_dirs - _parents(list(wanted)))
    if dest.own_folder and have - wanted:
        others = sorted(have - wanted)
        raise FolderNotEmpty(dest.where, str(dest.path), len(others), others[0])
    if existing is not None and len(keep) == len(entries) and not extra:
        top = os.path.join(dest.path, "")
        staged.files += [PulledFile(top + rel, md5, have_files[rel].st_size) for rel, md5 in entries]
        staged.kept += len(entries)
        return  # exactly in place: nothing to write, nothing to switch
    run.refuse_unsaved([dest.path / rel for rel in sorted(have - keep)])
    tree, files = _build_tree(run, area, dest, keep)
    staged.files += files
    staged.written += len(entries) - len(keep)
    staged.kept += len(keep)
    staged.removed += len(have - wanted)
    staged.switches.append((tree, dest.path))
    if (rel := _rel(run.root, dest.path)) is not None:
        staged.touched += [(f"{rel}/{file}", md5) for file, md5 in entries]


def _still_in_place(run: _Run, dest: Dest, have_files: dict[str, os.stat_result]) -> set[str]:
    """The directory's files (relpaths) whose stat is what mlver recorded for their md5."""
    base = _rel(run.root, dest.path)
    if run.known is None or base is None:
        return set()
    lookup, prefix = run.known.lookup, base + "/"
    keep = set()
    for rel, md5 in dest.entries or []:
        st = have_files.get(rel)
        if st is not None and stat.S_ISREG(st.st_mode) and lookup(prefix + rel, st) == md5:
            keep.add(rel)
    return keep


def _build_tree(run: _Run, area: placement.Scratch, dest: Dest, keep: set[str]) -> tuple[Path, list[PulledFile]]:
    """The version's tree staged in the scratch area: the files of ``keep``
    hard-linked from the directory in place (written again where links fail),
    the rest written. Returns the staged tree and its files as they will be."""
    entries = dest.entries or []
    tree = area.new_path(dest.path)
    tree.mkdir()
    for folder in sorted(_parents([rel for rel, _ in entries])):
        (tree / folder).mkdir(exist_ok=True)

    def one(entry: tuple[str, str]) -> PulledFile:
        rel, md5 = entry
        target = tree / rel
        if rel in keep:
            try:
                os.link(dest.path / rel, target, follow_symlinks=False)
                return PulledFile(str(dest.path / rel), md5, os.lstat(target).st_size)
            except OSError as exc:
                if placement.disk_full(exc, target, dest.where):
                    raise
                # no hard links on this filesystem: write it again
        size = run.write(md5, target, f"{dest.where}/{rel}")
        return PulledFile(str(dest.path / rel), md5, size)

    return tree, run.each(one, entries)
