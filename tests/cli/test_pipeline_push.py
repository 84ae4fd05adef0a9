"""`mlver push` on a DVC pipeline (DVC's tutorial layout, tests/fixtures/pipeline.py):
a teammate who clones and runs `dvc pull` gets every stage's outputs, not only
the model and its data, though nobody ran `dvc push`; `mlver gc` keeps them."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import yaml
from fixtures.pipeline import PIPELINE_MODEL, declare, dvc, new_version

from conftest import S3, Project


def _stored(remote: Path) -> set[str]:
    return {f.parent.name + f.name for f in (remote / "files" / "md5").glob("*/*")}


def _team_project(p: Project, isolate: Path) -> Path:
    """The model declared with its raw data, the team's remote shared through .dvc/config, run and released."""
    team = isolate / "team-storage"
    p.ok("remote", "add", "team", str(team), "--shared", "--default")
    declare(p, "--data", "data/questions.csv")
    p.ok("run", PIPELINE_MODEL)
    p.ok("release", PIPELINE_MODEL)
    return team


def _clone(p: Project, isolate: Path, name: str, rev: str | None = None) -> Path:
    clone = isolate / name
    p.git("clone", "-q", str(p.root), str(clone))
    if rev:
        subprocess.run(["git", "checkout", "-q", rev], cwd=clone, check=True)
    return clone


def _dvc_pushed(p: Project, isolate: Path) -> set[str]:
    """What the real `dvc push` sends from this project's workspace, to a remote of its own."""
    mine = isolate / "dvc-pushed"
    dvc(p.root, "remote", "add", "--local", "-f", "dvc-pushed", str(mine))
    dvc(p.root, "push", "-r", "dvc-pushed")
    dvc(p.root, "remote", "remove", "--local", "dvc-pushed")
    return _stored(mine)


def test_a_clone_dvc_pulls_every_stage_after_only_mlver_push(pipeline: Project, isolate: Path) -> None:
    p = pipeline
    team = _team_project(p, isolate)
    pushed = p.ok("push", "--json")
    result = pushed.json()
    # The model and the raw data from the record; prepare's, featurize's and evaluate's
    # outputs (directories: their manifests and files) from the commit's dvc.lock.
    assert result["pipeline"] > 0 and result["unsent"] == [] and result["transferred"] == result["objects"]
    assert f"push: {result['pipeline']} of the {result['objects']} objects referenced are other outputs" in pushed.stderr
    # Exactly what `dvc push` at that commit sends: nothing missing, nothing extra.
    assert _stored(team) == _dvc_pushed(p, isolate)

    clone = _clone(p, isolate, "clone")
    pulled = dvc(clone, "pull")
    assert "data/prepared" in pulled and "data/features" in pulled and "eval" in pulled
    assert "up to date" in dvc(clone, "status")
    assert "in sync" in dvc(clone, "status", "-c")
    for path in ("model.pkl", "data/prepared/train.csv", "data/features/test.csv", "eval/metrics.json"):
        assert (clone / path).read_bytes() == (p.root / path).read_bytes()
    dvc(clone, "repro")  # nothing to run: every stage's outputs match dvc.lock
    assert subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True).stdout == ""
    again = p.ok("push", "--json").json()
    assert (again["transferred"], again["present"]) == (0, result["objects"])


def test_push_leaves_out_what_dvc_push_leaves_out(pipeline: Project, isolate: Path) -> None:
    """`push: false` and `cache: false` outputs (flags dvc.yaml holds, not dvc.lock),
    and an output bound to another remote, are not sent; the rest is."""
    p = pipeline
    stages = yaml.safe_load((p.root / "dvc.yaml").read_text())
    stages["stages"]["featurize"]["outs"] = [{"data/features": {"push": False}}]
    stages["stages"]["evaluate"]["outs"] = [{"eval": {"cache": False}}]
    stages["stages"]["prepare"]["outs"] = [{"data/prepared": {"remote": "elsewhere"}}]
    p.write("dvc.yaml", yaml.safe_dump(stages, sort_keys=False))
    p.ok("remote", "add", "elsewhere", str(isolate / "elsewhere"))
    dvc(p.root, "repro", "-q")
    p.commit_all("features are not pushed, eval is not cached, prepared lives elsewhere")
    team = _team_project(p, isolate)
    result = p.ok("push", "--json").json()
    assert result["unsent"] == []
    lock = yaml.safe_load((p.root / "dvc.lock").read_text())["stages"]
    left_out = {lock[s]["outs"][0]["md5"] for s in ("featurize", "evaluate", "prepare")}
    assert not left_out & _stored(team)
    assert _stored(team) == _dvc_pushed(p, isolate) - _stored(isolate / "elsewhere")


def test_push_names_the_stage_outputs_it_could_not_send(pipeline: Project, isolate: Path) -> None:
    p = pipeline
    team = _team_project(p, isolate)
    lock = yaml.safe_load((p.root / "dvc.lock").read_text())["stages"]
    prepared = lock["prepare"]["outs"][0]["md5"]
    cache = p.root / ".dvc/cache/files/md5"
    gone = cache / prepared[:2] / prepared[2:]
    gone.unlink()  # the manifest of data/prepared: its files cannot be told either
    pushed = p.ok("push")  # the record's own objects are there: not a failure
    # (HEAD is the released commit: named once, as HEAD's record)
    assert f"warning: not sent, in neither the local cache nor remote team: {PIPELINE_MODEL} (HEAD) data/prepared;" \
        in pushed.stderr and "dvc repro" in pushed.stderr and "Traceback" not in pushed.stderr
    assert prepared not in _stored(team)
    assert lock["featurize"]["outs"][0]["md5"] in _stored(team)  # the rest went
    # One file of a directory gone: its files that are here go, its manifest (a promise of all) does not.
    shutil.rmtree(team)
    features = lock["featurize"]["outs"][0]["md5"]
    listed = json.loads((cache / features[:2] / features[2:]).read_bytes())
    (cache / listed[0]["md5"][:2] / listed[0]["md5"][2:]).unlink()
    pushed = p.ok("push")
    assert f"{PIPELINE_MODEL} (HEAD) data/features/{listed[0]['relpath']}" in pushed.stderr
    assert features not in _stored(team) and listed[1]["md5"] in _stored(team)
    # The model's own object missing fails the push, as before (exit 2, one error line).
    model = lock["train"]["outs"][0]["md5"]
    shutil.rmtree(team)
    (cache / model[:2] / model[2:]).unlink()
    failed = p.fails("push")
    assert "model.pkl" in failed.stderr and "Traceback" not in failed.stderr


def test_gc_keeps_what_push_sent_for_an_older_version(pipeline: Project, isolate: Path) -> None:
    """A new version changes every stage's outputs; `mlver gc --cloud --force` keeps the
    old version's intermediate outputs, so `dvc pull` at its tag still works."""
    p = pipeline
    team = _team_project(p, isolate)
    new_version(p, 0.5, "bigger test split")
    p.ok("push")
    old_prepared = yaml.safe_load(p.git("show", f"{PIPELINE_MODEL}@v0.1.0:dvc.lock"))["stages"]["prepare"]["outs"][0]["md5"]
    assert old_prepared in _stored(team)
    p.ok("gc", "--cloud", "--force", "--min-age", "0")
    assert old_prepared in _stored(team)
    shutil.rmtree(p.root / ".dvc/cache")  # only the remote has them now
    clone = _clone(p, isolate, "old", f"{PIPELINE_MODEL}@v0.1.0")
    dvc(clone, "pull")
    assert "up to date" in dvc(clone, "status")


def test_a_crafted_dvc_file_is_named_and_not_followed(pipeline: Project, isolate: Path) -> None:
    p = pipeline
    team = _team_project(p, isolate)
    p.write("evil/dvc.lock", "schema: '2.0'\nstages:\n  s:\n    outs:\n    - path: ../../../etc/passwd\n"
                             f"      hash: md5\n      md5: {'a' * 32}\n")
    p.write("bad.dvc", "outs:\n- path: bad\n  hash: md5\n  md5: ../../../../tmp/x\n")
    p.commit_all("crafted DVC files")
    pushed = p.ok("push")
    assert "note: evil/dvc.lock at" in pushed.stdout and "note: bad.dvc at" in pushed.stdout
    assert "its outputs are not sent" in pushed.stdout and "Traceback" not in pushed.stderr
    assert "a" * 32 not in _stored(team)
    lock = yaml.safe_load((p.root / "dvc.lock").read_text())["stages"]
    assert lock["prepare"]["outs"][0]["md5"] in _stored(team)  # the project's own files are still read


def test_push_of_one_version_sends_its_pipeline_not_the_whole_commit(pipeline: Project, isolate: Path) -> None:
    """`mlver push MODEL@vX`: its record's objects and its pipeline (the stages of the
    dvc.lock that outputs its artifact, and the .dvc files that feed it); data the
    pipeline does not read stays for `mlver push` (or `dvc push`) of the whole project."""
    p = pipeline
    p.write("other/notes.csv", "a,b\n1,2\n")
    dvc(p.root, "add", "-q", "other/notes.csv")
    p.commit_all("data no stage reads")
    team = _team_project(p, isolate)
    unrelated = yaml.safe_load((p.root / "other/notes.csv.dvc").read_text())["outs"][0]["md5"]
    one = p.ok("push", f"{PIPELINE_MODEL}@v0.1.0", "--json").json()
    assert one["pipeline"] > 0 and unrelated not in _stored(team)
    assert _stored(team) == _dvc_pushed(p, isolate) - {unrelated}
    clone = _clone(p, isolate, "clone")
    dvc(clone, "pull", "train", "evaluate", "--with-deps")  # the model's pipeline, upstream and down
    p.ok("push")
    assert unrelated in _stored(team)
    dvc(_clone(p, isolate, "whole"), "pull")


def test_push_help_says_what_is_sent(pipeline: Project) -> None:
    shown = " ".join(pipeline.ok("push", "--help").stdout.split())
    assert "what `dvc push` at the version's commit would send" in shown
    assert "cache: false, push: false" in shown and "fails the push (exit 2)" in shown


def test_a_clone_dvc_pulls_every_stage_from_s3_after_only_mlver_push(pipeline: Project, isolate: Path, s3: S3) -> None:
    """The same with the team's S3 remote (moto on loopback), which mlver writes with boto3, not DVC."""
    p = pipeline
    p.ok("remote", "add", "team", s3.url(), "--endpoint-url", s3.endpoint, "--default")
    declare(p, "--data", "data/questions.csv")
    p.ok("run", PIPELINE_MODEL)
    p.ok("release", PIPELINE_MODEL)
    result = p.ok("push", "--json").json()
    assert result["pipeline"] > 0 and result["unsent"] == []
    stored = {k.split("/files/md5/", 1)[1].replace("/", "") for k in s3.keys("team/files/md5/")}
    assert stored == _dvc_pushed(p, isolate)
    clone = _clone(p, isolate, "clone")
    dvc(clone, "pull")
    assert "up to date" in dvc(clone, "status") and "in sync" in dvc(clone, "status", "-c")
    assert (clone / "data/features/train.csv").read_bytes() == (p.root / "data/features/train.csv").read_bytes()
