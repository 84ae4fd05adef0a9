"""adapters/atomic.py: the mode of what mlver writes, and folders replaced whole."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlver.adapters import atomic


def test_the_umask_is_read_without_being_set() -> None:
    # os.umask reads by setting: a file another thread created meanwhile would get 0666.
    # In a fresh process with its own umask, mlver must answer from /proc and never call it.
    code = ("import os\n"
            "os.umask(0o027)\n"
            "from mlver.adapters import atomic\n"
            "def refuse(mask): raise AssertionError('os.umask called')\n"
            "os.umask = refuse\n"
            "print(oct(atomic.umask()), oct(atomic.default_mode()), oct(atomic.default_mode()))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0o27", "0o640", "0o640"]


def test_a_written_file_gets_the_mode_open_gives(tmp_path: Path) -> None:
    atomic.write_text(tmp_path / "a.txt", "x")
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~atomic.umask()  # not mkstemp's 0600
    assert atomic.umask() == int(next(line for line in Path("/proc/self/status").read_text().splitlines()
                                      if line.startswith("Umask:")).split()[1], 8)


def _built(path: Path, files: dict[str, str]) -> Path:
    built = atomic.temp_folder_beside(path)
    for name, text in files.items():
        (built / name).parent.mkdir(parents=True, exist_ok=True)
        (built / name).write_text(text)
    return built


def test_a_folder_is_replaced_whole_and_nothing_is_left_beside_it(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"  # the isolate fixture keeps its HOME in tmp_path
    tmp_path.mkdir()
    site = tmp_path / "site"
    atomic.replace_folder(_built(site, {"index.html": "one", "old/page.html": "gone"}), site)
    assert (site / "index.html").read_text() == "one"
    assert site.stat().st_mode & 0o777 == 0o777 & ~atomic.umask()  # mkdtemp's 0700 is not what lands
    atomic.replace_folder(_built(site, {"index.html": "two"}), site)
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*")) == ["index.html"]
    assert (site / "index.html").read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no temporary folder, no old tree

    # A link to a folder is replaced by the folder; the folder it pointed to is left alone.
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "keep.txt").write_text("mine")
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    atomic.replace_folder(_built(link, {"index.html": "three"}), link)
    assert not link.is_symlink() and (link / "index.html").read_text() == "three"
    assert (tmp_path / "elsewhere" / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "link", "site"]


def test_a_file_is_not_replaced_by_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "report"
    target.write_text("the user's file")
    built = _built(target, {"index.html": "x"})
    with pytest.raises(NotADirectoryError):
        atomic.replace_folder(built, target)
    assert target.read_text() == "the user's file"
    assert os.path.isdir(built)  # the caller removes what it built (api/sites.py does)
