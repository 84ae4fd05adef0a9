"""mlver status: every pending state, exit 1 while anything is pending, no re-hash of unchanged files."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from fixtures.pipeline import PIPELINE_MODEL, declare, dvc

from conftest import Project, make_csv


def _pending(p: Project, *args: str) -> dict[str, list[dict]]:
    run = p.mlver("status", "--json", *args)
    doc = run.json()
    assert run.exit_code == (0 if doc["clean"] else 1), run.stderr
    assert doc["clean"] == (not any(m["pending"] for m in doc["models"]))
    return {m["model"]: m for m in doc["models"]}


def _kinds(p: Project, model: str = "churn", *args: str) -> list[str]:
    return [x["kind"] for x in _pending(p, *args)[model]["pending"]]


def _age(p: Project, path: str, seconds: int = 60) -> None:
    """Make a file look written a while ago (a fresh mtime is never trusted by the stat cache)."""
    then = time.time() - seconds
    os.utime(p.root / path, (then, then))


def test_status_names_each_pending_state_and_clears(trained: Project, tmp_path) -> None:
    p = trained
    # Released, not pushed, no git remote.
    doc = p.mlver("status", "--json").json()
    churn = {m["model"]: m for m in doc["models"]}["churn"]
    assert [x["kind"] for x in churn["pending"]] == ["objects"]
    assert churn["version"] == "v0.1.0" and churn["record_commit"] == p.git("rev-parse", "HEAD").strip()
    assert "2 objects not in remote mlver-local" in churn["pending"][0]["detail"]
    assert doc["git_remote"] is None and any("no git remote" in n for n in doc["notes"])
    human = p.mlver("status")
    assert human.exit_code == 1 and "fix: `mlver push`" in human.stdout and human.stdout.rstrip().endswith("1 pending in 1 of 1 models")
    p.ok("push")
    human = p.ok("status")
    assert "nothing pending" in human.stdout and "churn@v0.1.0" in human.stdout and "no git remote" in human.stderr

    # A git remote without the tag: the tag is pending, with the exact push line.
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    p.git("remote", "add", "origin", str(origin))
    p.git("push", "-q", "origin", "HEAD:refs/heads/main")
    [tag] = _pending(p)["churn"]["pending"]
    assert tag["kind"] == "tags" and "churn@v0.1.0" in tag["detail"] and tag["fix"] == "`git push origin churn@v0.1.0`"
    p.git("push", "-q", "origin", "churn@v0.1.0")
    assert _kinds(p) == []
    assert _pending(p)["churn"]["notes"] == []

    # Trained outside mlver on new, uncommitted params: model, params and metrics pending.
    p.set_params(lr=0.3)
    subprocess.run([sys.executable, "train.py"], cwd=p.root, check=True)
    for f in ("models/churn.pkl", "metrics.json", "params.yaml"):
        _age(p, f)
    time.sleep(2.1)  # their ctime too is old enough for the stat cache to keep their md5 (below)
    churn = _pending(p)["churn"]
    assert [x["kind"] for x in churn["pending"]] == ["trained", "params", "metrics"]
    assert "trained, not recorded" in churn["pending"][0]["detail"]
    assert "train.lr 0.1 -> 0.3" in churn["pending"][1]["detail"] and "params.yaml not committed" in churn["pending"][1]["detail"]
    assert "accuracy 0.5102 -> 0.5302" in churn["pending"][2]["detail"]
    # Offline skips the remotes and says so.
    assert "offline" in " ".join(p.mlver("status", "--json", "--offline").json()["notes"])

    # The stat cache: an unchanged file is not hashed again (a planted md5 with
    # the same stat is believed), a touched one is.
    cache_file = p.root / ".dvc/tmp/mlver/md5s.json"
    cache = json.loads(cache_file.read_text())
    recorded = json.loads((p.root / ".mlver/records/churn.json").read_text())["artifact"]["md5"]
    assert cache["models/churn.pkl"][-1] != recorded
    cache["models/churn.pkl"][-1] = recorded
    cache_file.write_text(json.dumps(cache))
    assert "trained" not in _kinds(p)
    _age(p, "models/churn.pkl", 30)
    assert "trained" in _kinds(p)

    # Recorded, not released; then data edited in place and then versioned.
    p.commit_all("lr 0.3")
    p.ok("record", "churn")
    assert _kinds(p) == ["unreleased", "objects"]
    p.write("data/train.csv", make_csv(220))
    _age(p, "data/train.csv")
    [data] = [x for x in _pending(p)["churn"]["pending"] if x["kind"] == "data"]
    assert "data/train.csv was modified in the workspace" in data["detail"] and "mlver data add data/train.csv" in data["fix"]
    p.ok("data", "add", "data/train.csv")
    [data] = [x for x in _pending(p)["churn"]["pending"] if x["kind"] == "data"]
    assert "new version since HEAD's record" in data["detail"] and "commit data/train.csv.dvc" in data["fix"]
    p.commit_all("new data")
    p.ok("run", "churn")
    p.ok("release", "churn")
    p.ok("push")
    p.git("push", "-q", "origin", "HEAD:refs/heads/main", "--tags")
    assert p.ok("status").stdout.strip().endswith("nothing pending")


def test_status_of_a_stage_model(pipeline: Project) -> None:
    p = pipeline
    declare(p)
    kinds = lambda: [x["kind"] for x in _pending(p, "--offline")[PIPELINE_MODEL]["pending"]]  # noqa: E731
    assert kinds() == ["trained"]  # model.pkl is there from `dvc repro`, no record yet
    p.ok("run", PIPELINE_MODEL)
    assert kinds() == ["unreleased"]
    p.ok("release", PIPELINE_MODEL)
    assert kinds() == []
    params = (p.root / "params.yaml").read_text().replace("n_est: 50", "n_est: 20")
    p.write("params.yaml", params)
    dvc(p.root, "repro", "-q")
    assert kinds() == ["trained", "params", "metrics"]
    p.commit_all("fewer stumps")
    p.ok("run", PIPELINE_MODEL)
    assert kinds() == ["unreleased"]


def test_a_pulled_model_is_never_recorded_as_trained(trained: Project) -> None:
    """The issue's sequence: v0.1.0, new params, v0.2.0, pull v0.1.0, record -> refused."""
    p = trained
    p.set_params(lr=0.2)
    p.commit_all("lr 0.2")
    p.ok("run", "churn")
    p.ok("release", "churn")
    p.ok("push")
    head = p.git("rev-parse", "HEAD").strip()
    pulled = p.ok("pull", "churn@v0.1.0")
    assert ("warning: the workspace now holds churn@v0.1.0, not churn@v0.2.0: `mlver record churn` refuses it; "
            "go back with `mlver pull churn@v0.2.0`") in pulled.stderr
    assert p.mlver("pull", "churn@v0.1.0", "--json").json()["back"] == "`mlver pull churn@v0.2.0`"
    [held] = _pending(p, "--offline")["churn"]["pending"]
    assert held["kind"] == "pulled" and "holds churn@v0.1.0's model" in held["detail"] and "v0.2.0" in held["fix"]
    refused = p.fails("record", "churn")
    assert "models/churn.pkl is churn@v0.1.0's model (pulled?), but HEAD's params differ" in refused.stderr
    assert "`mlver run churn`" in refused.stderr and "`mlver pull churn@v0.2.0`" in refused.stderr
    assert p.git("rev-parse", "HEAD").strip() == head
    # Going back as told: the workspace is HEAD's again, pull says nothing more,
    # and the same artifact on the same inputs records fine.
    back = p.ok("pull", "churn@v0.2.0")
    assert "workspace now holds" not in back.stderr
    assert _kinds(p, "churn", "--offline") == []
    p.ok("record", "churn")
    # -o elsewhere leaves the workspace alone: no warning.
    assert "workspace now holds" not in p.ok("pull", "churn@v0.1.0", "-o", "old.pkl").stderr


def test_a_record_whose_artifact_has_no_hash_is_pending_not_a_crash(trained: Project) -> None:
    # The record check lets a null (or absent) field through as "nothing recorded";
    # status read it as a string ([:12] of None was an internal error, exit 4).
    from mlver.domain import record as rec

    path = trained.root / ".mlver" / "records" / "churn.json"
    for artifact in ({"path": "models/churn.pkl", "md5": None}, None):
        doc = json.loads(path.read_text())
        doc["artifact"] = artifact
        doc["created"] = f"crafted {artifact is None}"  # a new record, so not the released one
        path.write_text(rec.dumps(rec.seal(doc)))
        trained.commit_all("a record without the artifact's hash")
        pending = {x["kind"]: x["detail"] for x in _pending(trained)["churn"]["pending"]}
        assert pending["unreleased"] == "HEAD's record () is not released", pending
        if artifact is not None:  # the workspace's model is v0.1.0's, not what the record names
            assert pending["pulled"].startswith("the workspace holds churn@v0.1.0's model"), pending
