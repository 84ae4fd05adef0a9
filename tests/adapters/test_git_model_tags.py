"""One model's tags, listed without reading the others (git.model_tag_refs),
are exactly what the full listing says for that model: packed and loose
refs, a loose ref over a packed one, tags added, moved and deleted, GTO
names with '/' and monorepo 'dir=name' tags, names sharing a prefix."""
from __future__ import annotations

import subprocess
from pathlib import Path

from mlver.adapters import git
from mlver.domain import tags

MODELS = ["churn", "churn-2", "nested", "sub/proj:nested", "team/model"]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def _same_as_full_listing(root: Path) -> None:
    full = git.tag_refs(root)
    for model in MODELS:
        want = sorted(r for r in full if (t := tags.parse(r[0])) is not None and t.model == model)
        got = sorted(r for r in git.model_tag_refs(root, tags.name_in_tag(model))
                     if (t := tags.parse(r[0])) is not None and t.model == model)
        assert got == want, model
        assert want, model  # every model has tags here: an empty answer would pass by accident


def test_one_models_tags_match_the_full_listing(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    for i in range(3):
        (root / "f").write_text(str(i))
        _git(root, "add", "f")
        _git(root, "commit", "-q", "-m", f"c{i}")
    first, second = _git(root, "rev-list", "--reverse", "HEAD").split()[:2]
    for model in MODELS:
        name = tags.name_in_tag(model)
        _git(root, "tag", "-a", f"{name}@v0.1.0", "-m", "v0.1.0", first)
        _git(root, "tag", "-a", f"{name}#prod#1", "-m", "prod", first)
    _git(root, "tag", "-a", "churn#team/prod#2", "-m", "a GTO stage with a slash", first)
    _git(root, "tag", "churn@v9.9.9", second)  # lightweight: listed, the registry drops it
    _same_as_full_listing(root)  # all loose
    _git(root, "pack-refs", "--all")
    _same_as_full_listing(root)  # all packed (fully peeled)
    # New loose tags next to packed ones; a packed tag moved (its loose file wins); one deleted.
    _git(root, "tag", "-a", "churn@v0.2.0", "-m", "v0.2.0", second)
    _git(root, "tag", "-f", "-a", "churn#prod#1", "-m", "moved", second)
    _git(root, "tag", "-d", "nested#prod#1")
    _git(root, "tag", "-a", "nested#prod#3", "-m", "again", second)
    _same_as_full_listing(root)
    moved = [r for r in git.model_tag_refs(root, "churn") if r[0] == "churn#prod#1"]
    assert moved and moved[0][2] == second
    assert not [r for r in git.model_tag_refs(root, "nested") if r[0] == "nested#prod#1"]
    # packed-refs without peeled lines (an old git wrote it): git is asked for every tag.
    packed = root / ".git/packed-refs"
    packed.write_text("".join(line for line in packed.read_text().splitlines(keepends=True)
                              if not line.startswith(("#", "^"))))
    _same_as_full_listing(root)
    # From a linked worktree the tags are the common directory's.
    _git(root, "worktree", "add", "-q", "--detach", str(tmp_path / "wt"), first)
    assert sorted(git.model_tag_refs(tmp_path / "wt", "churn")) == sorted(git.model_tag_refs(root, "churn"))
