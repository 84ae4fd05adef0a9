"""`mlver log`'s record history, kept per tip in .git/mlver/cache/log: equal
to `git log -- RECORD` after new commits, a merge, a rewound branch and an
amended commit; after new commits of one parent only those are read."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Project

RECORD = ".mlver/records/churn.json"


def _trained_commits(p: Project) -> list[str]:
    return [e["commit"] for e in p.ok("log", "churn", "--json").json() if e["kind"] == "record"]


def _git_log(p: Project) -> list[str]:
    return p.git("log", "--format=%H", "--", RECORD).split()


def _retrain(p: Project, lr: float) -> None:
    p.set_params(lr=lr)
    p.commit_all(f"lr {lr}")
    p.ok("run", "churn")


def test_record_history_cache_follows_git(trained: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = trained
    assert _trained_commits(p) == _git_log(p) != []
    # New commits of one parent: only they are read (a range), not the whole history.
    _retrain(p, 0.2)
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    commits = _trained_commits(p)
    monkeypatch.delenv("GIT_TRACE")
    assert commits == _git_log(p)
    logs = [line for line in trace.read_text().splitlines() if "built-in: git log" in line]
    assert len(logs) == 1 and ".." in logs[0], logs
    # A merge of a branch that retrained: the whole history again, still git's answer.
    main = p.git("rev-parse", "--abbrev-ref", "HEAD").strip()
    p.git("checkout", "-q", "-b", "side")
    _retrain(p, 0.3)
    p.git("checkout", "-q", main)
    p.write("notes.txt", "main moves on\n")
    p.commit_all("notes")
    assert _trained_commits(p) == _git_log(p)
    p.git("merge", "-q", "--no-ff", "-X", "theirs", "-m", "merge side", "side")
    assert _trained_commits(p) == _git_log(p)
    # Rewound, then amended: the answer for the old tip must not leak into the new one.
    p.git("reset", "-q", "--hard", "HEAD~2")
    assert _trained_commits(p) == _git_log(p)
    p.git("commit", "-q", "--amend", "-m", "amended")
    assert _trained_commits(p) == _git_log(p)
    assert (p.root / ".git/mlver/cache/log").is_dir()


def test_history_started_ahead_is_the_history(trained: Project) -> None:
    """pathlog.history_ahead (verify's walk of mlver.yaml, started before the
    records are read) gives what history gives, and keeps the same cache:
    nothing kept yet, kept, after a new commit, and kept by another reader
    between the start and the answer."""
    from mlver.api import pathlog

    p = trained
    root = p.root

    def git_log() -> list[str]:
        return p.git("log", "--format=%H", "--", "mlver.yaml").split()

    def ahead() -> list[str]:
        return [c.commit for c in pathlog.history_ahead(root, "mlver.yaml", "HEAD")()]

    kept = pathlog._file(root, "mlver.yaml")
    kept.unlink(missing_ok=True)
    assert ahead() == git_log() != []  # nothing kept: the whole walk, started ahead
    assert ahead() == [c.commit for c in pathlog.history(root, "mlver.yaml")] == git_log()  # kept
    p.write("mlver.yaml", (root / "mlver.yaml").read_text() + "# changed\n")
    p.commit_all("policy note")
    assert ahead() == git_log()  # a new commit on top of the kept tip
    kept.unlink()
    started = pathlog.history_ahead(root, "mlver.yaml", "HEAD")
    assert [c.commit for c in pathlog.history(root, "mlver.yaml")] == git_log()  # kept meanwhile by another reader
    assert [c.commit for c in started()] == git_log()
