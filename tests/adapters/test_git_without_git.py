"""What mlver reads from .git's files instead of running git (a process each
on a loaded machine is what kept one-model commands slow) says what git
says: the default branch in a clone, with main or master loose or packed,
with none, through a worktree, and with a name git would shorten otherwise;
git config values in one call; the git directories of a worktree."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlver.adapters import git


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def _by_git(root: Path) -> str | None:
    """git.default_branch as it is written with git alone."""
    head = subprocess.run(["git", "symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"],
                          cwd=root, capture_output=True, text=True).stdout.strip()
    if head:
        return head
    for name in ("main", "master"):
        if subprocess.run(["git", "rev-parse", "-q", "--verify", f"refs/heads/{name}"], cwd=root,
                          capture_output=True).returncode == 0:
            return name
    return None


def test_the_default_branch_from_files_is_gits(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "trunk")
    assert git.default_branch(repo) is None is _by_git(repo)  # no commit, no main
    _git(repo, "commit", "-q", "--allow-empty", "-m", "c")
    seen = []

    def same(root: Path) -> None:
        seen.append(git.default_branch(root))
        assert seen[-1] == _by_git(root), root

    same(repo)  # neither main nor master
    _git(repo, "branch", "master")
    same(repo)
    _git(repo, "branch", "main")
    same(repo)  # loose main
    _git(repo, "pack-refs", "--all")
    same(repo)  # packed main
    _git(repo, "branch", "-D", "main")
    same(repo)  # packed master only
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(repo), str(clone))
    same(clone)  # origin/trunk
    _git(clone, "branch", "origin/trunk")  # git now says remotes/origin/trunk
    same(clone)
    _git(clone, "branch", "-D", "origin/trunk")
    _git(clone, "worktree", "add", "-q", str(tmp_path / "wt"))
    same(tmp_path / "wt")
    assert seen == [None, "master", "main", "main", "master", "origin/trunk", "remotes/origin/trunk", "origin/trunk"]
    gitdir, common = git._dirs(tmp_path / "wt") or (None, None)
    assert common is not None and common.resolve() == (clone / ".git").resolve()
    assert gitdir is not None and gitdir.resolve() == Path(_git(tmp_path / "wt", "rev-parse", "--absolute-git-dir").strip())
    assert git.private_path(tmp_path / "wt", "mlver/x").resolve() == (gitdir / "mlver/x").resolve()


def test_config_values_in_one_call_are_what_git_config_get_says(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "mlver.requireSignatures", "yes")
    _git(repo, "config", "--add", "mlver.requiresignatures", "no")  # the last one wins
    _git(repo, "config", "remote.Up-Stream.url", "/x")  # a subsection keeps its case
    with (repo / ".git/config").open("a") as config:
        config.write('[gpg "ssh"]\n\tallowedSignersFile\n[user]\n\tx = " "\n')  # valueless, blank
    keys = ["mlver.requireSignatures", "gpg.ssh.allowedSignersFile", "remote.Up-Stream.url",
            "remote.up-stream.url", "user.x", "user.missing", "a.b*c"]
    got = git.config_values(repo, *keys)
    for key in keys:
        proc = subprocess.run(["git", "config", "--get", key], cwd=repo, capture_output=True, text=True)
        assert got[key] == (proc.stdout.strip() or None), key
    assert got["mlver.requireSignatures"] == "no" and got["remote.Up-Stream.url"] == "/x"


def _context_by_git(root: Path) -> str:
    """git.history_context as it is written with git alone."""
    import hashlib
    import os

    digest = hashlib.sha256()
    names = ("shallow", "info/grafts")
    paths = _git(root, "rev-parse", "--git-path", "shallow", "--git-path", "info/grafts").splitlines()
    for name, file in zip(names, paths, strict=True):
        try:
            digest.update(name.encode() + b"\0" + (root / file).read_bytes() + b"\0")
        except OSError:
            pass
    base = os.environ.get("GIT_REPLACE_REF_BASE") or "refs/replace/"
    listed = _git(root, "for-each-ref", "--format=%(refname) %(objectname)", base)
    digest.update(listed.encode())
    if listed:
        use = subprocess.run(["git", "config", "--type=bool", "--get", "core.useReplaceRefs"], cwd=root,
                             capture_output=True, text=True).stdout.strip()
        digest.update(b"\0use " + use.encode())
    digest.update(f"\0{base}\0{os.environ.get('GIT_NO_REPLACE_OBJECTS', '')}".encode())
    return digest.hexdigest()


def test_the_history_context_from_files_is_what_git_says(tmp_path: Path) -> None:
    """Shallow boundary, grafts and replace refs (loose, then packed) read
    from the files give git's answer, in the clone and in a worktree of it;
    each of them changes the context."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    for i in range(3):
        _git(repo, "commit", "-q", "--allow-empty", "-m", f"c{i}")
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", "--depth", "2", repo.as_uri(), str(clone))
    _git(clone, "worktree", "add", "-q", str(tmp_path / "wt"))
    seen = set()
    for step in ("shallow", "replaced", "packed", "unfollowed", "grafted"):
        if step == "replaced":
            _git(clone, "replace", "--graft", "HEAD")
        elif step == "unfollowed":
            _git(clone, "config", "core.useReplaceRefs", "false")
        elif step == "packed":
            _git(clone, "pack-refs", "--all")
        elif step == "grafted":
            (clone / ".git/info").mkdir(exist_ok=True)
            (clone / ".git/info/grafts").write_text(_git(clone, "rev-parse", "HEAD"))
        for root in (clone, tmp_path / "wt"):
            assert git.history_context(root) == _context_by_git(root), (step, root)
        seen.add(git.history_context(clone))
    assert len(seen) == 4  # packing the replace ref changes nothing, the rest does


def test_the_branch_and_index_from_files_are_what_git_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HEAD's branch (what a record commit moves) and the index file (what it
    locks) read from .git's files, against ``git symbolic-ref -q HEAD`` and
    ``git rev-parse --git-path index``: on a branch loose and packed, unborn,
    detached, in a worktree, through a chain of symbolic refs, under GIT_INDEX_FILE."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    seen = []

    def same(root: Path) -> None:
        by_git = subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], cwd=root, capture_output=True,
                                text=True).stdout.strip() or "HEAD"
        seen.append(git.head_ref(root))
        assert seen[-1] == by_git, root
        assert git._index_path(root).resolve() == (root / _git(root, "rev-parse", "--git-path", "index").strip()).resolve()

    same(repo)  # unborn
    _git(repo, "commit", "-q", "--allow-empty", "-m", "c")
    same(repo)
    _git(repo, "pack-refs", "--all")
    same(repo)
    _git(repo, "checkout", "-q", "--detach")
    same(repo)
    _git(repo, "checkout", "-q", "main")
    _git(repo, "symbolic-ref", "refs/heads/alias", "refs/heads/main")
    _git(repo, "symbolic-ref", "HEAD", "refs/heads/alias")
    same(repo)  # git follows the chain
    _git(repo, "symbolic-ref", "HEAD", "refs/heads/main")
    _git(repo, "worktree", "add", "-q", "-b", "side", str(tmp_path / "wt"))
    same(tmp_path / "wt")
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "other-index"))
    same(repo)
    assert git._index_path(repo) == tmp_path / "other-index"
    assert seen == ["refs/heads/main", "refs/heads/main", "refs/heads/main", "HEAD", "refs/heads/main",
                    "refs/heads/side", "refs/heads/main"]
