"""The one walk of the branches verify's history replay takes
(git.branch_commit_times_ahead) says what on_branches and commit_times say
of the same commits: local and remote branches, a commit only a tag
reaches (not listed), a commit dated 0, and after the branches move."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from mlver.adapters import git


def _git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}).stdout.strip()


def _commit(root: Path, text: str, when: int) -> str:
    (root / "f").write_text(text)
    _git(root, "add", "f")
    date = f"@{when} +0000"
    _git(root, "commit", "-q", "-m", text, env={"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date})
    return _git(root, "rev-parse", "HEAD")


def _agrees(root: Path, tag_only: set[str]) -> dict[str, int]:
    walked = git.branch_commit_times_ahead(root)()
    assert set(walked) == git.on_branches(root)
    every = set(_git(root, "rev-list", "--all").split())
    assert tag_only <= every - set(walked)  # reached by a tag alone: not on a branch
    known = {c: t for c, t in walked.items() if t}
    assert known == {c: t for c, t in git.commit_times(root, list(walked)).items() if c in known}
    return walked


def test_the_walk_matches_reachability_and_commit_times(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    first = _commit(root, "one", 1_700_000_000)
    second = _commit(root, "two", 1_700_000_100)
    _git(root, "checkout", "-q", "-b", "side", first)
    side = _commit(root, "side", 1_600_000_000)  # older than its parent: times are read, not ordered
    _git(root, "checkout", "-q", "--detach", second)
    lonely = _commit(root, "made for a tag", 1_700_000_200)
    _git(root, "tag", "-a", "m@v1.0.0", "-m", "x", lonely)
    _git(root, "checkout", "-q", "main")
    walked = _agrees(root, {lonely})
    assert walked[side] == 1_600_000_000 and walked[second] == 1_700_000_100

    # A remote-tracking branch counts as a branch; deleting one un-reaches its commits.
    _git(root, "update-ref", "refs/remotes/origin/feature", lonely)
    assert lonely in _agrees(root, set())
    _git(root, "update-ref", "-d", "refs/remotes/origin/feature")
    _git(root, "branch", "-q", "-D", "side")
    walked = _agrees(root, {lonely})
    assert side not in walked


def test_a_commit_git_dates_zero_is_reached_with_no_time(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    tree = _git(root, "write-tree")
    raw = f"tree {tree}\nauthor A <a@x> 0 +0000\ncommitter A <a@x> 0 +0000\n\nepoch\n"
    commit = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=root, input=raw,
                            capture_output=True, text=True, check=True).stdout.strip()
    _git(root, "update-ref", "refs/heads/main", commit)
    walked = git.branch_commit_times_ahead(root)()
    assert walked == {commit: 0}
    assert git.on_branches(root) == {commit}
