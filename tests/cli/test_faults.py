"""Faults real machines have: a git holding the index, racing registry writes."""
from __future__ import annotations

import json
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


def test_a_fresh_clone_with_autocrlf(project: Project, isolate) -> None:
    """Git for Windows' default, core.autocrlf=true: the checkout's .dvc files
    have CRLF where the blobs have LF; they are compared by their hashes. Before
    the data is pulled, run says so instead of "has changed"."""
    p = project
    p.ok("run", "churn")
    p.ok("push")
    root = isolate / "clone"
    subprocess.run(["git", "clone", "-q", "-c", "core.autocrlf=true", str(p.root), str(root)], check=True)
    (root / ".dvc/config.local").write_text((p.root / ".dvc/config.local").read_text())
    clone = Project(root)
    assert b"\r\n" in (root / "data/train.csv.dvc").read_bytes()  # what makes this an autocrlf checkout
    run = clone.fails("run", "churn")
    assert "error: data data/train.csv is not pulled yet" in run.stderr
    assert "hint: fetch it with `dvc pull data/train.csv`, or `mlver pull churn --with-data`" in run.stderr
    clone.ok("pull", "churn", "--with-data")
    clone.set_params(lr=0.3)
    clone.commit_all("lr 0.3")
    clone.ok("run", "churn")
    clone.ok("record", "churn")
    assert clone.git("status", "--porcelain") == ""
    assert json.loads((root / ".mlver/records/churn.json").read_text())["params"]["train.lr"] == 0.3


def test_a_dvc_rwlock_left_corrupt_by_a_kill(project: Project) -> None:
    """A killed DVC can leave .dvc/tmp/rwlock empty: every later command used to
    fail with "Unable to read RWLock-file" and a `dvc doctor` hint. It is cleared
    when nothing can depend on it, else named with who might."""
    p = project
    rwlock = p.root / ".dvc/tmp/rwlock"
    rwlock.parent.mkdir(parents=True, exist_ok=True)
    rwlock.write_text('{"write": {"')  # cut off mid-write
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "dvc"], cwd=p.root)
    try:
        run = p.fails("run", "churn")
        assert "error: DVC's lock file .dvc/tmp/rwlock is corrupt" in run.stderr
        assert f"hint: once process {bystander.pid} has finished, remove .dvc/tmp/rwlock" in run.stderr
    finally:
        bystander.kill()
        bystander.wait()
    rwlock.write_text("")
    p.ok("run", "churn")
    assert not rwlock.exists() or json.loads(rwlock.read_text()) is not None
    subprocess.run([sys.executable, "-m", "dvc", "status"], cwd=p.root, check=True, capture_output=True)
