"""`data add` of one file: the fast path (hashed while copied) writes what `dvc add` writes."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Project, make_csv

DVC = str(Path(sys.executable).with_name("dvc"))


@pytest.fixture
def without_dvc(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast paths never open DVC's repository."""
    import mlver.adapters.dvc as adapter

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("DVC's machinery was used")

    monkeypatch.setattr(adapter, "_repo", refuse)


def test_data_add_of_a_file_writes_what_dvc_add_writes(project: Project, tmp_path: Path, without_dvc: None) -> None:
    content = make_csv(300)
    project.write("data/more.csv", content)
    project.ok("data", "add", "data/more.csv")
    twin = tmp_path / "twin"
    (twin / "data").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=twin, check=True)
    subprocess.run([DVC, "init", "-q"], cwd=twin, check=True)
    (twin / "data/more.csv").write_text(content)
    subprocess.run([DVC, "add", "-q", "data/more.csv"], cwd=twin, check=True)
    assert (project.root / "data/more.csv.dvc").read_text() == (twin / "data/more.csv.dvc").read_text()
    assert "/more.csv" in (project.root / "data/.gitignore").read_text().splitlines()
    md5 = (twin / "data/more.csv.dvc").read_text().split("md5: ")[1].split()[0]
    ours = project.root / ".dvc/cache/files/md5" / md5[:2] / md5[2:]
    assert ours.read_bytes() == (twin / ".dvc/cache/files/md5" / md5[:2] / md5[2:]).read_bytes()
    assert not os.access(ours, os.W_OK) or os.geteuid() == 0  # read-only, as DVC leaves it (root may write anyway)
    assert oct(ours.stat().st_mode & 0o222) == oct(0)
    status = subprocess.run([DVC, "status", "data/more.csv.dvc"], cwd=project.root, capture_output=True, text=True, check=True)
    assert "up to date" in status.stdout, status.stdout
    staged = project.git("diff", "--cached", "--name-only").split()
    assert "data/more.csv.dvc" in staged and "data/.gitignore" in staged


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _folder(base: Path) -> None:
    (base / "sub/deeper").mkdir(parents=True)
    (base / "empty_dir").mkdir()
    (base / "a.txt").write_text("same")
    (base / "sub/b.txt").write_text("same")  # two files, one object
    (base / "sub/deeper/ünï cødé.bin").write_bytes(bytes(range(256)) * 16)
    (base / "zero").write_bytes(b"")
    (base / "B.txt").write_text("upper case sorts first")
    for i in range(30):
        (base / "sub" / f"f{i:02d}").write_bytes(hashlib.sha256(b"%d" % i).digest() * 2 if i % 3 else b"%d" % i)


def test_data_add_of_a_directory_writes_what_dvc_add_writes_and_dvc_reads_it(project: Project, tmp_path: Path,
                                                                              without_dvc: None) -> None:
    _folder(project.root / "data/images")
    project.ok("data", "add", "data/images")
    twin = tmp_path / "twin"
    twin.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=twin, check=True)
    subprocess.run([DVC, "init", "-q"], cwd=twin, check=True)
    _folder(twin / "data/images")
    subprocess.run([DVC, "add", "-q", "data/images"], cwd=twin, check=True)
    assert (project.root / "data/images.dvc").read_text() == (twin / "data/images.dvc").read_text()
    assert "/images" in (project.root / "data/.gitignore").read_text().splitlines()
    ours, theirs = _tree(project.root / ".dvc/cache"), _tree(twin / ".dvc/cache")
    template_objects = {k for k in ours if k not in theirs}  # the template project's own data
    assert {k: v for k, v in ours.items() if k not in template_objects} == theirs
    assert any(k.endswith(".dir") for k in theirs)
    for name in theirs:
        assert (project.root / ".dvc/cache" / name).stat().st_mode & 0o222 == 0  # read-only, as DVC leaves them
    status = subprocess.run([DVC, "status"], cwd=project.root, capture_output=True, text=True, check=True)
    assert "up to date" in status.stdout, status.stdout
    # DVC reads it back: pushed by DVC to a fresh remote, everything local deleted, pulled by DVC.
    remote = tmp_path / "remote"
    subprocess.run([DVC, "remote", "add", "-f", "check", str(remote)], cwd=project.root, check=True)
    subprocess.run([DVC, "push", "-q", "-r", "check", "data/images.dvc"], cwd=project.root, check=True)
    before = _tree(project.root / "data/images")
    import shutil

    shutil.rmtree(project.root / "data/images")
    shutil.rmtree(project.root / ".dvc/cache")
    subprocess.run([DVC, "pull", "-q", "-r", "check", "data/images.dvc"], cwd=project.root, check=True)
    assert _tree(project.root / "data/images") == before


def test_a_directory_dvc_treats_specially_goes_through_dvc(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlver.adapters.dvc as adapter

    opened: list[object] = []
    real = adapter._repo
    monkeypatch.setattr(adapter, "_repo", lambda *a, **k: opened.append(a) or real(*a, **k))
    base = project.root / "data/linked"
    base.mkdir(parents=True)
    (base / "real.txt").write_text("x")
    (base / "link.txt").symlink_to("real.txt")
    project.ok("data", "add", "data/linked")
    assert opened  # DVC's own add, not the fast path
    assert "nfiles: 2" in (project.root / "data/linked.dvc").read_text()
    status = subprocess.run([DVC, "status"], cwd=project.root, capture_output=True, text=True, check=True)
    assert "up to date" in status.stdout, status.stdout
