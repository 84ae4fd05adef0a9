"""verify in a shallow clone (CI's `fetch-depth: 1`): it checks what the
clone has, says what lies past its boundary, and fails only on what it can
see is wrong. A real `git clone --depth 1` over a file:// URL."""
from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import Project


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_shallow_clone_verifies_what_it_has(released_twice: Project, tmp_path: Path) -> None:
    two = released_twice
    clone = tmp_path / "ci"
    _git(tmp_path, "clone", "-q", "--depth", "1", f"file://{two.root}", str(clone))
    assert _git(clone, "rev-parse", "--is-shallow-repository").strip() == "true"
    p = Project(clone)
    run = p.mlver("verify", "--all", "--offline", "--json")
    assert run.exit_code == 0, run.stdout + run.stderr
    result = run.json()
    assert result["findings"] == [] and result["records"] >= 1
    shallow = [n for n in result["notes"] if "shallow" in n]
    assert len(shallow) == 1 and "1 parent link(s) lead past it" in shallow[0] and "--unshallow" in shallow[0], result["notes"]
    # Every tag fetched, also those whose commits lie past the boundary (fetch-tags in CI).
    _git(clone, "fetch", "-q", "--depth", "1", "--tags", "origin")
    result = p.mlver("verify", "--all", "--offline", "--json").json()
    assert result["findings"] == [], result
    # What it can see is still checked: a tag re-made on HEAD with another record's digest.
    message = _git(clone, "tag", "-l", "--format=%(contents)", "churn@v0.1.0")
    _git(clone, "tag", "-a", "churn#prod#9", "-m", message.replace("version v0.1.0", "version v0.2.0"), "HEAD")
    run = p.mlver("verify", "--all", "--offline", "--json")
    assert run.exit_code == 1 and [f["ref"] for f in run.json()["findings"]] == ["churn#prod#9"], run.stdout
    _git(clone, "tag", "-d", "churn#prod#9")
    # The whole history fetched: no note, and the parent link is checked.
    _git(clone, "fetch", "-q", "--unshallow", "--tags", "origin")
    result = p.mlver("verify", "--all", "--offline", "--json").json()
    assert result["findings"] == [] and not [n for n in result["notes"] if "shallow" in n], result
    assert [e["kind"] for e in p.ok("log", "churn", "--json").json()].count("record") == 2
