"""The per-folder path check a directory pull uses agrees with the per-file one."""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from mlver.domain import validate
from mlver.errors import UnsafePath


def _tree(tmp: Path, seed: int) -> tuple[Path, Path, list[str]]:
    """A project with a directory whose folders are real, missing, or symlinks
    inside it, elsewhere in the project, or outside; and files in all of them."""
    rng = random.Random(seed)
    root, outside = tmp / f"p{seed}", tmp / f"out{seed}"
    top = root / "data" / "images"
    (root / "other").mkdir(parents=True)
    outside.mkdir()
    top.mkdir(parents=True)
    rels = []
    for i in range(12):
        folder = "/".join(f"d{rng.randrange(4)}" for _ in range(rng.randrange(3)))
        kind = rng.choice(["dir", "dir", "missing", "link-in", "link-project", "link-out"])
        if folder and not (top / folder).exists() and not (top / folder).is_symlink():
            parent = (top / folder).parent
            if parent.is_dir() and not parent.is_symlink():
                if kind == "dir":
                    (top / folder).mkdir()
                elif kind == "link-in":
                    os.symlink(top, top / folder)
                elif kind == "link-project":
                    os.symlink(root / "other", top / folder)
                elif kind == "link-out":
                    os.symlink(outside, top / folder)
        rels.append(f"{folder}/f{i}" if folder else f"f{i}")
    return root, top, rels


@pytest.mark.parametrize("seed", range(40))
def test_one_check_per_folder_says_what_one_check_per_file_says(tmp_path: Path, seed: int) -> None:
    root, top, rels = _tree(tmp_path, seed)
    for base in (top, root):
        expected = next((r for r in rels if not validate.inside(base, top / r)), None)
        assert validate.outside_of(base, top, rels) == expected
        if expected is None:
            validate.check_all_inside(base, top, rels, "v1 images")
        else:
            with pytest.raises(UnsafePath, match="symlink"):
                validate.check_all_inside(base, top, rels, "v1 images")


def test_a_directory_that_is_itself_a_symlink_out_is_caught_against_the_project(tmp_path: Path) -> None:
    root, outside = tmp_path / "p", tmp_path / "out"
    (root / "data").mkdir(parents=True)
    (outside / "sub").mkdir(parents=True)
    os.symlink(outside, root / "data" / "images")
    rels = ["a", "sub/b"]
    assert validate.outside_of(root / "data" / "images", root / "data" / "images", rels) is None  # inside itself
    assert validate.outside_of(root, root / "data" / "images", rels) == "a"
