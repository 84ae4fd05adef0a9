"""Where a version is pulled from, and S3's failure modes: versions released
before the team remote existed, -r/--remote-config with --repo, shared
directory remotes, init with a default it finds, an endpoint that never
answers, and multipart uploads an interrupted push left behind."""
from __future__ import annotations

import hashlib
import json
import os
import pty
import shutil
import subprocess
import sys
import time
from pathlib import Path

from fixtures import uploads

from conftest import S3, Project


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _artifact(p: Project, ref: str = "churn@v0.1.0") -> dict:
    return p.ok("show", ref, "--json").json()["record"]["doc"]["artifact"]


def test_versions_released_before_the_team_remote_are_pullable(trained: Project, s3: S3, tmp_path: Path) -> None:
    # The README's way: local default remote, release, promote; then team storage.
    trained.ok("promote", "churn@v0.1.0", "prod")
    md5 = _artifact(trained)["md5"]
    assert _artifact(trained)["remote"] == "mlver-local"
    trained.ok("remote", "add", "team", s3.url(), "--endpoint-url", s3.endpoint, "--default")
    trained.commit_all("team storage")
    trained.ok("push")
    trained.ok("push", "-r", "mlver-local")
    url = trained.root.as_uri()
    out = tmp_path / "prod.pkl"
    # The record names mlver-local, which the version's commit does not share:
    # the default branch's default (team) holds the objects.
    pulled = trained.ok("pull", "churn#prod", "--repo", url, "-o", str(out), "--json").json()
    assert pulled["version"] == "v0.1.0" and _md5(out) == md5
    out.unlink()
    trained.ok("pull", "churn#prod", "--repo", url, "-r", "team", "-o", str(out))
    assert _md5(out) == md5
    # --remote-config merges settings into the remote (here: a prefix that holds nothing).
    empty = trained.fails("pull", "churn#prod", "--repo", url, "-r", "team", "-o", str(tmp_path / "x.pkl"),
                          "--remote-config", f"url={s3.url('elsewhere')}").stderr
    assert "not in remote team" in empty
    # ... or names a remote the repository does not share at all.
    mirror = trained.ok("pull", "churn@v0.1.0", "--repo", url, "-r", "mirror", "-o", str(tmp_path / "m.pkl"),
                        "--remote-config", f"url={s3.url()}", "--remote-config", f"endpointurl={s3.endpoint}")
    assert _md5(tmp_path / "m.pkl") == md5 and mirror.exit_code == 0
    unknown = trained.fails("pull", "churn@v0.1.0", "--repo", url, "-r", "nope", "-o", str(out)).stderr
    assert "shares no remote 'nope'" in unknown and "team" in unknown
    assert "KEY=VALUE" in trained.fails("pull", "churn@v0.1.0", "--remote-config", "endpointurl").stderr

    # In the project: the default (team) serves; an object only the record's
    # remote still has comes from there; one nowhere is an error naming both.
    shutil.rmtree(trained.root / ".dvc" / "cache")
    (trained.root / "models/churn.pkl").unlink()
    s3.client.delete_object(Bucket=s3.bucket, Key=f"team/files/md5/{md5[:2]}/{md5[2:]}")
    trained.ok("pull", "churn@v0.1.0")
    assert _md5(trained.root / "models/churn.pkl") == md5
    shutil.rmtree(trained.root / ".dvc" / "cache")
    local_storage = trained.remote
    shutil.rmtree(local_storage)
    failed = trained.fails("pull", "churn@v0.1.0", "-o", str(tmp_path / "y.pkl")).stderr
    assert "team or mlver-local" in failed

    # A remote only history names: the default in .dvc/config at the version's commit.
    s3.client.put_object(Bucket=s3.bucket, Key=f"team/files/md5/{md5[:2]}/{md5[2:]}",
                         Body=(trained.root / "models/churn.pkl").read_bytes())
    trained.ok("pull", "churn@v0.1.0", "--with-data")
    trained.ok("remote", "add", "old", str(tmp_path / "old"), "--shared", "--default")
    then = trained.commit_all("the team's NFS share")
    trained.ok("push", "-r", "old", "churn@v0.1.0")
    subprocess.run(["dvc", "remote", "remove", "old"], cwd=trained.root, check=True, capture_output=True)
    trained.ok("remote", "add", "team", s3.url("fresh"), "--endpoint-url", s3.endpoint, "--default", "--force")
    trained.commit_all("a new, empty team remote")
    shutil.rmtree(trained.root / ".dvc" / "cache")
    pulled = trained.ok("pull", f"churn@{then}", "-o", str(tmp_path / "z.pkl"), "--json").json()
    assert pulled["fetched"] == 1 and _md5(tmp_path / "z.pkl") == md5


def test_remote_add_types_shared_directories_and_init(project: Project, tmp_path: Path) -> None:
    for url in ("ssh://deploy@nas.example/srv/dvc", "azure://models/churn", "https://models.example/dvc",
                "webdav://dav.example/dvc"):
        added = project.ok("remote", "add", url.split(":")[0], url, "--json").json()
        assert added["level"] == "repo" and added["url"] == url
    missing = project.fails("remote", "add", "h", "hdfs://namenode/x").stderr
    assert "dvc-hdfs" in missing and "pip install dvc-hdfs" in missing
    assert "unsupported remote URL" in project.fails("remote", "add", "x", "ftp://host/x").stderr
    assert "credentials" in project.fails("remote", "add", "x", "https://token@models.example/dvc").stderr
    # A directory stays this machine's (config.local) unless it is a shared mount.
    mine = project.ok("remote", "add", "mine", str(tmp_path / "a"), "--json").json()
    assert mine["level"] == "local"
    nfs = project.ok("remote", "add", "nfs", str(tmp_path / "nfs"), "--shared", "--json").json()
    assert nfs["level"] == "repo" and str(tmp_path / "nfs") in (project.root / ".dvc/config").read_text()
    assert "contradict" in project.fails("remote", "add", "z", str(tmp_path / "z"), "--shared", "--local").stderr

    # init keeps a default remote it finds, and says whether mlver can use it.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=fresh, check=True)
    subprocess.run(["dvc", "init", "-q"], cwd=fresh, check=True)
    for url, says in (("https://models.example/dvc", "kept the existing default remote web\n"),
                      ("hdfs://namenode/x", "mlver cannot use: remote web uses hdfs://")):
        (fresh / ".dvc/config").write_text(f"[core]\n    remote = web\n['remote \"web\"']\n    url = {url}\n")
        init = Project(fresh).ok("init")
        assert "default remote: web -> " + url in init.stdout and says in init.stderr and init.stderr.startswith("warning: "), init.stderr


def test_remote_add_that_dvc_refuses_half_way_leaves_both_config_files_as_they_were(project: Project,
                                                                                      tmp_path: Path) -> None:
    # Each file is valid alone; together (an s3 URL in .dvc/config, config.local's ssh keyfile for the
    # same remote) DVC refuses them: the error came after .dvc/config was rewritten, which stayed so.
    config, local = project.root / ".dvc/config", project.root / ".dvc/config.local"
    config.write_text(config.read_text() + "['remote \"team\"']\n    url = ssh://nas.example/srv/dvc\n")
    local.write_text(f"[core]\n    remote = mine\n['remote \"mine\"']\n    url = {tmp_path / 'mine'}\n"
                     "['remote \"team\"']\n    keyfile = /home/me/.ssh/id_nas\n")
    before = config.read_bytes(), local.read_bytes()
    refused = project.fails("remote", "add", "team", "s3://bucket/models", "--force", "--default").stderr
    assert "DVC refused the remote team" in refused and "keyfile" in refused
    assert (config.read_bytes(), local.read_bytes()) == before
    assert sorted(p.name for p in config.parent.iterdir() if "mlver" in p.name) == []  # no staged copy left
    listed = subprocess.run(["dvc", "remote", "list"], cwd=project.root, capture_output=True, text=True, check=True)
    assert "ssh://nas.example/srv/dvc" in listed.stdout
    # Without the clash, the same command writes both (the default moves to the shared remote).
    local.write_text(f"[core]\n    remote = mine\n['remote \"mine\"']\n    url = {tmp_path / 'mine'}\n")
    assert project.ok("remote", "add", "team", "s3://bucket/models", "--force", "--default", "--json").json()["default"]
    assert "remote = team" in local.read_text() and "s3://bucket/models" in config.read_text()


def _waited_on(stderr: str, endpoint: str) -> list[str]:
    """The progress lines of a wait on ``endpoint``, which come before
    mlver's one error line and its hint, with no traceback."""
    lines = stderr.rstrip("\n").splitlines()
    waits = [ln for ln in lines if ln.startswith(f"waiting for {endpoint}: no answer for ")]
    assert waits and "Traceback" not in stderr, stderr
    assert lines[-2].startswith("error: ") and lines[-1].startswith("hint: ") and lines[:-2] == waits, stderr
    seconds = [int(ln.rsplit(" ", 2)[-2]) for ln in waits]
    assert seconds[0] >= 2 and seconds == sorted(seconds), waits  # told after 2 s, then the seconds grow
    return waits


def _read_pty(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the process closed its end
        return b""


def test_an_endpoint_that_never_answers_fails_fast_and_says_so(trained: Project, mute_endpoint: str) -> None:
    """S3, http and ssh remotes and a git server for --repo, all on a server
    that accepts and never answers, each with the short timeout its
    documented setting gives; run at once, as real processes (stderr is no
    terminal: sparse lines)."""
    mute_ssh = mute_endpoint.replace("http://", "ssh://") + "/srv/dvc"
    trained.ok("remote", "add", "mute", "s3://bucket/x", "--endpoint-url", mute_endpoint)
    trained.ok("remote", "add", "web", f"{mute_endpoint}/dvc")
    trained.ok("remote", "add", "box", mute_ssh)
    for name, key, seconds in (("mute", "read_timeout", "1"), ("web", "read_timeout", "1"), ("box", "timeout", "3")):
        subprocess.run(["dvc", "remote", "modify", name, key, seconds], cwd=trained.root, check=True)
    shutil.rmtree(trained.root / ".dvc" / "cache")
    before = trained.state()
    repo = f"{mute_endpoint}/churn.git"
    runs = {
        "s3": ("push", "-r", "mute", "--json"),
        "http": ("pull", "churn@v0.1.0", "-r", "web", "-o", "a.pkl"),
        "ssh": ("pull", "churn@v0.1.0", "-r", "box", "-o", "b.pkl"),
        "git": ("pull", "churn@v0.1.0", "--repo", repo, "-o", "c.pkl"),
    }
    # git's HTTP has no timeout of its own: mlver gives it one, which git's variable sets.
    env = {**os.environ, "GIT_HTTP_LOW_SPEED_TIME": "3"}
    started = time.monotonic()
    procs = {k: subprocess.Popen([sys.executable, "-m", "mlver", *args], cwd=trained.root, env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for k, args in runs.items()}
    # The S3 push once more with stderr on a terminal: one line, rewritten in place.
    leader, follower = pty.openpty()
    on_tty = subprocess.Popen([sys.executable, "-m", "mlver", "push", "-r", "mute"], cwd=trained.root, env=env,
                              stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    screen = b""
    while chunk := _read_pty(leader):
        screen += chunk
    os.close(leader)
    done = {k: (*proc.communicate(timeout=120), proc.returncode, time.monotonic() - started)
            for k, proc in procs.items()}
    assert on_tty.wait(timeout=60) == 2
    text = screen.decode()
    rewrites = text.count(f"\r\x1b[Kwaiting for remote mute at {mute_endpoint}: no answer for ")
    assert rewrites >= 2 and "\n" not in text.split("\x1b[Kerror: ")[0], text  # one line, updated
    assert text.rsplit("waiting for", 1)[1].count("\r\x1b[Kerror: ") == 1  # cleared before the error
    for kind, (_, err, code, took) in done.items():
        assert code == 2 and took < 40, (kind, code, took, err)
    assert trained.state() == before  # nothing written, nothing left behind
    out, err, _, _ = done["s3"]
    # The waiting is on stderr only: --json's stdout holds the error document and nothing else.
    assert json.loads(out)["error"]["class"] == "RemoteAccessError" and "waiting" not in out, out
    assert "did not answer" in err and "no answer in 1 s, 3 tries" in err and "read_timeout" in err
    assert len(_waited_on(err, f"remote mute at {mute_endpoint}")) == 1  # a line per 10 s, not per tick
    err = done["http"][1]
    assert "remote web" in err and "did not answer in time" in err and "read_timeout" in err
    _waited_on(err, f"remote web at {mute_endpoint}/dvc")
    err = done["ssh"][1]
    assert "remote box" in err and "did not answer in time" in err and "timeout SECONDS" in err
    _waited_on(err, f"remote box at {mute_ssh}")
    err = done["git"][1]
    assert f"{repo} did not answer: no data for 3 s" in err and "GIT_HTTP_LOW_SPEED_TIME" in err
    _waited_on(err, f"git repository {repo}")


def test_push_aborts_multipart_uploads_an_interrupted_push_left(trained: Project, s3: S3) -> None:
    trained.ok("remote", "add", "team", s3.url(), "--endpoint-url", s3.endpoint, "--default")
    md5 = _artifact(trained)["md5"]
    data_md5 = trained.ok("show", "churn@v0.1.0", "--json").json()["record"]["doc"]["data"][0]["md5"]
    # What a push of this clone killed mid-upload leaves: started uploads with parts, of
    # an object not sent yet and of one already there; and others' uploads in progress.
    ours = f"team/files/md5/{md5[:2]}/{md5[2:]}"
    trained.ok("push", "churn@v0.1.0")
    s3.client.delete_object(Bucket=s3.bucket, Key=ours)
    present = f"team/files/md5/{data_md5[:2]}/{data_md5[2:]}"
    foreign = "other-tool/upload.bin"
    for key in (ours, present):
        upload_id = uploads.begin(s3.client, s3.bucket, key, b"x" * 1024)
        uploads.noted_by_a_gone_process(uploads.clone_uploads(trained.root), s3.endpoint, s3.bucket, key, upload_id)
    others = {uploads.begin(s3.client, s3.bucket, key, b"x" * 1024) for key in (foreign, ours)}
    assert len(s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])) == 4
    pushed = trained.ok("push", "--json").json()
    assert pushed["transferred"] == 1
    left = {u["UploadId"] for u in s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])}
    assert left == others  # this clone's killed push's aborted; another machine's (same object) and another tool's left
    assert list(uploads.clone_uploads(trained.root).iterdir()) == []
