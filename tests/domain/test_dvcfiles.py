"""Which outputs `dvc push` sends, read from DVC's files: untrusted input, checked."""
from __future__ import annotations

import pytest

from mlver.domain.dvcfiles import Pushed, outs_pushed
from mlver.errors import BadHash, UnsafePath, UntrustedInput

A, B, C = "a" * 32, "b" * 32 + ".dir", "c" * 32


def _lock(*outs: dict, stage: str = "train") -> dict:
    return {"schema": "2.0", "stages": {stage: {"cmd": "x", "outs": list(outs)}}}


def test_a_lock_in_a_subfolder_names_paths_from_the_root() -> None:
    doc = _lock({"path": "model.bin", "hash": "md5", "md5": A}, {"path": "feats", "hash": "md5", "md5": B})
    assert outs_pushed("sub/dvc.lock", doc, None, "team").pushed == (Pushed("sub/model.bin", A), Pushed("sub/feats", B))


def test_flags_come_from_dvc_yaml_foreach_stages_included() -> None:
    doc = {"schema": "2.0", "stages": {
        "a": {"outs": [{"path": "x", "hash": "md5", "md5": A}]},
        "b@1": {"outs": [{"path": "y", "hash": "md5", "md5": C}]},
        "c": {"outs": [{"path": "z", "hash": "md5", "md5": B}, {"path": "m.json", "hash": "md5", "md5": C}]},
    }}
    stages = {"stages": {"a": {"outs": [{"x": {"cache": False}}]},
                         "b": {"foreach": [1], "do": {"outs": [{"y": {"push": False}}]}},
                         "c": {"outs": [{"z": {"remote": "team"}}], "metrics": [{"m.json": {"remote": "other"}}]}}}
    assert outs_pushed("dvc.lock", doc, stages, "team").pushed == (Pushed("z", B),)
    assert outs_pushed("dvc.lock", doc, None, "team").pushed == (Pushed("x", A), Pushed("y", C), Pushed("z", B),
                                                                  Pushed("m.json", C))


def test_a_dvc_file_an_import_and_dvc2_hashes() -> None:
    assert outs_pushed("data/d.csv.dvc", {"outs": [{"path": "d.csv", "md5": A, "hash": "md5"}]}, None, "r").pushed \
        == (Pushed("data/d.csv", A),)
    imported = {"deps": [{"path": "x", "repo": {"url": "https://example.com/r"}}], "outs": [{"path": "x", "md5": A, "hash": "md5"}]}
    assert outs_pushed("x.dvc", imported, None, "r").pushed == ()
    old = outs_pushed("x.dvc", {"outs": [{"path": "x", "md5": A}, {"path": "y", "md5": C, "hash": "md5", "push": False}]}, None, "r")
    assert old.pushed == () and old.legacy == ("x",)


@pytest.mark.parametrize("entry, error", [
    ({"path": "m", "hash": "md5", "md5": "../../../etc/passwd"}, BadHash),
    ({"path": "m", "hash": "md5", "md5": A.upper()}, BadHash),
    ({"path": "../../outside", "hash": "md5", "md5": A}, UnsafePath),
    ({"path": "/etc/passwd", "hash": "md5", "md5": A}, UnsafePath),
    ({"path": ["m"], "hash": "md5", "md5": A}, UntrustedInput),
])
def test_a_crafted_entry_refuses_the_file(entry: dict, error: type) -> None:
    with pytest.raises(error):
        outs_pushed("sub/dvc.lock", _lock(entry), None, "r")
    with pytest.raises(error):
        outs_pushed("sub/m.dvc", {"outs": [entry]}, None, "r")


@pytest.mark.parametrize("doc", [[1], {"stages": [1]}, {"stages": {"s": "x"}}, {"stages": {"s": {"outs": ["m"]}}}])
def test_a_lock_of_another_shape_is_refused(doc: object) -> None:
    with pytest.raises(UntrustedInput):
        outs_pushed("dvc.lock", doc, None, "r")
