"""What mlver sends to a remote that a repository it does not control names
(``pull --repo``, or the default remote at a version's commit in history).

The repository's author runs the server (on 127.0.0.1 here) and records what
arrives: none of the user's credentials may reach it unless the user said to
trust it, and nothing that lets the server act as the user (a forwarded
ssh-agent) ever does.
"""
from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.hostile_ssh import hostile_sshd
from fixtures.servers import serving_http

from conftest import S3, Project


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The user's ssh-agent holding their key (also at ~/.ssh/id_ed25519): its public key line."""
    ssh = Path(os.environ["HOME"]) / ".ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    key = ssh / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "the user's key", "-f", str(key)], check=True)
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            subprocess.run(["sleep", "0.05"], check=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        subprocess.run(["ssh-add", "-q", str(key)], check=True, env=os.environ, capture_output=True)
        yield (ssh / "id_ed25519.pub").read_text().split()[1]
    finally:
        proc.terminate()
        proc.wait(10)


def _served_by(p: Project, url: str) -> None:
    """Make ``url`` the default remote of ``p``'s .dvc/config, committed."""
    config = p.root / ".dvc/config"
    config.write_text(config.read_text() + f"[core]\n    remote = theirs\n['remote \"theirs\"']\n    url = {url}\n")
    p.commit_all("our artifacts are on our server")


def test_pull_repo_forwards_no_ssh_agent_and_offers_no_key_to_a_host_the_repository_names(
        trained: Project, agent: str, tmp_path: Path) -> None:
    # dvc-ssh forwards the user's agent to any host and offers their keys: a repository naming its
    # own server as the remote got a socket that signs as the user (here it listed the agent's key).
    trained.ok("push")
    served = tmp_path / "served"
    shutil.copytree(trained.remote / "files", served / "store" / "files")
    md5 = json.loads((trained.root / ".mlver/records/churn.json").read_text())["artifact"]["md5"]
    elsewhere = Project(tmp_path / "elsewhere")  # a machine with no project: the user's agent and ~/.ssh
    elsewhere.root.mkdir()
    out = tmp_path / "model.pkl"
    repo = trained.root.as_uri()
    with hostile_sshd(served) as seen:
        _served_by(trained, seen.url("/store"))
        (Path(os.environ["HOME"]) / ".ssh" / "known_hosts").write_text(seen.host_key_line + "\n")  # (checked)
        run = elsewhere.fails("pull", "churn", "--repo", repo, "-o", str(out))
        assert f"at ssh://127.0.0.1:{seen.port} (remote theirs)" in run.stderr.splitlines()[0]
        assert "without your SSH keys" in run.stderr and "credentials were rejected" in run.stderr
        assert "pass --trust-endpoint" in run.stderr.splitlines()[-1]
        assert (seen.offered, seen.forwarded, seen.agent_keys) == ([], False, [])

        seen.require_key = False  # a server that lets anyone in: the pull needs nothing of the user's
        elsewhere.ok("pull", "churn", "--repo", repo, "-o", str(out))
        assert _md5(out) == md5 and seen.sessions >= 1
        assert (seen.offered, seen.forwarded, seen.agent_keys) == ([], False, [])

        seen.require_key = True  # trusted: the user's key, still no agent for the server to use
        out.unlink()
        run = elsewhere.ok("pull", "churn", "--repo", repo, "-o", str(out), "--trust-endpoint")
        assert "with your SSH keys (--trust-endpoint)" in run.stderr and _md5(out) == md5
        assert seen.offered and all(agent in key for key in seen.offered)
        assert not seen.forwarded and not seen.agent_keys

        # A host the user configured as their own ssh remote (global DVC config) is trusted as it is.
        seen.offered.clear()
        global_config = Path(os.environ["DVC_GLOBAL_CONFIG_DIR"]) / "config"
        global_config.parent.mkdir(parents=True, exist_ok=True)
        global_config.write_text(f"['remote \"mine\"']\n    url = ssh://127.0.0.1/x\n    port = {seen.port}\n")
        run = elsewhere.ok("pull", "churn", "--repo", repo, "-o", str(out))
        assert "with your SSH keys (you configured this endpoint)" in run.stderr
        assert seen.offered and not seen.forwarded and not seen.agent_keys


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


class _Recorder(http.server.BaseHTTPRequestHandler):
    """The repository author's storage endpoint: notes every request's headers, holds nothing."""

    seen: list[str] = []

    def _answer(self) -> None:
        type(self).seen.append(f"{self.command} {self.path}\n{self.headers}")
        body = b'{"error": {"code": 404, "message": "No such object"}}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = _answer

    def log_message(self, *args: Any) -> None:
        pass


class _Metadata(http.server.BaseHTTPRequestHandler):
    """A Google Compute Engine metadata server, where a VM's or CI runner's application-default
    credentials come from (google-auth finds it by GCE_METADATA_HOST): it hands out the user's token."""

    tokens = 0

    def do_GET(self) -> None:
        if "/token" in self.path:
            type(self).tokens += 1
            body = json.dumps({"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"})
        elif "recursive" in self.path:
            body = json.dumps({"email": "ci@proj.iam.gserviceaccount.com", "aliases": ["default"],
                               "scopes": ["https://www.googleapis.com/auth/cloud-platform"]})
        else:
            body = {"project-id": "proj", "universe-domain": "googleapis.com"}.get(self.path.rsplit("/", 1)[-1], "")
        data = body.encode()
        self.send_response(200)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Type", "application/json" if body.startswith("{") else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


TOKEN = "ya29.the-users-google-token"


def test_pull_repo_sends_no_google_token_to_an_endpoint_the_repository_names(trained: Project, tmp_path: Path) -> None:
    # gcsfs takes the user's application-default credentials when the config names none, and sent
    # their bearer token (replayable against everything they can reach) to the remote's endpointurl.
    # Run as its own process: google-auth reads where the metadata server is when it is imported.
    with serving_http(_Metadata) as metadata, serving_http(_Recorder) as endpoint:
        config = trained.root / ".dvc/config"
        config.write_text(config.read_text() + "[core]\n    remote = theirs\n['remote \"theirs\"']\n"
                          f"    url = gs://bucket/store\n    endpointurl = {endpoint}\n"
                          "    allow_anonymous_login = false\n")
        trained.commit_all("our artifacts are on our endpoint")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        out = tmp_path / "model.pkl"
        host = metadata.removeprefix("http://")
        # (gcsfs's optional gRPC probe of the bucket's kind is off, as for the emulator in test_remote_types.)
        env = {**os.environ, "GCE_METADATA_HOST": host, "GCE_METADATA_IP": host,
               "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}

        def pull(*extra: str) -> subprocess.CompletedProcess[str]:
            _Recorder.seen.clear()
            return subprocess.run([sys.executable, "-m", "mlver", "pull", "churn", "--repo", trained.root.as_uri(),
                                   "-o", str(out), *extra], cwd=elsewhere, env=env, capture_output=True, text=True,
                                  timeout=300)

        run = pull()
        assert run.returncode == 2, run.stderr
        assert f"at {endpoint} (remote theirs)" in run.stderr and "without your Google credentials" in run.stderr
        assert run.stderr.rstrip().splitlines()[-1].startswith("hint: ")
        assert _Recorder.seen, "the endpoint was never asked"
        assert not any(TOKEN in h or "Authorization" in h for h in _Recorder.seen), _Recorder.seen
        assert _Metadata.tokens == 0 and not out.exists()
        run = pull("--trust-endpoint")  # told to: the token goes there (so the check above can fail)
        assert "with your Google credentials (--trust-endpoint)" in run.stderr
        assert any(f"Bearer {TOKEN}" in h for h in _Recorder.seen) and _Metadata.tokens >= 1


class _Identity(http.server.BaseHTTPRequestHandler):
    """Azure's managed-identity endpoint of an App Service or CI runner (IDENTITY_ENDPOINT): the user's token."""

    asked = 0

    def do_GET(self) -> None:
        type(self).asked += 1
        data = json.dumps({"access_token": TOKEN, "expires_on": "4102444800", "token_type": "Bearer",
                           "resource": "https://storage.azure.com"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def test_pull_repo_asks_for_no_azure_token_even_when_the_repository_says_no_anonymous_login(
        trained: Project, tmp_path: Path) -> None:
    # mlver set allow_anonymous_login only where the repository's config did not: one saying `false`
    # had DVC take the user's own Azure identity (DefaultAzureCredential) for an account it names.
    with serving_http(_Identity) as identity:
        config = trained.root / ".dvc/config"
        config.write_text(config.read_text() + "[core]\n    remote = theirs\n['remote \"theirs\"']\n"
                          "    url = azure://models/store\n    account_name = theirs\n"
                          "    allow_anonymous_login = false\n")
        trained.commit_all("our artifacts are in our storage account")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        env = {**os.environ, "IDENTITY_ENDPOINT": f"{identity}/token", "IDENTITY_HEADER": "h"}
        # No network here: the request to the account hangs. A token is asked for before that
        # request is sent, so by the time mlver says it is waiting for the remote, it would have been.
        proc = subprocess.Popen([sys.executable, "-m", "mlver", "pull", "churn", "--repo", trained.root.as_uri(),
                                 "-o", str(tmp_path / "model.pkl")], cwd=elsewhere, env=env, text=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            assert proc.stderr is not None
            lines = [proc.stderr.readline() for _ in range(2)]
        finally:
            proc.kill()
            proc.wait()
        assert "contacting it with no credentials" in lines[0] and "waiting for remote theirs" in lines[1], lines
        assert _Identity.asked == 0


def test_a_commit_keeping_the_users_remote_name_and_url_but_not_its_endpoint_gets_no_credentials(
        trained: Project, s3: S3, tmp_path: Path) -> None:
    # A pull falls back to the default remote .dvc/config names at the version's commit. One that
    # kept the user's remote by name and URL was taken as the user's own, settings merged: its
    # endpointurl too, so the user's AWS credentials signed requests to the commit author's endpoint.
    trained.ok("remote", "add", "team", s3.url(), "--endpoint-url", s3.endpoint, "--default")
    trained.commit_all("team storage")
    config = trained.root / ".dvc/config"
    ours = config.read_text()
    with serving_http(_Recorder) as endpoint:
        config.write_text(ours.replace(s3.endpoint, endpoint))
        trained.set_params(lr=0.3)
        trained.commit_all("lr 0.3, and our endpoint")
        trained.ok("run", "churn")
        trained.ok("release", "churn")
        config.write_text(ours)
        trained.commit_all("their endpoint gone again")
        shutil.rmtree(trained.root / ".dvc" / "cache")  # v0.2.0's model is in no remote of the user's
        _Recorder.seen.clear()
        run = trained.fails("pull", "churn@v0.2.0", "-o", str(tmp_path / "model.pkl"))
    assert "remote team" in run.stderr  # (missing, or its bucket unknown to the commit's endpoint)
    assert _Recorder.seen, "the commit's endpoint was never asked"
    assert not any("Credential=testing" in h or "Authorization" in h for h in _Recorder.seen), _Recorder.seen


def test_pull_repo_checks_the_host_key_of_an_ssh_server_the_repository_names(
        trained: Project, agent: str, tmp_path: Path) -> None:
    # dvc-ssh (sshfs) connects with known_hosts=None: any server answering for the host the
    # repository names was taken, with the user's keys offered to it when the endpoint is trusted.
    trained.ok("push")
    served = tmp_path / "served"
    shutil.copytree(trained.remote / "files", served / "store" / "files")
    md5 = json.loads((trained.root / ".mlver/records/churn.json").read_text())["artifact"]["md5"]
    elsewhere = Project(tmp_path / "elsewhere")
    elsewhere.root.mkdir()
    out = tmp_path / "model.pkl"
    repo = trained.root.as_uri()
    known = Path(os.environ["HOME"]) / ".ssh" / "known_hosts"
    global_config = Path(os.environ["DVC_GLOBAL_CONFIG_DIR"]) / "config"
    with hostile_sshd(served) as seen:
        seen.require_key = False
        _served_by(trained, seen.url("/store"))
        # The user configured that host themselves: their keys would go to it, after its key checks.
        global_config.parent.mkdir(parents=True, exist_ok=True)
        global_config.write_text(f"['remote \"mine\"']\n    url = ssh://127.0.0.1/x\n    port = {seen.port}\n")
        run = elsewhere.fails("pull", "churn", "--repo", repo, "-o", str(out))  # no known_hosts at all
        last = run.stderr.strip().splitlines()
        assert "its host key is not in your ~/.ssh/known_hosts" in last[-2] and f"127.0.0.1:{seen.port}" in last[-2]
        assert f"ssh-keyscan -p {seen.port} 127.0.0.1" in last[-1] and "--trust-endpoint" in last[-1]
        assert (seen.sessions, seen.offered, seen.forwarded) == (0, [], False) and not out.exists()

        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
        changed = f"[127.0.0.1]:{seen.port} " + " ".join((tmp_path / "other.pub").read_text().split()[:2])
        known.write_text(changed + "\n")  # the key the user accepted once, now another server's
        run = elsewhere.fails("pull", "churn", "--repo", repo, "-o", str(out))
        assert "its host key is not in your ~/.ssh/known_hosts" in run.stderr
        assert (seen.sessions, seen.offered, seen.forwarded) == (0, [], False) and not out.exists()

        known.write_text(changed + "\n" + seen.host_key_line + "\n")  # the server's own key: it passes
        run = elsewhere.ok("pull", "churn", "--repo", repo, "-o", str(out))
        assert _md5(out) == md5 and seen.sessions >= 1 and "with your SSH keys" in run.stderr

        # --trust-endpoint skips the check, as `dvc pull` does for the user's own remotes.
        known.write_text(changed + "\n")
        out.unlink()
        elsewhere.ok("pull", "churn", "--repo", repo, "-o", str(out), "--trust-endpoint")
        assert _md5(out) == md5
        assert not seen.forwarded and not seen.agent_keys


class _Files(http.server.SimpleHTTPRequestHandler):
    """The repository author's http remote: serves its objects and notes every request's headers."""

    seen: list[str] = []

    def send_head(self) -> Any:
        type(self).seen.append(f"{self.command} {self.path}\n{self.headers}")
        return super().send_head()

    def log_message(self, *args: Any) -> None:
        pass


def test_pull_repo_sends_no_netrc_login_to_an_http_remote_the_repository_names(
        trained: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # dvc-http opens every session with aiohttp's trust_env, which sends ~/.netrc's login for the
    # host (netrc's `default` line: for any host) as Basic auth: to whatever server the repository names.
    trained.ok("push")
    served = tmp_path / "served"
    shutil.copytree(trained.remote / "files", served / "store" / "files")
    md5 = json.loads((trained.root / ".mlver/records/churn.json").read_text())["artifact"]["md5"]
    netrc = Path(os.environ["HOME"]) / ".netrc"
    netrc.write_text("machine 127.0.0.1 login alice password the-users-secret\n"
                     "default login alice password the-users-default-secret\n")
    netrc.chmod(0o600)
    elsewhere = Project(tmp_path / "elsewhere")
    elsewhere.root.mkdir()
    out = tmp_path / "model.pkl"

    class Handler(_Files):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(served), **kwargs)

    with serving_http(Handler) as url:
        _served_by(trained, f"{url}/store")
        run = elsewhere.ok("pull", "churn", "--repo", trained.root.as_uri(), "-o", str(out))
        assert "or your ~/.netrc unless --trust-endpoint" in run.stderr
        assert _md5(out) == md5 and _Files.seen
        assert not any("Authorization" in h for h in _Files.seen), _Files.seen
        _Files.seen.clear()
        out.unlink()
        # Told to: DVC's own behaviour, the login goes there (so the check above can fail).
        elsewhere.ok("pull", "churn", "--repo", trained.root.as_uri(), "-o", str(out), "--trust-endpoint")
        assert _md5(out) == md5 and any("Authorization: Basic" in h for h in _Files.seen), _Files.seen

        # The user's proxy (theirs, not the repository's) still carries the requests there.
        _Recorder.seen.clear()
        with serving_http(_Recorder) as proxy:
            monkeypatch.setenv("HTTP_PROXY", proxy)
            out.unlink()
            elsewhere.fails("pull", "churn", "--repo", trained.root.as_uri(), "-o", str(out))
        assert any(h.startswith(f"GET {url}/store/files/md5/") for h in _Recorder.seen), _Recorder.seen


def test_a_clones_ssh_remote_never_gets_the_users_agent_forwarded(trained: Project, agent: str, tmp_path: Path) -> None:
    # The remote a cloned repository's .dvc/config names is that repository's author's choice too:
    # dvc-ssh forwards the user's ssh-agent to it (it signs as the user while the pull runs).
    trained.ok("push")
    served = tmp_path / "served"
    shutil.copytree(trained.remote / "files", served / "store" / "files")
    md5 = json.loads((trained.root / ".mlver/records/churn.json").read_text())["artifact"]["md5"]
    with hostile_sshd(served) as seen:
        _served_by(trained, seen.url("/store"))
        subprocess.run(["git", "clone", "-q", str(trained.root), str(tmp_path / "clone")], check=True)
        clone = Project(tmp_path / "clone")
        (clone.root / "models/churn.pkl").unlink(missing_ok=True)
        clone.ok("pull", "churn")
        assert _md5(clone.root / "models/churn.pkl") == md5 and seen.sessions >= 1
        assert (seen.forwarded, seen.agent_keys) == (False, [])
