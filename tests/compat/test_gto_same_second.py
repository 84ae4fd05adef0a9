"""Events within one second: mlver names the holder `gto show` names.

The differential test gives every write a second of its own; here the tags
are written by hand (GTO's formats, annotated) with one tagger date, in both
counter orders, and the real `gto show` is the referee.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from fixtures.gto_registry import Gto

from conftest import Project

T0 = 1_767_000_000  # a fixed second, long past


def _git(root: Path, *args: str, when: int | None = None) -> str:
    env = dict(os.environ)
    if when is not None:
        env["GIT_COMMITTER_DATE"] = f"{when} +0000"
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True, env=env).stdout.strip()


def _tag(root: Path, name: str, commit: str, when: int) -> None:
    _git(root, "tag", "-a", name, "-m", name, commit, when=when)


def test_ties_within_one_second_read_as_gto_reads_them(gto_cli: Gto, isolate: Path) -> None:
    root = isolate / "reg"
    root.mkdir()
    _git(root, "init", "-q")
    commits = []
    for i in range(3):
        (root / "model.txt").write_text(f"model {i}\n")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", f"model {i}", when=T0 - 100 + i)
        commits.append(_git(root, "rev-parse", "HEAD"))
    c1, c2, c3 = commits
    for model in ("churn", "seg", "tie"):
        _tag(root, f"{model}@v0.1.0", c1, T0)
        _tag(root, f"{model}@v0.2.0", c2, T0 + (0 if model == "tie" else 1))  # tie: both created in one second
    # churn: v0.2.0 then v0.1.0 to prod in one second; seg: the other way round.
    _tag(root, "churn#prod#1", c2, T0 + 5)
    _tag(root, "churn#prod#2", c1, T0 + 5)
    _tag(root, "seg#prod#1", c1, T0 + 5)
    _tag(root, "seg#prod#2", c2, T0 + 5)
    _tag(root, "tie#prod#1", c2, T0 + 5)
    _tag(root, "tie#prod#2", c1, T0 + 5)
    # late: the version numbered lower was created later; the tie needs both tag objects read.
    _tag(root, "late@v0.2.0", c2, T0)
    _tag(root, "late@v0.1.0", c1, T0 + 1)
    _tag(root, "late#prod#1", c1, T0 + 5)
    _tag(root, "late#prod#2", c2, T0 + 5)
    # An un-assignment and an assignment of one version in one second, either counter order.
    _tag(root, "churn#staging#3", c2, T0 + 6)
    _tag(root, "churn#staging!#4", c2, T0 + 6)
    _tag(root, "seg#staging!#3", c2, T0 + 6)
    _tag(root, "seg#staging#4", c2, T0 + 6)
    # A bare commit (no version) against a version, one second.
    _tag(root, "tie#dev#3", c3, T0 + 7)
    _tag(root, "tie#dev#4", c1, T0 + 7)
    # A deprecation and another event in one second: GTO keeps the model active.
    _tag(root, "seg@deprecated#5", c2, T0 + 8)
    _tag(root, "seg#dev#6", c2, T0 + 8)
    shown = gto_cli.json(root, "show")
    gto = {name: ({s: v for s, v in m["stage"].items() if v}, not m["active"]) for name, m in shown.items()}
    ours = {m["model"]: (m["stages"], m["deprecated"]) for m in Project(root).ok("ls", "--json").json()}
    assert ours == gto
    # What this test pins (so a change on either side shows): the version created first wins a tie.
    assert gto["churn"][0]["prod"] == gto["seg"][0]["prod"] == "v0.1.0"
    assert gto["late"][0]["prod"] == "v0.2.0"
    assert "staging" not in gto["churn"][0] and "staging" not in gto["seg"][0]
    assert gto["seg"][1] is False


def test_quick_promotes_land_in_seconds_of_their_own(trained: Project, gto_cli: Gto) -> None:
    """Two promotes to one stage as fast as they can run: the second holds the
    stage for mlver and for `gto show` (each waits for a second of its own)."""
    p = trained
    p.set_params(lr=0.2)
    p.commit_all("lr 0.2")
    p.ok("run", "churn")
    p.ok("release", "churn")
    p.ok("promote", "churn@v0.1.0", "prod")
    p.ok("promote", "churn@v0.2.0", "prod")  # in the same second, v0.1.0 (created first) would keep it
    p.ok("deprecate", "churn")  # in the same second, the promote would keep churn active
    assert [(m["stages"], m["deprecated"]) for m in p.ok("ls", "--deprecated", "--json").json()] == [({"prod": "v0.2.0"}, True)]
    shown = gto_cli.json(p.root, "show", "-d")
    assert shown["churn"]["stage"]["prod"] == "v0.2.0" and not shown["churn"]["active"]
    times = p.git("for-each-ref", "--format=%(taggerdate:unix)", "refs/tags/churn#*", "refs/tags/churn@deprecated*").split()
    assert len(times) == len(set(times)) == 3
