"""validate.py field by field: which field, value, document and reason each refusal names."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlver.domain import validate
from mlver.errors import BadHash, InputTooLarge, UnsafePath, UntrustedInput

MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def _refusal(call: object, *args: object, **kwargs: object) -> UntrustedInput:
    with pytest.raises(UntrustedInput) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    return info.value


def test_reasons_of_unsafe_paths_word_for_word() -> None:
    for path, why in [
        ("a\\b", "it contains a backslash (paths use '/')"),
        ("/a", "it is absolute"),
        ("C:a", "it names a drive"),
        ("a\x7fb", "it contains control characters"),
        ("a/../b", "it climbs out of its folder with '..'"),
        ("a/./b", "it is not in normal form (empty or '.' components)"),
        ("a/" + "é" * 128, "a component is longer than 255 bytes"),  # 256 bytes in 128 characters
        ("a/.Git", "it writes into a .git folder (git would run what it finds there)"),
        ("/".join(["abcdefgh"] * 456), "it is longer than 4096 bytes"),
        (None, "it is not a path"),
    ]:
        err = _refusal(validate.check_relpath, path, "doc", "artifact.path")
        assert isinstance(err, UnsafePath) and (err.what, err.value, err.where, err.why) == ("artifact.path", path, "doc", why)
    assert validate.check_relpath("/".join(["abcdefg"] * 512), "doc")  # 4095 bytes is still a path
    assert validate.check_relpath("a/" + "é" * 127 + "x", "doc")  # a 255-byte component too
    assert validate.check_relpath("a" * 255, "doc")
    assert validate.check_relpath("a.git/b", "doc") and validate.check_relpath("x/..a", "doc")


def test_reserved_folders_name_the_folder() -> None:
    err = _refusal(validate.check_project_path, ".Mlver/records/x.json", "doc", "data[0].path")
    assert (err.what, err.value, err.where) == ("data[0].path", ".Mlver/records/x.json", "doc")
    assert err.why == "it writes into .Mlver/, which belongs to git, DVC or mlver"
    assert _refusal(validate.check_project_path, ".dvc", "doc").why == "it writes into .dvc/, which belongs to git, DVC or mlver"
    assert validate.check_project_path("a/.dvc/x", "doc") == "a/.dvc/x"  # only the top folder is the project's own


@given(st.lists(st.sampled_from(["a", "b", "..", ".", "", ".git", ".dvc", "x.y"]), min_size=1, max_size=5))
def test_a_project_path_never_escapes_or_reaches_a_reserved_folder(parts: list[str]) -> None:
    path = "/".join(parts)
    try:
        validate.check_project_path(path, "doc")
    except UnsafePath:
        return
    assert ".." not in parts and "." not in parts and "" not in parts and ".git" not in parts
    assert parts[0] != ".dvc"


def test_hash_refusals_say_what_a_hash_is() -> None:
    err = _refusal(validate.check_md5, "x", "doc", "artifact.md5")
    assert isinstance(err, BadHash) and (err.what, err.value, err.where) == ("artifact.md5", "x", "doc")
    assert err.why == "a hash is 32 lowercase hex digits (with '.dir' for a directory)"
    assert _refusal(validate.check_md5, "x", "doc", directory=False).why == "a hash is 32 lowercase hex digits"
    assert _refusal(validate.check_md5, "x", "doc").what == "md5"
    err = _refusal(validate.check_commit, "HEAD", "doc", "code.commit")
    assert (err.what, err.value, err.where, err.why) == ("code.commit", "HEAD", "doc", "a commit is 40 (or 64) lowercase hex digits")
    assert _refusal(validate.check_commit, 7, "doc").what == "commit"
    assert _refusal(validate.check_commit, "a" * 41, "doc").value == "a" * 41


def test_an_entry_checks_its_path_and_any_non_empty_md5() -> None:
    validate.check_record({"data": [{"path": "d", "md5": ""}, {"path": "e", "md5": None}, {"path": "f"}]}, "doc")
    err = _refusal(validate.check_record, {"data": [{"path": "d", "md5": MD5}, {"path": "e", "md5": "zz"}]}, "doc")
    assert isinstance(err, BadHash) and (err.what, err.value, err.where) == ("data[1].md5", "zz", "doc")
    err = _refusal(validate.check_record, {"data": [{"path": "d"}, {"path": ".git/x"}]}, "doc")
    assert isinstance(err, UnsafePath) and (err.what, err.value, err.where) == ("data[1].path", ".git/x", "doc")
    err = _refusal(validate.check_record, {"artifact": {"path": ".dvc/x", "md5": MD5}}, "doc")
    assert (err.what, err.where) == ("artifact.path", "doc")
    err = _refusal(validate.check_record, {"artifact": {"path": "m", "md5": MD5.upper()}}, "doc")
    assert (err.what, err.where) == ("artifact.md5", "doc")
    err = _refusal(validate.check_record, {"artifact": ["m"]}, "doc")
    assert isinstance(err, UnsafePath) and (err.what, err.why) == ("artifact", "it is not an object")
    err = _refusal(validate.check_record, {"data": {"path": "d"}}, "doc")
    assert (err.what, err.why) == ("data", "it is not a list of objects")
    err = _refusal(validate.check_record, {"data": [{"path": "d"}, "e"]}, "doc")
    assert (err.what, err.value, err.why) == ("data", [{"path": "d"}, "e"], "it is not a list of objects")
    for key in ("code", "parent"):
        err = _refusal(validate.check_record, {key: {"commit": "main"}}, "doc")
        assert isinstance(err, BadHash) and (err.what, err.value, err.where) == (f"{key}.commit", "main", "doc")
    validate.check_record({"code": {"commit": None}, "parent": "not an object"} | {"parent": None}, "doc")


@pytest.mark.parametrize("doc, what, why", [
    ({"model": 3}, "model", "it is not a string"),
    ({"params": []}, "params", "it is not an object"),
    ({"data": [{"path": "d", "size": "9"}]}, "data[0].size", "it is not an integer"),
    ({"data": [{"path": "d", "size": True}]}, "data[0].size", "it is not an integer"),
    ({"data": [{"path": "d", "nfiles": 1.5}]}, "data[0].nfiles", "it is not an integer"),
    ({"artifact": {"path": "m", "size": False}}, "artifact.size", "it is not an integer"),
    ({"artifact": {"path": "m", "remote": 1}}, "artifact.remote", "it is not a string"),
    ({"artifact": {"md5": MD5}}, "artifact.path", "an artifact has a path"),
    ({"code": {"duration_s": "1s"}}, "code.duration_s", "it is not an integer or a number"),
    ({"code": {"duration_s": True}}, "code.duration_s", "it is not an integer or a number"),
    ({"code": {"clean": "yes"}}, "code.clean", "it is not true or false"),
    ({"code": {"outputs": "x"}}, "code.outputs", "it is not a list"),
    ({"env": {"packages": ["dvc"]}}, "env.packages", "it is not an object"),
    ({"author": {"email": 1}}, "author.email", "it is not a string"),
    ({"data": [3]}, "data", "it is not a list of objects"),  # check_entry's check comes first
    ({"data": [{"md5": MD5}]}, "data[0].path", "every data input has a path"),
    ({"data": [{"path": "d"}, {"path": 5}]}, "data[1].path", "it is not a path"),
    ({"data": [{"path": "d", "profile": []}]}, "data[0].profile", "it is not an object"),
    ({"data": [{"path": "d", "profile": {"rows": "3"}}]}, "data[0].profile.rows", "it is not an integer"),
    ({"data": [{"path": "d", "profile": {"columns": {}}}]}, "data[0].profile.columns", "it is not a list"),
    ({"data": [{"path": "d", "profile": {"columns": [{}, "c"]}}]}, "data[0].profile.columns[1]", "it is not an object"),
    ({"data": [{"path": "d"}, {"path": "e", "profile": {"columns": [{"name": "c", "nulls": "0"}]}}]},
     "data[1].profile.columns[0].nulls", "it is not an integer"),
    ({"data": [{"path": "d", "profile": {"columns": [{"histogram": {"edges": "0,1"}}]}}]},
     "data[0].profile.columns[0].histogram.edges", "it is not a list"),
    ({"data": [{"path": "d", "profile": {"columns": [{"min": []}]}}]},
     "data[0].profile.columns[0].min", "it is not an integer or a number or a string"),
    ({"data": [{"path": "d", "profile": {"columns": [{"top_error": None, "mean": "x"}]}}]},
     "data[0].profile.columns[0].mean", "it is not an integer or a number"),
])
def test_record_fields_of_the_wrong_json_type_are_named(doc: dict, what: str, why: str) -> None:
    err = _refusal(validate.check_record, doc, "the record of m")
    assert (err.what, err.why, err.where) == (what, why, "the record of m")


def test_well_typed_records_and_profiles_pass() -> None:
    column = {"name": "c", "dtype": "int64", "kind": "numeric", "nulls": 0, "unique": 3, "other": 0, "top": [],
              "quantiles": {}, "histogram": {"edges": [0, 1], "counts": [3]}, "min": 0, "max": "z", "mean": 0.5, "std": 1,
              "approximate": {}, "top_error": 0}
    doc = {"model": "m", "created": "t", "digest": "d", "params": {}, "metrics": {}, "framework": {}, "signature": {},
           "artifact": {"path": "m.pkl", "md5": MD5, "size": 1, "nfiles": 1, "remote": "r"},
           "code": {"commit": "a" * 40, "clean": True, "dirty_files": [], "diff_sha256": "x", "command": "c",
                    "exit_code": 0, "started": "t", "duration_s": 1.5, "outputs": []},
           "env": {"packages": {}, "platform": "p", "python": "3"}, "author": {"name": "n", "email": "e"},
           "parent": {"commit": "b" * 64, "digest": "d"},
           "data": [{"path": "d.csv", "md5": MD5, "size": 1, "nfiles": 1, "profile_error": "x",
                     "profile": {"schema": 1, "format": "csv", "rows": 3, "columns": [column]}},
                    {"path": "e", "profile": None}],
           "unknown": {"fields": "pass"}}
    validate.check_record(doc, "r")


def test_depth_is_counted_through_lists_and_objects() -> None:
    validate.check_depth([[[]]], "doc", limit=3)
    validate.check_depth({"a": [{"b": 1}], "c": 2}, "doc", limit=3)
    for doc in ([[[[]]]], {"a": [{"b": []}]}, [{"a": {"b": {}}}]):
        err = _refusal(validate.check_depth, doc, "doc", limit=3)
        assert isinstance(err, InputTooLarge) and (err.what, err.value, err.where) == ("nesting", "over 3 levels", "doc")
        assert err.why == "no mlver document is nested that deep"
    validate.check_depth(5, "doc", limit=1)
    deep: list = []
    for _ in range(validate.MAX_DEPTH):
        deep = [deep]
    with pytest.raises(InputTooLarge):
        validate.check_record({"x": deep}, "doc")  # check_record bounds the depth at MAX_DEPTH
    shallow: list = []
    for _ in range(validate.MAX_DEPTH - 2):
        shallow = [shallow]
    validate.check_record({"x": shallow}, "doc")


def test_size_refusal_fields() -> None:
    err = _refusal(validate.check_size, b"abc", "doc", limit=2)
    assert (err.what, err.value, err.where, err.why) == ("size", "3 bytes", "doc", "mlver reads at most 2 bytes here")
    validate.check_size(b"x" * 100, "doc")
    assert validate.MAX_RECORD_BYTES == 64 * 1024 * 1024


def test_manifest_refusals_name_the_entry() -> None:
    err = _refusal(validate.check_manifest, [("a", MD5), ("a", MD5)], "m.dir")
    assert (err.what, err.value, err.where, err.why) == ("relpath", "a", "m.dir", "it is listed twice")
    err = _refusal(validate.check_manifest, [("x/y/z", MD5), ("x/y", MD5), ("x", MD5)], "m.dir")
    assert (err.what, err.value, err.why) == ("relpath", "x", "it is listed both as a file and as a folder")
    err = _refusal(validate.check_manifest, [("ok", MD5), ("b", MD5 + ".dir")], "m.dir")
    assert (err.what, err.value, err.where) == ("md5 of b", MD5 + ".dir", "m.dir")
    err = _refusal(validate.check_manifest, [("../b", MD5)], "m.dir")
    assert (err.what, err.where) == ("relpath", "m.dir")
    assert validate.check_manifest([("x/y/z", MD5), ("x/yz", MD5), ("xy", MD5)], "m.dir") == [
        ("x/y/z", MD5), ("x/yz", MD5), ("xy", MD5)]
    assert validate.check_manifest([], "m.dir") == []
