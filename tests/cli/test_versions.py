"""`mlver ls NAME`: every version side by side, checked against the records themselves."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import Project


def _records(p: Project) -> dict[str, dict]:
    return {v: p.ok("show", f"churn@{v}", "--json").json()["record"]["doc"] for v in ("v0.1.0", "v0.2.0", "v0.3.0")}


def test_versions_table_matches_the_records_in_every_format(three_versions: Project, tmp_path: Path) -> None:
    p = three_versions
    docs = _records(p)
    acc = {v: d["metrics"]["accuracy"] for v, d in docs.items()}
    table = p.ok("ls", "churn", "--against", "prod", "--json").json()
    assert table["model"] == "churn" and table["against"] == "prod" and table["against_version"] == "v0.2.0"
    assert table["metrics"] == ["accuracy", "rows"]
    rows = table["rows"]
    assert [r["version"] for r in rows] == ["v0.3.0", "v0.2.0", "v0.1.0"]  # newest first
    by = {r["version"]: r for r in rows}
    for v, r in by.items():
        assert r["metrics"]["accuracy"]["value"] == acc[v]
        assert r["metrics"]["accuracy"]["against_delta"] == pytest.approx(acc[v] - acc["v0.2.0"])
        assert r["commit"] == p.git("rev-list", "-n1", f"churn@{v}").strip()
        assert r["released_by"] == "Test User" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["released"])
        assert r["data"][0]["md5"] == docs[v]["data"][0]["md5"]
    assert by["v0.1.0"]["previous"] is None and by["v0.1.0"]["metrics"]["accuracy"]["delta"] is None
    assert by["v0.1.0"]["params_changed"] == []
    # v0.2.0: lr up, accuracy up (better); v0.3.0: lr down, accuracy down (worse) but 100 more rows.
    assert by["v0.2.0"]["metrics"]["accuracy"]["delta"] == pytest.approx(acc["v0.2.0"] - acc["v0.1.0"])
    assert by["v0.2.0"]["metrics"]["accuracy"]["delta"] > 0 and by["v0.2.0"]["metrics"]["accuracy"]["better"] is True
    assert by["v0.3.0"]["metrics"]["accuracy"]["delta"] < 0 and by["v0.3.0"]["metrics"]["accuracy"]["better"] is False
    assert by["v0.3.0"]["metrics"]["accuracy"]["against_delta"] < 0
    assert by["v0.3.0"]["metrics"]["rows"]["delta"] == 100
    assert by["v0.2.0"]["params_changed"] == [{"key": "train.lr", "old": 0.1, "new": 0.2, "status": "changed"}]
    assert by["v0.3.0"]["params_changed"] == [{"key": "train.lr", "old": 0.2, "new": 0.15, "status": "changed"}]
    assert [(d["rows"], d["changed"]) for d in by["v0.3.0"]["data"]] == [(300, True)]
    assert [(d["rows"], d["changed"]) for d in by["v0.2.0"]["data"]] == [(200, False)]
    assert by["v0.3.0"]["stages"] == ["staging"] and by["v0.2.0"]["stages"] == ["prod"]
    assert all(r["stages_before"] == [] for r in rows)

    # CSV: the same numbers, one column per metric, delta and delta against prod.
    lines = list(csv.DictReader(io.StringIO(p.ok("ls", "churn", "--against", "prod", "--csv").stdout)))
    assert [r["version"] for r in lines] == ["v0.3.0", "v0.2.0", "v0.1.0"]
    for r in lines:
        assert float(r["accuracy"]) == acc[r["version"]]
        assert float(r["accuracy_vs_prod"]) == pytest.approx(acc[r["version"]] - acc["v0.2.0"])
    assert lines[0]["accuracy_delta"].startswith("-") and float(lines[1]["accuracy_delta"]) > 0
    assert lines[2]["accuracy_delta"] == "" and lines[0]["rows_delta"] == "100"
    assert lines[0]["stages"] == "staging" and lines[0]["params_changed"] == "train.lr=0.2->0.15"

    # Markdown: a table with a row per version, the signs of the deltas shown.
    md = p.ok("ls", "churn", "--against", "prod", "--md").stdout
    table_rows = [line for line in md.splitlines() if line.startswith("| `v")]
    assert len(table_rows) == 3 and table_rows[0].startswith("| `v0.3.0`")
    cells = [c.strip() for c in table_rows[0].strip("|").split("|")]
    assert cells[1] == "staging" and f"{acc['v0.3.0']:.6g} (-" in cells[6] and "[-" in cells[6]
    assert "`train.lr` `0.2` → `0.15`" in cells[5] and "300 rows" in cells[4]

    # Sorted best first, and a stage change shows on both versions.
    assert [r["version"] for r in p.ok("ls", "churn", "--sort-by", "accuracy", "--json").json()["rows"]] == \
        sorted(acc, key=acc.__getitem__, reverse=True)
    p.ok("promote", "churn@v0.3.0", "prod")
    after = {r["version"]: r for r in p.ok("log", "churn", "--versions", "--json").json()["rows"]}
    assert after["v0.3.0"]["stages"] == ["prod", "staging"] and after["v0.2.0"]["stages"] == []
    assert after["v0.2.0"]["stages_before"] == ["prod"]
    human = p.ok("ls", "churn").stdout
    assert "(was prod)" in human and "prod, staging" in human and "ACCURACY" in human

    # --repo: the same rows from a clone URL, without a clone of one's own.
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(p.root), str(bare)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    remote = Project(elsewhere).ok("ls", "churn", "--json", "--repo", bare.as_uri()).json()
    local = p.ok("ls", "churn", "--json").json()
    assert remote["repo"] == bare.as_uri()
    assert remote["rows"] == local["rows"]


def test_versions_refuses_what_it_cannot_answer(three_versions: Project) -> None:
    p = three_versions
    err = p.fails("ls", "churn", "--sort-by", "auc").stderr
    assert "'auc'" in err and "accuracy, rows" in err
    assert "no version of churn is in stage 'canary'" in p.fails("ls", "churn", "--against", "canary").stderr
    p.fails("ls", "nosuch")
    assert "need a model NAME" in p.fails("ls", "--csv").stderr
    assert "one of --md, --csv or --json" in p.fails("ls", "churn", "--csv", "--md").stderr
    assert "nosuch" in p.fails("ls", "nosuch", "--repo", str(p.root)).stderr
    # Hostile values in a record are text in every format: no markdown cell, no formula, no terminal escape.
    # (A params file is the user's; a value with a pipe and a formula start goes into the next record.)
    p.set_params(lr=0.15, note="=cmd|' /C calc'!A0 | <b>x</b>\x1b[2J")
    p.commit_all("hostile param")
    p.ok("run", "churn")
    p.git("config", "user.name", "=2+3")
    p.ok("release", "churn")
    md = p.ok("ls", "churn", "--md").stdout
    row = next(line for line in md.splitlines() if line.startswith("| `v0.4.0`"))
    assert len(row.strip("|").split(" | ")) == 8  # 6 columns + 2 metrics: the pipes in the value add no cell
    assert "`=cmd\\|' /C calc'!A0 \\| <b>x</b>\\x1b[2J`" in row  # inside a code span: literal text
    lines = list(csv.DictReader(io.StringIO(p.ok("ls", "churn", "--csv").stdout)))
    assert lines[0]["released_by"] == "'=2+3"  # a spreadsheet shows it, never computes it
    assert "\x1b" not in p.ok("ls", "churn").stdout
    assert json.loads(p.ok("ls", "churn", "--json").stdout)["rows"][0]["params_changed"][0]["new"].startswith("=cmd")


def test_one_version_is_counted_in_the_singular(trained: Project) -> None:
    assert "churn: 1 version, deltas against the previous version" in trained.ok("ls", "churn").stdout


def test_two_versions_are_counted_in_the_plural(released_twice: Project) -> None:
    assert "churn: 2 versions, deltas against the previous version" in released_twice.ok("ls", "churn").stdout
