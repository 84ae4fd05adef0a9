"""The record's path, canonical form, digest, schema check and flattening."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlver.domain import record
from mlver.errors import RecordSchemaError, RecordUnreadable

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=10,
)
records = st.dictionaries(st.text(max_size=6).filter(lambda k: k != "digest"), json_values, max_size=5)


def test_record_paths_map_monorepo_names_one_to_one() -> None:
    assert record.record_path("churn") == ".mlver/records/churn.json"
    assert record.record_path("sub/proj:nested") == ".mlver/records/sub/proj=nested.json"
    assert record.record_model(".mlver/records/churn.json") == "churn"
    assert record.record_model(".mlver/records/sub/proj=nested.json") == "sub/proj:nested"


@pytest.mark.parametrize("path", [
    ".mlver/records/churn.txt", ".mlver/record/churn.json", "x/.mlver/records/churn.json", ".mlver/records/.json",
    ".mlver/records/a=b=c.json", ".mlver/records/Bad Name.json", ".mlver/records/../x.json",
    ".mlver/records/sub/proj:nested.json",  # the ':' form is never a file name: it is written '='
    ".mlver/records/churn.json.json",
])
def test_any_other_path_has_no_model(path: str) -> None:
    assert record.record_model(path) is None


@given(records)
def test_seal_then_is_intact_and_any_edit_breaks_it(doc: dict) -> None:
    sealed = record.seal(doc)
    assert "digest" not in doc  # seal copies
    assert sealed["digest"].startswith("sha256:") and len(sealed["digest"]) == 7 + 64
    assert record.is_intact(sealed)
    assert record.compute_digest(sealed) == record.compute_digest(doc)  # the digest field is not part of it
    assert record.seal(sealed) == sealed
    edited = dict(sealed, extra_field_added=1)
    assert not record.is_intact(edited)
    assert not record.is_intact(doc)


def test_canonical_is_compact_sorted_utf8_without_the_digest() -> None:
    assert record.canonical({"b": 1, "a": "é", "digest": "x"}) == '{"a":"é","b":1}'.encode()
    doc = {"digest": "x", "n": [1, 2]}
    record.canonical(doc)
    assert doc == {"digest": "x", "n": [1, 2]}  # the caller's record is left alone


def test_dumps_is_pretty_sorted_with_a_trailing_newline_and_loads_reads_it_back() -> None:
    doc = {"schema": record.SCHEMA, "b": {"y": 1, "x": "é"}, "a": []}
    text = record.dumps(doc)
    assert text == '{\n  "a": [],\n  "b": {\n    "x": "é",\n    "y": 1\n  },\n  "schema": 1\n}\n'
    assert record.loads(text, "m") == doc
    assert record.loads(text.encode(), "m") == doc


def test_loads_refuses_what_is_not_a_record_of_this_schema() -> None:
    with pytest.raises(RecordUnreadable, match="the record of m is not valid JSON") as err:
        record.loads("{", "m")
    assert err.value.hint.startswith("restore it from git: `git checkout HEAD -- .mlver/records/m.json`")
    assert (err.value.model, err.value.path) == ("m", ".mlver/records/m.json")
    with pytest.raises(RecordUnreadable, match="the record of m is not a JSON object"):
        record.loads("[1]", "m")
    with pytest.raises(RecordSchemaError, match="has schema 2, this mlver reads schema 1"):
        record.loads(json.dumps({"schema": 2}), "m")
    with pytest.raises(RecordSchemaError, match="has schema None"):
        record.loads("{}", "m")


def test_flatten_joins_nested_keys_with_dots() -> None:
    assert record.flatten({"train": {"lr": 0.1, "opt": {"name": "adam"}}, "seed": 1, "empty": {}, "xs": [1, {"a": 1}]}) == {
        "train.lr": 0.1, "train.opt.name": "adam", "seed": 1, "empty": {}, "xs": [1, {"a": 1}]}
    assert record.flatten({1: {2: 3}}) == {"1.2": 3}
    assert record.flatten(5) == {} and record.flatten(5, "p") == {"p": 5}
    assert record.flatten({"a": 1}, "top") == {"top.a": 1}
