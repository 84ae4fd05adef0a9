"""Data that is large where a profile is small: a file of very many columns
for drift, one huge cell and one huge column name in a record."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

from conftest import Project, make_csv

EXTRA = 100_000


def test_drift_reads_only_the_training_columns_of_a_file_with_many_extra_columns(trained: Project, tmp_path: Path) -> None:
    base = make_csv(50, shift=12.0).splitlines()
    filler = "," + ",".join(["7"] * EXTRA)
    wide = tmp_path / "wide.csv"
    wide.write_text("\n".join([base[0] + "," + ",".join(f"x{i}" for i in range(EXTRA))]
                              + [line + filler for line in base[1:]]) + "\n")
    started = time.monotonic()
    run = trained.mlver("drift", "churn@v0.1.0", str(wide), "--json")
    elapsed = time.monotonic() - started
    assert run.exit_code == 1, run.stderr  # age is shifted: the training columns were compared
    result = run.json()
    assert [c["name"] for c in result["columns"]] == ["age", "income", "plan", "churned"]
    assert result["drifted_columns"] == ["age"] and len(result["extra_columns"]) == EXTRA
    # Profiling 100,000 extra columns took ~20 s; reading 4 of them takes well under one.
    assert elapsed < 10, elapsed
    text = trained.mlver("drift", "churn@v0.1.0", str(wide)).stdout
    assert "columns not in the training data (ignored): x0, x1" in text and f"and {EXTRA - 20} more" in text


def test_a_huge_cell_and_a_huge_column_name_are_truncated_with_a_hash_in_the_record(project: Project, tmp_path: Path) -> None:
    long_name = "n" * 5000
    cell = "z" * 2_000_000
    rows = ["age,income,plan,churned," + long_name]
    rows += [f"{20 + i % 50},{1000 + i},{'abc'[i % 3]},{i % 2},{cell if i == 0 else 'short'}" for i in range(200)]
    text = "\n".join(rows) + "\n"
    project.new_data(text)
    project.ok("run", "churn")
    record = project.root / ".mlver/records/churn.json"
    assert record.stat().st_size < 20_000, record.stat().st_size
    [entry] = json.loads(record.read_text())["data"]
    [col] = [c for c in entry["profile"]["columns"] if c["name"].startswith("nnn")]
    assert re.fullmatch(r"n{256}…[0-9a-f]{12}", col["name"])
    tops = {value: count for value, count in col["top"]}
    assert tops.pop("short") == 199
    [(value, count)] = tops.items()
    assert re.fullmatch(r"z{256}…[0-9a-f]{12}", value) and count == 1
    # drift caps the new file's names and values the same way: the same data has not drifted.
    (tmp_path / "same.csv").write_text(text)
    result = project.mlver("drift", "churn", str(tmp_path / "same.csv"), "--json").json()
    assert result["ok"] and {c["name"]: c["psi"] for c in result["columns"]}[col["name"]] == 0
    # And the review of a change to that data stays small too.
    project.git("checkout", "-q", "-b", "feature")
    project.new_data(text.replace("short", "other"))
    project.ok("run", "churn")
    md = project.mlver("review", "--base", "main").stdout
    assert len(md) < 30_000 and "z" * 300 not in md


def test_drift_refuses_a_record_whose_profile_was_edited(trained: Project, tmp_path: Path) -> None:
    (tmp_path / "shifted.csv").write_text(make_csv(200, shift=12.0))
    assert trained.mlver("drift", "churn", str(tmp_path / "shifted.csv")).exit_code == 1
    record = trained.root / ".mlver/records/churn.json"
    doc = json.loads(record.read_text())
    [age] = [c for c in doc["data"][0]["profile"]["columns"] if c["name"] == "age"]
    age["histogram"]["counts"] = [0] * len(age["histogram"]["counts"])  # "no drift, whatever comes"
    record.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    trained.commit_all("edited profile")
    run = trained.fails("drift", "churn@HEAD", str(tmp_path / "shifted.csv"))
    assert "does not match its digest" in run.stderr
