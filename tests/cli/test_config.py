"""mlver.yaml through the CLI: a typo or a wrong type in any safeguard is an
error (exit 2) naming the key, never a safeguard silently off."""
from __future__ import annotations

import yaml

from conftest import Project

RESERVED = "policy:\n  stages: [dev, prod]\n"


def _config(p: Project) -> str:
    return (p.root / "mlver.yaml").read_text()


def test_typos_in_policy_and_signing_stop_the_command_and_name_the_key(trained: Project) -> None:
    """v0.1.0 has accuracy 0.5102: a policy whose key is misspelled must not let it into prod."""
    base = _config(trained)
    tags = trained.git("tag", "-l")
    for text, shown, hint in [
        ("policy:\n  gate:\n    prod: {accuracy: {min: 0.99}}\n", "mlver.yaml: policy.gate is not a setting mlver knows",
         "did you mean 'gates'?"),
        ("policy:\n  gates:\n    prod: {accuracy: {minimum: 0.99}}\n",
         "mlver.yaml: policy.gates.prod.accuracy.minimum is not a setting mlver knows", "did you mean 'min'?"),
        ("policy:\n  gates:\n    prod: {accuracy: {min: high}}\n",
         "mlver.yaml: policy.gates.prod.accuracy.min must be a number, not 'high'", "fix policy.gates.prod.accuracy.min"),
        ("sigining: true\n", "mlver.yaml: sigining is not a setting mlver knows", "did you mean 'signing'?"),
        ("signing: yes please\n", "mlver.yaml: signing must be true or false, not 'yes please'", "fix signing"),
    ]:
        trained.write("mlver.yaml", base + text)
        trained.commit_all("a typo")
        for args in (("promote", "churn@v0.1.0", "prod"), ("release", "churn", "--bump", "major")):
            run = trained.fails(*args)
            assert shown in run.stderr and f"hint: {hint}" in run.stderr, run.stderr
    assert trained.git("tag", "-l") == tags  # nothing was tagged, signed or not
    trained.write("mlver.yaml", base + "policy:\n  gates:\n    prod: {accuracy: {min: 0.99}}\n")
    trained.commit_all("the policy as meant")
    assert "accuracy 0.5102 < min 0.99" in trained.fails("promote", "churn@v0.1.0", "prod", code=1).stderr


def test_a_newer_version_asks_for_an_upgrade_and_model_add_edits_only_a_valid_file(project: Project) -> None:
    base = _config(project)
    assert "version: 1\n" in base  # what init writes is what is checked
    project.write("mlver.yaml", base.replace("version: 1", "version: 2"))
    run = project.fails("ls")
    assert "mlver.yaml is version 2; this mlver (" in run.stderr and "reads versions up to 1" in run.stderr
    assert "hint: upgrade mlver" in run.stderr
    # model add reads the file through the schema before it edits a byte (fails() checks nothing changed).
    project.write("mlver.yaml", base + "review:\n  gates:\n    churn: {intcat: true}\n")
    run = project.fails("model", "add", "other", "--path", "models/other.pkl")
    assert "review.gates.churn.intcat is not a setting" in run.stderr and "did you mean 'intact'?" in run.stderr
    # Keys of one's own (anchors for YAML aliases) live under x-, and edits keep them.
    project.write("mlver.yaml", base + "x-gate: &g {min: 0.5}\nreview:\n  gates:\n    churn:\n      metrics: {accuracy: *g}\n")
    project.ok("model", "add", "other", "--path", "models/other.pkl")
    doc = yaml.safe_load(_config(project))
    assert doc["x-gate"] == {"min": 0.5} and doc["models"]["other"] == {"path": "models/other.pkl"}
    assert "x-gate: &g {min: 0.5}" in _config(project)


def test_review_refuses_a_broken_base_and_reports_a_broken_head(trained: Project) -> None:
    base = _config(trained)
    trained.git("checkout", "-q", "-b", "feature")
    trained.write("mlver.yaml", base + "review:\n  gates:\n    churn: {metrics: {accuracy: {min: 0.99}}}\n  gate: {}\n")
    trained.commit_all("head misspells a review key")
    run = trained.mlver("review", "--base", "main", "--json")
    assert run.exit_code == 0, run.stderr  # head's gates never count; its config change is reported
    [change] = [c for c in run.json()["config_changes"] if c["setting"] == "mlver.yaml"]
    assert change["head"].startswith("unreadable: mlver.yaml at feature: review.gate is not a setting")
    trained.git("checkout", "-q", "main")
    trained.write("mlver.yaml", base + "reveiw:\n  gates: {}\n")
    trained.commit_all("main misspells review")
    trained.git("checkout", "-q", "-b", "feature2")
    run = trained.fails("review", "--base", "main")
    assert "mlver.yaml at the merge base" in run.stderr and "reveiw is not a setting mlver knows" in run.stderr
    assert "did you mean 'review'?" in run.stderr
