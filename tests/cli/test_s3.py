"""S3 remotes against a real S3-compatible endpoint (moto's server on loopback)."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import S3, Project, free_port, make_csv, moto_server


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _use_s3(p: Project, s3: S3, prefix: str = "team") -> None:
    p.ok("remote", "add", "storage", s3.url(prefix), "--endpoint-url", s3.endpoint, "--default")


def _artifact(p: Project, ref: str = "churn@v0.1.0") -> dict:
    return p.ok("show", ref, "--json").json()["record"]["doc"]["artifact"]


def _drop_local_copies(p: Project) -> None:
    shutil.rmtree(p.root / ".dvc" / "cache")
    (p.root / "models/churn.pkl").unlink()
    (p.root / "data/train.csv").unlink()


def test_remote_add_list_check(project: Project, s3: S3) -> None:
    added = project.ok("remote", "add", "storage", s3.url(), "--endpoint-url", s3.endpoint, "--default", "--json").json()
    assert added == {"name": "storage", "url": s3.url(), "level": "repo", "default": True, "endpoint_url": s3.endpoint}
    config = (project.root / ".dvc/config").read_text()
    assert s3.url() in config and s3.endpoint in config and "testing" not in config  # no secret in git
    rows = project.ok("remote", "list", "--json").json()
    assert [(r["name"], r["default"], r["level"]) for r in rows] == [("storage", True, "repo"), ("mlver-local", False, "local")]
    assert "storage" in project.ok("remote", "list").stdout
    checked = project.ok("remote", "check", "--json").json()
    assert checked["name"] == "storage" and checked["can"] == ["list", "write", "read"]
    assert s3.keys() == []  # the probe object is cleaned up
    assert "can list, write, read" in project.ok("remote", "check", "mlver-local").stdout
    assert "already exists" in project.fails("remote", "add", "storage", s3.url("other")).stderr
    project.ok("remote", "add", "storage", s3.url("other"), "--endpoint-url", s3.endpoint, "--force")


def test_remote_bad_input(project: Project, s3: S3) -> None:
    for url in ("s3://", "s3://Bad_Bucket/x", "s3://a/x"):
        assert "malformed S3 URL" in project.fails("remote", "add", "x", url).stderr
    assert "unsupported remote URL" in project.fails("remote", "add", "x", "ftp://host/x").stderr
    assert "malformed endpoint URL" in project.fails("remote", "add", "x", s3.url(), "--endpoint-url", "nope").stderr
    assert "unknown remote 'nope'" in project.fails("remote", "check", "nope").stderr
    assert "unknown remote 'nope'" in project.fails("push", "-r", "nope").stderr


def _check_fails(p: Project, name: str, url: str, endpoint: str) -> str:
    p.ok("remote", "add", name, url, "--endpoint-url", endpoint)
    run = p.mlver("remote", "check", name)
    assert run.exit_code == 2, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert lines[-2].startswith("error: ") and lines[-1].startswith("hint: ")
    return run.stderr


def test_remote_check_tells_failures_apart(trained: Project, s3: S3, monkeypatch: pytest.MonkeyPatch) -> None:
    project = trained
    err = _check_fails(project, "nobucket", "s3://no-such-bucket-here/x", s3.endpoint)
    assert "the bucket does not exist" in err and "aws s3 mb s3://no-such-bucket-here" in err
    err = _check_fails(project, "down", s3.url(), f"http://127.0.0.1:{free_port()}")
    assert "the endpoint cannot be reached" in err
    assert "the endpoint cannot be reached" in project.fails("push", "-r", "down").stderr
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(project.root.parent / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(project.root.parent / "no-config"))
    err = _check_fails(project, "nocreds", s3.url(), s3.endpoint)
    assert "no AWS credentials were found" in err and "AWS_ACCESS_KEY_ID" in err
    # Push fails the same way, before sending anything.
    _use_s3(project, s3)
    assert "no AWS credentials were found" in project.fails("push").stderr
    assert s3.keys() == []


def test_push_pull_roundtrip_on_s3(trained: Project, s3: S3) -> None:
    _use_s3(trained, s3)
    v1 = trained.ok("show", "churn@v0.1.0", "--json").json()["record"]["doc"]
    pushed = trained.ok("push", "--json").json()
    assert pushed["remote"] == "storage" and pushed["transferred"] == 2 and pushed["present"] == 0
    keys = s3.keys("team/files/md5/")
    md5 = v1["artifact"]["md5"]
    assert f"team/files/md5/{md5[:2]}/{md5[2:]}" in keys and len(keys) == 2
    again = trained.ok("push", "--json").json()
    assert again["transferred"] == 0 and again["present"] == 2

    _drop_local_copies(trained)
    pulled = trained.ok("pull", "churn@v0.1.0", "--with-data", "--json").json()
    assert pulled["fetched"] == 2
    assert _md5(trained.root / "models/churn.pkl") == md5
    assert (trained.root / "data/train.csv").read_text() == make_csv(200)
    verified = trained.ok("verify", "--json").json()
    assert verified["ok"] and verified["remote"] == "storage"


def test_push_asks_the_remote_its_questions_together(trained: Project, s3: S3) -> None:
    # Each request held 0.5 s by a relay in front of moto: asked one after
    # another, the manifest read, the HEAD and the uploads listing would not overlap.
    from fixtures.s3log import s3_relay

    with s3_relay(s3.endpoint, delay=0.5) as relay:
        trained.ok("remote", "add", "slow", s3.url("slow"), "--endpoint-url", relay.endpoint)
        result = trained.ok("push", "-r", "slow", "--json").json()
    assert result["transferred"] == 2 and result["present"] == 0
    (read,) = relay.find("GET", "/slow/mlver/manifests/")
    (write,) = relay.find("PUT", "/slow/mlver/manifests/")
    (listing,) = relay.find("GET", query_part="uploads")
    heads = relay.find("HEAD", "/slow/files/md5/")
    puts = relay.find("PUT", "/slow/files/md5/")
    assert len(heads) == 2 and len(puts) == 2
    asked = [read, listing, *heads]
    assert max(e.start for e in asked) < min(e.end for e in asked), relay.exchanges  # all in flight at once
    assert read.end <= write.start  # the manifest is read before it is written
    # Nothing is sent before it is claimed and the remote's answers are in.
    assert max(e.end for e in [write, *asked]) <= min(e.start for e in puts)


def test_dvc_pull_reads_what_mlver_pushed_to_s3(trained: Project, s3: S3) -> None:
    _use_s3(trained, s3)
    trained.ok("push")
    md5 = _artifact(trained)["md5"]
    _drop_local_copies(trained)
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-m", "dvc", "pull", "-r", "storage", "models/churn.pkl.dvc", "data/train.csv.dvc"],
                          cwd=trained.root, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _md5(trained.root / "models/churn.pkl") == md5
    assert (trained.root / "data/train.csv").read_text() == make_csv(200)


def test_corrupt_or_deleted_object_in_s3(trained: Project, s3: S3) -> None:
    _use_s3(trained, s3)
    trained.ok("push")
    md5 = _artifact(trained)["md5"]
    key = f"team/files/md5/{md5[:2]}/{md5[2:]}"
    good = (trained.root / "models/churn.pkl").read_bytes()
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=b"x" * len(good))  # same size, other bytes
    shutil.rmtree(trained.root / ".dvc" / "cache")
    run = trained.mlver("pull", "churn@v0.1.0")
    assert run.exit_code == 2
    assert "churn@v0.1.0 models/churn.pkl: the object in remote storage is corrupt" in run.stderr
    assert (trained.root / "models/churn.pkl").read_bytes() == good  # never written over
    assert not list((trained.root / ".dvc" / "cache").rglob(md5[2:]))
    assert trained.mlver("verify").exit_code == 0  # same size: only --deep re-hashes
    deep = trained.mlver("verify", "--deep", "--json")
    assert deep.exit_code == 1 and "does not hash to its name" in deep.stdout

    s3.client.delete_object(Bucket=s3.bucket, Key=key)
    run = trained.fails("pull", "churn@v0.1.0")
    assert "neither in the local cache nor in remote storage" in run.stderr
    checked = trained.mlver("verify", "--json")
    assert checked.exit_code == 1 and f"object {md5} is missing from remote storage" in checked.stdout


def test_directory_data_of_many_files(project: Project, s3: S3) -> None:
    _use_s3(project, s3)
    for i in range(300):  # over the threshold where existence is listed, not probed one by one
        project.write(f"images/{i:03d}.txt", f"image {i}\n")
    project.ok("data", "add", "images")
    project.ok("model", "add", "vision", "--path", "models/vision.bin", "--data", "images")
    project.commit_all("declare vision")
    project.write("models/vision.bin", b"\x00weights")
    project.ok("record", "vision")
    first = project.ok("push", "--json").json()
    assert first["transferred"] >= 302  # 300 files + manifest + model
    assert project.ok("push", "--json").json()["transferred"] == 0
    shutil.rmtree(project.root / ".dvc" / "cache")
    shutil.rmtree(project.root / "images")
    pulled = project.ok("pull", "vision@HEAD", "--with-data", "--json").json()
    assert len(pulled["files"]) == 301
    assert (project.root / "images/123.txt").read_text() == "image 123\n"
    # Each small download went straight into the cache: read-only as DVC keeps it, no temporary left.
    cache = project.root / ".dvc" / "cache"
    objects = [p for p in (cache / "files" / "md5").rglob("*") if p.is_file()]
    assert len(objects) == 302 and {p.stat().st_mode & 0o777 for p in objects} == {0o444}
    assert [p for p in cache.rglob("*") if p.is_file() and p not in objects] == []


def test_interrupted_push_resumes_and_sends_only_whats_missing(project: Project, s3: S3) -> None:
    _use_s3(project, s3)
    size = 200 * 1024 * 1024  # multipart: long enough to kill mid-transfer
    project.write("train.py", f"import os\nos.makedirs('models', exist_ok=True)\n"
                  f"open('metrics.json','w').write('{{\"accuracy\": 1}}')\n"
                  f"with open('models/churn.pkl','wb') as f:\n    f.write(os.urandom(1024 * 1024) * {size // (1024 * 1024)})\n")
    project.commit_all("big model")
    project.ok("run", "churn")
    md5 = _artifact(project, "churn@HEAD")["md5"]
    key = f"team/files/md5/{md5[:2]}/{md5[2:]}"
    proc = subprocess.Popen([sys.executable, "-m", "mlver", "push"], cwd=project.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    # Kill it once the small data object is in and the large (multipart) upload has begun.
    uploads = lambda: s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])  # noqa: E731
    deadline = time.time() + 30
    while time.time() < deadline and (len(s3.keys("team/")) < 1 or not uploads()):
        time.sleep(0.02)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    if key in s3.keys("team/"):
        pytest.skip("the push finished before it could be killed")
    assert proc.returncode == -signal.SIGKILL
    assert [u["Key"] for u in uploads()] == [key]  # the killed push's parts, which S3 bills until aborted
    result = project.ok("push", "--json").json()
    assert result["transferred"] == 1 and result["present"] == 1  # only the model was missing
    body = s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read()
    assert hashlib.md5(body).hexdigest() == md5
    assert uploads() == []  # the next push aborted them


def _big_model(p: Project, mib: int) -> str:
    p.write("train.py", f"import os\nos.makedirs('models', exist_ok=True)\n"
            f"open('metrics.json','w').write('{{\"accuracy\": 1}}')\n"
            f"with open('models/churn.pkl','wb') as f:\n    f.write(os.urandom(1024 * 1024) * {mib})\n")
    p.commit_all("big model")
    p.ok("run", "churn")
    return _artifact(p, "churn@HEAD")["md5"]


def test_endpoint_down_mid_push_then_push_completes(project: Project, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    port = free_port()
    server = moto_server(tmp_path, port=port)
    endpoint = next(server)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="flaky")
    project.ok("remote", "add", "storage", "s3://flaky/team", "--endpoint-url", endpoint, "--default")
    project.commit_all("share the remote")
    md5 = _big_model(project, 150)
    proc = subprocess.Popen([sys.executable, "-m", "mlver", "push"], cwd=project.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline and not client.list_multipart_uploads(Bucket="flaky").get("Uploads"):
        time.sleep(0.05)
    server.close()  # the endpoint goes away in the middle of the upload
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the push finished before the endpoint went down")
    assert proc.returncode == 2 and "Traceback" not in err, err
    assert "error: remote storage (s3://flaky/team): could not write" in err and "hint: " in err
    server = moto_server(tmp_path, port=port)  # back up (empty: moto keeps state in memory)
    next(server)
    try:
        client.create_bucket(Bucket="flaky")
        result = project.ok("push", "--json").json()
        assert result["transferred"] == 2 and result["present"] == 0
        body = client.get_object(Bucket="flaky", Key=f"team/files/md5/{md5[:2]}/{md5[2:]}")["Body"].read()
        assert hashlib.md5(body).hexdigest() == md5
    finally:
        server.close()


def test_url_is_a_presigned_link_to_the_artifact(trained: Project, s3: S3) -> None:
    _use_s3(trained, s3)
    assert "is not in remote storage" in trained.fails("url", "churn@v0.1.0").stderr
    trained.ok("push")
    out = trained.ok("url", "churn@v0.1.0", "--expires", "30m", "--json").json()
    assert out["expires_in"] == 1800 and out["remote"] == "storage"
    link = trained.ok("url", "churn").stdout.strip()
    assert link.startswith(s3.endpoint) and "Signature" in link
    body = urllib.request.urlopen(link, timeout=10).read()
    assert hashlib.md5(body).hexdigest() == _artifact(trained)["md5"]
    assert "out of range" in trained.fails("url", "churn", "--expires", "8d").stderr
    assert "cannot read the expiry" in trained.fails("url", "churn", "--expires", "soon").stderr
    assert "is a directory, not S3" in trained.fails("url", "churn", "-r", "mlver-local").stderr


def _released_twice_on_s3(p: Project, s3: S3) -> tuple[str, str]:
    _use_s3(p, s3)
    p.commit_all("share the S3 remote")
    p.ok("run", "churn")
    p.ok("release", "churn")
    v1 = _artifact(p)["md5"]
    p.set_params(lr=0.3)
    p.commit_all("lr")
    p.ok("run", "churn")
    p.ok("release", "churn")
    p.ok("push")
    return v1, _artifact(p, "churn@v0.2.0")["md5"]


def test_pull_repo_by_version_stage_latest(project: Project, s3: S3, tmp_path: Path) -> None:
    v1, v2 = _released_twice_on_s3(project, s3)
    project.ok("promote", "churn@v0.1.0", "prod")
    url = project.root.as_uri()
    elsewhere = tmp_path / "serving"
    elsewhere.mkdir()
    out = elsewhere / "prod.pkl"
    pulled = project.ok("pull", "churn#prod", "--repo", url, "-o", str(out), "--json").json()
    assert pulled["version"] == "v0.1.0" and _md5(out) == v1
    project.ok("pull", "churn", "--repo", str(project.root), "-o", str(out))
    assert _md5(out) == v2
    project.ok("pull", "churn@v0.1.0", "--repo", url, "-o", str(out))
    assert _md5(out) == v1
    project.ok("pull", "churn@v0.1.0", "--repo", url, "-o", str(elsewhere))  # into a folder
    assert _md5(elsewhere / "churn.pkl") == v1
    # Stage moves: the latest active assignment wins; an un-assignment removes it.
    project.ok("promote", "churn@v0.2.0", "prod")
    assert project.ok("pull", "churn#prod", "--repo", url, "-o", str(out), "--json").json()["version"] == "v0.2.0"
    assert _md5(out) == v2
    project.ok("deprecate", "churn#prod")  # un-assigns v0.2.0: prod falls back to v0.1.0's active assignment
    assert project.ok("pull", "churn#prod", "--repo", url, "-o", str(out), "--json").json()["version"] == "v0.1.0"
    assert _md5(out) == v1
    assert project.ok("show", "churn#prod", "--json").json()["record"]["doc"]["artifact"]["md5"] == v1  # same answer locally
    project.ok("deprecate", "churn@v0.2.0")  # deregistered: the latest is v0.1.0 again
    assert project.ok("pull", "churn", "--repo", url, "-o", str(out), "--json").json()["version"] == "v0.1.0"


def test_pull_repo_bad_input(project: Project, s3: S3, tmp_path: Path) -> None:
    _released_twice_on_s3(project, s3)
    out = tmp_path / "model.pkl"
    out.write_bytes(b"keep me")
    url = project.root.as_uri()
    not_git = tmp_path / "plain"
    not_git.mkdir()
    assert "is not a git repository" in project.fails("pull", "churn", "--repo", str(not_git), "-o", str(out)).stderr
    assert "has no released model 'nope'" in project.fails("pull", "nope", "--repo", url, "-o", str(out)).stderr
    assert "churn has no version v9.0.0" in project.fails("pull", "churn@v9.0.0", "--repo", url, "-o", str(out)).stderr
    assert "no version of churn is in stage 'prod'" in project.fails("pull", "churn#prod", "--repo", url, "-o", str(out)).stderr
    md5 = _artifact(project, "churn@v0.2.0")["md5"]
    s3.client.put_object(Bucket=s3.bucket, Key=f"team/files/md5/{md5[:2]}/{md5[2:]}", Body=b"rot")
    err = project.fails("pull", "churn", "--repo", url, "-o", str(out)).stderr
    assert "churn@v0.2.0 models/churn.pkl: the object in the remote is corrupt" in err
    assert out.read_bytes() == b"keep me" and sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["model.pkl"]


def test_remote_check_wrong_credentials_and_access_denied(trained: Project, moto_auth, monkeypatch: pytest.MonkeyPatch) -> None:
    project = trained
    url = f"s3://{moto_auth.bucket}/x"
    # The isolate fixture's fake keys are unknown to this server.
    err = _check_fails(project, "unknown-key", url, moto_auth.endpoint)
    assert "the credentials were rejected" in err and "InvalidAccessKeyId" in err
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_auth.key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
    err = _check_fails(project, "bad-secret", url, moto_auth.endpoint)
    assert "the credentials were rejected" in err and "SignatureDoesNotMatch" in err
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_auth.secret)
    err = _check_fails(project, "denied", url, moto_auth.endpoint)
    assert "access denied" in err and "s3:ListBucket" in err
    assert "access denied" in project.fails("push", "-r", "denied").stderr


def test_pull_repo_directory_artifact(project: Project, s3: S3, tmp_path: Path) -> None:
    _use_s3(project, s3)
    project.ok("model", "add", "vision", "--path", "models/vision")
    project.commit_all("declare vision")
    for i in range(5):
        project.write(f"models/vision/part-{i}.bin", f"weights {i}\n")
    project.ok("record", "vision")
    project.ok("release", "vision")
    project.ok("push")
    out = tmp_path / "vision"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file")
    # A folder the user named keeps what mlver did not put there: refused, nothing changed.
    refused = project.fails("pull", "vision@v0.1.0", "--repo", project.root.as_uri(), "-o", str(out))
    assert "holds 1 file(s) this version does not have (e.g. notes.txt)" in refused.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    (out / "notes.txt").unlink()
    pulled = project.ok("pull", "vision@v0.1.0", "--repo", project.root.as_uri(), "-o", str(out), "--json").json()
    assert len(pulled["files"]) == 5
    assert sorted(p.name for p in out.iterdir()) == [f"part-{i}.bin" for i in range(5)]
    assert (out / "part-3.bin").read_text() == "weights 3\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env", "project", "vision"]  # nothing left behind


def test_init_with_a_team_s3_remote(tmp_path: Path, s3: S3) -> None:
    fresh = Project(tmp_path / "fresh")
    fresh.root.mkdir()
    assert "malformed S3 URL" in fresh.fails("init", "--remote", "s3://No_Such").stderr
    assert not (fresh.root / ".git").exists()  # nothing was created
    info = fresh.ok("init", "--remote", s3.url(), "--json").json()
    assert info["remote_name"] == "storage" and info["remote_url"] == s3.url()
    assert s3.url() in (fresh.root / ".dvc/config").read_text()  # shared: in the tracked config
    assert ".dvc/config" in fresh.git("diff", "--cached", "--name-only").split()
    fresh.ok("remote", "add", "storage", s3.url(), "--endpoint-url", s3.endpoint, "--force")
    assert fresh.ok("remote", "check", "--json").json()["can"] == ["list", "write", "read"]
