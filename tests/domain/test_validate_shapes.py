"""validate.py's record shapes as compiled rows, what passes them (subclasses of the JSON types) and what
each refusal names; a manifest's clash found at every level of folders."""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import pytest

from mlver.domain import validate
from mlver.errors import RecordShapeError, UntrustedInput

MD5 = "d41d8cd98f00b204e9800998ecf8427e"


class Count(int):
    """An int that is not exactly int (JSON never gives one; Python callers may)."""


def test_a_shape_compiles_to_rows_of_key_type_subshape_integer_and_exact_types() -> None:
    shape = {"a": str, "n": int, "x": (int, float), "t": (int, float, str), "o": {"k": bool, "l": list}}
    assert validate._compiled(shape) == (
        ("a", str, None, False, frozenset({str})),
        ("n", int, None, True, frozenset({int})),
        ("x", (int, float), None, True, frozenset({int, float})),
        ("t", (int, float, str), None, False, frozenset({int, float, str})),
        ("o", dict, (("k", bool, None, False, frozenset({bool})), ("l", list, None, False, frozenset({list}))),
         False, frozenset({dict})),
    )
    # the record's rows are the record's shape compiled (worked out once, at import)
    assert validate._RECORD_ROWS == validate._compiled(validate._RECORD_SHAPE)
    assert validate._COLUMN_ROWS == validate._compiled(validate._COLUMN_SHAPE)
    assert validate._compiled({}) == ()


def test_compiled_rows_refuse_and_pass_by_json_type() -> None:
    rows = validate._compiled({"a": str, "n": int, "x": (int, float), "t": (int, float, str), "o": {"k": bool}})
    validate._check_shape({"a": "s", "n": 1, "x": 1.5, "t": "z", "o": {"k": False}, "other": object()}, rows, "doc", "p.")
    validate._check_shape({"n": Count(3), "x": Count(2), "o": OrderedDict(k=True), "t": True}, rows, "doc", "")
    for obj, what, why in [
        ({"a": 1}, "p.a", "it is not a string"),
        ({"n": True}, "p.n", "it is not an integer"),
        ({"n": 1.0}, "p.n", "it is not an integer"),
        ({"x": False}, "p.x", "it is not an integer or a number"),
        ({"t": None, "o": {"k": 1}}, "p.o.k", "it is not true or false"),
        ({"o": [("k", True)]}, "p.o", "it is not an object"),
    ]:
        with pytest.raises(RecordShapeError) as info:
            validate._check_shape(obj, rows, "doc", "p.")
        value = obj.get("o", {}).get("k") if what == "p.o.k" else obj[what.split(".")[-1]]
        assert (info.value.what, info.value.value, info.value.where, info.value.why) == (what, value, "doc", why)


def test_a_record_built_in_python_may_use_subclasses_of_the_json_types() -> None:
    doc = {"params": OrderedDict(lr=0.1), "artifact": {"path": "m.pkl", "size": Count(5)},
           "data": [{"path": "d", "nfiles": Count(1), "profile": {"rows": Count(2), "columns": [OrderedDict(nulls=Count(0))]}}]}
    validate.check_record(doc, "doc")
    with pytest.raises(RecordShapeError) as info:
        validate.check_record({"data": [{"path": "d", "profile": {"columns": [{"nulls": True}]}}]}, "the record")
    assert (info.value.what, info.value.value, info.value.where) == ("data[0].profile.columns[0].nulls", True, "the record")
    with pytest.raises(RecordShapeError) as info:
        validate.check_record({"metrics": ["auc"]}, "the record")
    assert (info.value.what, info.value.value) == ("metrics", ["auc"])


def test_a_manifest_clash_is_found_at_any_depth_and_names_its_document() -> None:
    for entries, clash in [
        ([("a/b/c/d", MD5), ("a/b", MD5)], "a/b"),  # two levels up
        ([("a/b", MD5), ("a/b/c/d", MD5)], "a/b"),
        ([("a/b/c/d", MD5), ("a/b/c", MD5)], "a/b/c"),  # the file's own folder
        ([("a/b/c/d", MD5), ("a", MD5)], "a"),  # the top
        ([("x/y", MD5), ("a/b/c", MD5), ("x", MD5), ("a/b", MD5)], "a/b"),  # the first in order
    ]:
        with pytest.raises(UntrustedInput) as info:
            validate.check_manifest(entries, "data.dir")
        err = info.value
        assert (err.what, err.value, err.where, err.why) == (
            "relpath", clash, "data.dir", "it is listed both as a file and as a folder"), entries
    ok = [("a/b/c", MD5), ("a/bc", MD5), ("ab", MD5), ("a/b/cd/e", MD5)]
    assert validate.check_manifest(ok, "data.dir") == ok


def test_the_record_shape_check_on_its_own_names_entries_that_are_not_objects() -> None:
    # check_record refuses these first; the shape check keeps its own guard and says the same
    for doc, what, value, why in [
        ({"data": [{"path": "d"}, 3]}, "data[1]", 3, "it is not an object"),
        ({"data": [{"path": 5}]}, "data[0].path", 5, "every data input has a path"),
        ({"data": [{"path": "d", "profile": {"columns": [{}, "c"]}}]}, "data[0].profile.columns[1]", "c", "it is not an object"),
        ({"artifact": {"md5": MD5}}, "artifact.path", None, "an artifact has a path"),
    ]:
        with pytest.raises(RecordShapeError) as info:
            validate._check_record_shape(doc, "the record")
        assert (info.value.what, info.value.value, info.value.where, info.value.why) == (what, value, "the record", why)
    with pytest.raises(UntrustedInput) as info:
        validate.check_record({"artifact": "m"}, "the record")
    assert (info.value.what, info.value.value, info.value.where) == ("artifact", "m", "the record")


def test_depth_counts_every_container_of_a_level_not_only_the_last() -> None:
    for doc in ([[[[]]], []], {"a": [[[]]], "b": {}}, [{"a": [[]]}, {"b": 1}]):
        with pytest.raises(UntrustedInput) as info:
            validate.check_depth(doc, "doc", limit=3)
        assert info.value.where == "doc"
    deep: list = []
    for _ in range(validate.MAX_DEPTH):
        deep = [deep]
    with pytest.raises(UntrustedInput) as info:
        validate.check_record({"x": deep}, "the record", containers=validate.MAX_DEPTH + 1)
    assert info.value.where == "the record"


def test_a_path_of_exactly_4096_bytes_passes_the_slow_rules_too() -> None:
    slow = "/".join([".x" + "é" * 100] * 20)  # components start with '.': not a plain path
    slow += "a" * (validate.MAX_PATH_BYTES - len(slow.encode()))
    assert len(slow.encode()) == validate.MAX_PATH_BYTES and validate.check_relpath(slow, "doc") == slow
    with pytest.raises(UntrustedInput, match="longer than 4096 bytes"):
        validate.check_relpath(slow + "a", "doc")


def test_defaults_name_what_was_checked(tmp_path: Path) -> None:
    from mlver.errors import NameTooLong

    with pytest.raises(NameTooLong) as too_long:
        validate.check_name_length("a" * 101)
    assert too_long.value.kind == "model"
    with pytest.raises(UntrustedInput) as info:
        validate.check_project_path(".git/x", "doc")
    assert info.value.what == "path"
    with pytest.raises(UntrustedInput) as info:
        validate.check_inside(tmp_path / "root", tmp_path / "elsewhere", "the pull")
    err = info.value
    assert (err.what, err.value, err.where, err.why) == (
        "destination", str(tmp_path / "elsewhere"), "the pull", f"it resolves outside {tmp_path / 'root'} (through '..' or a symlink)")
    assert err.hint == "remove the symlink on the way, or pull with -o to a folder of your choice"
    assert validate.check_inside(tmp_path, tmp_path / "x", "doc") == tmp_path / "x"
    root = tmp_path / "r"
    (root / "d").mkdir(parents=True)
    (root / "d" / "up").symlink_to(tmp_path)
    with pytest.raises(UntrustedInput) as info:
        validate.check_all_inside(root, root / "d", ["a", "up/f"], "data.dir")
    assert (info.value.what, info.value.where) == ("destination", "data.dir/up/f")


def test_a_last_component_that_is_no_name_is_never_inside(tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "a").mkdir(parents=True)
    for rel in ("a/..", "a/.", "a/", ".."):
        assert validate.outside_of(root, root, ["a/f", rel]) == rel
    assert validate.outside_of(root, root, ["a/f", "b"]) is None
    assert not validate.inside(root, root / "a" / "..") and not validate.inside(root, Path("/"))
    assert validate.inside(root, root / "a" / "f")
    # a sibling whose name starts with the root's is outside; everything is inside "/"
    (tmp_path / "rx").mkdir()
    (root / "link").symlink_to(tmp_path / "rx")
    assert validate.outside_of(root, root, ["link/f"]) == "link/f"
    assert validate.outside_of(Path("/"), tmp_path, ["r/a/f", "f"]) is None
