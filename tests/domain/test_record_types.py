"""The typed lineage record (mlver/models/record.py): from_doc checks, to_doc gives the very document back."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlver.domain import record as rec
from mlver.errors import MlverError, RecordSchemaError
from mlver.models.record import ProfileDoc, RecordDoc

hexes = st.text("0123456789abcdef", min_size=32, max_size=32)
names = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
paths = st.lists(names, min_size=1, max_size=3).map("/".join)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=6))
# A newer mlver's (or a user's) fields, beside the known ones: kept as they are.
unknown = st.dictionaries(st.sampled_from(["zz_new", "x_future", "note"]), scalars, max_size=2)


def _maybe(draw: Any, doc: dict[str, Any], key: str, value: Any) -> None:
    """The key absent, present as null, or with the value: all three must survive."""
    how = draw(st.sampled_from(["absent", "null", "value", "value"]))
    if how != "absent":
        doc[key] = None if how == "null" else value


@st.composite
def columns(draw: Any, name: str) -> dict[str, Any]:
    col: dict[str, Any] = {"name": name, "dtype": "int64", "nulls": draw(st.integers(0, 9)), **draw(unknown)}
    if draw(st.booleans()):
        col |= {"kind": "numeric", "mean": draw(st.floats(-1e3, 1e3)), "std": draw(st.floats(0, 1e3)),
                "min": draw(st.integers(-9, 0)), "max": draw(st.integers(0, 9)),
                "quantiles": {"p01": draw(st.floats(-1, 1)), "p50": None}}
        _maybe(draw, col, "histogram", {"edges": [0.0, 1.0], "counts": [draw(st.integers(0, 9))], **draw(unknown)})
    else:
        top = [[v, draw(st.integers(1, 9))] for v in draw(st.lists(st.text(max_size=4), max_size=3, unique=True))]
        col |= {"kind": "categorical", "dtype": "str", "unique": len(top), "top": top, "other": draw(st.integers(0, 9))}
        _maybe(draw, col, "top_error", draw(st.integers(0, 3)))
    _maybe(draw, col, "approximate", {"unique": "KMV estimate"})
    return col


@st.composite
def profiles(draw: Any) -> dict[str, Any]:
    profile: dict[str, Any] = {"format": "csv", "rows": draw(st.integers(0, 10**6)), **draw(unknown)}
    _maybe(draw, profile, "schema", 2)
    _maybe(draw, profile, "columns", [draw(columns(n)) for n in draw(st.lists(names, max_size=3, unique=True))])
    return profile


@st.composite
def records(draw: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema": rec.SCHEMA, "model": draw(names), **draw(unknown)}
    artifact: dict[str, Any] = {"path": draw(paths), **draw(unknown)}
    for key, value in (("md5", draw(hexes)), ("size", draw(st.integers(0, 10**9))), ("remote", draw(names))):
        _maybe(draw, artifact, key, value)
    _maybe(draw, doc, "artifact", artifact)
    code: dict[str, Any] = dict(draw(unknown))
    for key, value in (("commit", draw(hexes) + "a" * 8), ("clean", draw(st.booleans())), ("command", "python train.py"),
                       ("exit_code", draw(st.integers(0, 3))), ("duration_s", draw(st.floats(0, 1e4))),
                       ("dirty_files", draw(st.lists(paths, max_size=2))), ("outputs", draw(st.lists(paths, max_size=2)))):
        _maybe(draw, code, key, value)
    _maybe(draw, doc, "code", code)
    data = []
    for path in draw(st.lists(paths, max_size=3, unique=True)):
        entry: dict[str, Any] = {"path": path, **draw(unknown)}
        for key, value in (("md5", draw(hexes)), ("size", draw(st.integers(0, 10**9))), ("nfiles", draw(st.integers(1, 9))),
                           ("profile", draw(profiles())), ("profile_error", "too large")):
            _maybe(draw, entry, key, value)
        data.append(entry)
    _maybe(draw, doc, "data", data)
    _maybe(draw, doc, "params", draw(st.dictionaries(names, scalars, max_size=4)))
    _maybe(draw, doc, "metrics", draw(st.dictionaries(names, scalars, max_size=4)))
    env: dict[str, Any] = {"python": "3.11.7", **draw(unknown)}
    _maybe(draw, env, "packages", draw(st.dictionaries(names, st.text(max_size=5), max_size=3)))
    _maybe(draw, doc, "env", env)
    _maybe(draw, doc, "author", {"name": draw(st.text(max_size=8)), "email": "a@b.c"})
    _maybe(draw, doc, "parent", {"commit": draw(hexes) + "b" * 8, "digest": "sha256:" + "0" * 64})
    _maybe(draw, doc, "created", "2026-12-01T18:00:00Z")
    return rec.seal(doc)


@settings(max_examples=50)
@given(records())
def test_to_doc_of_from_doc_is_the_document_its_digest_and_its_bytes(doc: dict[str, Any]) -> None:
    typed = RecordDoc.from_doc(doc, "test")
    back = typed.to_doc()
    assert back == doc and list(back) == list(doc)
    assert rec.dumps(back) == rec.dumps(doc)  # byte-identical on disk
    assert rec.compute_digest(back) == doc["digest"] == typed.digest and rec.is_intact(back)
    assert typed.schema == rec.SCHEMA and typed.model == doc["model"]
    assert {k: v for k, v in doc.items() if k not in RecordDoc.KNOWN} == dict(typed.extra)
    if doc.get("artifact"):
        assert typed.artifact is not None and typed.artifact.path == doc["artifact"]["path"]
        assert typed.artifact.md5 == doc["artifact"].get("md5")
    if doc.get("data"):
        assert typed.data is not None and [d.path for d in typed.data] == [d["path"] for d in doc["data"]]
        assert [d.profile and d.profile.to_doc() for d in typed.data] == [d.get("profile") for d in doc["data"]]
        for d, entry in zip(typed.data, doc["data"], strict=True):
            if d.profile:  # typed down to the columns
                assert d.profile.rows == entry["profile"]["rows"] and d.profile.schema == entry["profile"].get("schema")
                assert [c.name for c in d.profile.columns or ()] == [c["name"] for c in entry["profile"].get("columns") or []]
    if doc.get("code"):
        assert typed.code is not None and typed.code.commit == doc["code"].get("commit")


def test_the_parts_are_typed() -> None:
    doc = rec.seal({"schema": 1, "model": "churn", "artifact": {"path": "m.pkl", "md5": "a" * 32, "size": 3},
                    "code": {"commit": "c" * 40, "clean": True}, "metrics": {"loss": 0.5},
                    "data": [{"path": "d.csv", "md5": "b" * 32, "profile": None}], "env": {"packages": {"numpy": "2.0"}}})
    typed = RecordDoc.from_doc(doc)
    assert typed.artifact is not None and (typed.artifact.path, typed.artifact.size, typed.artifact.remote) == ("m.pkl", 3, None)
    assert typed.code is not None and typed.code.clean is True and typed.code.command is None
    assert typed.data is not None and typed.data[0].md5 == "b" * 32 and typed.data[0].profile is None
    assert typed.env is not None and typed.env.packages == {"numpy": "2.0"} and typed.parent is None
    assert typed.metrics == {"loss": 0.5} and typed.to_doc() == doc


@pytest.mark.parametrize(("doc", "error"), [
    ({"schema": 2, "model": "churn"}, RecordSchemaError),  # a newer mlver's record
    ({"model": "churn"}, RecordSchemaError),
    ({"schema": True, "model": "churn"}, RecordSchemaError),  # true == 1, but it is no schema number
    ({"schema": 1, "params": "lr=0.1"}, MlverError),  # the shape checks of domain/validate.py
    ({"schema": 1, "artifact": {"path": "../../etc/passwd", "md5": "a" * 32}}, MlverError),
    ({"schema": 1, "data": [{"path": "d.csv", "md5": "not-hex"}]}, MlverError),
    ({"schema": 1, "code": {"commit": "--upload-pack=evil"}}, MlverError),
    ({"schema": 1, "data": [{"md5": "a" * 32}]}, MlverError),  # an input without a path
])
def test_from_doc_refuses_what_validate_refuses_and_other_schemas(doc: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        RecordDoc.from_doc(doc, "the record of churn at HEAD")


def test_profiles_are_typed_and_checked() -> None:
    doc = {"format": "csv", "rows": 3, "columns": [
        {"name": "age", "dtype": "int64", "kind": "numeric", "nulls": 0, "min": 1, "max": 3, "mean": 2.0, "std": 1.0,
         "histogram": {"edges": [1.0, 2.0, 3.0], "counts": [1, 2]}},
        {"name": "city", "dtype": "str", "kind": "categorical", "nulls": 1, "unique": 2, "top": [["paris", 2]], "other": 0}]}
    typed = ProfileDoc.from_doc(doc)
    age, city = typed.columns or ()
    assert typed.schema is None and typed.rows == 3 and age.histogram is not None and age.histogram.counts == [1, 2]
    assert (age.kind, age.mean, city.top, city.histogram) == ("numeric", 2.0, [["paris", 2]], None)
    assert typed.to_doc() == doc
    for bad in ({"rows": "3"}, {"columns": [1]}, {"columns": [{"name": "x", "nulls": "0"}]}, ["rows"],
                {"columns": [{"name": "x", "histogram": {"counts": "1"}}]}):
        with pytest.raises(MlverError):
            ProfileDoc.from_doc(bad, "the profile cache")
