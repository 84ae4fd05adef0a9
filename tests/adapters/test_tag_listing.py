"""The tag listing is read in one pass that pairs each tag with its peeled
line: the answer equals git's own per-tag answer (rev-parse), for
annotated and lightweight tags interleaved, in show-ref's and ls-remote's
formats, and output whose peeled lines are out of place is read by name."""
from __future__ import annotations

import subprocess
from pathlib import Path

from mlver.adapters import git


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def test_the_one_pass_listing_is_what_git_says_of_each_tag(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    for i in range(3):
        (root / "f").write_text(str(i))
        _git(root, "add", "f")
        _git(root, "commit", "-q", "-m", f"c{i}")
    # Lightweight tags sorted between annotated ones, before the first and
    # after the last, a tag of a tag, a name with '/' and '#'.
    _git(root, "tag", "a-light", "HEAD~1")
    _git(root, "tag", "-a", "-m", "x", "m@v0.1.0", "HEAD~2")
    _git(root, "tag", "m@v0.1.1", "HEAD")
    _git(root, "tag", "-a", "-m", "x", "m#prod#1", "HEAD")
    _git(root, "tag", "-a", "-m", "x", "team/m@v1.0.0", "HEAD")
    _git(root, "tag", "-a", "-m", "x", "nested", "m#prod#1")
    _git(root, "tag", "z-light", "HEAD")
    names = _git(root, "for-each-ref", "--format=%(refname:strip=2)", "refs/tags").split()
    want = sorted((name, _git(root, "rev-parse", f"refs/tags/{name}").strip(),
                   _git(root, "rev-parse", f"refs/tags/{name}^{{}}").strip()) for name in names)
    assert len(want) == 7 and sum(obj != peeled for _, obj, peeled in want) == 4
    for packed in (False, True):
        if packed:
            _git(root, "pack-refs", "--all")
        assert sorted(git.parse_tag_listing(git.tag_listing(root))) == want
        remote = _git(tmp_path, "ls-remote", "--tags", str(root))
        assert "\t" in remote and sorted(git.parse_tag_listing(remote)) == want
        # Peeled lines moved away from their tags: read by name, the same answer.
        lines = git.tag_listing(root).splitlines()
        shuffled = "\n".join([line for line in lines if not line.endswith("^{}")]
                             + [line for line in lines if line.endswith("^{}")]) + "\n"
        assert sorted(git.parse_tag_listing(shuffled)) == want
    assert git.parse_tag_listing("") == []
