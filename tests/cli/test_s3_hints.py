"""What push, pull and gc say when an S3 remote fails them (moto's real
servers): one error line, a hint that names the fix, exit 2, no traceback."""
from __future__ import annotations

import shutil
import uuid

import pytest

from conftest import S3, Project, free_port

MISSING = "no-such-bucket-here"


def _said(p: Project, *args: str) -> list[str]:
    """The error and hint lines of a command that must fail cleanly (Project.fails checks the shape)."""
    return p.fails(*args).stderr.splitlines()[-2:]


def _without_local_copies(p: Project) -> None:
    shutil.rmtree(p.root / ".dvc" / "cache")
    (p.root / "models/churn.pkl").unlink()


def test_each_s3_failure_of_push_pull_and_gc_names_its_fix(trained: Project, s3: S3, moto_auth,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    p = trained
    down = f"http://127.0.0.1:{free_port()}"
    p.ok("remote", "add", "nobucket", f"s3://{MISSING}/x", "--endpoint-url", s3.endpoint)
    p.ok("remote", "add", "down", s3.url(), "--endpoint-url", down)
    p.ok("remote", "add", "denied", f"s3://{moto_auth.bucket}/x", "--endpoint-url", moto_auth.endpoint)
    p.ok("remote", "add", "ok", s3.url(), "--endpoint-url", s3.endpoint)
    _without_local_copies(p)
    commands = [("push", "-r"), ("pull", "churn@v0.1.0", "-r"), ("gc", "-r")]
    fixes = {
        "nobucket": ("the bucket does not exist", f"hint: create it (`aws s3 mb s3://{MISSING} --endpoint-url "
                     f"{s3.endpoint}`) or fix the URL with `mlver remote add -f nobucket s3://... --endpoint-url "
                     f"{s3.endpoint}`"),
        "down": ("the endpoint cannot be reached",
                 f"hint: check the network and the endpoint URL ({down}); then run `mlver remote check down`"),
    }
    for remote, (what, hint) in fixes.items():
        for command in commands:
            error, said = _said(p, *command, remote)
            assert what in error and said == hint, (command, error)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_auth.key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_auth.secret)
    for command in commands:
        error, said = _said(p, *command, "denied")
        assert "access denied" in error and said.startswith("hint: ask for s3:ListBucket, s3:GetObject"), command
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    for command in commands:
        error, said = _said(p, *command, "ok")
        assert "no AWS credentials were found" in error and "AWS_ACCESS_KEY_ID" in said, command


def test_a_pull_from_a_bucket_that_does_not_exist_says_so_not_push_it(trained: Project, s3: S3) -> None:
    p = trained
    p.ok("remote", "add", "nobucket", f"s3://{MISSING}/x", "--endpoint-url", s3.endpoint)
    p.ok("remote", "add", "empty", s3.url("empty"), "--endpoint-url", s3.endpoint)
    _without_local_copies(p)
    # (A HEAD's 404 has no body: the object and the whole bucket are missing alike.)
    error, hint = _said(p, "pull", "churn@v0.1.0", "-r", "nobucket")
    assert error.startswith(f"error: remote nobucket (s3://{MISSING}/x): could not reach the bucket: the bucket "
                            "does not exist"), error
    assert hint.startswith(f"hint: create it (`aws s3 mb s3://{MISSING} --endpoint-url {s3.endpoint}`)"), hint
    # A bucket that exists and lacks the object: that object is what is missing.
    error, hint = _said(p, "pull", "churn@v0.1.0", "-r", "empty")
    assert "is neither in the local cache nor in remote empty" in error
    assert hint == "hint: push it from a machine that has it with `mlver push`"


def test_gc_denied_the_right_to_delete_says_which_right(trained: Project, moto_auth,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    p = trained
    prefix = f"gc-{uuid.uuid4().hex[:8]}"
    key_id, secret = moto_auth.keeper  # may read, list and write; not delete
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    p.ok("remote", "add", "team", f"s3://{moto_auth.bucket}/{prefix}", "--endpoint-url", moto_auth.endpoint)
    p.ok("push", "-r", "team")
    trained_as = []
    for lr in (0.2, 0.25):  # two more trainings, each pushed: the first one's model is nobody's to keep
        p.set_params(lr=lr)
        p.commit_all(f"lr {lr}")
        p.ok("run", "churn")
        trained_as.append(p.ok("show", "churn@HEAD", "--json").json()["record"]["doc"]["artifact"]["md5"])
        p.ok("push", "-r", "team")
    garbage = trained_as[0]
    dry = p.ok("gc", "-r", "team", "--min-age", "0", "--json").json()  # listing is allowed: the dry run works
    assert next(s for s in dry["stores"] if s["name"] == "team")["freed_objects"] == 1
    error, hint = _said(p, "gc", "-r", "team", "--min-age", "0", "--force")
    assert f"could not delete {garbage}: access denied" in error, error
    assert hint == (f"hint: ask for s3:DeleteObject on {moto_auth.bucket} (what `mlver gc --cloud --force` needs), "
                    "or use other credentials")
