"""What mlver sends to a remote that a repository it does not control names
(``pull --repo``, or the default remote at a version's commit in history).

The repository's author runs the server (on 127.0.0.1 here) and records what
arrives: none of the user's credentials may reach it unless the user said to
trust it, and nothing that lets the server act as the user (a forwarded
ssh-agent) ever does.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.hostile_ssh import hostile_sshd

from conftest import Project


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
