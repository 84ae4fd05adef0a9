"""Faults real machines have: a git holding the index, racing registry writes."""
from __future__ import annotations

import os
import subprocess
import sys

from conftest import Project

LOCK_MARK = "mlver-index-lock"


def _train(p: Project) -> None:
    subprocess.run([sys.executable, "train.py"], cwd=p.root, check=True, capture_output=True)


def test_a_held_index_lock_is_an_error_before_anything_changes(project: Project) -> None:
    """An IDE's background git holds .git/index.lock while `record` ends: mlver
    refuses with nothing changed, instead of moving the branch around an index
    that the user's next `git commit` would write back."""
    p = project
    _train(p)
    lock = p.root / ".git/index.lock"
    lock.write_text("")  # git's own lock: empty until git writes the new index into it
    run = p.fails("record", "churn")
    assert "error: another git process is using the index (.git/index.lock exists); nothing was changed" in run.stderr
    assert "if no git is running, remove .git/index.lock" in run.stderr
    assert lock.read_text() == ""  # someone else's lock is never taken
    # A lock left by an mlver that was killed (its process is gone) is taken over;
    # one of a live mlver (this test's own pid) is not.
    lock.write_text(f"{LOCK_MARK} {os.uname().nodename} {os.getpid()}\n")
    p.fails("record", "churn")
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock.write_text(f"{LOCK_MARK} {os.uname().nodename} {dead.pid}\n")
    p.ok("record", "churn")
    assert not lock.exists()
    assert not list((p.root / ".git").glob("index.mlver-*"))
    # The real index has the record commit's entries: nothing staged, nothing to revert.
    assert p.git("status", "--porcelain", "--untracked-files=no") == ""
    assert p.git("diff", "--cached", "--name-only", "HEAD") == ""
    recorded = p.git("rev-parse", "HEAD").strip()
    p.write("notes.txt", "next change\n")
    p.git("add", "notes.txt")
    p.git("commit", "-q", "-m", "the user's next commit")
    assert p.git("diff", "--name-only", recorded, "HEAD").split() == ["notes.txt"]
    # A git command mlver runs on the real index gets the same clean error.
    lock.write_text("")
    p.write("data/extra.csv", "a,b\n1,2\n")
    run = p.fails("data", "add", "data/extra.csv", outputs=("data/",))
    assert "another git process is using the index" in run.stderr
    lock.unlink()


def _mlver(p: Project, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mlver", *args], cwd=p.root, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_racing_releases_give_one_version_and_a_clean_error(trained: Project) -> None:
    """`release --bump minor` against `--bump patch` of one record: one wins, the
    other says the commit is released (before: two versions on one commit)."""
    p = trained
    for lr in (0.2, 0.3, 0.4):
        p.set_params(lr=lr)
        p.commit_all(f"lr {lr}")
        p.ok("run", "churn")
        head = p.git("rev-parse", "HEAD").strip()
        racers = [_mlver(p, "release", "churn", "--bump", part) for part in ("minor", "patch")]
        results = [(r.wait(), r.stderr.read()) for r in racers]
        assert sorted(code for code, _ in results) == [0, 2], results
        loser = next(err for code, err in results if code == 2)
        assert "Traceback" not in loser and "git tag failed" not in loser
        assert f"error: commit {head[:12]} is already released as churn@" in loser and "\nhint: " in loser
        at_head = [t for t in p.git("tag", "--points-at", head).split() if t.startswith("churn@")]
        assert len(at_head) == 1, at_head


def test_a_tag_written_first_by_someone_else(trained: Project) -> None:
    """The counter mlver picked is taken by a tag the registry does not read
    (lightweight): a clean error naming the tag, not git's raw one."""
    p = trained
    p.git("tag", "churn#prod#1")
    run = p.fails("promote", "churn@v0.1.0", "prod")
    assert "error: tag churn#prod#1 was written by someone else first; nothing was changed" in run.stderr
    assert "`git tag -d churn#prod#1`" in run.stderr
