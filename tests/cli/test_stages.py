"""promote, rollback, deprecate, policy, and show --at."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import Project

BIN = Path(sys.executable).parent
POLICY = {"stages": ["dev", "staging", "prod"], "gates": {"prod": {"accuracy": {"min": 0.52}}}}


@pytest.fixture
def three(trained: Project) -> Project:
    """churn v0.1.0 (accuracy 0.5102), v0.2.0 (0.5202), v0.3.0 (0.5302)."""
    for lr in (0.2, 0.3):
        trained.set_params(lr=lr)
        trained.commit_all(f"lr {lr}")
        trained.ok("run", "churn")
        trained.ok("release", "churn")
    return trained


def _at(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    # git takes the tagger date from GIT_COMMITTER_DATE.
    monkeypatch.setenv("GIT_COMMITTER_DATE", when)


def _message(p: Project, tag: str) -> str:
    return p.git("tag", "-l", "--format=%(contents)", tag)


def test_promote_rollback_and_gto_agrees(three: Project) -> None:
    result = three.ok("promote", "churn@v0.1.0", "prod", "--json").json()
    assert result["tag"] == "churn#prod#1" and result["version"] == "v0.1.0"
    assert three.git("rev-parse", "churn#prod#1^{}") == three.git("rev-parse", "churn@v0.1.0^{}")
    assert "mlver-digest: sha256:" in _message(three, "churn#prod#1")
    three.ok("promote", "churn@v0.2.0", "prod")
    three.ok("promote", "churn@v0.3.0", "prod")
    assert three.ok("ls", "--json").json()[0]["stages"] == {"prod": "v0.3.0"}

    back = three.ok("rollback", "churn", "prod", "--json").json()
    assert (back["version"], back["rolled_back_from"], back["tag"]) == ("v0.2.0", "v0.3.0", "churn#prod#4")
    # Rolling back again keeps going back, it does not bounce to v0.3.0.
    assert three.ok("rollback", "churn", "prod", "--json").json()["version"] == "v0.1.0"
    assert "nothing to roll back to" in three.fails("rollback", "churn", "prod").stderr

    gto = json.loads(subprocess.run([str(BIN / "gto"), "show", "--json"], cwd=three.root,
                                    capture_output=True, text=True, check=True).stdout)
    assert gto["churn"]["stage"]["prod"] == "v0.1.0"
    log = three.ok("log", "churn", "--json").json()
    assert [e["kind"] for e in log[:2]] == ["rollback", "rollback"]
    assert log[0]["note"] == "rolled back from v0.2.0" and log[0]["version"] == "v0.1.0"
    # A rollback gives the stage to a version: shown as an assignment, not an un-assignment.
    human = three.ok("log", "churn").stdout.splitlines()
    assert "prod <- v0.1.0" in human[1] and "-x" not in human[1]


def test_deprecate_version_stage_and_model(three: Project) -> None:
    three.ok("promote", "churn@v0.3.0", "prod")
    un = three.ok("deprecate", "churn#prod", "--json").json()
    assert un["action"] == "unassign" and un["tag"] == "churn#prod!#2"
    assert three.ok("ls", "--json").json()[0]["stages"] == {}
    dereg = three.ok("deprecate", "churn@v0.3.0", "--json").json()
    assert dereg["tag"] == "churn@v0.3.0!#3"
    assert three.ok("ls", "--json").json()[0]["latest"] == "v0.2.0"
    assert "has no version v0.3.0" in three.fails("show", "churn@v0.3.0").stderr
    assert three.ok("deprecate", "churn", "--json").json()["tag"] == "churn@deprecated#4"
    assert three.ok("ls", "--json").json() == []  # hidden, as `gto show` hides it
    assert three.ok("ls", "--deprecated", "--json").json()[0]["deprecated"] is True
    assert "already deprecated" in three.fails("deprecate", "churn").stderr
    gto = subprocess.run([str(BIN / "gto"), "history", "churn", "--json"], cwd=three.root, capture_output=True, text=True)
    assert gto.returncode == 0, gto.stderr


def test_policy_order_gates_and_force(three: Project) -> None:
    config = yaml.safe_load((three.root / "mlver.yaml").read_text())
    config["policy"] = POLICY
    three.write("mlver.yaml", yaml.safe_dump(config))
    three.commit_all("policy")
    assert "stage 'qa' is not in the policy" in three.fails("promote", "churn@v0.3.0", "qa").stderr
    run = three.fails("promote", "churn@v0.3.0", "prod")
    assert "never held stage staging" in run.stderr and "--force" in run.stderr
    three.ok("promote", "churn@v0.1.0", "dev")
    three.ok("promote", "churn@v0.1.0", "staging")
    gate = three.fails("promote", "churn@v0.1.0", "prod", code=1)
    assert "fails the prod gate: accuracy 0.5102 < min 0.52" in gate.stderr
    # A failed gate is a check (exit 1) of the conflict family; --json says which gate and why.
    error = three.fails("promote", "churn@v0.1.0", "prod", "--json", code=1).json()["error"]
    assert (error["family"], error["class"], error["exit_code"]) == ("conflict", "GateNotMet", 1)
    assert error["fields"] == {"label": "churn@v0.1.0", "stage": "prod", "breach": "accuracy 0.5102 < min 0.52"}
    forced = three.ok("promote", "churn@v0.1.0", "prod", "--force", "--json").json()
    assert forced["forced"] == ["gate accuracy 0.5102 < min 0.52"]
    assert "mlver-forced: gate accuracy 0.5102 < min 0.52" in _message(three, forced["tag"])
    skipped = three.ok("promote", "churn@v0.3.0", "prod", "--force", "--json").json()
    assert skipped["forced"] == ["skipped staging"]
    log = three.ok("log", "churn", "--json").json()
    assert log[0]["note"] == "forced: skipped staging"
    assert "already holds stage prod" in three.fails("promote", "churn@v0.3.0", "prod", "--force").stderr
    config["policy"]["gates"]["prod"] = {"auc": {"min": 0.5}}
    three.write("mlver.yaml", yaml.safe_dump(config))
    three.commit_all("bad gate")
    three.ok("promote", "churn@v0.2.0", "dev")
    three.ok("promote", "churn@v0.2.0", "staging")
    assert "names metric 'auc'" in three.fails("promote", "churn@v0.2.0", "prod").stderr


def test_promote_bad_refs(three: Project) -> None:
    assert "only a released version" in three.fails("promote", "churn@HEAD~1", "prod").stderr
    assert "invalid stage name" in three.fails("promote", "churn@v0.1.0", "Prod").stderr
    assert "has no version v9.0.0" in three.fails("promote", "churn@v9.0.0", "prod").stderr
    assert "no version of churn is in stage 'prod'" in three.fails("rollback", "churn", "prod").stderr
    assert "no version of churn is in stage 'prod'" in three.fails("deprecate", "churn#prod").stderr


def test_show_at_a_moment(three: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    # Promotions dated after the releases (made now), as they are in life.
    _at(monkeypatch, "2027-01-10T10:00:00Z")
    three.ok("promote", "churn@v0.1.0", "prod")
    _at(monkeypatch, "2027-02-10T10:00:00Z")
    three.ok("promote", "churn@v0.2.0", "prod")
    _at(monkeypatch, "2027-03-10T10:00:00Z")
    three.ok("promote", "churn@v0.3.0", "prod")
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    for when, version in (("2027-01-31", "v0.1.0"), ("2027-02-10T10:00:00Z", "v0.2.0"), ("2027-03-11", "v0.3.0")):
        shown = three.ok("show", "churn#prod", "--at", when, "--json").json()
        assert shown["versions"] == [version], when
        assert shown["stages"] == ["prod"] and shown["at"]
    assert "no version of churn is in stage 'prod'" in three.fails("show", "churn#prod", "--at", "2026-12-31").stderr
    assert "cannot read the time" in three.fails("show", "churn#prod", "--at", "last week").stderr
    assert "as of 2027-01-31T23:59:59Z" in three.ok("show", "churn#prod", "--at", "2027-01-31").stdout
