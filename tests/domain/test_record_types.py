"""The typed lineage record (mlver/models/record.py): from_doc checks, to_doc gives the very document back."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlver.domain import record as rec
from mlver.errors import MlverError, RecordSchemaError
from mlver.models.record import RecordDoc

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
def profiles(draw: Any) -> dict[str, Any]:
    columns = [{"name": n, "dtype": "int64", "kind": "numeric", "nulls": draw(st.integers(0, 9)),
                "mean": draw(st.floats(-1e3, 1e3)), "std": draw(st.floats(0, 1e3)),
                "histogram": {"edges": [0.0, 1.0], "counts": [draw(st.integers(0, 9))]}}
               for n in draw(st.lists(names, max_size=3, unique=True))]
    return {"schema": 1, "format": "csv", "rows": draw(st.integers(0, 10**6)), "columns": columns}


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
        assert [d.profile for d in typed.data] == [d.get("profile") for d in doc["data"]]
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
