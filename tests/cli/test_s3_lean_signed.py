"""Many small files through the lean path, against a moto that checks every signature:
what mlver pushes DVC pulls and calls in sync, and mlver pulls back byte for byte,
each small request signed by mlver's own SigV4 and accepted."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import AuthS3, Project
from mlver.adapters import s3lean


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_small_files_signed_by_hand_are_what_dvc_and_mlver_read_back(project: Project, moto_auth: AuthS3,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_auth.keeper[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_auth.keeper[1])
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    made: list[Any] = []
    real = s3lean.lean

    def kept(*args: Any, **kwargs: Any) -> Any:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(s3lean, "lean", kept)
    url = f"s3://{moto_auth.bucket}/{uuid.uuid4().hex[:12]}"
    project.ok("remote", "add", "storage", url, "--endpoint-url", moto_auth.endpoint, "--default")
    for i in range(120):
        project.write(f"images/{i % 7}/{i:03d}.bin", os.urandom(i * 37 % 5000))
    project.ok("data", "add", "images")
    project.ok("model", "add", "vision", "--path", "models/vision.bin", "--data", "images")
    project.commit_all("declare vision")
    project.write("models/vision.bin", b"\x00weights")
    project.ok("record", "vision")
    expected = _tree(project.root / "images")

    assert project.ok("push", "--json").json()["transferred"] >= 122
    pushed = [lean for lean in made if lean is not None]
    assert pushed and all(lean.on and lean._signer is not None for lean in pushed)
    assert sum(lean.sent for lean in pushed) >= 122  # every object went the lean way, none refused

    # DVC reads what mlver wrote: its own pull, then its own comparison of cache and remote.
    shutil.rmtree(project.root / ".dvc" / "cache")
    shutil.rmtree(project.root / "images")
    env = dict(os.environ)
    dvc = [sys.executable, "-m", "dvc"]
    pulled = subprocess.run([*dvc, "pull", "-r", "storage", "images.dvc"], cwd=project.root, env=env,
                            capture_output=True, text=True)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert _tree(project.root / "images") == expected
    status = subprocess.run([*dvc, "status", "-c", "-r", "storage", "images.dvc"], cwd=project.root, env=env,
                            capture_output=True, text=True)
    assert status.returncode == 0 and "in sync" in status.stdout, status.stdout + status.stderr

    # And mlver's pull of the same, lean and signed by hand too.
    shutil.rmtree(project.root / ".dvc" / "cache")
    shutil.rmtree(project.root / "images")
    made.clear()
    project.ok("pull", "vision@HEAD", "--with-data")
    assert _tree(project.root / "images") == expected
    pulling = [lean for lean in made if lean is not None]
    assert pulling and all(lean.on for lean in pulling) and sum(lean.sent for lean in pulling) >= 120
