"""The DVC readers hand on no hash that is not one and no manifest path that escapes.

(dvc.lock at HEAD is re-checked by DVC itself before mlver reads it; at other
commits, as derived lineage reads it, these readers are the only check.)
"""
from __future__ import annotations

import json

import pytest

from mlver.adapters import dvc
from mlver.adapters.storage import object_relpath
from mlver.errors import BadHash, ObjectCorrupt, UnsafePath

GOOD = "d41d8cd98f00b204e9800998ecf8427e"


def test_lock_and_dvc_file_md5s_are_checked() -> None:
    outs = dvc.outs_from_lock([{"path": "model.pkl", "md5": GOOD}, {"path": "eval", "md5": GOOD + ".dir"},
                               {"path": "no-hash-yet"}])
    assert [o.md5 for o in outs] == [GOOD, GOOD + ".dir", ""]
    with pytest.raises(BadHash, match="dvc.lock: md5 of model.pkl '..//../../config.local' is refused"):
        dvc.outs_from_lock([{"path": "model.pkl", "md5": "..//../../config.local"}])
    assert dvc.out_from_dvcfile(f"outs:\n- md5: {GOOD}\n  path: train.csv\n", "data/train.csv").md5 == GOOD
    with pytest.raises(BadHash, match="data/train.csv.dvc: md5 of data/train.csv '//etc/passwd' is refused"):
        dvc.out_from_dvcfile("outs:\n- md5: //etc/passwd\n  path: train.csv\n", "data/train.csv")


def test_object_paths_refuse_what_is_not_a_hash() -> None:
    assert object_relpath(GOOD) == f"{GOOD[:2]}/{GOOD[2:]}"
    for bad in ("//ABS/PATH", "../../x", GOOD[:31]):
        with pytest.raises(BadHash):
            object_relpath(bad)


def test_manifests_are_parsed_then_checked() -> None:
    good = json.dumps([{"md5": GOOD, "relpath": "a/b.txt"}]).encode()
    assert dvc.parse_dir_manifest(good) == [("a/b.txt", GOOD)]
    with pytest.raises(UnsafePath, match="manifest x: relpath '../../../x' is refused"):
        dvc.parse_dir_manifest(json.dumps([{"md5": GOOD, "relpath": "../../../x"}]).encode(), "manifest x")
    for corrupt in (b"{", b"[1]", b'[{"relpath": "a"}]', b"[" * 100_000 + b"]" * 100_000):
        with pytest.raises(ObjectCorrupt, match="is corrupt"):
            dvc.parse_dir_manifest(corrupt)
