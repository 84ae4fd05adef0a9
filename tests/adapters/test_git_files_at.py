"""git.files_at: the files of many commits from their trees, each tree read once."""
from __future__ import annotations

import subprocess
from pathlib import Path

from mlver.adapters import git


def _commit(root: Path, files: dict[str, str]) -> str:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "c"], cwd=root, check=True)
    return git.head(root) or ""


def _ls_tree(root: Path, commit: str) -> dict[str, str]:
    out = subprocess.run(["git", "ls-tree", "-r", commit], cwd=root, capture_output=True, text=True, check=True).stdout
    rows = [line.split(None, 3) for line in out.splitlines()]
    return {path: oid for _mode, _kind, oid, path in rows}


def test_files_of_every_commit_as_ls_tree_lists_them(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    c1 = _commit(root, {"dvc.lock": "1", "a/b/c/x.dvc": "1", "a/readme": "r", ".mlver/m.dvc": "s", "z.dvc": "z"})
    c2 = _commit(root, {"a/b/c/x.dvc": "2", "a/y.dvc": "y"})
    c3 = _commit(root, {"dvc.lock": "3"})
    wanted = lambda name: name.endswith(".dvc") or name == "dvc.lock"  # noqa: E731
    found = git.files_at(root, [c1, c2, c3, "0" * 40], wanted, frozenset({".mlver"}))
    assert set(found) == {c1, c2, c3}  # a commit git lacks is left out
    for commit in (c1, c2, c3):
        expected = {p: o for p, o in _ls_tree(root, commit).items() if wanted(p.rsplit("/", 1)[-1])
                    and not p.startswith(".mlver/")}
        assert found[commit] == expected
    assert found[c2]["a/b/c/x.dvc"] != found[c1]["a/b/c/x.dvc"] and found[c3]["a/y.dvc"] == found[c2]["a/y.dvc"]
    assert git.files_at(root, [], wanted) == {}
