"""A registry write waits until git itself dates a new tag after the model's
last event: git reads the coarse clock (time(2)), a tick behind the clock
time.sleep wakes on, so sleeping to the second's end alone was not enough
(two promotes in a row tied now and then, and the second one lost)."""
from __future__ import annotations

import ctypes
import subprocess
import time

from mlver.api.stages import after_second

_libc = ctypes.CDLL(None)
_libc.time.restype = ctypes.c_long


def _git_seconds() -> int:
    ident = subprocess.run(["git", "var", "GIT_COMMITTER_IDENT"], capture_output=True, text=True, check=True).stdout
    return int(ident.split()[-2])


def test_after_the_wait_git_dates_a_tag_in_a_later_second() -> None:
    for _ in range(3):
        last = int(time.time())
        after_second(last)
        assert _libc.time(None) > last  # what git's datestamp reads
        assert _git_seconds() > last


def test_no_wait_for_a_past_second_nor_for_a_date_far_ahead() -> None:
    started = time.monotonic()
    after_second(int(time.time()) - 5)
    after_second(0)
    after_second(int(time.time()) + 3600)  # a future-dated tag is reported, not waited out
    assert time.monotonic() - started < 0.1
