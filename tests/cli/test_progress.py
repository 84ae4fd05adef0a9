"""Long work says how it goes on stderr, the same way in every verb that
moves or hashes bytes (data add, push, pull, verify): on a terminal a live
line from the first bytes, replaced by one summary line; in a log or a pipe
the summary alone, never a line every few seconds nor one per file."""
from __future__ import annotations

import io
import os
import re
import sys

import pytest
from fixtures.terminal import on_a_terminal

from conftest import Project
from mlver.cli import render


def _stderr_on_a_terminal(p: Project, *args: str) -> str:
    """stderr on a pseudo-terminal (stdout piped), as at a shell with `> out.json`."""
    return on_a_terminal(p.root, args, "stderr").decode()


SUMMARY = {
    "add": r"add: [0-9.]+ [KM]?B in 1 path, [0-9.]+ s \([0-9.]+ [KM]?B/s\)",
    "push": r"push: [0-9.]+ [KM]?B in 2 objects, [0-9.]+ s \([0-9.]+ [KM]?B/s\)",
    "verify": r"verify: [0-9.]+ [KM]?B in 2 objects, [0-9.]+ s",  # (a look-up, not a transfer: no rate)
}


@pytest.mark.parametrize(("verb", "argv"), [
    ("add", ["data", "add", "data/big.bin"]),
    ("push", ["push"]),
    ("verify", ["verify"]),
])
def test_a_live_line_on_a_terminal_and_the_summary_alone_in_a_log(trained: Project, verb: str,
                                                                   argv: list[str]) -> None:
    trained.write("data/big.bin", os.urandom(3 << 20))
    if verb == "verify":
        trained.ok("push")
    on_terminal = _stderr_on_a_terminal(trained, *argv)
    live, _, summary = on_terminal.rpartition("\r\x1b[K")
    notes = r"(note: [^\n]*\r?\n)*"  # (after the summary: what verify says beside its result)
    assert re.fullmatch(SUMMARY[verb] + r"\r?\n" + notes, summary), repr(on_terminal)
    assert re.search(rf"\r\x1b\[K{verb}: [0-9.]+ [KM]?B( / [0-9.]+ [KM]?B)? \(", live), repr(on_terminal)
    if verb == "push":  # pushed already: the logged run has its own objects to send
        (trained.remote / "files").rename(trained.remote / "moved")
    logged = trained.ok(*argv)
    assert re.fullmatch(SUMMARY[verb] + "\n" + notes, logged.stderr), logged.stderr


def test_no_line_every_few_seconds_where_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    log = io.StringIO()  # a CI log: no terminal
    monkeypatch.setattr(sys, "stderr", log)
    progress = render.Progress("push")
    progress.start(3, 300)
    progress.last = -1e9  # as if the last line were long ago
    progress.update(100)
    progress.update(200)
    assert log.getvalue() == ""
    progress.finish()
    assert re.fullmatch(r"push: 300 B in 3 objects, [0-9.]+ s \([0-9.]+ [KM]?B/s\)\n", log.getvalue())


def test_a_failure_takes_the_live_line_back(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    with pytest.raises(OSError), render.Progress("pull") as progress:
        progress.start(1, 10)
        progress.update(5)
        raise OSError("the disk is full")
    assert screen.getvalue().startswith("\r\x1b[Kpull: 5 B / 10 B (1 object, ")
    assert screen.getvalue().endswith("\r\x1b[K")  # the error that follows starts at the line's beginning


def test_push_lists_what_it_sent_with_v(trained: Project) -> None:
    md5 = {d["path"]: d["md5"] for d in trained.ok("show", "churn", "--json").json()["record"]["doc"]["data"]}
    listed = trained.ok("push", "-v").stdout.splitlines()
    assert listed[0].startswith("pushed 2 objects") and len(listed) == 3
    assert f"  churn (HEAD) data/train.csv  md5 {md5['data/train.csv']}  2.8 KB" in listed[1:]
    (trained.remote / "files").rename(trained.remote / "moved")
    sent = trained.ok("push", "--json").json()["sent"]
    assert {o["where"] for o in sent} == {"churn (HEAD) models/churn.pkl", "churn (HEAD) data/train.csv"}
    assert len(trained.ok("push", "-v").stdout.splitlines()) == 1  # nothing sent: nothing listed


def test_the_summary_times_the_bytes_not_what_follows_them(monkeypatch: pytest.MonkeyPatch) -> None:
    # data add profiles a table after hashing it: that second is not the hashing's rate.
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    progress = render.Progress("add", unit="path")
    progress.start(1, 1000)
    progress.update(1000)
    import time

    time.sleep(0.3)
    progress.finish()
    assert log.getvalue().startswith("add: 1.0 KB in 1 path, 0.0 s ("), log.getvalue()
