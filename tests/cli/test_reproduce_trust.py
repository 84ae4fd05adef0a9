"""reproduce runs only what the code commit declares, never what a record says,
and writes only inside its temporary worktree."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from conftest import Project
from mlver.domain import record as rec

# The template's training, plus a line in a file outside the project each time it runs.
MARKING = "import os\nopen(os.environ['MLVER_TEST_MARKER'], 'a').write('trained\\n')\n"


def _reseal(p: Project, change, seal: bool = True) -> None:
    path = p.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(rec.dumps(rec.seal(doc)) if seal else json.dumps(doc, indent=2, sort_keys=True) + "\n")
    p.commit_all("a record edited after it was written")


def _marking(p: Project, marker: Path, monkeypatch) -> None:
    monkeypatch.setenv("MLVER_TEST_MARKER", str(marker))
    p.write("train.py", MARKING + (p.root / "train.py").read_text())
    p.commit_all("training leaves a mark")
    p.ok("run", "churn")
    marker.unlink()


def test_a_tampered_record_is_refused_before_anything_runs(project: Project, isolate: Path, monkeypatch) -> None:
    marker = isolate / "marker"
    _marking(project, marker, monkeypatch)
    _reseal(project, lambda d: d["metrics"].update(accuracy=0.99), seal=False)
    run = project.fails("reproduce", "churn@HEAD")
    assert "does not match its digest" in run.stderr
    assert not marker.exists() and "running" not in run.stderr
    assert project.git("worktree", "list").count("\n") == 1


def test_a_record_without_an_artifact_hash_is_refused_before_anything_runs(project: Project, isolate: Path,
                                                                           monkeypatch) -> None:
    # A null hash read as the recorded one: a training that wrote nothing "reproduced" it
    # bit-for-bit; a null or absent artifact was an internal error (exit 4).
    marker = isolate / "marker"
    _marking(project, marker, monkeypatch)
    for change in (lambda d: d["artifact"].update(md5=None), lambda d: d.update(artifact=None), lambda d: d.pop("artifact")):
        _reseal(project, change)
        run = project.fails("reproduce", "churn@HEAD")
        assert "has no artifact hash" in run.stderr and "mlver record churn" in run.stderr
        assert not marker.exists() and "running" not in run.stderr
        project.git("reset", "-q", "--hard", "HEAD~1")


def test_the_command_comes_from_mlver_yaml_at_the_code_commit(project: Project, isolate: Path, monkeypatch) -> None:
    marker, planted = isolate / "marker", isolate / "planted"
    _marking(project, marker, monkeypatch)
    # A re-sealed record naming another command, and mlver.yaml changed since the training.
    _reseal(project, lambda d: d["code"].update(command=f"touch {planted}"))
    config = yaml.safe_load((project.root / "mlver.yaml").read_text())
    config["models"]["churn"]["command"] = f"touch {planted}"
    project.write("mlver.yaml", yaml.safe_dump(config))
    project.commit_all("another command, after the training")
    run = project.mlver("reproduce", "churn@HEAD~1", "--json")
    assert run.exit_code == 0, run.stderr
    result = run.json()
    assert "reproduce: running `python train.py` in a temporary worktree" in run.stderr
    assert result["command"] == "python train.py" and result["verdict"] == "bit-for-bit"
    assert any(f"the record says `touch {planted}` ran" in n for n in result["notes"])
    assert marker.read_text() == "trained\n" and not planted.exists()


def test_data_is_restored_only_inside_the_worktree(trained: Project, isolate: Path) -> None:
    outside = isolate / "outside"
    outside.mkdir()
    # A commit where data/ is a symlink out of the repository, named as the code commit.
    trained.git("checkout", "-q", "-b", "evil")
    trained.git("rm", "-q", "-r", "--cached", "data")
    (trained.root / "data/train.csv").unlink()
    for p in (trained.root / "data").iterdir():
        p.unlink()
    (trained.root / "data").rmdir()
    (trained.root / "data").symlink_to(outside)
    trained.git("add", "data")
    trained.git("commit", "-q", "-m", "data elsewhere")
    evil = trained.git("rev-parse", "HEAD").strip()
    trained.git("checkout", "-q", "main")
    trained.git("checkout", "-q", "--", ".")
    trained.ok("pull", "churn", "--with-data")
    _reseal(trained, lambda d: d["code"].update(commit=evil))
    run = trained.fails("reproduce", "churn@HEAD")
    assert "resolves outside" in run.stderr
    assert list(outside.iterdir()) == []
    for path in ("../outside/train.csv", str(outside / "train.csv")):
        _reseal(trained, lambda d, path=path: d["data"][0].update(path=path))
        run = trained.fails("reproduce", "churn@HEAD")
        assert "is refused" in run.stderr and list(outside.iterdir()) == []
