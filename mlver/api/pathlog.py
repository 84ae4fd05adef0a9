"""The commits that changed one file (a record, mlver.yaml), without walking
every commit of the repository each time.

``git log REV -- PATH`` visits every commit reachable from REV: 3 s at
100,000 commits, for a record changed by 1,000 of them. The answer for a
commit is a fact about that commit (its id names its whole history, given
the shallow boundary, grafts and replace refs, which stamp the cache), so it
is kept in ``.git/mlver/cache/log/`` per file and tip. When the tip moves on
by commits of one parent each (new commits, a fast-forward), only those are
read and put in front of the answer kept for the old tip: a linear chain
down to it is the old history plus what the new commits changed. A merge,
a rewound or rewritten branch, or another context reads the whole history
once more. (A commit graph with changed-path filters, where the user has
one, speeds up that full read; git uses it by itself.)
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from mlver.adapters import git, gitcache

_KEEP_TIPS = 3  # per file: HEAD, the default branch and one more
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_TIMES = (-62135596800, 253402300799)  # the years 1 to 9999: what a date is shown as


def _file(root: Path, path: str) -> Path:
    return gitcache.path(root, "log/" + hashlib.sha256(path.encode()).hexdigest()[:24])


def _stamp(root: Path, path: str) -> str:
    return git.history_context(root) + ":" + gitcache.code_stamp(__file__) + ":" + path


def history_ahead(root: Path, path: str, rev: str = "HEAD",
                  walk: Callable[[str], Callable[[], git.BranchWalk | None]] | None = None
                  ) -> Callable[[], list[git.RawCommit]]:
    """``history(root, path, rev)``, its git started now when it must read
    the whole history (nothing kept for this file yet): git walks on the
    other core while the caller goes on. Call the answer once. What was kept
    is read once, here, and the answer starts from it (kept facts never go
    stale: another command writing meanwhile only makes this one slower).
    ``walk``: starts git.branch_walk_ahead for the tip, instead of a walk of
    its own, when the caller needs that walk anyway (called only then)."""
    tip = git.resolve_commit(root, rev)
    if tip is None:
        return lambda: []
    stamp = _stamp(root, path)
    tips = _kept(root, path, stamp)
    full = None if tips else (_walked(root, path, tip, walk(tip)) if walk is not None else git.log_path_ahead(root, path, tip))
    return lambda: _history(root, path, tip, stamp, tips, full)


def _walked(root: Path, path: str, tip: str, walk: Callable[[], git.BranchWalk | None]) -> Callable[[], list[git.RawCommit]]:
    """The whole history from the branches' walk; git's own ``log`` where the tip's history has a merge."""
    def commits() -> list[git.RawCommit]:
        walked = walk()
        if walked is None or walked.path_log is None:
            return git.log_path(root, path, tip)
        return git.log_commits(root, walked.path_log)

    return commits


def history(root: Path, path: str, rev: str = "HEAD") -> list[git.RawCommit]:
    """``git log REV -- PATH``, newest first, cached per tip."""
    tip = git.resolve_commit(root, rev)
    if tip is None:
        return []
    stamp = _stamp(root, path)
    return _history(root, path, tip, stamp, _kept(root, path, stamp), None)


def _kept(root: Path, path: str, stamp: str) -> dict:
    """The kept answers by tip, of those exactly as ``_history`` writes them: the
    file is anyone's with the clone to edit, and a tip or row it did not write
    (damaged, crafted) is read from git again, never shown or given to git."""
    tips = gitcache.load(_file(root, path), stamp).get("tips", {})
    if not isinstance(tips, dict):
        return {}
    return {tip: rows for tip, rows in tips.items() if _COMMIT.fullmatch(tip) and type(rows) is list
            and all(type(row) is list and len(row) == 5 and type(row[0]) is str and _COMMIT.fullmatch(row[0])
                    and type(row[1]) is str and type(row[2]) is str and type(row[3]) is int
                    and _TIMES[0] <= row[3] <= _TIMES[1] and type(row[4]) is str
                    for row in rows)}


def _history(root: Path, path: str, tip: str, stamp: str, tips: dict,
             full: Callable[[], list[git.RawCommit]] | None) -> list[git.RawCommit]:
    """``full``: the whole walk, started already by ``history_ahead``."""
    rows = tips.get(tip)
    if not isinstance(rows, list):
        rows = None
        for old in reversed(list(tips)):
            if isinstance(tips[old], list) and git.linear_since(root, old, tip) is not None:
                new = git.log_path(root, path, f"{old}..{tip}")
                rows = [[c.commit, c.author, c.email, c.timestamp, c.subject] for c in new] + tips[old]
                break
        if rows is None:
            walked = full() if full is not None else git.log_path(root, path, tip)  # (started only when nothing was kept)
            rows = [[c.commit, c.author, c.email, c.timestamp, c.subject] for c in walked]
        tips.pop(tip, None)
        tips[tip] = rows
        for old in list(tips)[:-_KEEP_TIPS]:
            del tips[old]
        gitcache.save(_file(root, path), {"tips": tips}, stamp)
    return [git.RawCommit(*row) for row in rows]
