"""A pull from a folder remote does not hash an object mlver wrote or verified
there while its stat is unchanged (adapters/remotestat.py); any change to the
object, a damaged ledger entry or another remote path means it is hashed."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.objects import BIG, run_big_model
from fixtures.objects import flip_byte as _flip
from fixtures.objects import md5_of as _md5
from fixtures.objects import object_path as _object

from conftest import Project
from mlver.adapters import remotestat


def _pushed_big(p: Project) -> str:
    md5 = run_big_model(p)
    p.ok("push")
    return md5


def _drop(p: Project) -> None:
    shutil.rmtree(p.root / ".dvc" / "cache")
    (p.root / "models/churn.pkl").unlink()


_OPENED: list[remotestat.Ledger] = []


@pytest.fixture(autouse=True)
def _opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every ledger the commands open, kept to read its counts afterwards (the real ledger: only its creation is watched)."""
    real = remotestat.Ledger.__init__

    def init(self: remotestat.Ledger, path: str | None = None) -> None:
        real(self, path)
        _OPENED.append(self)

    monkeypatch.setattr(remotestat.Ledger, "__init__", init)
    yield
    _OPENED.clear()


def _counts() -> dict[str, int]:
    """What the ledgers opened so far did with large remote objects: copied on trust, or hashed."""
    return {k: sum(ledger.counts[k] for ledger in _OPENED) for k in ("trusted", "hashed")}


def _pull(p: Project, *args: str) -> dict[str, int]:
    """Pull churn@HEAD; how many remote objects were copied on trust and how many hashed."""
    before = _counts()
    p.ok("pull", "churn@HEAD", *args)
    return {k: n - before[k] for k, n in _counts().items()}


def _ledger() -> Path:
    path = remotestat.store_file()
    assert path is not None
    return Path(path)


def _entries() -> dict[str, list]:
    doc: dict[str, dict[str, list]] = json.loads(_ledger().read_text())
    return doc["objects"]


def _dvc(p: Project, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=p.root, check=True,
                          capture_output=True, text=True).stdout


def test_pull_of_what_push_wrote_is_not_hashed_and_dvc_agrees(project: Project) -> None:
    p = project
    md5 = _pushed_big(p)
    key = os.path.realpath(_object(p.remote, md5))
    entry = _entries()[key]
    st = os.stat(key)
    assert entry == [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, md5]
    _drop(p)
    assert _pull(p, "--with-data") == {"trusted": 1, "hashed": 0}  # (the small data file: read whole, hashed)
    assert _md5(p.root / "models/churn.pkl") == md5 == _md5(_object(p.root / ".dvc" / "cache", md5))
    assert "up to date" in _dvc(p, "status")
    _dvc(p, "pull")
    assert "up to date" in _dvc(p, "status") and _md5(p.root / "models/churn.pkl") == md5


def test_remote_object_rewritten_with_its_mtime_put_back_is_refused(project: Project) -> None:
    p = project
    md5 = _pushed_big(p)
    _flip(_object(p.remote, md5), BIG // 2)  # same size, inode and mtime; the ctime moved
    _drop(p)
    before = _counts()
    run = p.fails("pull", "churn@HEAD")
    assert "the object in remote mlver-local is corrupt" in run.stderr
    assert _counts() == {"trusted": before["trusted"], "hashed": before["hashed"] + 1}
    assert not (p.root / "models/churn.pkl").exists() and not _object(p.root / ".dvc" / "cache", md5).exists()
    assert os.path.realpath(_object(p.remote, md5)) not in _entries()  # the stale entry is dropped


def test_damaged_or_foreign_ledger_entries_are_not_trusted(project: Project) -> None:
    p = project
    md5 = _pushed_big(p)
    obj = _object(p.remote, md5)
    key = os.path.realpath(obj)
    _flip(obj, 7)
    st = os.stat(obj)
    good = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, md5]
    # Entries matching the rewritten object's stat, each damaged one way: all hashed, all refused.
    for entry in ([*good[:5], md5.upper()], [*good[:4], str(good[4]), md5], good[:5], [*good, 1], {"a": 1}):
        _ledger().write_text(json.dumps({"format": remotestat.FORMAT, "objects": {key: entry}}))
        _drop_cache(p)
        assert "is corrupt" in p.fails("pull", "churn@HEAD").stderr, entry
    for text in ("{", json.dumps({"format": 99, "objects": {key: good}}), json.dumps([good])):
        _ledger().write_text(text)
        assert "is corrupt" in p.fails("pull", "churn@HEAD").stderr, text
    # A well-formed entry in a ledger others can write is not read either.
    _ledger().write_text(json.dumps({"format": remotestat.FORMAT, "objects": {key: good}}))
    os.chmod(_ledger(), 0o666)
    assert "is corrupt" in p.fails("pull", "churn@HEAD").stderr
    # The same entry in the user's own ledger is trusted: the proof that a match skips the hash.
    os.chmod(_ledger(), 0o600)
    _ledger().write_text(json.dumps({"format": remotestat.FORMAT, "objects": {key: good}}))
    assert _pull(p) == {"trusted": 1, "hashed": 0}


def _drop_cache(p: Project) -> None:
    shutil.rmtree(p.root / ".dvc" / "cache", ignore_errors=True)
    (p.root / "models/churn.pkl").unlink(missing_ok=True)


def test_another_remote_path_is_hashed_then_recorded_once_verified(project: Project) -> None:
    p = project
    md5 = _pushed_big(p)
    other = p.root.parent / "other-remote"
    shutil.copytree(p.remote, other, copy_function=shutil.copy2)  # same bytes and mtimes, another path
    _dvc(p, "remote", "add", "--local", "other", str(other))
    _drop(p)
    copied = _object(other, md5)
    st = os.stat(copied)
    # Its last change is made now (ctime; the mtime kept), not as long ago as `dvc remote add` took on a busy machine.
    os.utime(copied, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _pull(p, "-r", "other") == {"trusted": 0, "hashed": 1}  # a fresh copy: hashed, not yet recorded
    assert os.path.realpath(_object(other, md5)) not in _entries()
    time.sleep(remotestat.RACY_S + 0.1)  # its last change is now old enough for a later one to show
    _drop(p)
    assert _pull(p, "-r", "other") == {"trusted": 0, "hashed": 1}
    assert os.path.realpath(_object(other, md5)) in _entries()
    _drop(p)
    assert _pull(p, "-r", "other") == {"trusted": 1, "hashed": 0}
    assert _md5(p.root / "models/churn.pkl") == md5


def test_what_one_clone_pushed_another_pulls_without_hashing(project: Project) -> None:
    p = project
    md5 = _pushed_big(p)
    clone = Project(p.root.parent / "clone")
    subprocess.run(["git", "clone", "-q", str(p.root), str(clone.root)], check=True)
    (clone.root / ".dvc" / "config.local").write_text((p.root / ".dvc" / "config.local").read_text())
    assert _pull(clone) == {"trusted": 1, "hashed": 0}
    assert _md5(clone.root / "models/churn.pkl") == md5


def test_pull_repo_from_a_folder_remote_trusts_the_ledger_and_refuses_a_change(project: Project, tmp_path: Path) -> None:
    p = project
    team = p.root.parent / "team-remote"
    p.ok("remote", "add", "team", str(team), "--default", "--shared")  # in .dvc/config: what --repo reads
    md5 = _pushed_big(p)
    p.ok("release", "churn")
    url, out = p.root.as_uri(), tmp_path / "served.pkl"
    before = _counts()
    p.ok("pull", "churn", "--repo", url, "-o", str(out))
    assert {k: n - before[k] for k, n in _counts().items()} == {"trusted": 1, "hashed": 0}
    assert _md5(out) == md5
    _flip(_object(team, md5), BIG // 2)  # same size, inode and mtime; the ctime moved
    before = _counts()
    assert "is corrupt" in p.fails("pull", "churn", "--repo", url, "-o", str(tmp_path / "again.pkl")).stderr
    assert _counts() == {"trusted": before["trusted"], "hashed": before["hashed"] + 1}
    assert not (tmp_path / "again.pkl").exists()
    assert os.path.realpath(_object(team, md5)) not in _entries()


def test_a_remote_object_hardlinked_or_replaced_by_a_symlink_is_hashed(project: Project, tmp_path: Path) -> None:
    # Held (session 7's review): a new link moves the object's ctime; a symlink in its
    # place leads to another inode; either way the ledger's stat no longer matches.
    p = project
    md5 = _pushed_big(p)
    obj = _object(p.remote, md5)
    os.link(obj, tmp_path / "second-name")
    _drop(p)
    assert _pull(p) == {"trusted": 0, "hashed": 1}
    assert _md5(p.root / "models/churn.pkl") == md5
    outside = tmp_path / "outside"
    shutil.copy(obj, outside)
    obj.unlink()
    obj.symlink_to(outside)
    _drop(p)
    assert _pull(p) == {"trusted": 0, "hashed": 1}
    _flip(outside, BIG // 2)  # a change behind the link: hashed, refused
    _drop(p)
    assert "is corrupt" in p.fails("pull", "churn@HEAD").stderr
