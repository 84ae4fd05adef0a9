"""reproduce of a version trained by a multi-stage DVC pipeline: the raw data
upstream is restored by hash (here from the remote: the cache is emptied),
and every stage the model and its metrics need reruns in the worktree."""
from __future__ import annotations

import json
import shutil

from fixtures.pipeline import PIPELINE_MODEL, declare, dvc, questions_csv

from conftest import Project
from mlver.domain import record as rec


def test_pipeline_version_reproduces_with_upstream_data_from_the_remote(pipeline: Project) -> None:
    declare(pipeline)
    pipeline.ok("run", PIPELINE_MODEL)
    pipeline.ok("release", PIPELINE_MODEL)
    dvc(pipeline.root, "push", "-q")  # a DVC user's push: raw data and every stage output
    # The data moves on; the version must retrain from the data it was trained on.
    pipeline.write("data/questions.csv", questions_csv(300, seed=3))
    dvc(pipeline.root, "add", "-q", "data/questions.csv")
    pipeline.commit_all("more questions")
    shutil.rmtree(pipeline.root / ".dvc" / "cache")
    before = pipeline.state()
    raw = pipeline.root / "data/questions.csv"
    raw_before = raw.read_bytes()

    run = pipeline.mlver("reproduce", f"{PIPELINE_MODEL}@v0.1.0", "--json")
    assert run.exit_code == 0, run.stderr
    result = run.json()
    assert "reproduce: running `dvc repro --force train evaluate`" in run.stderr
    # Nothing a stage writes was restored (the cache is empty, the worktree has
    # only git's files and the raw data): the same model and metrics prove
    # prepare, featurize, train and evaluate all ran there.
    assert result["verdict"] == "bit-for-bit", result
    assert [m["key"] for m in result["metrics"]] == ["accuracy", "n_stumps", "test_rows"]
    assert all(m["within"] and m["delta"] == 0 for m in result["metrics"])
    assert result["notes"] == []
    assert pipeline.state() == before and raw.read_bytes() == raw_before  # the user's tree untouched
    assert pipeline.git("worktree", "list").count("\n") == 1
    assert (pipeline.root / ".dvc/cache").exists()  # the raw data came back through the cache

    # A record that lists no data (an older mlver's, or one re-sealed without it):
    # the raw data still comes from its .dvc file at the code commit.
    path = pipeline.root / f".mlver/records/{PIPELINE_MODEL}.json"
    doc = json.loads(path.read_text())
    assert "data/questions.csv" in [d["path"] for d in doc["data"]]
    doc["data"] = []
    path.write_text(rec.dumps(rec.seal(doc)))
    pipeline.commit_all("a record without its data")
    result = pipeline.ok("reproduce", f"{PIPELINE_MODEL}@HEAD", "--json").json()
    assert result["verdict"] == "bit-for-bit", result
