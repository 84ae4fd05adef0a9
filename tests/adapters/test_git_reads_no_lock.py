"""mlver's git reads never write the real index (a kill -9 in the middle of
one must not leave git's index.lock behind)."""
from __future__ import annotations

import os
import subprocess
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
