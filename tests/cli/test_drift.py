"""drift: new data against the training data profile in a record, and the CI workflows."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import Project, make_csv


def drift(p: Project, *args: str, code: int) -> dict:
    run = p.mlver("drift", *args, "--json")
    assert run.exit_code == code, run.stdout + run.stderr
    return run.json()


def test_detects_a_shifted_column_and_passes_unshifted_ones(trained: Project, tmp_path: Path) -> None:
    (tmp_path / "same.csv").write_text(make_csv(500))
    (tmp_path / "shifted.csv").write_text(make_csv(500, shift=12.0))
    same = drift(trained, "churn@v0.1.0", str(tmp_path / "same.csv"), code=0)
    assert same["ok"] and same["drifted_columns"] == [] and same["input"] == "data/train.csv"
    assert same["rows"] == {"old": 200, "new": 500, "delta": 300}
    assert all(c["psi"] < 0.05 for c in same["columns"]), same["columns"]
    shifted = drift(trained, "churn", str(tmp_path / "shifted.csv"), code=1)
    assert not shifted["ok"] and shifted["drifted_columns"] == ["age"]
    psi = {c["name"]: c["psi"] for c in shifted["columns"]}
    assert psi["age"] > 1.0 and psi["income"] < 0.05 and psi["plan"] < 0.05
    age = next(c for c in shifted["columns"] if c["name"] == "age")
    assert age["mean"]["old"] == 44.5 and age["mean"]["new"] == 56.5
    text = trained.mlver("drift", "churn@v0.1.0", str(tmp_path / "shifted.csv"))
    assert text.exit_code == 1 and "DRIFT in 1 columns: age" in text.stdout and "age      0 -> 0" in text.stdout


def test_threshold_from_config_and_flag(trained: Project, tmp_path: Path) -> None:
    (tmp_path / "shifted.csv").write_text(make_csv(500, shift=12.0))
    assert drift(trained, "churn", str(tmp_path / "shifted.csv"), "--threshold", "50", code=0)["threshold"] == 50
    config = yaml.safe_load((trained.root / "mlver.yaml").read_text())
    config["review"] = {"drift_threshold": 40}
    trained.write("mlver.yaml", yaml.safe_dump(config))
    assert drift(trained, "churn", str(tmp_path / "shifted.csv"), code=0)["threshold"] == 40


def test_parquet_and_extra_columns(trained: Project, tmp_path: Path) -> None:
    frame = pd.read_csv(trained.root / "data/train.csv")
    frame["prediction"] = 1
    frame.to_parquet(tmp_path / "prod.parquet")
    result = drift(trained, "churn@v0.1.0", str(tmp_path / "prod.parquet"), code=0)
    assert result["extra_columns"] == ["prediction"] and all(c["psi"] == 0 for c in result["columns"])


def test_a_column_that_turns_into_text_is_drift(trained: Project, tmp_path: Path) -> None:
    frame = pd.read_csv(trained.root / "data/train.csv")
    frame["age"] = frame["age"].astype(str) + " years"
    frame.to_csv(tmp_path / "text.csv", index=False)
    result = drift(trained, "churn", str(tmp_path / "text.csv"), code=1)
    age = next(c for c in result["columns"] if c["name"] == "age")
    assert result["drifted_columns"] == ["age"] and age["note"] == "was numeric, now categorical"


def test_bad_input(trained: Project, tmp_path: Path) -> None:
    frame = pd.read_csv(trained.root / "data/train.csv")
    frame.drop(columns=["income", "plan"]).to_csv(tmp_path / "fewer.csv", index=False)
    run = trained.fails("drift", "churn", str(tmp_path / "fewer.csv"))
    assert "lacks columns of the training data of churn@v0.1.0: income, plan" in run.stderr
    (tmp_path / "model.bin").write_bytes(b"\x00" * 10)
    assert "unknown suffix '.bin'" in trained.fails("drift", "churn", str(tmp_path / "model.bin")).stderr
    assert "no such file" in trained.fails("drift", "churn", str(tmp_path / "absent.csv")).stderr
    assert "churn has no version v9.0.0" in trained.fails("drift", "churn@v9.0.0", str(tmp_path / "fewer.csv")).stderr
    assert "has no data input 'x.csv'" in trained.fails("drift", "churn", str(tmp_path / "fewer.csv"), "--input", "x.csv").stderr
    first = trained.git("rev-list", "--max-parents=0", "HEAD").strip()[:12]  # before any training
    assert f"no record of churn at churn@{first}" in trained.fails("drift", f"churn@{first}", str(tmp_path / "fewer.csv")).stderr


@pytest.mark.parametrize("forge, path", [("github", ".github/workflows/mlver-review.yml"), ("gitlab", ".gitlab-ci.yml")])
def test_ci_workflows(project: Project, forge: str, path: str) -> None:
    text = project.ok("ci", forge, "--install", "pip install -r requirements.txt").stdout
    doc = yaml.safe_load(text)
    assert "pip install -r requirements.txt" in text and "<!-- mlver-review -->" in text
    if forge == "github":
        steps = doc["jobs"]["review"]["steps"]
        assert doc[True] == {"pull_request": None}  # YAML 1.1 reads the key `on` as true
        assert steps[0]["with"]["fetch-depth"] == 0
        review = next(s for s in steps if s.get("id") == "review")
        assert 'mlver review --base "origin/$BASE_REF"' in review["run"] and "--plots mlver-plots" in review["run"]
        assert review["env"]["BASE_REF"] == "${{ github.base_ref }}"
        assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps)
    else:
        job = doc["mlver-review"]
        assert job["variables"]["GIT_DEPTH"] == "0" and job["artifacts"]["when"] == "always"
        assert any("MLVER_GITLAB_TOKEN" in line for line in job["script"])
    assert project.ok("ci", forge, "--json").json()["path"] == path
    assert project.mlver("ci", "bitbucket").exit_code == 2


def test_streamed_profiles_of_csv_and_parquet_through_data_add_run_and_drift(trained: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    import mlver.adapters.tabular as tabular

    monkeypatch.setattr(tabular, "_BLOCK", 512)  # many batches, numbers spilled to temporary files
    monkeypatch.setattr(tabular, "_ROWS", 7)
    monkeypatch.setattr(tabular, "_SPILL_BUDGET", 256)
    record = json.loads((trained.root / ".mlver/records/churn.json").read_text())
    trained_on = record["data"][0]["profile"]  # run's profile of data/train.csv
    assert trained_on["schema"] == 2 and trained_on["rows"] == 200
    pd.read_csv(trained.root / "data/train.csv").to_parquet(trained.root / "data/train.parquet")
    trained.ok("data", "add", "data/train.parquet")
    cached = {json.loads(p.read_text())["format"]: json.loads(p.read_text())
              for p in (trained.root / ".git/mlver/cache/profiles").glob("*.v2.json")}
    assert set(cached) == {"csv", "parquet"}
    assert cached["parquet"]["columns"] == cached["csv"]["columns"] == trained_on["columns"]
    result = drift(trained, "churn@v0.1.0", "data/train.parquet", code=0)
    assert result["rows"] == {"old": 200, "new": 200, "delta": 0} and result["type_changed"] == []
    assert [c["psi"] for c in result["columns"]] == [0.0] * len(trained_on["columns"])
    moved = pd.read_parquet(trained.root / "data/train.parquet").assign(age=lambda f: f["age"] + 30)
    moved.to_parquet(trained.root / "data/moved.parquet")
    assert drift(trained, "churn", "data/moved.parquet", code=1)["drifted_columns"] == ["age"]
