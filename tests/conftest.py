"""Fixtures: an isolated HOME, a real git+DVC project per test, the CLI runner.

The template project (git, DVC, mlver, data, a tiny training script) is
built once per session and copied for each test, so a test starts from a
committed, declared model in milliseconds.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

from mlver.cli import cli

# Training that needs no scikit-learn import, so `mlver run` in tests is fast;
# it is deterministic in its data and params, like a seeded real training.
TRAIN_PY = '''\
import hashlib, json, os, sys
import yaml
params = yaml.safe_load(open("params.yaml"))["train"]
if params.get("fail"):
    sys.exit(3)
data = open("data/train.csv", "rb").read()
rows = data.count(b"\\n") - 1
os.makedirs("models", exist_ok=True)
if not params.get("skip_model"):
    with open("models/churn.pkl", "wb") as fh:
        fh.write(hashlib.sha256(data + repr(sorted(params.items())).encode()).digest() * 64)
with open("metrics.json", "w") as fh:
    json.dump({"accuracy": round(0.5 + params["lr"] / 10 + rows / 1e6, 6), "rows": rows}, fh)
'''


def make_csv(rows: int, shift: float = 0.0, extra_column: bool = False) -> str:
    lines = ["age,income,plan,churned" + (",tenure" if extra_column else "")]
    for i in range(rows):
        age = 20 + (i * 7) % 50 + shift
        line = f"{age},{1000 + (i * 37) % 900},{'abc'[i % 3]},{i % 2}"
        if extra_column:
            line += f",{i % 12}"
        lines.append(line)
    return "\n".join(lines) + "\n"


# The suite (and scripts/mutate, so a kill does not depend on luck) meets the same
# examples every run: a red CI is a change's doing, never a draw's; slowness on two
# shared cores is never a failure. MLVER_HYPOTHESIS=explore searches anew each run.
settings.register_profile("fixed", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("explore" if os.environ.get("MLVER_HYPOTHESIS") == "explore" else "fixed")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("MLVER_MUTATION"):
        # A mutant is mostly killed by a quick example; the property tests, run last, then rarely run at all.
        items.sort(key=lambda item: bool(getattr(getattr(item, "obj", None), "is_hypothesis_test", False)))


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _isolated_env(base: Path) -> dict[str, str]:
    home = base / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    bindir = str(Path(sys.executable).parent)
    return {
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "XDG_DATA_HOME": str(base / "xdg-data"),
        "XDG_CONFIG_HOME": str(base / "xdg-config"),
        "XDG_CACHE_HOME": str(base / "xdg-cache"),
        "DVC_NO_ANALYTICS": "1",
        "DVC_GLOBAL_CONFIG_DIR": str(base / "dvc-global"),
        "DVC_SYSTEM_CONFIG_DIR": str(base / "dvc-system"),
        "DVC_SITE_CACHE_DIR": str(base / "dvc-site"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "NO_COLOR": "1",
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
    }


@pytest.fixture(autouse=True)
def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    for key, value in _isolated_env(tmp_path / "env").items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    result: Result

    def json(self) -> Any:
        return json.loads(self.stdout)


class Project:
    """A real git+DVC+mlver project on disk, driven through the CLI."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def mlver(self, *args: str, input: str | None = None) -> Run:
        runner = CliRunner()
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            result = runner.invoke(cli, list(args), input=input, catch_exceptions=False)
        finally:
            os.chdir(cwd)
        return Run(result.exit_code, result.stdout, result.stderr, result)

    def ok(self, *args: str) -> Run:
        run = self.mlver(*args)
        assert run.exit_code == 0, f"mlver {' '.join(args)} exited {run.exit_code}:\n{run.stderr}"
        return run

    def fails(self, *args: str, code: int = 2, outputs: tuple[str, ...] = ()) -> Run:
        """Run a command that must fail cleanly: exit code, one error line, a hint, no
        traceback, and the repository as it was (but for ``outputs`` the training wrote)."""
        before = self.state(ignore=outputs)
        run = self.mlver(*args)
        assert run.exit_code == code, f"expected exit {code}, got {run.exit_code}:\n{run.stdout}\n{run.stderr}"
        assert "Traceback" not in run.stderr
        if code == 2 and not run.stderr.startswith("Usage:"):
            # mlver's own words close stderr (a training's output may come before).
            tail = run.stderr.rstrip("\n").splitlines()[-2:]
            assert len(tail) == 2 and tail[0].startswith("error: ") and tail[1].startswith("hint: "), run.stderr
        assert self.state(ignore=outputs) == before, "a failed command changed the repository"
        return run

    def git(self, *args: str) -> str:
        return _git(self.root, *args)

    def write(self, path: str, content: str | bytes) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
        return target

    def commit_all(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def set_params(self, **train: Any) -> None:
        import yaml

        params = {"train": {"lr": 0.1, "epochs": 3, **train}}
        self.write("params.yaml", yaml.safe_dump(params))

    def new_data(self, content: str, message: str = "new data") -> None:
        self.write("data/train.csv", content)
        self.ok("data", "add", "data/train.csv")
        self.commit_all(message)

    def state(self, ignore: tuple[str, ...] = ()) -> dict[str, Any]:
        """What a failed command must leave untouched."""
        records = self.root / ".mlver" / "records"
        leftovers = [
            str(p.relative_to(self.root)) for p in self.root.rglob("*")
            if ".mlver-tmp" in p.name or p.name.startswith(".mlver-")
        ]
        return {
            "head": self.git("rev-parse", "-q", "--verify", "HEAD").strip() if (self.root / ".git").exists() else None,
            "tags": self.git("tag", "-l") if (self.root / ".git").exists() else None,
            "status": [
                line for line in self.git("status", "--porcelain", "--untracked-files=all").splitlines()
                if not any(line[3:].startswith(i) for i in ignore)
            ] if (self.root / ".git").exists() else None,
            "records": {p.name: p.read_text() for p in records.glob("*.json")} if records.exists() else {},
            "leftovers": leftovers,
        }

    @property
    def remote(self) -> Path:
        config = (self.root / ".dvc" / "config.local").read_text()
        for line in config.splitlines():
            if line.strip().startswith("url ="):
                return Path(line.split("=", 1)[1].strip())
        raise AssertionError("no local remote")


def ssh_key(dir_: Path, name: str) -> tuple[str, str]:
    """A new ed25519 key pair for signing tags: (private key path, public key line)."""
    key = dir_ / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return str(key), (dir_ / f"{name}.pub").read_text().strip()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("template")
    env = _isolated_env(base / "env")
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        root = base / "project"
        root.mkdir()
        project = Project(root)
        project.ok("init")
        project.write("train.py", TRAIN_PY)
        project.set_params()
        project.write("data/train.csv", make_csv(200))
        project.ok("data", "add", "data/train.csv")
        project.ok("model", "add", "churn", "--path", "models/churn.pkl", "--data", "data/train.csv",
                   "--params", "params.yaml", "--metrics", "metrics.json", "--command", "python train.py",
                   "--desc", "Churn classifier")
        project.commit_all("declare churn")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return root


@pytest.fixture
def project(template: Path, isolate: Path) -> Project:
    root = isolate / "project"
    shutil.copytree(template, root, symlinks=True)
    # Each test gets its own storage: the remote lives in this test's XDG dir.
    storage = Path(os.environ["XDG_DATA_HOME"]) / "mlver" / "projects" / "project"
    storage.mkdir(parents=True)
    (root / ".dvc" / "config.local").write_text(
        f"[core]\n    remote = mlver-local\n['remote \"mlver-local\"']\n    url = {storage}\n"
    )
    return Project(root)


@pytest.fixture
def trained(project: Project) -> Project:
    """The project with churn recorded once and released as v0.1.0."""
    project.ok("run", "churn")
    project.ok("release", "churn")
    return project


@pytest.fixture
def released_twice(trained: Project) -> Project:
    """churn v0.1.0 and v0.2.0 (lr 0.2, its record's parent is v0.1.0's), prod on v0.2.0."""
    trained.set_params(lr=0.2)
    trained.commit_all("lr 0.2")
    trained.ok("run", "churn")
    trained.ok("release", "churn")
    trained.ok("promote", "churn@v0.2.0", "prod")
    return trained


# -- a real S3-compatible endpoint: moto's server on loopback ----------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def moto_server(logdir: Path, extra_env: dict[str, str] | None = None, port: int | None = None) -> Any:
    """Start ``python -m moto.server`` on a (free) loopback port; yields its URL, stops it after."""
    import time
    import urllib.request

    port = port or free_port()
    log = open(logdir / f"moto-{port}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(extra_env or {})})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError(f"moto server did not start on port {port}") from None
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """moto's S3 on loopback for the whole session (one per xdist worker); no auth checks."""
    yield from moto_server(tmp_path_factory.mktemp("moto"))


@dataclass
class AuthS3:
    endpoint: str
    bucket: str
    key_id: str  # an IAM user with no policy: authenticates, may do nothing
    secret: str
    keeper: tuple[str, str]  # (key id, secret) of an IAM user who may do anything in S3 but delete


@pytest.fixture(scope="session")
def moto_auth(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A second moto server that checks credentials and IAM policies after
    its first six requests (the setup below: two users, their keys and
    policy, a bucket)."""
    import json

    import boto3

    for url in moto_server(tmp_path_factory.mktemp("moto-auth"), {"INITIAL_NO_AUTH_ACTION_COUNT": "6"}):
        kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        iam = boto3.client("iam", **kw)
        keys = {}
        for user in ("nobody", "keeper"):
            iam.create_user(UserName=user)
            keys[user] = iam.create_access_key(UserName=user)["AccessKey"]
        iam.put_user_policy(UserName="keeper", PolicyName="no-delete", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]}))
        boto3.client("s3", **kw).create_bucket(Bucket="locked")
        yield AuthS3(url, "locked", keys["nobody"]["AccessKeyId"], keys["nobody"]["SecretAccessKey"],
                     (keys["keeper"]["AccessKeyId"], keys["keeper"]["SecretAccessKey"]))


@dataclass
class S3:
    endpoint: str
    bucket: str
    client: Any

    def url(self, prefix: str = "team") -> str:
        return f"s3://{self.bucket}/{prefix}"

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [o["Key"] for page in pages for o in page.get("Contents", ())]


@pytest.fixture
def s3(moto_endpoint: str, isolate: Path, monkeypatch: pytest.MonkeyPatch) -> S3:
    """A fresh bucket on the session's moto server (credentials: the isolate fixture's fakes)."""
    import uuid

    import boto3

    # Never wait on an EC2 metadata service that a laptop or CI runner does not have.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    bucket = f"mlver-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=bucket)
    return S3(moto_endpoint, bucket, client)


# The DVC tutorial-style pipeline project (tests/fixtures/pipeline.py).
# A registry written by the real gto CLI (tests/fixtures/gto_registry.py).
# A real headless Chromium and a static file server (tests/fixtures/browser.py).
from fixtures.browser import browser, static_server  # noqa: E402,F401
from fixtures.gto_registry import gto_cli, gto_registry, gto_registry_template  # noqa: E402,F401
from fixtures.pipeline import pipeline, pipeline_template  # noqa: E402,F401

# Real ssh, http, WebDAV, GCS and Azure servers on loopback (tests/fixtures/servers.py).
from fixtures.servers import azurite, gcs, http_server, mute_endpoint, sshd, webdav  # noqa: E402,F401

# A model with three versions and two stages (tests/fixtures/views.py).
from fixtures.views import three_versions  # noqa: E402,F401
