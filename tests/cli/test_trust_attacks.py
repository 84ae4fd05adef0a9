"""Attacks on the shortcuts that trust cached state (session 7's review): each test
fails on the code before its fix. A co-user of a shared cache or remote, a file
swapped behind mlver's back, or a crafted cache file in ``.git/mlver/cache`` must
lead to hashing, a refusal or a slower command, never to unverified bytes or a
traceback."""
from __future__ import annotations

import os
from pathlib import Path

from fixtures.objects import flip_byte as _flip
from fixtures.objects import md5_of as _md5
from fixtures.objects import object_path as _object

from conftest import Project

SIZE = 3 * 1024 * 1024  # past the small-file path (small objects are always hashed)


def _big(p: Project) -> str:
    p.write("train.py", "import os, json\nos.makedirs('models', exist_ok=True)\n"
            "json.dump({'accuracy': 1}, open('metrics.json', 'w'))\n"
            f"open('models/churn.pkl', 'wb').write(os.urandom({SIZE}))\n")
    p.commit_all("a 3 MiB model")
    p.ok("run", "churn")
    md5: str = p.ok("show", "churn@HEAD", "--json").json()["record"]["doc"]["artifact"]["md5"]
    return md5


def test_a_cache_object_replaced_by_a_symlink_is_hashed_on_every_push(project: Project, tmp_path: Path) -> None:
    # The stat cache looked at a cache object with lstat: for a symlink that is the
    # link's own stat, which stays the same while the file it points to changes.
    p = project
    md5 = _big(p)
    obj = _object(p.root / ".dvc" / "cache", md5)
    outside = tmp_path / "outside.bin"
    outside.write_bytes(obj.read_bytes())
    obj.unlink()
    obj.symlink_to(outside)
    p.ok("push")  # hashed through the link: the bytes are the object's
    assert _md5(_object(p.remote, md5)) == md5
    _flip(outside, SIZE // 2)  # the file behind the link changes; the link does not
    _object(p.remote, md5).unlink()
    assert "does not hash to its name" in p.fails("push").stderr
    assert not _object(p.remote, md5).exists()
    second = tmp_path / "second"
    p.ok("remote", "add", "second", str(second))
    assert "does not hash to its name" in p.fails("push", "-r", "second").stderr
    assert not _object(second, md5).exists()
    os.unlink(obj)
