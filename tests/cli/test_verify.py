"""verify: each tamper case detected, named, and exit 1; signing with SSH keys."""
from __future__ import annotations

import json
import os

import pytest

from conftest import Project


@pytest.fixture
def pushed(released_twice: Project) -> Project:
    released_twice.ok("push")
    return released_twice


def _verify(p: Project, *args: str, code: int) -> dict:
    run = p.mlver("verify", *args, "--json")
    assert run.exit_code == code, run.stdout + run.stderr
    return run.json()


def test_clean_repository_verifies(pushed: Project) -> None:
    result = _verify(pushed, code=0)
    # Two records (HEAD holds the v0.2.0 one); tags: two versions and one stage.
    assert (result["records"], result["tags"], result["objects"]) == (2, 3, 3)
    assert pushed.ok("verify", "churn@v0.1.0", "--deep").stdout.startswith("OK: 1 records")
    assert _verify(pushed, "--offline", code=0)["remote"] is None


def test_verify_says_what_it_cannot_prove_without_signing(pushed: Project) -> None:
    # The digest is unkeyed: an OK without signing must not read as proof of who made a tag.
    for out in (pushed.ok("verify").stderr, " ".join(_verify(pushed, code=0)["notes"])):
        assert "unkeyed checksum" in out and "only signed tags bind registry events to people" in out


def test_notes_go_to_stderr_and_the_result_alone_to_stdout(pushed: Project) -> None:
    """stdout is the result (`mlver verify | grep`, `mlver status --json | jq`); a note is said beside it."""
    for verb in ("verify", "status"):
        run = pushed.ok(verb, "--offline")
        assert "note:" not in run.stdout and "note: " in run.stderr, (verb, run.stdout, run.stderr)
        doc = pushed.ok(verb, "--offline", "--json")
        assert json.loads(doc.stdout)["notes"] and "note:" not in doc.stderr  # one document, the notes in it


def test_record_edited_after_release(pushed: Project) -> None:
    path = pushed.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    doc["metrics"]["accuracy"] = 0.99
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    pushed.commit_all("better numbers")
    findings = _verify(pushed, code=1)["findings"]
    assert [f["ref"] for f in findings] == ["churn (HEAD)"]
    assert "edited after it was written" in findings[0]["problem"]
    text = pushed.mlver("verify").stdout
    assert "FAILED: 1 problems" in text and "fix: see what changed" in text


def test_tag_force_moved(pushed: Project) -> None:
    message = pushed.git("tag", "-l", "--format=%(contents)", "churn@v0.1.0")
    pushed.git("tag", "-f", "-a", "churn@v0.1.0", "-m", message, "churn@v0.2.0^{}")
    findings = _verify(pushed, "--offline", code=1)["findings"]
    # (re-made after v0.2.0 within the same second or not: the release-order check may add a second finding)
    assert {f["ref"] for f in findings} == {"churn@v0.1.0"}
    assert any("it was moved or re-made" in f["problem"] for f in findings)


def test_object_deleted_or_corrupted_in_remote(pushed: Project) -> None:
    doc = pushed.ok("show", "churn@v0.1.0", "--json").json()["record"]["doc"]
    obj = pushed.remote / "files/md5" / doc["artifact"]["md5"][:2] / doc["artifact"]["md5"][2:]
    os.chmod(obj, 0o644)
    obj.write_bytes(obj.read_bytes()[::-1])  # same size, other content
    assert _verify(pushed, code=0)["ok"]  # sizes match: only --deep sees it
    findings = _verify(pushed, "--deep", code=1)["findings"]
    assert findings[0]["ref"] == "churn@v0.1.0 models/churn.pkl" and "does not hash" in findings[0]["problem"]
    obj.unlink()
    findings = _verify(pushed, code=1)["findings"]
    assert "missing from remote mlver-local" in findings[0]["problem"] and "mlver push" in findings[0]["fix"]


def test_broken_parent_chain(pushed: Project) -> None:
    path = pushed.root / ".mlver/records/churn.json"
    from mlver.domain import record as rec

    doc = json.loads(path.read_text())
    doc["parent"]["digest"] = "sha256:" + "0" * 64
    path.write_text(rec.dumps(rec.seal(doc)))  # re-sealed: the digest alone cannot see this
    pushed.commit_all("rewrite history")
    findings = _verify(pushed, "--offline", code=1)["findings"]
    assert any("parent record is missing or differs" in f["problem"] for f in findings)
