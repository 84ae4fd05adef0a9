"""A model bound to an existing DVC stage: `mlver run` runs `dvc repro`."""
from __future__ import annotations

import json

import yaml

from conftest import Project

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps:
      - data/train.csv
      - train.py
    params:
      - train.lr
    outs:
      - models/churn.pkl
    metrics:
      - metrics.json:
          cache: false
"""


def test_run_stage_records_from_dvc_lock(project: Project) -> None:
    doc = yaml.safe_load((project.root / "dvc.yaml").read_text())
    doc.update(yaml.safe_load(DVC_YAML))
    project.write("dvc.yaml", yaml.safe_dump(doc, sort_keys=False))
    project.commit_all("a dvc stage")
    project.ok("model", "add", "staged", "--path", "models/churn.pkl", "--stage", "train",
               "--metrics", "metrics.json")
    project.commit_all("declare staged")
    project.ok("run", "staged")
    record = json.loads((project.root / ".mlver/records/staged.json").read_text())
    lock = yaml.safe_load((project.root / "dvc.lock").read_text())["stages"]["train"]
    out = next(o for o in lock["outs"] if o["path"] == "models/churn.pkl")
    assert record["artifact"]["md5"] == out["md5"]
    assert record["params"] == {"train.lr": 0.1}
    # Data is what DVC tracks upstream; train.py is code, in the code commit.
    assert [d["path"] for d in record["data"]] == ["data/train.csv"]
    assert record["code"]["command"] == "dvc repro train"  # it writes the metrics too
    assert record["metrics"]["accuracy"] == 0.5102
    assert "dvc.lock" in project.git("show", "--name-only", "--format=", "HEAD").split()
    assert project.git("status", "--porcelain", "--untracked-files=no") == ""
    assert project.ok("release", "staged", "--json").json()["tag"] == "staged@v0.1.0"


def test_stage_failure_records_nothing(project: Project) -> None:
    doc = yaml.safe_load((project.root / "dvc.yaml").read_text())
    doc.update(yaml.safe_load(DVC_YAML.replace("python train.py", "python -c 'raise SystemExit(7)'")))
    project.write("dvc.yaml", yaml.safe_dump(doc, sort_keys=False))
    project.commit_all("a broken stage")
    project.ok("model", "add", "staged", "--path", "models/churn.pkl", "--stage", "train")
    project.commit_all("declare staged")
    run = project.fails("run", "staged", outputs=("dvc.lock",))
    assert "dvc repro train" in run.stderr and "nothing was recorded" in run.stderr
