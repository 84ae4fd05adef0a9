"""pull of a record that names no artifact hash (null or absent: the record
check lets both through) is refused with one line, and nothing is written."""
from __future__ import annotations

import json

from conftest import Project
from mlver.domain import record as rec


def _reseal(p: Project, change) -> None:
    path = p.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(rec.dumps(rec.seal(doc)))
    p.commit_all("a record edited after it was written")


def test_pull_of_a_record_without_an_artifact_hash_is_refused(trained: Project) -> None:
    model = trained.root / "models" / "churn.pkl"
    before = model.read_bytes()
    for change in (lambda d: d["artifact"].update(md5=None), lambda d: d.update(artifact=None),
                   lambda d: d.pop("artifact")):
        _reseal(trained, change)
        for args in (("pull", "churn@HEAD"), ("pull", "churn@HEAD", "-o", "out"), ("pull", "churn@HEAD", "--with-data")):
            run = trained.fails(*args)
            assert "has no artifact hash" in run.stderr and "mlver record churn" in run.stderr, run.stderr
            assert "Traceback" not in run.stderr
        assert model.read_bytes() == before and not (trained.root / "out").exists()
        trained.git("reset", "-q", "--hard", "HEAD~1")
