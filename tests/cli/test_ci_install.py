"""`mlver ci` installs exactly the mlver that printed the workflow: an index
version, a git URL at a commit, or a path, never a bare `pip install mlver`.
Each layout is real: the package copied beside a .dist-info (as pip leaves
an index install), with pip's direct_url.json, or a git checkout."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

import mlver
from mlver.adapters.installed import Checkout, install_line, public_url

PACKAGE = Path(mlver.__file__).resolve().parent
SHA = "0123456789abcdef0123456789abcdef01234567"


def _installed(site: Path, version: str = "9.9.9", direct_url: dict | None = None) -> Path:
    """mlver as pip installs it into ``site``: the package and its .dist-info with a RECORD."""
    shutil.copytree(PACKAGE, site / "mlver", ignore=shutil.ignore_patterns("__pycache__"))
    info = site / f"mlver-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: mlver\nVersion: {version}\n")
    (info / "RECORD").write_text("")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))
    return site


def _ci(path: Path, tmp: Path, forge: str = "github") -> tuple[str, str]:
    """The workflow's install line and stderr of `mlver ci FORGE` run by the mlver in ``path``."""
    proc = subprocess.run([sys.executable, "-m", "mlver", "ci", forge], cwd=tmp, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(path)})
    assert proc.returncode == 0, proc.stderr
    doc = yaml.safe_load(proc.stdout)
    if forge == "github":
        [line] = [s["run"] for s in doc["jobs"]["review"]["steps"] if s.get("name") == "Install mlver"]
    else:
        line = doc["mlver-review"]["script"][0]
    return line, proc.stderr


def test_an_index_install_pins_its_version_and_a_vcs_install_its_commit(tmp_path: Path) -> None:
    line, err = _ci(_installed(tmp_path / "index"), tmp_path)
    assert line == "pip install mlver==9.9.9" and err == ""
    vcs = {"url": "https://oauth2:s3cret@git.example.com/acme/mlver.git", "vcs_info": {"vcs": "git", "commit_id": SHA}}
    line, err = _ci(_installed(tmp_path / "vcs", direct_url=vcs), tmp_path, "gitlab")
    assert line == f"pip install 'mlver @ git+https://git.example.com/acme/mlver.git@{SHA}'" and err == ""
    wheel = {"url": "file:///wheels/mlver-9.9.9-py3-none-any.whl", "archive_info": {}}
    line, err = _ci(_installed(tmp_path / "wheel", direct_url=wheel), tmp_path)
    assert line == "pip install /wheels/mlver-9.9.9-py3-none-any.whl"
    assert "is a file on this machine: a CI job cannot reach it" in err


def test_a_source_checkout_gives_its_commit_on_origin_without_credentials(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(PACKAGE, source / "mlver", ignore=shutil.ignore_patterns("__pycache__"))
    (source / "pyproject.toml").write_text("[project]\nname = 'mlver'\n")

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=source, capture_output=True, text=True, check=True).stdout.strip()

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "mlver")
    line, err = _ci(source, tmp_path)
    assert line == f"pip install {source}" and "is a folder on this machine" in err
    git("remote", "add", "origin", "https://me:ghp_token@github.example/acme/mlver.git")
    commit = git("rev-parse", "HEAD")
    line, err = _ci(source, tmp_path)
    assert line == f"pip install 'mlver @ git+https://github.example/acme/mlver.git@{commit}'"
    assert "ghp_token" not in line + err and f"push {commit[:12]} first: no remote branch has it" in err
    git("update-ref", "refs/remotes/origin/main", commit)  # as after a push
    with (source / "mlver" / "errors.py").open("a") as edited:
        edited.write("# edited\n")
    line, err = _ci(source, tmp_path)
    assert "push" not in err and f"the checkout has changes commit {commit[:12]} does not" in err


def test_the_pip_line_for_each_kind_of_install() -> None:
    assert install_line("1.2.3", None, None, None).command == "pip install mlver==1.2.3"
    archive = {"url": "https://files.example/mlver-1.2.3.whl", "archive_info": {"hashes": {"sha256": "ab" * 32}}}
    assert install_line("1.2.3", archive, None, None).command == \
        f"pip install 'mlver @ https://files.example/mlver-1.2.3.whl#sha256={'ab' * 32}'"
    sub = {"url": "git@github.com:acme/mono.git", "subdirectory": "tools/mlver", "vcs_info": {"vcs": "git", "commit_id": SHA}}
    assert install_line("1", sub, None, None).command == \
        f"pip install 'mlver @ git+ssh://git@github.com/acme/mono.git@{SHA}#subdirectory=tools/mlver'"
    checkout = Checkout("/src/mono/tools/mlver", SHA, "/srv/git/mono.git", "tools/mlver")
    found = install_line("1", {"url": "file:///src/mono/tools/mlver", "dir_info": {"editable": True}}, checkout,
                         "/src/mono/tools/mlver")
    assert found.command == f"pip install 'mlver @ git+file:///srv/git/mono.git@{SHA}#subdirectory=tools/mlver'"
    assert found.note == "" and found.source == "checkout"
    assert install_line("1", None, None, "/my folder").command == "pip install '/my folder'"
    assert public_url("https://tok@h.example/r.git") == "https://h.example/r.git"
    assert public_url("ssh://git:pw@h.example/r.git") == "ssh://git@h.example/r.git"
