"""adapters/atomic.py: the mode of what mlver writes, and folders replaced whole."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
