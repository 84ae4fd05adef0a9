"""review and diff of a pull request: a real repository with a main branch and
a feature branch that adds rows and a column, shifts one column, changes a
hyperparameter and the code."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Project, make_csv

PASSING = {"churn": {"metrics": {"accuracy": {"min": 0.5, "max_drop": 0.01}}, "intact": True}}


def set_review(p: Project, review: dict[str, Any] | None, commit: bool = True) -> None:
    """Review settings on the current branch."""
    config = yaml.safe_load((p.root / "mlver.yaml").read_text())
    if review is None:
        config.pop("review", None)
    else:
        config["review"] = review
    p.write("mlver.yaml", yaml.safe_dump(config, sort_keys=False))
    if commit:
        p.commit_all("review settings")


def set_base_review(p: Project, review: dict[str, Any] | None) -> None:
    """Review settings on main, merged into the branch under review: the
    gates a review applies are the merge base's."""
    branch = p.git("symbolic-ref", "--short", "HEAD").strip()
    p.git("checkout", "-q", "main")
    set_review(p, review)
    p.git("checkout", "-q", branch)
    p.git("merge", "-q", "--no-edit", "main")


@pytest.fixture
def pr(trained: Project) -> Project:
    """main: churn v0.1.0 on 200 rows; feature: 260 rows, a `tenure` column,
    `age` shifted by 10 years, lr 0.1 -> 0.3, one line more in train.py."""
    trained.git("checkout", "-q", "-b", "feature")
    trained.set_params(lr=0.3)
    trained.write("train.py", (trained.root / "train.py").read_text() + "# v2\n")
    trained.new_data(make_csv(260, shift=10.0, extra_column=True), "feature data")
    trained.ok("run", "churn")
    return trained


def review(p: Project, *args: str, code: int) -> Any:
    run = p.mlver("review", "--base", "main", *args)
    assert run.exit_code == code, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    return run


def test_report_has_the_numbers(pr: Project, tmp_path: Path) -> None:
    set_base_review(pr, {"gates": PASSING})
    out = tmp_path / "report.md"
    run = review(pr, "-o", str(out), code=0)
    md = out.read_text()
    assert md.startswith("<!-- mlver-review -->\n## ✅ mlver review: `feature` into `main`")
    assert "1 of 1 models changed; 0 of 3 gates failed" in md
    for needle in (
        "| `churn` | changed | accuracy 0.5102 → 0.53026 (+3.93% ▲ better)",  # the summary line
        "| `train.lr` | 0.1 | 0.3 |",  # params old -> new
        "| `accuracy` | 0.5102 | 0.53026 | +0.02006 | +3.93% | ▲ better |",  # metrics
        "rows 200 → 260 (+60)",  # data
        "columns added: `tenure`",
        "**drift** (PSI at or over the threshold): `age`",
        "| `age` | 0 → 0 | 44.5 → 54.3846 (+9.8846) |",  # the shifted column's mean
        "| ⚠️ **drift** |",
        "| `train.py` | 1 | 0 |", "| `params.yaml` | 1 | 1 |",  # code, with line counts
        "**Artifact** `models/churn.pkl`",
        "- [x] ✅ `churn` `metric:accuracy:min`: accuracy 0.53026 >= min 0.5",
        "- [x] ✅ `churn` `metric:accuracy:max_drop`: accuracy did not drop (0.5102 -> 0.53026), max drop 0.01",
        "- [x] ✅ `churn` `intact`: digest valid",
    ):
        assert needle in md, needle + "\n" + md
    age_row = next(line for line in md.splitlines() if line.startswith("| `age` |"))
    income_row = next(line for line in md.splitlines() if line.startswith("| `income` |"))
    assert float(age_row.split("|")[6]) > 1.0 and float(income_row.split("|")[6]) < 0.05  # PSI
    assert "OK: feature" in run.stdout and "[PASS] churn metric:accuracy:min" in run.stdout
    # Without -o, the report itself is the output.
    assert review(pr, code=0).stdout == md


def test_failing_gates_exit_1_and_json(pr: Project) -> None:
    set_base_review(pr, {"drift_threshold": 0.3, "gates": {"churn": {
        "metrics": {"accuracy": {"min": 0.6}, "rows": {"max_rise": "10%"}}, "max_drift": 0.25, "in_remote": True}}})
    run = review(pr, "--json", code=1)
    result = run.json()
    assert result["ok"] is False and result["drift_threshold"] == 0.3 and result["head"] == "feature"
    assert result["base_commit"] == pr.git("merge-base", "main", "feature").strip()
    gates = {g["gate"]: g for g in result["gates"]}
    assert gates["metric:accuracy:min"] == {"model": "churn", "gate": "metric:accuracy:min", "passed": False,
                                            "detail": "accuracy 0.53026 < min 0.6"}
    assert not gates["metric:rows:max_rise"]["passed"] and "rose 30%" in gates["metric:rows:max_rise"]["detail"]
    assert not gates["max_drift"]["passed"] and "(data/train.csv: age) > 0.25" in gates["max_drift"]["detail"]
    assert not gates["in_remote"]["passed"] and "mlver push" in gates["in_remote"]["detail"]
    [d] = result["diffs"]
    assert d["status"] == "changed" and d["data"][0]["profile"]["drifted_columns"] == ["age"]
    acc = next(m for m in d["metrics"] if m["key"] == "accuracy")
    assert (acc["direction"], acc["better"], round(acc["pct"], 2)) == ("up", True, 3.93)

    pr.ok("push")  # the objects reach the remote: that gate passes now
    gates = {g["gate"]: g for g in review(pr, "--json", code=1).json()["gates"]}
    assert gates["in_remote"]["passed"] and gates["in_remote"]["detail"] == "2 objects in remote mlver-local"
    markdown = review(pr, code=1).stdout
    assert "## ❌ mlver review" in markdown and "- [ ] ❌ `churn` `metric:accuracy:min`: accuracy 0.53026 \\< min 0.6" in markdown


def test_plots_are_written(pr: Project, tmp_path: Path) -> None:
    plots = tmp_path / "plots"
    result = review(pr, "--plots", str(plots), "--json", code=0).json()
    names = sorted(Path(p).name for p in result["plots"])
    assert names == ["churn-data_train.csv-age.png", "churn-metric-accuracy.svg", "churn-metric-rows.svg",
                     "churn-metrics.png"]  # income and plan barely moved
    umask = os.umask(0)
    os.umask(umask)
    for name in names:
        data = (plots / name).read_bytes()
        if name.endswith(".svg"):  # mlver's own SVG, as on the site: base and head marked
            assert data.startswith(b"<svg ") and b">base<" in data and b">head<" in data
            continue
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
        assert (plots / name).stat().st_mode & 0o777 == 0o666 & ~umask  # as open() makes them, not mkstemp's 0600
    md = review(pr, "--plots", str(plots), "--plots-url", "https://ci.example/plots/", code=0).stdout
    assert "![churn-metrics.png](https://ci.example/plots/churn-metrics.png)" in md


def test_diff_defaults_to_the_merge_base_and_prints_markdown(pr: Project) -> None:
    merge_base = pr.git("merge-base", "main", "HEAD").strip()
    [d] = pr.ok("diff", "--json").json()
    assert d["old_ref"] == f"churn@{merge_base[:12]}" and d["new_ref"] == "churn@HEAD"
    assert d["status"] == "changed" and {"key": "train.lr", "old": 0.1, "new": 0.3, "status": "changed"} in d["params"]
    md = pr.ok("diff", "main", "feature", "churn", "--md").stdout
    assert md.startswith("## `churn`: churn@main → churn@feature") and "| `train.lr` | 0.1 | 0.3 |" in md
    text = pr.ok("diff", "churn@v0.1.0", "churn@feature").stdout
    assert re.search(r"^ +age +0 -> 0 ", text, re.M) and "DRIFT" in text and "up (better)" in text
    [d] = pr.ok("diff", "main", "feature", "--threshold", "5", "--json").json()
    assert d["data"][0]["profile"]["drifted_columns"] == []
    assert "not both" in pr.mlver("diff", "--md", "--json").stderr


def test_models_added_and_removed_are_reported_not_errors(pr: Project) -> None:
    # The base's gates may name a model the pull request adds.
    set_base_review(pr, {"gates": {"fraud": {"metrics": {"accuracy": {"max_drop": 0.01}}}}})
    pr.ok("model", "add", "fraud", "--path", "models/churn.pkl", "--data", "data/train.csv",
          "--params", "params.yaml", "--metrics", "metrics.json", "--command", "python train.py")
    pr.commit_all("declare fraud")
    pr.ok("run", "fraud")
    result = review(pr, "--json", code=0).json()
    assert {d["model"]: d["status"] for d in result["diffs"]} == {"churn": "changed", "fraud": "added"}
    assert "| `fraud` | added | new model" in review(pr, code=0).stdout
    [d] = pr.ok("diff", "fraud@main", "fraud@feature", "--json").json()
    assert d["status"] == "added"
    [d] = pr.ok("diff", "fraud@feature", "fraud@main", "--json").json()
    assert d["status"] == "removed"
    [gate] = review(pr, "--json", code=0).json()["gates"]
    assert gate["passed"] and "no base value to compare (new model)" in gate["detail"]
    only = review(pr, "--model", "churn", "--json", code=0).json()
    assert [d["model"] for d in only["diffs"]] == ["churn"] and only["gates"] == []


def test_bad_input(pr: Project) -> None:
    run = pr.fails("review", "--base", "no-such-branch")
    assert "base revision 'no-such-branch' does not exist" in run.stderr and "git fetch origin no-such-branch" in run.stderr
    assert "revision 'nope' does not exist" in pr.fails("diff", "nope", "HEAD").stderr
    set_base_review(pr, {"gates": {"churn": {"metrics": {"acuracy": {"min": 0.5}}}}})
    run = pr.fails("review", "--base", "main")
    assert "names 'acuracy', which churn does not record (it records: accuracy, rows)" in run.stderr
    set_base_review(pr, {"gates": {"nope": {"intact": True}}})
    assert "names model 'nope'" in pr.fails("review", "--base", "main").stderr
    set_base_review(pr, {"gates": {"churn": {"metrics": {"accuracy": {"minimum": 0.5}}}}})
    assert "review.gates.churn.metrics.accuracy.minimum is not a setting mlver knows" in pr.fails("review", "--base", "main").stderr
    set_base_review(pr, {"gates": {"churn": {"max_drift": "high"}}})
    assert "review.gates.churn.max_drift must be a number" in pr.fails("review", "--base", "main").stderr


def test_non_tabular_data_is_compared_by_hash(trained: Project) -> None:
    spec = yaml.safe_load((trained.root / "mlver.yaml").read_text())
    trained.write("data/blob.bin", b"\x00\x01" * 100)
    trained.ok("data", "add", "data/blob.bin")
    spec["models"]["churn"]["data"] = ["data/train.csv", "data/blob.bin"]
    trained.write("mlver.yaml", yaml.safe_dump(spec, sort_keys=False))
    trained.commit_all("blob")
    trained.ok("run", "churn")
    trained.git("checkout", "-q", "-b", "feature")
    trained.write("data/blob.bin", b"\x00\x02" * 120)
    trained.ok("data", "add", "data/blob.bin")
    trained.commit_all("new blob")
    trained.ok("run", "churn")
    [d] = review(trained, "--json", code=0).json()["diffs"]
    [blob] = [x for x in d["data"] if x["status"] != "unchanged"]
    assert blob["profile"] is None and blob["note"] == "not tabular: hash-only comparison"
    assert blob["old_size"] == 200 and blob["new_size"] == 240
    assert "_not tabular: hash-only comparison_" in review(trained, code=0).stdout
    assert "not tabular: hash-only comparison" in trained.ok("diff", "main", "feature").stdout


def _commit_record(p: Project, doc: dict) -> None:
    p.write(".mlver/records/churn.json", json.dumps(doc, indent=2, sort_keys=True) + "\n")
    p.commit_all("a record from another mlver")


def test_records_of_another_mlver(pr: Project) -> None:
    from mlver.domain.record import seal

    doc = json.loads((pr.root / ".mlver/records/churn.json").read_text())
    doc["schema"] = 2
    doc["env"]["packages"]["mlver"] = "9.1.0"
    doc["lineage"] = {"something": "new"}
    _commit_record(pr, seal(doc))
    [d] = pr.ok("diff", "main", "feature", "--json").json()
    assert d["status"] == "changed" and "written by mlver 9.1.0 (record schema 2)" in d["notes"][0]
    assert "note: the record of churn at churn@feature was written by mlver 9.1.0" in pr.ok("diff", "main", "feature").stdout
    doc["data"] = {"train": "a mapping this mlver cannot read"}
    _commit_record(pr, seal(doc))
    run = pr.fails("review", "--base", "main")
    assert "was written by mlver 9.1.0 (record schema 2); this is mlver 0.1.0, which reads schema 1" in run.stderr
    assert "upgrade mlver" in run.stderr


def test_intact_gate_catches_edited_records_and_foreign_code(pr: Project) -> None:
    set_base_review(pr, {"gates": {"*": {"intact": True}}})
    path = pr.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    doc["metrics"]["accuracy"] = 0.99
    _commit_record(pr, doc)
    [gate] = review(pr, "--json", code=1).json()["gates"]
    assert gate["gate"] == "intact" and "does not match its digest" in gate["detail"]
    from mlver.domain.record import seal

    doc["code"]["commit"] = "0" * 40  # trained on code this branch does not have
    _commit_record(pr, seal(doc))
    [gate] = review(pr, "--json", code=1).json()["gates"]
    assert "is not an ancestor of head" in gate["detail"] and "digest" not in gate["detail"]

