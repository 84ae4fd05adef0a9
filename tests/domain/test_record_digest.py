"""A record's digest taken from its bytes (record.content_digest) is always
the digest of its re-encoded content: for every record mlver writes (then
without re-encoding) and for any other JSON text that parses to a record:
other whitespace, key order, escapes, number formats, duplicate keys, a
nested or second "digest", and tampered strings that only a whitespace
rule too eager would miss."""
from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlver.domain import record as rec

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False, allow_infinity=False), text)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(text, inner, max_size=3)), max_leaves=12)
documents = st.dictionaries(st.one_of(text, st.sampled_from(["digest", "params", "parent", "z"])), values, max_size=6)


def _check(content: bytes) -> None:
    doc = json.loads(content)
    assert rec.content_digest(content, doc) == rec.compute_digest(doc)


@settings(max_examples=100, deadline=None)
@given(documents, st.sampled_from(["sealed", "stale", "compact", "tabs", "unsorted", "ascii", "crlf", "cr", "mixed"]))
def test_the_digest_from_bytes_is_the_digest_of_the_content(doc: dict[str, Any], form: str) -> None:
    sealed = rec.seal(doc)
    if form == "stale":
        sealed = {**sealed, "z": "changed after sealing"}
    content = {
        "sealed": rec.dumps(sealed), "stale": rec.dumps(sealed),
        "compact": json.dumps(sealed, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        "tabs": json.dumps(sealed, sort_keys=True, indent="\t", ensure_ascii=False),
        "unsorted": json.dumps(dict(reversed(list(sealed.items()))), indent=2, ensure_ascii=False),
        "ascii": json.dumps(sealed, sort_keys=True, indent=2),
        # other line ends, and tabs mixed with spaces before a line (whitespace outside strings)
        "crlf": rec.dumps(sealed).replace("\n", "\r\n"), "cr": rec.dumps(sealed).replace("\n", "\r"),
        "mixed": rec.dumps(sealed).replace("\n  ", "\n \t "),
    }[form].encode()
    _check(content)


def test_tampering_that_only_a_careless_shortcut_would_miss() -> None:
    doc = rec.seal({"schema": 1, "model": "m", "params": {"note": "a:b", "path": "x"},
                    "parent": {"commit": "c" * 40, "digest": "sha256:" + "0" * 64}})
    content = rec.dumps(doc).encode()
    digest = doc["digest"].encode()
    cases = [
        content.replace(b'"a:b"', b'"a: b"'),  # a space added inside a string
        content.replace(b'"a:b"', b'"a:\\nb"'),  # an escape
        content.replace(b'"x"', b'"x\\": "'),  # a quote and a colon-space inside a string
        content.replace(b'"path": "x"', b'"path": "x", "path": "y"'),  # a duplicate key
        # the top-level digest moved into parent, parent's out to the top
        content.replace(b"sha256:" + b"0" * 64, b"@@").replace(digest, b"sha256:" + b"0" * 64).replace(b"@@", digest),
        content.replace(b'"model": "m"', b'"model": "m", "extra": {"digest": "' + digest + b'"}'),
        content.replace(b"  ", b"   "),  # other indentation, same content
        content.replace(b"\n", b"\r\n"),
        content.replace(b'"schema": 1', b'"schema": 1.0'),
        content.replace(b'"schema": 1', b'"schema": 1e0'),
    ]
    # A string whose escaped quote is followed by ':': one space more after it
    # is another value, which a shortcut that ignored escapes would drop.
    quoted = rec.dumps(rec.seal({"schema": 1, "model": "m", "params": {"note": 'a":b'}})).encode()
    assert b'"a\\":b"' in quoted
    cases.append(quoted.replace(b'"a\\":b"', b'"a\\": b"'))
    for case in cases:
        assert case != content
        _check(case)
    assert not rec.is_intact(json.loads(cases[0]))  # (the reference agrees it is tampered)


def test_a_null_made_a_number_json_cannot_write_faithfully_is_tampering() -> None:
    # orjson writes a NaN or an infinity as null: a sealed null turned into one
    # would encode to the sealed bytes, so the encoding shortcut must refuse it.
    doc = rec.seal({"schema": 1, "model": "m", "metrics": {"f1": None, "auc": 0.5}})
    content = rec.dumps(doc).encode()
    assert b'"f1": null' in content
    for number in (b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e400", b"18446744073709551616"):
        case = content.replace(b'"f1": null', b'"f1": ' + number)
        parsed = rec.loads(case, "m")
        assert rec.content_digest(case, parsed) == rec.compute_digest(parsed) != doc["digest"], number


def test_a_record_with_a_float_orjson_writes_otherwise_is_still_not_re_encoded(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = rec.seal({"schema": 1, "model": "m", "metrics": {"loss": 1e-07, "big": 1e16}})
    content = rec.dumps(doc).encode()
    monkeypatch.setattr(rec, "compute_digest", lambda record: pytest.fail("re-encoded"))
    assert rec.content_digest(content, json.loads(content)) == doc["digest"]


def test_a_record_mlver_wrote_is_not_re_encoded(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = rec.seal({"schema": 1, "model": "m", "metrics": {"f1": 0.5, "größe": "ü"}, "data": [{"path": "d/a b"}]})
    content = rec.dumps(doc).encode()
    monkeypatch.setattr(rec, "compute_digest", lambda record: pytest.fail("re-encoded"))
    assert rec.content_digest(content, json.loads(content)) == doc["digest"]


def _answer(content: bytes) -> tuple[str, Any]:
    try:
        return "value", rec.loads(content, "m")
    except Exception as exc:  # the refusal, word for word
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("content", [
    b'{"schema": 1}', b'{"schema": 1}\n\t\r ', b'{"schema": 1} x', b'{"schema": 1}\n\x0c', b'{"schema": 1}{}',
    b'{"schema": 1, "a": "\xed\xa0\x80"}', b'{"schema": 1, "a": "\xff"}', b'{"schema": 1, "a": "\x01"}',
    b'{"schema": 1', b'{', b'{\x00\x00\x00', b'{"schema": 1}\xc2\xa0', b'\xef\xbb\xbf{"schema": 1}',
    '{"schema": 1}'.encode("utf-16-le"), b' {"schema": 1}', b'[1]', b'{"schema": NaN}', b'{"schema": 1, "a": 1e999}',
    # past 64 bits (orjson would give floats), at the edges, and in a string or a float
    b'{"schema": 1, "a": 18446744073709551616}', b'{"schema": 1, "a": -9223372036854775809}',
    b'{"schema": 1, "a": 18446744073709551615}', b'{"schema": 1, "a": -9223372036854775808}',
    b'{"schema": 1, "a": 1000000000000000000000}', b'{"schema": 1, "a": "1234567890123456789012"}',
    b'{"schema": 1, "a": 0.1000000000000000055511151231257827}', b'{"schema": 1, "a": 123456789012345678901e-3}',
    b'{"schema": 1, "a": "\\ud800"}', b'{"schema": 1, "a": "\\ud83d\\ude00"}', b'{"schema": 1, "a": -0}',
    b'{"schema": 1, "a": 1, "a": 2}', b'{"schema": 1}\x00', b'{"schema": 1, "a": 1e-400}', b'{"schema": 1, "a": 4.9e-324}',
])
def test_a_record_parses_as_json_loads_parses_it(content: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """record._json's shortcut (bytes that open like a record, to json's scanner) answers as
    json.loads does: the same value, or the same refusal with the same words."""
    got = _answer(content)
    monkeypatch.setattr(rec, "_json", json.loads)
    want = _answer(content)
    assert json.dumps(got, default=repr) == json.dumps(want, default=repr)


@settings(max_examples=100, deadline=None)
@given(documents)
def test_every_record_mlver_writes_parses_as_json_loads_parses_it(doc: dict[str, Any]) -> None:
    content = rec.dumps(rec.seal({**doc, "schema": 1})).encode()
    assert json.dumps(rec.loads(content, "m")) == json.dumps(json.loads(content))


numbers = st.one_of(st.integers(), st.floats(allow_nan=False), st.decimals(allow_nan=False, allow_infinity=False))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(numbers, text), max_size=4), st.sampled_from(["repr", "exp", "neg"]))
def test_numbers_and_strings_parse_as_json_loads_parses_them(items: list[Any], form: str) -> None:
    """orjson answers first (record._json): every number it reads is the number
    json.loads reads, of the same type (an integer past 64 bits stays one),
    every string the same string, every refusal json's own."""
    parts = []
    for item in items:
        if isinstance(item, str):
            parts.append(json.dumps(item, ensure_ascii=form == "neg"))
        else:
            written = str(item) if not isinstance(item, float) else repr(item)
            parts.append({"repr": written, "exp": f"{written}e3" if "e" not in written.lower() else written,
                          "neg": f"-{written.lstrip('-')}"}[form])
    content = ('{"schema": 1, "a": [' + ", ".join(parts) + "]}").encode()
    got = _answer(content)
    want = ("value", json.loads(content)) if _valid(content) else _answer_json(content)
    assert json.dumps(got, default=repr) == json.dumps(want, default=repr)
    if got[0] == "value":
        assert [type(v) for v in got[1]["a"]] == [type(v) for v in want[1]["a"]]


def _valid(content: bytes) -> bool:
    try:
        json.loads(content)
    except ValueError:
        return False
    return True


def _answer_json(content: bytes) -> tuple[str, Any]:
    saved = rec._json
    rec._json = json.loads  # type: ignore[assignment]
    try:
        return _answer(content)
    finally:
        rec._json = saved  # type: ignore[assignment]


# Strings made of the bytes the whitespace rule works on: quotes (escaped by dumps: a
# backslash), colons, spaces, commas, brackets; so values like ":x", " : ", ",: " come up.
_tricky = st.text(alphabet=':" ,[]{}x\t', max_size=6)
_tricky_docs = st.dictionaries(st.one_of(_tricky, st.sampled_from(["model", "params"])),
                               st.one_of(_tricky, st.lists(_tricky, max_size=3), st.dictionaries(_tricky, _tricky,
                                                                                                 max_size=2)),
                               min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(_tricky_docs, st.data())
def test_a_space_added_after_any_colon_is_never_taken_for_the_sealed_record(doc: dict[str, Any],
                                                                           data: st.DataObject) -> None:
    # The shortcut turned every '": ' into '":', also where a string value opens with ": ":
    # a record sealed with "k": ":x" and then edited to "k": ": x" kept its declared digest.
    content = rec.dumps(rec.seal(doc)).encode()
    colons = [i for i in range(len(content)) if content[i:i + 1] == b":"]
    at = data.draw(st.sampled_from(colons))
    mutated = content[:at + 1] + data.draw(st.sampled_from([b" ", b"  ", b"\t"])) + content[at + 1:]
    try:
        json.loads(mutated)
    except ValueError:
        return  # not JSON: never a record
    _check(mutated)


def test_a_value_opening_with_colon_space_is_not_the_value_without_the_space() -> None:
    sealed = rec.seal({"model": "m", "params": {"note": ":x"}, "tags": [":y"]})
    content = rec.dumps(sealed).encode()
    for tampered in (content.replace(b'":x"', b'": x"'), content.replace(b'":y"', b'": y"')):
        doc = json.loads(tampered)
        assert rec.content_digest(tampered, doc) == rec.compute_digest(doc) != sealed["digest"]
