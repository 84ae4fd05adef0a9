"""The checks every untrusted path, hash and document passes through."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlver.domain import validate
from mlver.errors import BadHash, InputTooLarge, NameTooLong, UnsafePath, UntrustedInput

GOOD_MD5 = "d41d8cd98f00b204e9800998ecf8427e"


@pytest.mark.parametrize("path", ["models/churn.pkl", "a", "data/ü/日本.csv", "a b/c-d_e.f", "..a/b..", ".hidden/x"])
def test_relative_paths_in_normal_form_pass(path: str) -> None:
    assert validate.check_relpath(path, "here") == path


@pytest.mark.parametrize("path, why", [
    ("../outside/.bashrc", "climbs out"),
    ("models/../../x", "climbs out"),
    ("..", "climbs out"),
    ("/etc/passwd", "absolute"),
    ("//server/share", "absolute"),
    ("models\\..\\..\\x", "backslash"),
    ("C:/Windows/x", "drive"),
    ("c:x", "drive"),
    ("a/./b", "normal form"),
    ("a//b", "normal form"),
    ("a/", "normal form"),
    ("./a", "normal form"),
    ("a\x00b", "control"),
    ("a\nb", "control"),
    ("x/.git/hooks/pre-commit", ".git"),
    (".GIT/config", ".git"),
    ("a/" + "b" * 256, "longer than 255"),
    ("", "not a path"),
])
def test_unsafe_paths_are_refused_with_the_reason(path: str, why: str) -> None:
    with pytest.raises(UnsafePath) as info:
        validate.check_relpath(path, "the record of churn at abc")
    err = info.value
    assert why in err.message and err.message.startswith("the record of churn at abc: path ")
    assert (err.what, err.value, err.where) == ("path", path, "the record of churn at abc")
    assert err.hint and isinstance(err, UntrustedInput)


@pytest.mark.parametrize("value", [None, 3, ["a"], {"a": 1}])
def test_a_path_that_is_not_a_string_is_refused(value: object) -> None:
    with pytest.raises(UnsafePath):
        validate.check_relpath(value, "here")


def test_project_paths_keep_out_of_git_dvc_and_mlver_folders() -> None:
    for path in (".dvc/config.local", ".mlver/records/churn.json", ".git/config", ".DVC/config"):
        with pytest.raises(UnsafePath, match="belongs to git, DVC or mlver|.git folder"):
            validate.check_project_path(path, "here")
    assert validate.check_project_path("data/.dvc-like/x", "here") == "data/.dvc-like/x"
    assert validate.check_project_path(".dvcignore-data/x", "here") == ".dvcignore-data/x"


@pytest.mark.parametrize("md5", [GOOD_MD5, GOOD_MD5 + ".dir"])
def test_dvc_md5s_pass(md5: str) -> None:
    assert validate.check_md5(md5, "here") == md5


@pytest.mark.parametrize("md5", [
    "//ABS/PATH", "..//../../config.local", GOOD_MD5.upper(), GOOD_MD5[:-1], GOOD_MD5 + "0",
    GOOD_MD5 + ".dir/x", GOOD_MD5 + "\n", "", None, 42, "g" * 32,
])
def test_anything_else_is_not_a_hash(md5: object) -> None:
    with pytest.raises(BadHash, match="32 lowercase hex digits"):
        validate.check_md5(md5, "here")


def test_a_manifest_entry_is_a_file_hash_never_a_directory() -> None:
    with pytest.raises(BadHash):
        validate.check_md5(GOOD_MD5 + ".dir", "here", directory=False)


def test_commits_are_full_hex_object_ids() -> None:
    assert validate.check_commit("a" * 40, "here") == "a" * 40
    assert validate.check_commit("b" * 64, "here") == "b" * 64
    for bad in ("--upload-pack=touch /tmp/x", "HEAD", "a" * 39, "A" * 40, "a" * 40 + "\n"):
        with pytest.raises(BadHash):
            validate.check_commit(bad, "here")


def test_manifest_entries_are_checked_for_escape_duplicates_and_clashes() -> None:
    ok = [("a/b.txt", GOOD_MD5), ("a/c.txt", GOOD_MD5), ("ab", GOOD_MD5)]
    assert validate.check_manifest(ok, "m") == ok
    for entries, why in [
        ([("../../../x", GOOD_MD5)], "climbs out"),
        ([("/etc/cron.d/x", GOOD_MD5)], "absolute"),
        ([("a", GOOD_MD5), ("a", GOOD_MD5)], "listed twice"),
        ([("a", GOOD_MD5), ("a/b/c", GOOD_MD5)], "both as a file and as a folder"),
        ([("a/b/c", GOOD_MD5), ("a/b", GOOD_MD5)], "both as a file and as a folder"),
        ([("x", "../../etc")], "32 lowercase hex"),
    ]:
        with pytest.raises(UntrustedInput, match=why):
            validate.check_manifest(entries, "m")


def test_inside_resolves_symlinks_of_folders_but_not_the_last_component(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "real").mkdir(parents=True)
    outside.mkdir()
    os.symlink(outside, root / "link")
    os.symlink(root / "real", root / "inner")
    os.symlink(outside / "target", root / "file-link")
    assert validate.inside(root, root / "real" / "x")
    assert validate.inside(root, root / "not-yet" / "deeper" / "x")
    assert validate.inside(root, root / "inner" / "x")  # a symlink that stays inside is fine
    assert not validate.inside(root, root / "link" / "x")
    assert not validate.inside(root, root / "link" / "sub" / "x")
    assert validate.inside(root, root / "file-link")  # replaced by a rename, never written through
    assert not validate.inside(root, root)
    assert not validate.inside(root, root / ".." / "outside" / "x")
    assert not validate.inside(root, tmp_path / "rootx" / "y")  # a sibling sharing the prefix
    os.symlink(outside, tmp_path / "root-link")
    assert validate.inside(tmp_path / "root-link", outside / "x")  # the root's own symlink is resolved too
    with pytest.raises(UnsafePath, match="resolves outside"):
        validate.check_inside(root, root / "link" / "x", "churn@v0.1.0 models/churn.pkl")


def test_depth_and_size_are_bounded() -> None:
    shallow: dict = {}
    node = shallow
    for _ in range(validate.MAX_DEPTH - 1):
        node["a"] = {}
        node = node["a"]
    validate.check_depth(shallow, "here")
    node["a"] = [1]
    with pytest.raises(InputTooLarge, match="nested"):
        validate.check_depth(shallow, "here")
    validate.check_size(b"x" * 10, "here", limit=10)
    with pytest.raises(InputTooLarge, match="at most 10 bytes"):
        validate.check_size(b"x" * 11, "here", limit=10)


def test_names_have_a_length_limit() -> None:
    assert validate.check_name_length("a" * validate.MAX_NAME) == "a" * validate.MAX_NAME
    with pytest.raises(NameTooLong, match=f"at most {validate.MAX_NAME}"):
        validate.check_name_length("a" * (validate.MAX_NAME + 1))


def test_a_record_is_checked_field_by_field() -> None:
    good = {"artifact": {"path": "models/m.pkl", "md5": GOOD_MD5}, "data": [{"path": "d", "md5": GOOD_MD5 + ".dir"}],
            "code": {"commit": "c" * 40}, "parent": None}
    validate.check_record(good, "r")
    for field, bad, kind in [
        ("artifact", {"path": "../x", "md5": GOOD_MD5}, UnsafePath),
        ("artifact", {"path": "m", "md5": "//ABS/PATH"}, BadHash),
        ("artifact", "models/m.pkl", UnsafePath),
        ("data", [{"path": "/abs", "md5": GOOD_MD5}], UnsafePath),
        ("data", ["d"], UnsafePath),
        ("code", {"commit": "--output=/tmp/x"}, BadHash),
        ("parent", {"commit": "HEAD~1", "digest": "sha256:x"}, BadHash),
    ]:
        with pytest.raises(kind):
            validate.check_record({**good, field: bad}, "r")
