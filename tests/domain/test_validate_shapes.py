"""validate.py's record shapes as compiled rows, what passes them (subclasses of the JSON types) and what
each refusal names; a manifest's clash found at every level of folders."""
from __future__ import annotations

from collections import OrderedDict

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
