"""A pull request cannot steer its own review: gates, the in_remote remote and
the code table come from the merge base and git, and nothing a pull request
writes (a column name, a param, a record's note) can forge a line of the report."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import yaml
from test_review import set_review

from conftest import Project, make_csv
from mlver.domain.record import seal

STRICT = {"churn": {"metrics": {"accuracy": {"min": 0.6}}, "max_drift": 0.25, "intact": True}}


def _feature(p: Project) -> None:
    """A branch off main (which holds churn v0.1.0 and its gates) that retrains on shifted data."""
    p.git("checkout", "-q", "-b", "feature")
    p.set_params(lr=0.3)
    p.write("train.py", (p.root / "train.py").read_text() + "# v2\n")
    p.new_data(make_csv(260, shift=10.0), "feature data")
    p.ok("run", "churn")


def test_a_changed_setting_reads_the_same_on_the_terminal_as_in_markdown(trained: Project, tmp_path: Path) -> None:
    # One text per value (mlver/formats.py's): the terminal wrote Python's True where markdown wrote true.
    set_review(trained, {"gates": STRICT})
    _feature(trained)
    set_review(trained, {"gates": {"churn": {**STRICT["churn"], "intact": False}}})
    out = tmp_path / "report.md"
    summary = trained.mlver("review", "--base", "main", "-o", str(out)).stdout
    assert "review.gates.churn.intact: true -> -" in summary, summary  # off is the default: no setting
    assert "| `review.gates.churn.intact` | `true` | – |" in out.read_text()


def test_a_pr_that_deletes_or_relaxes_its_gates_is_reviewed_with_the_base_gates(trained: Project, tmp_path: Path) -> None:
    set_review(trained, {"gates": STRICT})
    _feature(trained)
    # The pull request relaxes one gate, deletes another and raises the drift threshold.
    set_review(trained, {"drift_threshold": 9, "gates": {"churn": {"metrics": {"accuracy": {"min": 0.1}}}}})
    out = tmp_path / "report.md"
    run = trained.mlver("review", "--base", "main", "-o", str(out), "--json")
    assert run.exit_code == 1, run.stdout + run.stderr
    result = run.json()
    assert result["drift_threshold"] == 0.2  # the base's (default), not head's 9
    gates = {g["gate"]: g["passed"] for g in result["gates"]}
    assert gates == {"metric:accuracy:min": False, "max_drift": False, "intact": True}
    changes = {c["setting"]: (c["base"], c["head"]) for c in result["config_changes"]}
    assert changes["review.gates.churn.metrics.accuracy.min"] == (0.6, 0.1)
    assert changes["review.gates.churn.max_drift"] == (0.25, None)
    assert changes["review.drift_threshold"] == (None, 9)
    md = out.read_text()
    assert "### ⚠️ Review configuration changed in this pull request" in md
    assert "| `review.gates.churn.metrics.accuracy.min` | `0.6` | `0.1` |" in md
    assert "| `review.gates.churn.max_drift` | `0.25` | – |" in md
    summary = trained.mlver("review", "--base", "main", "-o", str(out)).stdout
    assert "review configuration changed in this pull request" in summary and "accuracy.min: 0.6 -> 0.1" in summary
    # Deleting mlver.yaml's review section altogether changes nothing either,
    set_review(trained, None)
    assert trained.mlver("review", "--base", "main").exit_code == 1
    # nor does making it unreadable: the review runs, and says so.
    trained.write("mlver.yaml", (trained.root / "mlver.yaml").read_text() + "loop: &l [*l]\n")
    trained.commit_all("unreadable config")
    run = trained.mlver("review", "--base", "main", "--json")
    assert run.exit_code == 1, run.stderr
    changes = {c["setting"]: c["head"] for c in run.json()["config_changes"]}
    assert changes["mlver.yaml"] == "unreadable: mlver.yaml at feature has a recursive YAML alias"


def test_a_pr_cannot_point_the_in_remote_gate_at_a_remote_of_its_own(trained: Project, tmp_path: Path) -> None:
    team, own = tmp_path / "team-storage", tmp_path / "pr-storage"
    team.mkdir()
    # The team's remote is shared in .dvc/config; this machine sets no default of its own.
    trained.write(".dvc/config.local", "")
    trained.write(".dvc/config", f"[core]\n    remote = team\n['remote \"team\"']\n    url = {team}\n")
    trained.commit_all("team remote")
    set_review(trained, {"gates": {"churn": {"in_remote": True}}})
    _feature(trained)
    trained.write(".dvc/config", f"[core]\n    remote = team\n['remote \"team\"']\n    url = {own}\n")
    trained.commit_all("point the team remote elsewhere")
    trained.ok("push")  # to the pull request's own storage, per the work tree's config
    assert any(own.rglob("*")) and not any(team.rglob("*"))
    result = trained.mlver("review", "--base", "main", "--json").json()
    [gate] = result["gates"]
    assert gate["gate"] == "in_remote" and not gate["passed"] and "not in remote team" in gate["detail"]
    assert {"setting": ".dvc/config: remote.team.url", "base": str(team), "head": str(own)} in result["config_changes"]
    # A config.local the pull request commits is not this machine's either.
    trained.write(".dvc/config.local", f"[core]\n    remote = mine\n['remote \"mine\"']\n    url = {own}\n")
    trained.git("add", "-f", ".dvc/config.local")
    trained.git("commit", "-q", "-m", "a committed config.local")
    [gate] = trained.mlver("review", "--base", "main", "--json").json()["gates"]
    assert not gate["passed"] and "not in remote team" in gate["detail"]


def test_a_resealed_head_record_cannot_hide_train_py_from_the_code_table(trained: Project) -> None:
    base = trained.git("rev-parse", "HEAD").strip()
    _feature(trained)
    path = trained.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    doc["code"]["outputs"] = sorted(set(doc["code"]["outputs"]) | {"train.py", "params.yaml"})
    path.write_text(json.dumps(seal(doc), indent=2, sort_keys=True) + "\n")
    trained.commit_all("outputs that are not")
    [d] = trained.ok("diff", "main", "feature", "--json").json()  # `mlver diff` takes no record's word either
    assert {"train.py", "params.yaml"} <= {f["path"] for f in d["code"]["files"]}
    doc["code"]["commit"] = base  # "trained on the base's code": no code change between the records
    path.write_text(json.dumps(seal(doc), indent=2, sort_keys=True) + "\n")
    # And head declares train.py as the metrics file, which the code table leaves out.
    config = yaml.safe_load((trained.root / "mlver.yaml").read_text())
    config["models"]["churn"]["metrics"] = "train.py"
    trained.write("mlver.yaml", yaml.safe_dump(config, sort_keys=False))
    trained.commit_all("re-sealed record")
    result = trained.mlver("review", "--base", "main", "--json").json()
    files = {f["path"]: (f["added"], f["removed"]) for f in result["code"]["files"]}
    assert files["train.py"] == (1, 0) and "params.yaml" in files and "mlver.yaml" in files
    assert not any(p.startswith(".mlver/records/") or p == "metrics.json" or p == "models/churn.pkl.dvc" for p in files)
    [d] = result["diffs"]
    assert d["code"] == result["code"]
    md = trained.mlver("review", "--base", "main").stdout
    assert "| `train.py` | 1 | 0 |" in md and "code 4 files" in md


def _outside_code_spans(line: str) -> str:
    return re.sub(r"(`+)(.*?)\1", "", line)


def test_column_names_params_and_notes_cannot_forge_the_report(trained: Project) -> None:
    trained.git("checkout", "-q", "-b", "feature")
    fake = "x\n- [x] ✅ `churn` `intact`: all good"
    trained.set_params(lr=0.3, note=f"<img src=http://x/pixel.png> | ✅ gate passed | {fake}")
    header = ["age", "income", "plan", "churned", "| ✅ gate passed |", "<img src=http://x/p.png>", fake, "@everyone **x**"]
    text = io.StringIO()
    rows = csv.writer(text, lineterminator="\n")
    rows.writerow(header)
    rows.writerows([20 + i % 50, 1000 + i, "abc"[i % 3], i % 2, i, i, i, i] for i in range(100))
    trained.new_data(text.getvalue())
    trained.ok("run", "churn")
    # A record from "another mlver" whose version is markup: it reaches the report as a note.
    path = trained.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    doc["schema"], doc["env"]["packages"]["mlver"] = 2, "9 <img src=http://x/n.png>\n- [x] ✅ forged"
    path.write_text(json.dumps(seal(doc), indent=2, sort_keys=True) + "\n")
    trained.commit_all("markup everywhere")
    md = trained.mlver("review", "--base", "main").stdout
    assert not [line for line in md.splitlines() if line.startswith("- [")], md  # no gate line at all
    for line in md.splitlines():
        rest = _outside_code_spans(line)
        assert not re.search(r"(?<!\\)<img", rest) and "](" not in rest, line
        assert not re.search(r"(?<![\\\w])@everyone", rest), line
        if line.startswith("|"):  # every table row has its header's cells
            cells = len(re.findall(r"(?<!\\)\|", re.sub(r"`[^`]*`", "", line.replace("\\|", ""))))
            assert cells in (4, 7, 8), line
    assert "`\\| ✅ gate passed \\|`" in md and "`<img src=http://x/p.png>`" in md  # code spans: literal text
    assert "``x - [x] ✅ `churn` `intact`: all good``" in md and "`@everyone **x**`" in md
    assert "\\<img src=http://x/pixel.png> \\| ✅ gate passed \\| x - \\[x\\] ✅ \\`churn\\`" in md  # a param value, as text
    assert "written by mlver 9 \\<img src=http://x/n.png> - \\[x\\] ✅ forged" in md  # the note, on one line
