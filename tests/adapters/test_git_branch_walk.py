"""The one walk of the branches verify's history replay takes
(git.branch_commit_times_ahead) says what on_branches and commit_times say
of the same commits: local and remote branches, a commit only a tag
reaches (not listed), a commit dated 0, and after the branches move."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

from mlver.adapters import git
from mlver.api import history


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


def _change(root: Path, name: str, text: str | None, when: int, message: str) -> str:
    if text is None:
        _git(root, "rm", "-q", name)
    else:
        (root / name).write_text(text)
        _git(root, "add", name)
    date = f"@{when} +0000"
    _git(root, "commit", "-q", "--allow-empty", "-m", message, env={"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date})
    return _git(root, "rev-parse", "HEAD")


def _log(root: Path, tip: str) -> list[git.RawCommit]:
    return git.log_path(root, "mlver.yaml", tip)


def test_one_walk_gives_the_times_and_the_log_of_a_history_without_merges(tmp_path: Path) -> None:
    """git.branch_walk_ahead: the times rev-list gives, and the commits `log TIP -- mlver.yaml`
    lists (the root that adds it, edits, a mode change, a deletion and a re-add, commits that
    leave it alone, a branch and a tag-only commit that change it too), with the same fields."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _change(root, "mlver.yaml", "a: 1\n", 1_700_000_000, "root adds it")
    _change(root, "f", "x", 1_700_000_010, "leaves it")
    fork = _change(root, "mlver.yaml", "a: 2\n", 1_700_000_020, "edits it")
    (root / "mlver.yaml").chmod(0o755)
    _change(root, "mlver.yaml", "a: 2\n", 1_700_000_030, "mode")
    _change(root, "mlver.yaml", None, 1_700_000_040, "deletes it")
    _change(root, "mlver.yaml", "a: 3\n", 1_700_000_050, "adds it again")
    _change(root, "f", "y", 1_700_000_060, "leaves it again")
    tip = _git(root, "rev-parse", "HEAD")
    _git(root, "checkout", "-q", "-b", "side", fork)
    _change(root, "mlver.yaml", "side: 1\n", 1_700_000_070, "on a branch")
    _git(root, "checkout", "-q", "--detach", fork)
    lonely = _change(root, "mlver.yaml", "tag: 1\n", 1_700_000_080, "for a tag only")
    _git(root, "tag", "-a", "m@v1.0.0", "-m", "x", lonely)
    _git(root, "checkout", "-q", "main")
    _git(root, "update-ref", "refs/remotes/origin/main", tip)

    walked = git.branch_walk_ahead(root, "mlver.yaml", tip)()
    assert walked is not None and walked.path_log is not None
    assert walked.times == git.branch_commit_times_ahead(root)()
    assert git.log_commits(root, walked.path_log) == _log(root, tip)
    assert len(walked.path_log) == 5  # root, edit, mode, deletion, re-add
    side = _git(root, "rev-parse", "side")
    assert git.log_commits(root, git.branch_walk_ahead(root, "mlver.yaml", side)().path_log) == _log(root, side)  # type: ignore[union-attr]


def test_a_merge_in_the_tips_history_leaves_the_log_to_git(tmp_path: Path) -> None:
    """A merge that took a branch's mlver.yaml: git shows the branch's commit, not the merge
    (its history simplification), which a walk of first parents would miss; a merge on
    another branch changes nothing."""
    from mlver.api import pathlog

    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    base = _change(root, "mlver.yaml", "a: 1\n", 1_700_000_000, "root")
    _change(root, "f", "x", 1_700_000_010, "main's own")
    _git(root, "checkout", "-q", "-b", "side", base)
    _change(root, "mlver.yaml", "a: 2\n", 1_700_000_020, "side changes it")
    _git(root, "checkout", "-q", "-b", "other", base)
    _change(root, "g", "z", 1_700_000_025, "other's own")
    _git(root, "merge", "-q", "--no-edit", "main")  # a merge off the default branch
    _git(root, "checkout", "-q", "main")
    _git(root, "merge", "-q", "--no-edit", "side")
    tip = _git(root, "rev-parse", "HEAD")
    expected = _log(root, tip)
    assert [c.subject for c in expected] == ["side changes it", "root"]

    walked = git.branch_walk_ahead(root, "mlver.yaml", tip)()
    assert walked is not None and walked.path_log is None
    assert walked.times == git.branch_commit_times_ahead(root)()
    started = pathlog.history_ahead(root, "mlver.yaml", tip, lambda at: git.branch_walk_ahead(root, "mlver.yaml", at))
    assert started() == expected
    other = _git(root, "rev-parse", "other")  # its history holds a merge too
    assert git.branch_walk_ahead(root, "mlver.yaml", other)().path_log is None  # type: ignore[union-attr]
    linear = _git(root, "rev-parse", "side")
    assert git.log_commits(root, git.branch_walk_ahead(root, "mlver.yaml", linear)().path_log) == _log(root, linear)  # type: ignore[union-attr, arg-type]


def test_a_history_listed_out_of_order_leaves_the_log_to_git(tmp_path: Path) -> None:
    """A remote branch at an older commit dated after its child: git lists that commit first,
    so the walk cannot follow the tip's history in one pass; git log answers instead."""
    from mlver.api import pathlog

    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _change(root, "mlver.yaml", "a: 1\n", 1_700_000_000, "root")
    late = _change(root, "mlver.yaml", "a: 2\n", 1_700_000_900, "dated later than its child")
    _change(root, "mlver.yaml", "a: 3\n", 1_700_000_100, "the tip")
    tip = _git(root, "rev-parse", "HEAD")
    _git(root, "update-ref", "refs/remotes/origin/main", late)
    walked = git.branch_walk_ahead(root, "mlver.yaml", tip)()
    assert walked is not None and walked.path_log is None
    assert walked.times == git.branch_commit_times_ahead(root)()
    expected = _log(root, tip)
    assert len(expected) == 3
    assert pathlog.history_ahead(root, "mlver.yaml", tip, lambda at: git.branch_walk_ahead(root, "mlver.yaml", at))() == expected


def test_the_walk_reaches_commits_whose_dates_git_cannot_read(tmp_path: Path) -> None:
    """Commits written by hand with dates git's log cannot read ("", "-5", "+77", no zone)
    are still reached, and the walk says their times are rev-list's to read (the replay's
    times then come from rev-list); well-formed ones get rev-list's time."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    tree = _git(root, "write-tree")
    parent, good = "", []
    for i, line in enumerate(["committer A <a@x> 100 +0000", "committer A <a@x>  +0000", "committer A <a@x> -5 +0000",
                              "committer A <a@x> +77 +0000", "committer A <a@x> 15", "committer A <a@x> 200 +0000"]):
        raw = f"tree {tree}\n{parent}author A <a@x> 1 +0000\n{line}\n\nc{i}\n"
        commit = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin", "--literally"], cwd=root,
                                input=raw, capture_output=True, text=True, check=True).stdout.strip()
        parent = f"parent {commit}\n"
        if i in (0, 5):
            good.append(commit)
    _git(root, "update-ref", "refs/heads/main", commit)
    walked = git.branch_walk_ahead(root, "mlver.yaml", commit)()
    assert walked is not None
    listed = git.branch_commit_times_ahead(root)()
    assert set(walked.times) == set(listed) and len(listed) == 6
    assert {c: walked.times[c] for c in good} == {c: listed[c] for c in good} == {good[0]: 100, good[1]: 200}
    assert walked.odd_dates and walked.path_log == []
    assert history._times(SimpleNamespace(root=root), lambda: walked) == listed  # type: ignore[arg-type]
    _git(root, "update-ref", "refs/heads/main", good[0])
    fine = git.branch_walk_ahead(root, "mlver.yaml", good[0])()
    assert fine is not None and not fine.odd_dates and fine.times == {good[0]: 100}
