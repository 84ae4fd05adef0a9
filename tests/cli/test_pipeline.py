"""A DVC pipeline project adopted by mlver: the model bound to its stage."""
from __future__ import annotations

import json

import yaml

from conftest import Project
from fixtures.pipeline import PIPELINE_DATASET, PIPELINE_MODEL, dvc


def test_fixture_is_a_dvc_users_project(pipeline: Project) -> None:
    """What every pipeline test starts from: clean, reproduced, metrics in a DVC output."""
    assert pipeline.git("status", "--porcelain") == ""
    assert "up to date" in dvc(pipeline.root, "status")
    assert json.loads((pipeline.root / "eval/metrics.json").read_text())["test_rows"] == 60
    assert pipeline.git("check-ignore", "eval/metrics.json").strip() == "eval/metrics.json"
    doc = yaml.safe_load((pipeline.root / "dvc.yaml").read_text())
    assert doc["artifacts"][PIPELINE_DATASET]["type"] == "dataset"
    assert doc["artifacts"][PIPELINE_MODEL]["labels"] == ["nlp", "classification"]
    assert list(doc["stages"]) == ["prepare", "featurize", "train", "evaluate"]
