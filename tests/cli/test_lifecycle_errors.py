"""Registry writes say how to publish their tag; missing output folders and closed pipes end cleanly."""
from __future__ import annotations

import subprocess
import sys

from conftest import Project


def test_registry_writes_print_the_push_line(trained: Project) -> None:
    p = trained
    p.set_params(lr=0.2)
    p.commit_all("lr 0.2")
    p.ok("run", "churn")
    for args in (("release", "churn"), ("promote", "churn@v0.1.0", "prod"), ("promote", "churn@v0.2.0", "prod"),
                 ("rollback", "churn", "prod"), ("deprecate", "churn@v0.2.0")):
        run = p.ok(*args, "--json")
        tag = run.json()["tag"]  # stdout stays one JSON document
        assert run.stderr.strip().splitlines()[-1] == f"to publish it: git push origin {tag}", args
        assert p.git("tag", "-l", tag).strip() == tag


def test_missing_output_folders(trained: Project) -> None:
    p = trained
    for args in (("card", "churn", "-o", "nowhere/card.md"), ("review", "--base", "main", "-o", "nowhere/report.md")):
        run = p.fails(*args)
        assert "error: cannot write nowhere/" in run.stderr and "hint: create it first: `mkdir -p nowhere`" in run.stderr
    p.write("docs/keep", "")
    assert "is a directory" in p.fails("card", "churn", "-o", "docs").stderr  # click says so, exit 2
    review = p.mlver("review", "--base", "main", "--plots", "out/plots", "-o", "docs/report.md")
    assert review.exit_code == 0, review.stderr
    assert (p.root / "out/plots").is_dir() and (p.root / "docs/report.md").is_file()
    p.ok("card", "churn", "-o", "docs/card.md")
    assert "churn" in (p.root / "docs/card.md").read_text()


def test_a_closed_pipe_exits_quietly(trained: Project) -> None:
    """`mlver ls --json | head -c 10`: the reader is gone before mlver writes."""
    proc = subprocess.Popen([sys.executable, "-m", "mlver", "ls", "--json"], cwd=trained.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 141, err
    assert err == ""
