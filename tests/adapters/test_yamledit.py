"""yamledit: new entries are added as lines; every other byte stays."""
from __future__ import annotations

import difflib

import pytest
import yaml

from mlver.adapters.yamledit import Document
from mlver.errors import ConfigError

DVC_STYLE = """\
# the pipeline
stages:
  train:
    cmd: python train.py  # trains
    outs:
    - model.pkl
artifacts:
  data:
    path: data.csv
    type: dataset
    desc: 'quoted ''desc'''

# trailing comment
"""


def _changes(before: str, after: str) -> list[str]:
    return [d for d in difflib.ndiff(before.splitlines(), after.splitlines()) if d[:1] in "+-"]


def test_additions_are_lines_in_the_files_own_style() -> None:
    doc = Document(DVC_STYLE, "dvc.yaml")
    doc.set(("artifacts",), "churn", {"path": "model.pkl", "type": "model", "labels": ["a", "b: c"]})
    doc.append(("metrics",), "eval/metrics.json")
    doc.set(("artifacts", "data"), "labels", ["raw"])
    assert _changes(DVC_STYLE, doc.text) == [
        "+     labels:", "+     - raw", "+   churn:", "+     path: model.pkl", "+     type: model",
        "+     labels:", "+     - a", "+     - 'b: c'", "+ metrics:", "+ - eval/metrics.json",
    ]
    parsed = yaml.safe_load(doc.text)
    assert parsed["artifacts"]["churn"]["labels"] == ["a", "b: c"] and parsed["metrics"] == ["eval/metrics.json"]
    assert doc.text.endswith("# trailing comment\n")


def test_empty_and_null_collections_and_indented_lists() -> None:
    for text in ("version: 1\nmodels: {}  # none yet\n", "version: 1\nmodels:\n", "version: 1\nmodels: null\n"):
        doc = Document(text, "mlver.yaml")
        doc.set(("models",), "churn", {"path": "m.pkl", "data": ["d.csv"]})
        assert yaml.safe_load(doc.text) == {"version": 1, "models": {"churn": {"path": "m.pkl", "data": ["d.csv"]}}}
        assert doc.text.count("models:") == 1, doc.text
    indented = "models:\n  a:\n    path: a.pkl\n    data:\n      - a.csv\n"
    doc = Document(indented, "mlver.yaml")
    doc.set(("models",), "b", {"path": "b.pkl", "data": ["b.csv"]})
    assert _changes(indented, doc.text) == ["+   b:", "+     path: b.pkl", "+     data:", "+       - b.csv"]
    doc = Document("metrics:\n", "dvc.yaml")
    doc.append(("metrics",), "m.json")
    assert yaml.safe_load(doc.text) == {"metrics": ["m.json"]} and doc.text.count("metrics:") == 1


def test_flow_style_and_empty_files_and_bad_yaml() -> None:
    doc = Document("artifacts: {a: {path: x}}  # flow\nmetrics: [a.json]\n", "dvc.yaml")
    doc.set(("artifacts",), "m", {"path": "p"})
    doc.append(("metrics",), "m.json")
    assert yaml.safe_load(doc.text) == {"artifacts": {"a": {"path": "x"}, "m": {"path": "p"}}, "metrics": ["a.json", "m.json"]}
    assert "# flow" in doc.text
    doc = Document("", "dvc.yaml")
    doc.set(("artifacts",), "m", {"path": "p", "type": "model"})
    assert doc.text == "artifacts:\n  m:\n    path: p\n    type: model\n"
    with pytest.raises(ConfigError, match="dvc.yaml is not valid YAML"):
        Document("a: [1,\n", "dvc.yaml")
    with pytest.raises(ConfigError):
        Document("models:\n  churn: {}\n", "mlver.yaml").set(("models",), "churn", {"path": "x"})
