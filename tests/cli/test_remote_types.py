"""Remote types mlver reaches through DVC's filesystems, against real servers
on 127.0.0.1 (tests/fixtures/servers.py): push, a fresh clone, pull, verify
and remote check for ssh:// (OpenSSH), http:// (reads), webdav:// (WsgiDAV),
gs:// (gcp-storage-emulator) and azure:// (Azurite)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from fixtures.servers import Azurite, GcsEmulator, HttpServer, Sshd, WebDav

from conftest import Project, make_csv


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _dvc(p: Project, *args: str) -> None:
    # DVC's own CLI writes the settings, as a user following DVC's docs would.
    subprocess.run(["dvc", *args], cwd=p.root, check=True, capture_output=True)


def _clone(p: Project, where: Path) -> Project:
    subprocess.run(["git", "clone", "-q", str(p.root), str(where)], check=True)
    return Project(where)


def _artifact(p: Project, ref: str = "churn@v0.1.0") -> dict:
    return p.ok("show", ref, "--json").json()["record"]["doc"]["artifact"]


def _share_and_push(p: Project, name: str, url: str, *local_settings: tuple[str, str]) -> dict:
    p.ok("remote", "add", name, url, "--default")
    for key, value in local_settings:
        _dvc(p, "remote", "modify", "--local", name, key, value)
    p.commit_all(f"share remote {name}")
    pushed = p.ok("push", "--json").json()
    assert pushed["remote"] == name and pushed["transferred"] == 2, pushed
    again = p.ok("push", "--json").json()  # resumable: what is there is not sent again
    assert again["transferred"] == 0 and again["present"] == 2
    return pushed


def _pull_in_fresh_clone(p: Project, where: Path, *local_settings: tuple[str, str]) -> Project:
    clone = _clone(p, where)
    for key, value in local_settings:
        _dvc(clone, "remote", "modify", "--local", _default(clone), key, value)
    pulled = clone.ok("pull", "churn@v0.1.0", "--with-data", "--json").json()
    assert pulled["fetched"] == 2
    assert _md5(clone.root / "models/churn.pkl") == _artifact(p)["md5"]
    assert (clone.root / "data/train.csv").read_text() == make_csv(200)
    verified = clone.ok("verify", "--json").json()
    assert verified["ok"] and verified["remote"] == _default(clone)
    return clone


def _dvc_pull_reads(clone: Project, md5: str) -> None:
    """`dvc pull` in the clone, from nothing, gets the model mlver pushed."""
    (clone.root / "models/churn.pkl").unlink()
    shutil.rmtree(clone.root / ".dvc" / "cache")
    _dvc(clone, "pull", "models/churn.pkl.dvc")
    assert _md5(clone.root / "models/churn.pkl") == md5


def _default(p: Project) -> str:
    return p.ok("remote", "list", "--json").json()[0]["name"]


def test_ssh_remote_push_clone_pull_verify_check(trained: Project, sshd: Sshd, tmp_path: Path) -> None:
    sshd.trust(Path(os.environ["HOME"]))  # host key verification stays on
    url = sshd.url()
    # A user name is no secret: ssh://user@host is accepted; a password in the URL is not.
    assert "credentials" in trained.fails("remote", "add", "x", url.replace("@", ":pw@", 1)).stderr
    key = ("keyfile", sshd.keyfile)
    _share_and_push(trained, "team", url, key)
    md5 = _artifact(trained)["md5"]
    stored = Path(url.split(f":{sshd.port}", 1)[1]) / "files" / "md5" / md5[:2] / md5[2:]
    assert _md5(stored) == md5  # DVC's layout on the server
    uploads = stored.parents[3] / ".mlver-tmp"  # where uploads wait for their md5 check, outside files/
    assert uploads.is_dir() and not list(uploads.iterdir())  # no temporary left behind
    # What a killed push left there is deleted by the next one: one of a run of this machine
    # whose pid is gone, or a day untouched. An upload another client may be writing, or
    # anything mlver does not name so, is not (every file over an hour old was deleted).
    from mlver.adapters.placement import run_tag

    dead, tag, day, hours = 4194999, run_tag(), time.time() - 2 * 24 * 3600, time.time() - 2 * 3600

    def plant(name: str, when: float | None = None) -> Path:
        (uploads / name).write_bytes(b"half an object")
        if when is not None:
            os.utime(uploads / name, (when, when))
        return uploads / name

    kept = [plant(f"{md5}.killed", day), plant(f"{md5}.0123456789ab", hours),
            plant(f"{md5}.mlver-{dead}-0123456789abcdef-0", hours),
            plant(f"{md5}.mlver-{os.getpid()}-{tag}00000000-0", day)]
    gone = [plant(f"{md5}.ba9876543210", day), plant(f"meta.mlver-{dead}-{tag}deadbeef-3"),
            plant(f"{md5}.mlver-{dead}-0123456789abcdef-1", day)]
    trained.ok("push")
    assert [k.name for k in kept if not k.exists()] == [] and [g.name for g in gone if g.exists()] == []
    for k in kept:
        k.unlink()
    assert trained.ok("remote", "check", "--json").json()["can"] == ["list", "write", "read"]
    assert "keyfile" not in trained.ok("remote", "list", "--json").stdout  # settings are never shown
    # The push left this project's manifest beside the objects, and gc lists the remote over ssh.
    assert [p for p in (stored.parents[3] / "mlver").rglob("*") if p.is_file()]
    junk = stored.parents[1] / "00" / ("0" * 30)  # an object nothing names
    junk.parent.mkdir(exist_ok=True)
    junk.write_bytes(b"unreferenced")
    # gc frees from a remote only what this project claimed: say a push of ours sent the junk.
    manifest = next((stored.parents[3] / "mlver" / "manifests").iterdir())
    claimed = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**claimed, "objects": [*claimed["objects"], "0" * 32]}))
    trained.ok("gc", "--cloud", "--force", "--min-age", "0")
    assert _md5(stored) == md5 and not junk.exists()  # a released version's object is kept, the junk freed

    clone = _pull_in_fresh_clone(trained, tmp_path / "clone", key)
    _dvc_pull_reads(clone, md5)

    # A corrupt object on the server: the pull refuses it and the workspace file stays.
    os.chmod(stored, 0o644)
    stored.write_bytes(b"not the model")
    shutil.rmtree(clone.root / ".dvc" / "cache")
    clone.write("models/churn.pkl", b"mine")
    assert "corrupt" in clone.fails("pull", "churn@v0.1.0", outputs=("models",)).stderr
    assert (clone.root / "models/churn.pkl").read_bytes() == b"mine"
    assert clone.mlver("verify", "--deep").exit_code == 1

    # Rejected credentials: a clean error naming the remote, no traceback, nothing printed of the key.
    other = tmp_path / "otherkey"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    _dvc(clone, "remote", "modify", "--local", "team", "keyfile", str(other))
    failed = clone.fails("remote", "check").stderr
    assert "remote team" in failed and "credentials were rejected" in failed and str(other) not in failed


def test_http_remote_pulls_verify_check_and_repo(trained: Project, http_server: HttpServer, tmp_path: Path) -> None:
    folder = http_server.root / trained.root.name / os.urandom(4).hex()
    # The server's folder is a directory remote every clone could mount: --shared puts it in .dvc/config.
    added = trained.ok("remote", "add", "site", str(folder), "--shared", "--json").json()
    assert added["level"] == "repo" and str(folder) in (trained.root / ".dvc/config").read_text()
    trained.ok("push", "-r", "site")
    web = f"{http_server.url}/{folder.relative_to(http_server.root)}"
    trained.ok("remote", "add", "web", web, "--default")
    trained.commit_all("read the models over http")

    clone = _pull_in_fresh_clone(trained, tmp_path / "clone")
    assert _default(clone) == "web"
    can = clone.ok("remote", "check", "--json").json()["can"]
    assert can == ["reach", "read-only (the server refused a write)"]
    md5 = _artifact(trained)["md5"]
    served = folder / "files" / "md5" / md5[:2] / md5[2:]
    served.unlink()
    failed = clone.fails("push", "-r", "web").stderr  # http.server takes no uploads
    assert "remote web" in failed and f"could not write {md5}" in failed
    assert not served.exists()
    trained.ok("push", "-r", "site")

    # pull --repo reads the artifact over http too, with no clone.
    out = tmp_path / "served.pkl"
    pulled = clone.ok("pull", "churn@v0.1.0", "--repo", str(trained.root), "-o", str(out), "--json").json()
    assert pulled["version"] == "v0.1.0" and _md5(out) == _artifact(trained)["md5"]


def test_azure_remote_push_clone_pull_verify_check(trained: Project, azurite: Azurite, tmp_path: Path) -> None:
    container = azurite.container()
    secret = ("connection_string", azurite.connection_string)
    _share_and_push(trained, "team", f"azure://{container}/churn", secret)
    md5 = _artifact(trained)["md5"]
    assert f"churn/files/md5/{md5[:2]}/{md5[2:]}" in azurite.blobs(container)
    assert not [b for b in azurite.blobs(container) if "mlver-tmp" in b]
    assert "AccountKey" not in (trained.root / ".dvc/config").read_text()  # the secret stays in config.local
    assert trained.ok("remote", "check", "--json").json()["can"] == ["list", "write", "read"]
    _pull_in_fresh_clone(trained, tmp_path / "clone", secret)

    # pull --repo: a foreign config's credentials are never used; the user passes their own.
    out = tmp_path / "served.pkl"
    pulled = trained.ok("pull", "churn@v0.1.0", "--repo", str(trained.root), "-o", str(out),
                        "--remote-config", f"connection_string={azurite.connection_string}")
    assert _md5(out) == md5
    assert f"artifacts at azure://{container}/churn (remote team)" in pulled.stderr
    assert "AccountKey" not in pulled.stderr + pulled.stdout


def test_webdav_remote_push_clone_pull_verify_check(trained: Project, webdav: WebDav, tmp_path: Path) -> None:
    name = os.urandom(6).hex()
    url = webdav.url(name)
    login = (("user", webdav.user), ("password", webdav.password))
    _share_and_push(trained, "team", url, *login)
    md5 = _artifact(trained)["md5"]
    stored = webdav.root / name / "files" / "md5" / md5[:2] / md5[2:]
    assert _md5(stored) == md5  # DVC's layout on the server
    uploads = webdav.root / name / ".mlver-tmp"
    assert not uploads.exists() or not list(uploads.iterdir())  # no temporary left behind
    assert webdav.password not in (trained.root / ".dvc/config").read_text()  # the password stays in config.local
    # A killed push's upload is found by its name in the server's listing (webdav names it its own way).
    uploads.mkdir(exist_ok=True)
    killed, theirs = uploads / f"{md5}.ba9876543210", uploads / "notes.txt"
    for left in (killed, theirs):
        left.write_bytes(b"half")
        os.utime(left, (time.time() - 2 * 24 * 3600,) * 2)
    trained.ok("push")
    assert not killed.exists() and theirs.exists()
    assert trained.ok("remote", "check", "--json").json()["can"] == ["list", "write", "read"]

    clone = _pull_in_fresh_clone(trained, tmp_path / "clone", *login)
    _dvc_pull_reads(clone, md5)

    # A corrupt object on the server: verify --deep says so, and the pull refuses it.
    stored.write_bytes(b"not the model")
    assert clone.mlver("verify", "--deep").exit_code == 1
    shutil.rmtree(clone.root / ".dvc" / "cache")
    assert "corrupt" in clone.fails("pull", "churn@v0.1.0", "-o", str(tmp_path / "x.pkl")).stderr

    # A wrong password: one clean error naming the remote, and the password never shown.
    _dvc(clone, "remote", "modify", "--local", "team", "password", "wrong-password")
    failed = clone.fails("remote", "check").stderr
    assert "remote team" in failed and "credentials were rejected" in failed and "wrong-password" not in failed


def test_gs_remote_push_clone_pull_verify_check(trained: Project, gcs: GcsEmulator, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # gcsfs asks GCS's gRPC control API what kind of bucket it is; the emulator
    # has no such API, so that (optional) probe is switched off by its own variable.
    monkeypatch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    settings = (("endpointurl", gcs.endpoint), ("allow_anonymous_login", "true"))
    url = gcs.url()
    _share_and_push(trained, "team", url, *settings)
    md5 = _artifact(trained)["md5"]
    assert trained.ok("remote", "check", "--json").json()["can"] == ["list", "write", "read"]
    clone = _pull_in_fresh_clone(trained, tmp_path / "clone", *settings)
    _dvc_pull_reads(clone, md5)
    # gc lists the bucket: a released version's object is kept.
    assert clone.ok("gc", "--cloud", "--json").json()["stores"][1]["kept"] >= 2
