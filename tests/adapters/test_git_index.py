"""mlver and the real git index: its reads never write it (a kill -9 in the
middle of one must not leave git's index.lock behind), and its commits leave
it equal to HEAD however racy the work tree's timestamps."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from mlver.adapters import git


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def test_status_read_leaves_the_index_alone(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "config", "user.email", "t@example.com")
    _git(tmp_path, "config", "user.name", "t")
    for i in range(50):
        (tmp_path / f"f{i}.txt").write_text(f"{i}\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "files")
    index = tmp_path / ".git" / "index"
    # Touch every file: its stat no longer matches the index, so a `git status`
    # that may take the optional lock rewrites the index to refresh it.
    for i in range(50):
        os.utime(tmp_path / f"f{i}.txt", (1_000_000_000 + i, 1_000_000_000 + i))
    before = index.stat()
    (tmp_path / "f3.txt").write_text("changed\n")
    assert git.changed_tracked(tmp_path) == ["f3.txt"]
    git.diff_against_head(tmp_path)
    after = index.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "a read rewrote the index"
    # The control: plain git status does rewrite it here, so the check above can fail.
    _git(tmp_path, "status", "--porcelain")
    assert index.stat().st_ino != before.st_ino


def test_commit_stages_a_racily_clean_file(tmp_path: Path) -> None:
    """A file rewritten within the tick the index was written in, same size
    (a training script rewriting metrics.json): its old stat matches, and only
    the index's own mtime tells git to look at the content."""
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "config", "user.email", "t@example.com")
    _git(tmp_path, "config", "user.name", "t")
    _git(tmp_path, "config", "core.trustctime", "false")  # the ctime tick is not ours to set
    metrics = tmp_path / "metrics.json"
    metrics.write_text('{"accuracy": 0.1}')
    _git(tmp_path, "add", "metrics.json")
    _git(tmp_path, "commit", "-qm", "first")
    index = tmp_path / ".git" / "index"
    # An index entry with metrics.json's stat that git did not smudge (the
    # index it was refreshed from was dated later), then the index dated in
    # the same tick as the file: racily clean, as after a fast script.
    stamp = time.time_ns() - 100 * 10**9
    os.utime(metrics, ns=(stamp, stamp))
    later = time.time_ns() + 1000 * 10**9
    os.utime(index, ns=(later, later))
    _git(tmp_path, "update-index", "--refresh")
    os.utime(index, ns=(stamp, stamp))
    with metrics.open("r+") as f:  # same inode, same size, same mtime: only the bytes differ
        f.write('{"accuracy": 0.9}')
    os.utime(metrics, ns=(stamp, stamp))
    assert _git(tmp_path, "diff", "--name-only") == "metrics.json\n"  # git itself sees the change
    commit = git.commit_paths(tmp_path, ["metrics.json"], "record")
    assert _git(tmp_path, "show", f"{commit}:metrics.json") == '{"accuracy": 0.9}'
    assert _git(tmp_path, "diff", "--cached", "--name-only", "HEAD") == "", "the index kept the old blob"
    assert _git(tmp_path, "status", "--porcelain", "--untracked-files=no") == ""


def test_a_branch_that_moved_meanwhile_is_refused_and_nothing_switches(tmp_path: Path) -> None:
    """The compare-and-swap of the branch and the index switch go together:
    when git refuses the move (another commit landed since ``old`` was read),
    the real index is not replaced, and neither the lock nor the copy stays."""
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.email", "t@example.com")
    _git(tmp_path, "config", "user.name", "t")
    (tmp_path / "a.txt").write_text("1\n")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "commit", "-qm", "first")
    first = _git(tmp_path, "rev-parse", "HEAD").strip()
    (tmp_path / "a.txt").write_text("2\n")
    ours = git.commit_paths(tmp_path, ["a.txt"], "ours")
    index = tmp_path / ".git" / "index"
    before = index.stat()
    (tmp_path / "a.txt").write_text("3\n")
    try:
        git._move_ref(tmp_path, "refs/heads/main", first, first, ["a.txt"], "stale", from_worktree=True)
    except git.GitFailed as exc:
        assert "update-ref" in exc.message
    else:
        raise AssertionError("a stale compare-and-swap moved the branch")
    assert _git(tmp_path, "rev-parse", "HEAD").strip() == ours
    assert (index.stat().st_ino, index.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(p.name for p in (tmp_path / ".git").glob("index*")) == ["index"]
