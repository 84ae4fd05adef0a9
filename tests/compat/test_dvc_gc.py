"""Which scopes of `dvc gc -c` keep every released version of an mlver project
pullable, checked with the real dvc (the table in README's gc section and
`mlver gc --help` says the same): a stage holds an older version, and a branch
holds a record never released."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Project, make_csv

BIN = Path(sys.executable).parent


@pytest.fixture
def released(trained: Project) -> Project:
    """v0.1.0 (prod) and v0.2.0 on other data, HEAD at v0.2.0; branch exp's own record, unreleased; all pushed."""
    trained.set_params(lr=0.2)
    trained.new_data(make_csv(240))
    trained.ok("run", "churn")
    trained.ok("release", "churn")
    trained.ok("promote", "churn@v0.1.0", "prod")
    trained.git("checkout", "-q", "-b", "exp")
    trained.set_params(lr=0.3)
    trained.commit_all("lr 0.3")
    trained.ok("run", "churn")
    trained.ok("push")
    trained.git("checkout", "-q", "-")
    return trained


# scope -> (every release still pullable, the record at another branch's head still pullable)
KEEPS = {
    "-w": (False, False),  # the workspace's objects only: dvc's usual advice
    "-a": (False, True),  # branch heads: a release behind one (v0.1.0, prod) is gone
    "-T": (True, False),  # tags: every version and stage, but not the branch's record
    "-a -T": (True, True),
    "-A": (True, True),  # every commit
}


@pytest.mark.parametrize("scope", list(KEEPS))
def test_which_dvc_gc_scopes_keep_every_release(released: Project, scope: str) -> None:
    proc = subprocess.run([str(BIN / "dvc"), "gc", "-f", "-c", *scope.split()], cwd=released.root,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    shutil.rmtree(released.root / ".dvc" / "cache")  # what is left is the remote's
    verify = released.mlver("verify")  # says so: a release's object missing from the remote
    assert verify.exit_code == (0 if KEEPS[scope][0] else 1)
    assert ("churn@v0.1.0 models/churn.pkl: object" in verify.stdout) is not KEEPS[scope][0], verify.stdout

    def pullable(ref: str) -> bool:
        run = released.mlver("pull", ref, "--with-data", "--force")
        assert run.exit_code == 0 or "is neither in the local cache nor in remote" in run.stderr, run.stderr
        return run.exit_code == 0

    assert pullable("churn@v0.2.0")  # the workspace's: every scope keeps it
    releases = {pullable("churn@v0.1.0"), pullable("churn#prod")}
    assert len(releases) == 1 and (releases.pop(), pullable("churn@exp")) == KEEPS[scope]


def test_mlver_gc_names_the_dvc_gc_that_keeps_every_release(released: Project) -> None:
    run = released.ok("gc")
    assert "only `dvc gc -a -T` (or -A) keeps every release" in run.stderr
    assert "`dvc gc -a -T` or `-A` keep every" in released.ok("gc", "--help").stdout
    assert "dvc gc" not in released.ok("gc", "--force").stderr  # told once, where nothing was deleted yet
