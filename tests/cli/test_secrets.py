"""Secrets stay secret: credentials in a URL are never written to the shared
.dvc/config nor printed, by the CLI or in an error's message."""
from __future__ import annotations

import pytest

from conftest import Project


def test_an_endpoint_url_with_a_password_is_refused_and_never_printed(project: Project) -> None:
    config = (project.root / ".dvc" / "config").read_text()
    for args in (("--endpoint-url", "http://minio:S3cretPass@127.0.0.1:9000"),
                 ("--endpoint-url", "https://S3cretPass@minio.example.com"), ()):
        url = "s3://bucket/prefix" if args else "s3://minio:S3cretPass@bucket/prefix"
        run = project.fails("remote", "add", "minio", url, *args)
        assert "S3cretPass" not in run.stdout + run.stderr
        assert "carries credentials (user:***@host)" in run.stderr and "dvc remote modify --local minio" in run.stderr
        assert (project.root / ".dvc" / "config").read_text() == config
        assert not (project.root / ".dvc" / "config.local").read_text().count("S3cretPass")
    assert "carries credentials" in project.fails("init", "--remote", "s3://k:S3cretPass@bucket/x").stderr
    # One written by hand (or by DVC) is masked wherever mlver shows it, JSON included.
    project.write(".dvc/config", config + "['remote \"minio\"']\n    url = s3://bucket/x\n"
                  "    endpointurl = http://minio:S3cretPass@127.0.0.1:9000\n")
    for args in (("remote", "list"), ("remote", "list", "--json")):
        out = project.ok(*args).stdout
        assert "S3cretPass" not in out and "http://minio:***@127.0.0.1:9000" in out
    [row] = [r for r in project.ok("remote", "list", "--json").json() if r["name"] == "minio"]
    assert row["endpoint_url"] == "http://minio:***@127.0.0.1:9000"


def test_pull_repo_error_redacts_the_token_in_the_url(project: Project) -> None:
    import mlver
    from mlver.errors import MlverError

    url = "https://deploy:ghp_T0ken@127.0.0.1:9/team/models.git"
    run = project.fails("pull", "churn@v0.1.0", "--repo", url)
    assert "ghp_T0ken" not in run.stdout + run.stderr
    assert "https://deploy:***@127.0.0.1:9/team/models.git" in run.stderr
    bare = "https://ghp_T0ken@127.0.0.1:9/team/models.git"  # a token as the user name
    run = project.fails("pull", "churn@v0.1.0", "--repo", bare)
    assert "ghp_T0ken" not in run.stderr and "https://***@127.0.0.1:9/team/models.git" in run.stderr
    # From Python too: the exception's own message carries no secret.
    with pytest.raises(MlverError) as caught:
        mlver.pull("churn@v0.1.0", git_url=url)
    assert "ghp_T0ken" not in str(caught.value) + caught.value.hint and "deploy:***@" in str(caught.value)


# -- untrusted text: YAML, tag names, terminal escapes --------------------------

BOMB = "".join(
    [f"a: &a [{', '.join(['lol'] * 9)}]\n"]
    + [f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=False)]
)


def test_a_yaml_alias_bomb_in_params_or_mlver_yaml_exits_2_quickly(project: Project) -> None:
    import time

    params = (project.root / "params.yaml").read_text()
    project.write("params.yaml", params + "bomb:\n" + "".join("  " + line + "\n" for line in BOMB.splitlines()))
    project.commit_all("a params file of a billion nodes")
    started = time.monotonic()
    run = project.fails("run", "churn", outputs=("models/", "metrics.json"))
    assert "params.yaml: its YAML aliases expand to 490,329,072 nodes (an alias bomb?)" in run.stderr
    config = (project.root / "mlver.yaml").read_text()
    project.write("mlver.yaml", config + BOMB)
    run = project.fails("ls")
    assert "mlver.yaml: its YAML aliases expand to" in run.stderr
    project.write("mlver.yaml", config + "loop: &loop [*loop]\n")
    assert "mlver.yaml has a recursive YAML alias" in project.fails("ls").stderr
    project.write("mlver.yaml", config + "deep: " + "[" * 150 + "]" * 150 + "\n")
    assert "mlver.yaml nests deeper than 100 levels" in project.fails("ls").stderr
    assert time.monotonic() - started < 20  # each takes milliseconds; expanding would take minutes and GBs
    # Aliases as people use them (a merge key) still work.
    project.write("mlver.yaml", config + "x-defaults: &d {a: 1}\nx-other: {<<: *d, b: 2}\n")
    project.ok("ls")


def test_log_shows_a_tagger_name_with_terminal_escapes_escaped(trained: Project, monkeypatch) -> None:
    evil = "Eve\x1b[2J\x1b]0;owned\x07\u202e"
    monkeypatch.setenv("GIT_COMMITTER_NAME", evil)
    trained.ok("promote", "churn@v0.1.0", "prod")
    out = trained.ok("log", "churn").stdout
    assert "Eve\\x1b[2J\\x1b]0;owned\\x07\\u202e" in out
    assert not any(ch in out for ch in "\x1b\x07\u202e")
    events = trained.ok("log", "churn", "--json").json()  # JSON stays exact
    assert any(e["author"].startswith(evil) for e in events)


def test_a_remote_a_cloned_commit_names_is_shown_without_its_secrets_and_never_asked(project: Project) -> None:
    # A version made by GTO at a commit whose .dvc/config shares another default remote:
    # verify notes where that commit keeps its objects. The URL's password was masked but
    # not a secret in its query (an Azure SAS's sig, a presigned URL's signature, a token),
    # and that remote, the repository's word, is never contacted unless the user asks it.
    import socket
    import subprocess

    p = project
    server = socket.create_server(("127.0.0.1", 0))  # (a connection made to it waits in its queue)
    port = server.getsockname()[1]
    config = (p.root / ".dvc/config").read_text()
    url = f"https://deploy:S3cretPass@127.0.0.1:{port}/store?sv=2022&sig=S3cretSig&X-Amz-Security-Token=S3cretTok"
    p.write("models/gto.pkl", b"a model GTO registered" * 50)
    subprocess.run(["dvc", "add", "models/gto.pkl"], cwd=p.root, check=True, capture_output=True)
    p.write("dvc.yaml", (p.root / "dvc.yaml").read_text().replace(
        "artifacts:\n", "artifacts:\n  gto:\n    type: model\n    path: models/gto.pkl\n", 1))
    p.write(".dvc/config", config + f"[core]\n    remote = theirs\n['remote \"theirs\"']\n    url = {url}\n")
    p.commit_all("a model GTO registers, kept in their remote")
    p.git("tag", "-a", "gto@v1.0.0", "-m", "Registering artifact gto version v1.0.0")
    p.write(".dvc/config", config)
    p.commit_all("our own remote again")
    human, as_json = p.mlver("verify"), p.mlver("verify", "--json")
    shown = p.ok("remote", "list").stdout
    p.write(".dvc/config", config + f"['remote \"theirs\"']\n    url = {url}\n")
    listed = p.ok("remote", "list", "--json").stdout
    out = human.stdout + human.stderr + as_json.stdout + as_json.stderr + shown + listed
    assert "S3cret" not in out, out
    masked = f"remote theirs (https://deploy:***@127.0.0.1:{port}/store?sv=2022&sig=***&X-Amz-Security-Token=***)"
    # (a note: on stderr for people, in the one --json document for programs)
    assert masked in human.stderr and masked not in human.stdout and masked in as_json.stdout, human.stderr
    server.setblocking(False)
    with pytest.raises(BlockingIOError):  # nobody connected
        server.accept()
    server.close()
    assert as_json.json()["remote"] == "mlver-local"
