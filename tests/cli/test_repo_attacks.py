"""A cloned repository that lies (session 10's attack pass): tags, pipeline files
and configuration a co-worker or a fork can push. Each test failed on the code
before its fix; what must hold is a refusal or a skip with one clear line, never
a wrong answer, a traceback or a write outside the project."""
from __future__ import annotations

import pytest

from conftest import Project


@pytest.mark.parametrize("packed", [False, True])
def test_registry_tags_on_a_blob_or_a_tree_are_no_versions_or_stages(trained: Project, packed: bool) -> None:
    # An annotated tag in the registry's format may point at any object: `ls` listed one on
    # a blob as the latest version, `show churn#prod` showed a blob as a record's commit.
    p = trained
    blob = p.git("rev-parse", "HEAD:params.yaml").strip()
    tree = p.git("rev-parse", "HEAD^{tree}").strip()
    p.git("tag", "-a", "churn@v9.0.0", "-m", "a blob", blob)
    p.git("tag", "-a", "churn@v8.0.0", "-m", "a tree", tree)
    p.git("tag", "-a", "churn#prod#1", "-m", "a stage on a blob", blob)
    if packed:
        p.git("pack-refs", "--all")
    (row,) = [m for m in p.ok("ls", "--json").json() if m["model"] == "churn"]
    assert (row["latest"], row["versions"], row["stages"]) == ("v0.1.0", 1, {}), row
    shown = p.ok("show", "churn", "--json").json()
    assert shown["versions"] == ["v0.1.0"] and shown["stages"] == [], shown
    assert "no version v9.0.0" in p.fails("show", "churn@v9.0.0").stderr
    assert "in stage 'prod'" in p.fails("show", "churn#prod").stderr
    assert "in stage 'prod'" in p.fails("pull", "churn#prod").stderr
    assert [e["version"] for e in p.ok("log", "churn", "--json").json() if e["kind"] == "release"] == ["v0.1.0"]
    for args in (["--all"], ["churn"]):
        run = p.mlver("verify", *args, "--offline")
        assert run.exit_code == 1, (run.stdout, run.stderr)
        for name, kind in (("churn@v9.0.0", "blob"), ("churn@v8.0.0", "tree"), ("churn#prod#1", "blob")):
            assert f"{name}: the tag points at a {kind}" in run.stdout, run.stdout
    p.git("tag", "-d", "churn@v9.0.0", "churn@v8.0.0", "churn#prod#1")
    p.ok("verify", "--all", "--offline")
