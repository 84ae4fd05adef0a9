"""The one-pass shape check (validate._fits, taken before the field-by-field
rules) changes no verdict: for records whose fields get any JSON value
(right type, wrong type, bool for int, null, nested junk), and for
subclasses of the JSON types, check_record raises the same error, or none,
as the rules alone."""
from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlver.domain import validate
from mlver.errors import MlverError

BASE: dict[str, Any] = {
    "schema": 1, "model": "m", "created": "2026-01-01T00:00:00Z", "digest": "sha256:" + "0" * 64,
    "params": {"lr": 0.1}, "metrics": {"acc": 0.9},
    "artifact": {"path": "models/m.pkl", "md5": "a" * 32, "size": 10, "nfiles": 1, "remote": "r"},
    "code": {"commit": "c" * 40, "clean": True, "dirty_files": [], "diff_sha256": None, "command": "python t.py",
             "exit_code": 0, "started": "2026-01-01T00:00:00Z", "duration_s": 1.5},
    "data": [{"path": "data/d.csv", "md5": "b" * 32, "size": 5, "nfiles": 1,
              "profile": {"schema": 1, "format": "csv", "rows": 3,
                          "columns": [{"name": "x", "dtype": "int64", "nulls": 0, "min": 1, "max": 3, "mean": 2.0}]}}],
    "env": {"packages": {}, "platform": "Linux", "python": "3.11"},
    "author": {"name": "A", "email": "a@x"},
    "parent": {"commit": "d" * 40, "digest": "sha256:" + "1" * 64},
}
# Where a value can be swapped: (path of keys/indexes)
SITES = [("model",), ("params",), ("data",), ("artifact",), ("artifact", "size"), ("artifact", "nfiles"),
         ("artifact", "remote"), ("code", "clean"), ("code", "exit_code"), ("code", "duration_s"),
         ("code", "dirty_files"), ("env", "packages"), ("author", "name"), ("parent", "digest"),
         ("data", 0, "size"), ("data", 0, "profile"), ("data", 0, "profile", "rows"),
         ("data", 0, "profile", "columns", 0, "min"), ("data", 0, "profile", "columns", 0, "nulls"),
         ("data", 0, "profile", "columns", 0, "mean"), ("framework",), ("unknown",),
         # the paths, hashes and commits the plain-record glance (validate._plain_record) passes
         ("artifact", "path"), ("artifact", "md5"), ("code", "commit"), ("parent", "commit"), ("data", 0),
         ("data", 0, "path"), ("data", 0, "md5"), ("data", 0, "profile", "columns", 0), ("data", 0, "profile", "columns")]

# Near misses of the values the fields hold: hashes and commits of the wrong case or length, paths that
# climb, are absolute, hidden, reserved, too long, or not in normal form.
NEAR = st.sampled_from(["a" * 32, "a" * 32 + ".dir", "A" * 32, "a" * 31, "a" * 32 + ".DIR", "c" * 40, "C" * 40, "c" * 64,
                        "c" * 41, "models/m.pkl", "../m.pkl", "/abs", ".git/x", ".dvc/x", ".mlver/r.json", "a/.hidden",
                        "a//b", "a/./b", "a/", ".", "", "x" * 256, "a\\b", "c:/x", "m\x01", "Models/.Git/x", "é/x"])
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False), st.text(max_size=3), NEAR),
    lambda inner: st.one_of(st.lists(inner, max_size=2), st.dictionaries(st.text(max_size=2), inner, max_size=2)),
    max_leaves=4)


class Text(str):
    pass


class Count(int):
    pass


def _verdict(doc: dict[str, Any], onepass: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as m:
        if not onepass:
            m.setattr(validate, "_TABLES", {})
        try:
            validate.check_record(doc, "the record")
        except MlverError as exc:
            return f"{type(exc).__name__}: {exc.message}"
    return "ok"


def _put(doc: dict[str, Any], site: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    node: Any = doc
    for step in site[:-1]:
        node = node[step]
    node[site[-1]] = value
    return doc


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SITES), json_values), max_size=3))
def test_the_one_pass_check_gives_every_verdict_the_rules_give(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    doc = BASE
    for site, value in changes:
        try:
            doc = _put(doc, site, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change replaced the container this site is in
    with pytest.MonkeyPatch.context() as mp:
        assert _verdict(doc, True, mp) == _verdict(doc, False, mp)


@pytest.mark.parametrize("site, value", [(("model",), Text("m")), (("artifact", "size"), Count(3)),
                                         (("artifact", "size"), True), (("code", "duration_s"), False),
                                         (("data", 0, "profile", "columns", 0, "min"), Text("a")),
                                         (("artifact", "remote"), 3), (("author",), "not an object"),
                                         # what the plain-record glance must send to the rules
                                         (("artifact", "path"), "../m.pkl"), (("artifact", "path"), ".git/hooks/x"),
                                         (("artifact", "path"), "Models/.Git/x"), (("data", 0, "path"), "/abs"),
                                         (("data", 0, "path"), "a//b"), (("artifact", "path"), "x" * 256),
                                         (("artifact", "path"), "/".join(["a" * 200] * 25)),
                                         (("code", "commit"), "C" * 40), (("parent", "commit"), "c" * 39),
                                         (("artifact", "md5"), "A" * 32), (("data", 0, "md5"), "b" * 31),
                                         (("data", 0, "md5"), 5), (("data", 0), "not an object"),
                                         (("data", 0, "profile", "columns", 0), "x"),
                                         (("data", 0, "profile", "columns", 0, "histogram"), {"edges": "x"})])
def test_subclasses_and_near_misses_take_the_rules(site: tuple[Any, ...], value: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _put(BASE, site, value)
    assert _verdict(doc, True, monkeypatch) == _verdict(doc, False, monkeypatch)
    assert _verdict(BASE, True, monkeypatch) == "ok"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SITES + [("artifact",), ("data", 0, "md5"), ("data", 1)]), json_values), max_size=3),
       st.booleans())
def test_what_verify_keeps_of_a_record_passed_at_a_glance_is_what_it_keeps_of_any(
        changes: list[tuple[tuple[Any, ...], Any]], metrics: bool) -> None:
    """A record check_record passed at a glance (True) has its objects listed
    (objects.named_rows) and its cache line written (facts._row) from its
    fields as they are: the same rows and the same line as the general way."""
    from mlver.api import facts
    from mlver.api.objects import named_rows
    from mlver.domain import record as rec

    doc: Any = {**BASE, "data": [*BASE["data"], {"path": "d/e", "md5": ""}]}
    for site, value in changes:
        try:
            doc = _put(doc, site, value)
        except (KeyError, IndexError, TypeError):
            continue
    try:
        plain = validate.check_record(doc, "here")
    except MlverError:
        return
    rows = named_rows(doc)
    assert named_rows(doc, plain) == rows
    digest = doc.get("digest") or ""
    for computed in (digest, rec.compute_digest(doc)):
        kept = facts.RecordFacts(digest == computed, digest, computed, None, doc.get("metrics") or {}, rows)
        assert facts._row(kept, metrics, plain) == facts._row(kept, metrics)
