"""Behaviours a one-line bug would silently break, each pinned through the CLI.

Issue 13 planted nine such bugs (better/worse of lower-is-better metrics,
NO_COLOR, package versions in diff, the bug exit code, the wrong-region S3
diagnosis, `verify REF --all`, the profile cache, a metric-only change) and
the suite caught none; every test here fails on one of them, and the ninth
(push and pull reporting what they move) is the last test.
"""
from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.terminal import on_a_terminal

from conftest import Project

# -- better and worse --------------------------------------------------------


def _metrics_diff(p: Project, a: str, b: str) -> dict[str, Any]:
    (churn,) = [d for d in p.ok("diff", a, b, "--json").json() if d["model"] == "churn"]
    return churn


def _record_metrics(p: Project, metrics: dict[str, float]) -> None:
    """Record churn with the same artifact, data, params and code, but these metrics:
    what a re-run evaluation gives."""
    p.write("metrics.json", json.dumps(metrics))
    p.ok("record", "churn")


def test_lower_is_better_metrics_and_a_metric_only_change(trained: Project) -> None:
    _record_metrics(trained, {"accuracy": 0.6, "val_loss": 0.40, "p95_latency_ms": 10.0, "rows": 200})
    trained.ok("release", "churn")
    _record_metrics(trained, {"accuracy": 0.7, "val_loss": 0.45, "p95_latency_ms": 12.5, "rows": 200})
    trained.ok("release", "churn")
    d = _metrics_diff(trained, "churn@v0.2.0", "churn@v0.3.0")
    # Only the metrics changed: that is a change, not "unchanged".
    assert d["status"] == "changed"
    assert not d["params"] and not d["artifact"]["changed"]
    rows = {m["key"]: m for m in d["metrics"]}
    assert (rows["accuracy"]["direction"], rows["accuracy"]["better"]) == ("up", True)
    assert (rows["val_loss"]["direction"], rows["val_loss"]["better"]) == ("up", False)
    assert (rows["p95_latency_ms"]["direction"], rows["p95_latency_ms"]["better"]) == ("up", False)
    assert rows["rows"]["better"] is None  # a count is neither better nor worse
    text = trained.ok("diff", "churn@v0.2.0", "churn@v0.3.0").stdout
    assert "no changes" not in text
    loss_line = next(line for line in text.splitlines() if "val_loss" in line)
    assert "worse" in loss_line and "better" not in loss_line
    md = trained.ok("diff", "churn@v0.2.0", "churn@v0.3.0", "--md").stdout
    assert "no changes" not in md.lower()
    md_loss = next(line for line in md.splitlines() if "val_loss" in line)
    assert "worse" in md_loss and "better" not in md_loss


def test_package_versions_show_in_diff(trained: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # numpy upgraded between two trainings of otherwise the same model: a
    # distribution's metadata earlier on sys.path is what an upgrade looks like.
    site = tmp_path / "upgraded-site"
    dist = site / "numpy-99.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy\nVersion: 99.1.0\n")
    monkeypatch.syspath_prepend(str(site))
    _record_metrics(trained, json.loads((trained.root / "metrics.json").read_text()))
    d = _metrics_diff(trained, "churn@v0.1.0", "HEAD")
    env = {e["key"]: e for e in d["env"]}
    assert env["numpy"]["new"] == "99.1.0" and env["numpy"]["old"] not in (None, "99.1.0")
    # A different library can change the model: the diff says so.
    assert d["status"] == "changed"
    text = trained.ok("diff", "churn@v0.1.0", "HEAD").stdout
    assert f"numpy {env['numpy']['old']} -> 99.1.0" in text


# -- the error boundary ------------------------------------------------------

_BOOM = """
import sys
import click
from mlver.cli import cli, main
from mlver.errors import MlverError

@cli.command("boom")
@click.argument("kind")
def boom(kind):
    if kind == "bug":
        {}["missing"]
    raise MlverError("the user's mistake", hint="do it right")

sys.argv = ["mlver", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize(("argv", "code", "last"), [
    (["boom", "bug"], 4, "bug"),
    (["--traceback", "boom", "bug"], 4, "bug"),
    (["boom", "user"], 2, "hint: do it right"),
])
def test_a_bug_exits_4_and_only_a_bug(argv: list[str], code: int, last: str) -> None:
    run = subprocess.run([sys.executable, "-c", _BOOM, *argv], capture_output=True, text=True)
    assert run.returncode == code, run.stderr
    assert last in run.stderr.splitlines()[-1] or last in run.stderr
    assert ("Traceback (most recent call last)" in run.stderr) == ("--traceback" in argv)


def test_verify_ref_with_all_is_a_usage_error(trained: Project) -> None:
    run = trained.mlver("verify", "churn@v0.1.0", "--all")
    assert run.exit_code == 2 and "Traceback" not in run.stderr
    assert "--all" in run.stderr


# -- colour ------------------------------------------------------------------


def _on_a_terminal(p: Project, env: dict[str, str], *args: str) -> bytes:
    """stdout on a pseudo-terminal, as a user at a shell would see it."""
    return on_a_terminal(p.root, args, "stdout", env, timeout=60)


def test_colour_on_a_terminal_unless_no_color(trained: Project) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert b"\x1b[" in _on_a_terminal(trained, env, "ls")
    assert b"\x1b[" not in _on_a_terminal(trained, {**env, "NO_COLOR": "1"}, "ls")
    # no-color.org: set to any value but the empty string, it switches colour off.
    assert b"\x1b[" not in _on_a_terminal(trained, {**env, "NO_COLOR": "0"}, "ls")
    assert b"\x1b[1m" in _on_a_terminal(trained, {**env, "NO_COLOR": ""}, "ls")
    # mlver's own style, never the data's: a tagger's escape sequence is shown, not obeyed.
    trained.git("-c", "user.name=Eve\x1b[2J", "tag", "-a", "churn@v9.0.0", "-m", "Registering artifact churn version v9.0.0")
    shown = _on_a_terminal(trained, env, "log", "churn")
    assert b"Eve\x1b[2J" not in shown and b"Eve\\x1b[2J" in shown and b"\x1b[1m" in shown
    # And a pipe never gets escapes.
    piped = subprocess.run([sys.executable, "-m", "mlver", "ls"], cwd=trained.root, env=env, capture_output=True)
    assert piped.returncode == 0 and b"\x1b[" not in piped.stdout


# -- the S3 region diagnosis -------------------------------------------------


class _OtherRegion(http.server.BaseHTTPRequestHandler):
    """What S3 answers a client that signs for the wrong region."""

    def _answer(self) -> None:
        body = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code>'
                b"<Message>The bucket you are attempting to access must be addressed using the specified "
                b"endpoint.</Message><Bucket>team-bucket</Bucket><Endpoint>team-bucket.s3.eu-west-1.amazonaws.com"
                b"</Endpoint></Error>")
        self.send_response(301)
        self.send_header("Content-Type", "application/xml")
        self.send_header("x-amz-bucket-region", "eu-west-1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_PUT = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def other_region_endpoint() -> Iterator[str]:
    from fixtures.servers import serving_http

    with serving_http(_OtherRegion) as url:
        yield url


def test_wrong_region_is_diagnosed(trained: Project, other_region_endpoint: str) -> None:
    trained.ok("remote", "add", "eu", "s3://team-bucket/x", "--endpoint-url", other_region_endpoint)
    run = trained.mlver("remote", "check", "eu")
    assert run.exit_code != 0 and "Traceback" not in run.stderr
    assert "the bucket is in another region" in run.stderr
    assert "region" in run.stderr.splitlines()[-1]  # the hint says what to set


# -- the profile cache -------------------------------------------------------


def test_profiles_are_cached_by_content_hash(trained: Project) -> None:
    record = trained.ok("show", "churn@v0.1.0", "--json").json()["record"]["doc"]
    (data,) = record["data"]
    # In the git directory: a commit cannot carry a file there, as it could into .dvc/tmp (git add -f).
    cache = trained.root / ".git" / "mlver" / "cache" / "profiles"
    cached = [p for p in cache.rglob("*") if p.is_file() and data["md5"] in p.name]
    assert not [p for p in (trained.root / ".dvc" / "tmp").rglob("*") if data["md5"] in p.name]
    assert cached, f"no cached profile for {data['md5']} under {cache}"
    profile = json.loads(cached[0].read_text())
    assert profile["rows"] == data["profile"]["rows"] == 200
    # The cache is what a second read uses: a changed cache entry is what drift reports.
    assert trained.ok("drift", "churn@v0.1.0", "data/train.csv", "--json").exit_code == 0


# -- push and pull say what they move ----------------------------------------


def test_push_and_pull_report_progress_and_a_summary(trained: Project) -> None:
    pushed = trained.ok("push")
    # The result on stdout, what moved on stderr: counted by the progress hooks the transfer calls,
    # so a transfer that stops reporting shows 0 B here while the result still counts its bytes.
    sent = re.fullmatch(r"pushed (\d+) objects \(([^)]+)\) to mlver-local; 0 already there, \d+ referenced\n", pushed.stdout)
    assert sent and int(sent.group(1)) > 0, pushed.stdout
    assert re.search(rf"^push: {re.escape(sent.group(2))} in {sent.group(1)} objects, ", pushed.stderr, re.M), pushed.stderr
    again = trained.ok("push")
    assert again.stdout.startswith("pushed 0 objects") and "push:" not in again.stderr  # nothing moved, nothing claimed

    shutil.rmtree(trained.root / ".dvc" / "cache")
    (trained.root / "models" / "churn.pkl").unlink()
    md5 = trained.ok("show", "churn@v0.1.0", "--json").json()["record"]["doc"]["artifact"]["md5"]
    pulled = trained.ok("pull", "churn@v0.1.0", "-v")
    summary, *files = pulled.stdout.splitlines()
    placed = re.fullmatch(r"pulled churn@v0\.1\.0 \(record at [0-9a-f]{12}\): 1 fetched; 1 file, ([^:]+): 1 written, "
                          r"0 already in place; md5 verified", summary)
    assert placed, summary
    assert files == [f"  {trained.root / 'models/churn.pkl'}  md5 {md5}"]  # -v lists every file
    assert re.search(rf"^pull: {re.escape(placed.group(1))} in 1 object, ", pulled.stderr, re.M), pulled.stderr
    quiet = trained.ok("pull", "churn@v0.1.0")
    assert len(quiet.stdout.splitlines()) == 1 and "0 fetched" in quiet.stdout and "pull:" not in quiet.stderr
    assert trained.ok("pull", "churn@v0.1.0", "--json").json()["kept"] == 1  # stdout stays one document
