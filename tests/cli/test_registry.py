"""release, ls, log, show, diff."""
from __future__ import annotations

import json

from conftest import Project, make_csv


def _tag_message(p: Project, tag: str) -> str:
    return p.git("tag", "-l", "--format=%(contents)", tag)


def test_first_release_is_v0_1_0_and_tag_is_gto_format(project: Project) -> None:
    recorded = project.ok("run", "churn", "--json").json()
    result = project.ok("release", "churn", "--json").json()
    assert result["version"] == "v0.1.0" and result["tag"] == "churn@v0.1.0"
    assert project.git("cat-file", "-t", "churn@v0.1.0").strip() == "tag"  # annotated
    assert project.git("rev-parse", "churn@v0.1.0^{}").strip() == recorded["commit"]
    message = _tag_message(project, "churn@v0.1.0")
    assert message.startswith("Registering artifact churn version v0.1.0")
    assert f"mlver-digest: {recorded['digest']}" in message


def test_bumps_and_explicit_versions(trained: Project) -> None:
    trained.set_params(lr=0.2)
    trained.commit_all("lr")
    trained.ok("run", "churn")
    assert trained.ok("release", "churn", "--json").json()["version"] == "v0.2.0"
    for i, (part, expected) in enumerate((("patch", "v0.2.1"), ("minor", "v0.3.0"), ("major", "v1.0.0"))):
        trained.set_params(lr=0.3 + i / 10)
        trained.commit_all(part)
        trained.ok("run", "churn")
        assert trained.ok("release", "churn", "--bump", part, "--json").json()["version"] == expected
    trained.set_params(lr=0.9)
    trained.commit_all("explicit")
    trained.ok("run", "churn")
    assert trained.ok("release", "churn", "--version", "v2.0.0-rc.1", "--json").json()["version"] == "v2.0.0-rc.1"
    # A tag of that name the registry does not read (lightweight): refused, left as it was.
    trained.set_params(lr=0.95)
    trained.commit_all("again")
    trained.ok("run", "churn")
    trained.git("tag", "churn@v3.0.0", "HEAD~1")
    refused = trained.fails("release", "churn", "--version", "v3.0.0")
    assert "churn@v3.0.0 already exists" in refused.stderr and "Traceback" not in refused.stderr
    assert trained.git("cat-file", "-t", "churn@v3.0.0").strip() == "commit"


def test_release_bad_input(trained: Project) -> None:
    head_release = trained.fails("release", "churn")
    assert "already released as churn@v0.1.0" in head_release.stderr
    assert "already exists" in trained.fails("release", "churn", "--version", "v0.1.0", "HEAD~1").stderr
    for bad in ("1.0", "vx", "v1.0"):
        assert "invalid version" in trained.fails("release", "churn", "--version", bad).stderr
    assert "unknown model 'nope'" in trained.fails("release", "nope").stderr
    assert "invalid model name" in trained.fails("release", "x@y").stderr
    assert "no record of churn" in trained.fails("release", "churn", "HEAD~1").stderr
    assert "not a git revision" in trained.fails("release", "churn", "no-such-branch").stderr
    assert "not both" in trained.fails("release", "churn", "--bump", "patch", "--version", "v9.0.0").stderr


def test_release_refuses_tampered_record(project: Project) -> None:
    project.ok("run", "churn")
    path = project.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    doc["metrics"]["accuracy"] = 0.99
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    project.commit_all("improve the numbers by hand")
    run = project.fails("release", "churn")
    assert "does not match its digest" in run.stderr


def test_ls_log_show(trained: Project) -> None:
    listed = trained.ok("ls", "--json").json()
    assert [(m["model"], m["latest"], m["versions"]) for m in listed] == [("churn", "v0.1.0", 1)]
    human = trained.ok("ls").stdout
    assert "churn" in human and "v0.1.0" in human

    events = trained.ok("log", "churn", "--json").json()
    assert [e["kind"] for e in events] == ["release", "record"]
    assert events[0]["version"] == "v0.1.0" and events[0]["author"] == "Test User"
    assert events[0]["time"].endswith("Z")

    tag_commit = trained.git("rev-parse", "churn@v0.1.0^{}").strip()
    for ref in ("churn", "churn@v0.1.0", f"churn@{tag_commit}", "churn@main"):
        shown = trained.ok("show", ref, "--json").json()
        assert shown["record"]["commit"] == tag_commit, ref
        assert shown["versions"] == ["v0.1.0"]
        assert shown["record"]["intact"]
    text = trained.ok("show", "churn@v0.1.0").stdout
    assert "data/train.csv" in text and "200 rows" in text and "accuracy=0.5102" in text


def test_show_and_log_bad_refs(trained: Project) -> None:
    assert "churn has no version v9.9.9" in trained.fails("show", "churn@v9.9.9").stderr
    assert "unknown model 'nope'" in trained.fails("show", "nope@v0.1.0").stderr
    assert "no version of churn is in stage 'prod'" in trained.fails("show", "churn#prod").stderr
    assert "not a version or a git revision" in trained.fails("show", "churn@nowhere").stderr
    assert "unknown model" in trained.fails("log", "nope").stderr


def test_diff_between_versions(trained: Project) -> None:
    trained.set_params(lr=0.3)
    trained.write("train.py", (trained.root / "train.py").read_text() + "# v2\n")
    trained.new_data(make_csv(260, extra_column=True))
    trained.ok("run", "churn")
    trained.ok("release", "churn")
    [d] = trained.ok("diff", "churn@v0.1.0", "churn@v0.2.0", "--json").json()
    assert d["status"] == "changed"
    assert {"key": "train.lr", "old": 0.1, "new": 0.3, "status": "changed"} in d["params"]
    acc = next(m for m in d["metrics"] if m["key"] == "accuracy")
    assert acc["old"] == 0.5102 and acc["new"] == 0.53026
    assert round(acc["delta"], 5) == 0.02006
    [data] = d["data"]
    assert data["status"] == "changed"
    assert data["profile"]["rows"] == {"old": 200, "new": 260, "delta": 60}
    assert data["profile"]["columns_added"] == ["tenure"]
    files = {f["path"]: f for f in d["code"]["files"]}
    assert files["train.py"]["added"] == 1 and "params.yaml" in files
    # What the record commit wrote and the data's .dvc file are not code changes.
    assert not {"metrics.json", "models/churn.pkl.dvc", "models/.gitignore", "data/train.csv.dvc"} & set(files)
    assert d["artifact"]["changed"]
    human = trained.ok("diff", "churn@v0.1.0", "churn@v0.2.0").stdout
    for needle in ("train.lr", "0.1", "0.3", "accuracy", "+0.02006", "rows 200 -> 260 (+60)", "columns added: tenure", "train.py"):
        assert needle in human, needle


def test_diff_revisions_and_defaults(trained: Project) -> None:
    [d] = trained.ok("diff", "churn@v0.1.0", "--json").json()
    assert d["status"] == "unchanged"
    [d] = trained.ok("diff", "HEAD~1", "HEAD", "--json").json()
    assert d["status"] == "added"
