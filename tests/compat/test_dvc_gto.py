"""mlver projects stay valid DVC and GTO projects: checked with the real tools."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Project, make_csv

BIN = Path(sys.executable).parent


def _tool(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / name), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture
def released(trained: Project) -> Project:
    trained.set_params(lr=0.2)
    trained.new_data(make_csv(240))
    trained.ok("run", "churn")
    trained.ok("release", "churn")
    trained.git("tag", "-a", "churn#prod#1", "-m", "Assigning stage prod to artifact churn version v0.1.0", "churn@v0.1.0^{}")
    return trained


def test_gto_show_lists_what_mlver_ls_lists(released: Project) -> None:
    proc = _tool("gto", "show", "--json", cwd=released.root)
    assert proc.returncode == 0, proc.stderr
    gto = json.loads(proc.stdout)
    ours = {m["model"]: m for m in released.ok("ls", "--json").json()}
    assert set(gto) == set(ours) == {"churn"}
    assert gto["churn"]["version"] == ours["churn"]["latest"] == "v0.2.0"
    assert gto["churn"]["stage"]["prod"] == ours["churn"]["stages"]["prod"] == "v0.1.0"
    history = _tool("gto", "history", "churn", "--json", cwd=released.root)
    assert history.returncode == 0, history.stderr
    versions = {e["version"] for e in json.loads(history.stdout) if e.get("event") == "registration"}
    assert versions == {"v0.1.0", "v0.2.0"}


def test_dvc_status_is_clean_after_run(released: Project) -> None:
    proc = _tool("dvc", "status", cwd=released.root)
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout or proc.stdout.strip() == "", proc.stdout


def test_dvc_pull_reads_what_mlver_pushed(released: Project, isolate: Path) -> None:
    released.ok("push")
    clone = isolate / "clone"
    subprocess.run(["git", "clone", "-q", str(released.root), str(clone)], check=True)
    shutil.copy(released.root / ".dvc/config.local", clone / ".dvc/config.local")
    for rev, rows in (("churn@v0.1.0", 200), ("main", 240)):
        subprocess.run(["git", "checkout", "-q", rev], cwd=clone, check=True)
        proc = _tool("dvc", "pull", cwd=clone)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert (clone / "data/train.csv").read_text() == make_csv(rows) if rows == 200 else True
        record = json.loads((clone / ".mlver/records/churn.json").read_text())
        import hashlib

        assert hashlib.md5((clone / "models/churn.pkl").read_bytes()).hexdigest() == record["artifact"]["md5"]
    assert (clone / "data/train.csv").read_text() == make_csv(240)


def test_dvc_artifacts_get_by_version_and_stage(released: Project, isolate: Path) -> None:
    released.ok("push")
    record = released.ok("show", "churn@v0.1.0", "--json").json()["record"]["doc"]
    for how in (["--rev", "v0.1.0"], ["--stage", "prod"]):
        out = isolate / f"got-{how[0].strip('-')}"
        proc = _tool("dvc", "artifacts", "get", str(released.root), "churn", *how, "-o", str(out),
                     "--config", str(released.root / ".dvc/config.local"), cwd=isolate)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        import hashlib

        assert hashlib.md5(out.read_bytes()).hexdigest() == record["artifact"]["md5"]
