"""No cache of mlver gives an answer its inputs no longer give: each test
attacks one cache through the CLI on a real repository and compares the
warm answer with what the same command answers with no cache at all."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Project

PROFILES = Path(".git/mlver/cache/profiles")


def _profile(p: Project, ref: str, path: str) -> dict:
    data = p.ok("show", ref, "--json").json()["record"]["doc"]["data"]
    return next(d["profile"] for d in data if d["path"] == path)


def test_the_same_bytes_as_tsv_and_as_csv_get_each_their_own_profile(project: Project) -> None:
    """The profile cache is keyed by the bytes' md5 and by how they are parsed:
    a tab-separated file copied to a .csv is one column to the CSV reader."""
    p = project
    p.write("data/a.tsv", "x\ty\n" + "".join(f"{i}\t{2 * i}\n" for i in range(50)))
    p.ok("data", "add", "data/a.tsv")  # profiled (and cached) as TSV: two columns
    (p.root / "data/b.csv").write_bytes((p.root / "data/a.tsv").read_bytes())
    p.ok("data", "add", "data/b.csv")
    p.ok("model", "add", "m2", "--path", "models/churn.pkl", "--data", "data/b.csv",
         "--params", "params.yaml", "--metrics", "metrics.json", "--command", "python train.py")
    p.commit_all("m2 on the csv")
    p.ok("run", "m2")
    warm = _profile(p, "m2", "data/b.csv")
    assert [c["name"] for c in warm["columns"]] == ["x\ty"]
    # What the same run records with no cache.
    p.git("reset", "-q", "--hard", "HEAD~1")
    for cached in (p.root / PROFILES).iterdir():
        cached.unlink()
    p.ok("run", "m2")
    assert _profile(p, "m2", "data/b.csv") == warm


def _deep(levels: int) -> object:
    doc: object = 1
    for _ in range(levels):
        doc = [doc]
    return {"rows": 200, "columns": [], "extra": doc}


@pytest.mark.parametrize("content", [
    json.dumps({"rows": "lots", "columns": 7}),
    json.dumps({"rows": 200, "columns": [{"name": 3}]}),
    json.dumps(_deep(40)),
    "[]",
    "{\"rows\": 2",
], ids=["wrong-types", "wrong-column", "too-deep", "not-an-object", "truncated"])
def test_a_damaged_profile_cache_is_computed_again(project: Project, content: str) -> None:
    """A crafted or damaged cached profile is never recorded, nor does it make
    the run fail: it is computed again from the data."""
    p = project
    cached = [f for f in (p.root / PROFILES).iterdir() if f.is_file()]
    assert cached, "data add caches the profile"
    for f in cached:
        f.write_text(content)
    p.ok("run", "churn")
    profile = _profile(p, "churn", "data/train.csv")
    assert profile["rows"] == 200 and [c["name"] for c in profile["columns"]] == ["age", "income", "plan", "churned"]
