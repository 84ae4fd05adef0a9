"""reproduce (bit-for-bit, within tolerance, not reproduced) and model cards."""
from __future__ import annotations

import json

import yaml

from conftest import Project

SKLEARN_TRAIN = '''\
import json, os, pickle, sys
import numpy as np
import yaml
from sklearn.ensemble import RandomForestClassifier
p = yaml.safe_load(open("params.yaml"))["train"]
data = np.loadtxt("data/train.csv", delimiter=",", skiprows=1, usecols=(0, 1, 3))
X, y = data[:, :2], data[:, 2].astype(int)
seed = None if os.environ.get("MLVER_TEST_RANDOM") else 0
model = RandomForestClassifier(n_estimators=5, max_depth=2, random_state=seed).fit(X, y)
os.makedirs("models", exist_ok=True)
pickle.dump(model, open("models/churn.pkl", "wb"))
shift = float(os.environ.get("MLVER_TEST_SHIFT", 0))  # a metric moved on purpose: surely not reproduced
json.dump({"accuracy": round(model.score(X, y), 4) + shift}, open("metrics.json", "w"))
'''


def _with_sklearn(p: Project) -> None:
    p.write("train.py", SKLEARN_TRAIN)
    p.commit_all("a scikit-learn training")


def test_reproduce_bit_for_bit(project: Project) -> None:
    _with_sklearn(project)
    project.ok("run", "churn")
    project.ok("release", "churn")
    before = project.state()
    result = project.ok("reproduce", "churn@v0.1.0", "--json").json()
    assert result["verdict"] == "bit-for-bit"
    assert result["artifact"]["reproduced_md5"] == result["artifact"]["recorded_md5"]
    assert project.state() == before  # the working tree and the repository untouched
    assert project.git("worktree", "list").count("\n") == 1


def test_reproduce_within_tolerance_and_not(project: Project, monkeypatch) -> None:
    _with_sklearn(project)
    monkeypatch.setenv("MLVER_TEST_RANDOM", "1")  # an unseeded forest: other bytes each time
    project.ok("run", "churn")
    project.ok("release", "churn")
    result = project.ok("reproduce", "churn@v0.1.0", "--tolerance", "0.5", "--json").json()
    assert result["verdict"] == "statistically"
    assert result["metrics"][0]["key"] == "accuracy" and result["metrics"][0]["within"]
    monkeypatch.setenv("MLVER_TEST_SHIFT", "1")  # (a negative --tolerance, once the way to force this, is refused)
    strict = project.mlver("reproduce", "churn@v0.1.0", "--tolerance", "0.5")
    assert strict.exit_code == 1 and "NOT REPRODUCED" in strict.stdout


def test_reproduce_restores_data_from_the_remote(trained: Project) -> None:
    """The record's data version, not the workspace's, is what retrains."""
    import shutil

    trained.ok("push")
    shutil.rmtree(trained.root / ".dvc" / "cache")
    result = trained.ok("reproduce", "churn@v0.1.0", "--json").json()
    assert result["verdict"] == "bit-for-bit"


def test_reproduce_missing_code_commit(trained: Project) -> None:
    from mlver.domain import record as rec

    path = trained.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    doc["code"]["commit"] = "f" * 40
    path.write_text(rec.dumps(rec.seal(doc)))
    trained.commit_all("a record from a fork")
    trained.ok("release", "churn")
    run = trained.fails("reproduce", "churn@v0.2.0")
    assert "ffffffffffff, is not in this repository" in run.stderr and "git fetch" in run.stderr


def test_card(trained: Project) -> None:
    config = yaml.safe_load((trained.root / "mlver.yaml").read_text())
    config["models"]["churn"].update(intended_use="Rank accounts by churn risk.", limitations="Trained on 200 rows.")
    trained.write("mlver.yaml", yaml.safe_dump(config))
    trained.commit_all("card text")
    trained.ok("promote", "churn@v0.1.0", "staging")
    text = trained.ok("card", "churn@v0.1.0").stdout
    for needle in ("# Model card: churn v0.1.0", "Churn classifier", "| accuracy | 0.5102 |", "| train.lr | 0.1 |",
                   "data/train.csv", "200 rows x 4 columns", "| staging | assigned | Test User |", "Stages | staging",
                   "Rank accounts by churn risk.", "Trained on 200 rows."):
        assert needle in text, needle
    out = trained.root.parent / "card.html"
    trained.ok("card", "churn", "--html", "-o", str(out))
    html = out.read_text()
    assert html.startswith("<!doctype html>") and "<th scope=\"row\">accuracy</th><td>0.5102</td>" in html



def test_reproduce_compares_a_metric_that_is_not_a_number(project: Project, monkeypatch) -> None:
    """A record may hold any JSON value as a metric (written by hand or by another
    tool, and sealed): against the rerun's number it has no delta and is not
    within, which is "not reproduced" (exit 1), never a crash (exit 4)."""
    from mlver.domain import record as rec

    _with_sklearn(project)
    monkeypatch.setenv("MLVER_TEST_RANDOM", "1")
    project.ok("run", "churn")
    path = project.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    doc["metrics"] = {"accuracy": "high"}
    path.write_text(rec.dumps(rec.seal(doc)))
    project.commit_all("the accuracy as a word")
    project.ok("release", "churn")
    result = project.mlver("reproduce", "churn@v0.1.0", "--tolerance", "0.5", "--json")
    assert result.exit_code == 1, result.stderr
    (row,) = result.json()["metrics"]
    assert row["key"] == "accuracy" and row["recorded"] == "high" and isinstance(row["reproduced"], float)
    assert row["delta"] is None and row["within"] is False
    assert result.json()["verdict"] == "not reproduced"
