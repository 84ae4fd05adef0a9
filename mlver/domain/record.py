"""The lineage record's canonical form, digest and schema.

A record is a plain JSON document (see DESIGN §2). It is stored pretty-printed
with sorted keys so it diffs well; its digest is the sha256 of the canonical
(compact, sorted) form of everything but the ``digest`` field itself.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from json.scanner import make_scanner
from typing import Any

from mlver.domain.tags import DIR_SEPARATOR, DIR_SEPARATOR_IN_TAG, check_artifact, name_in_tag
from mlver.errors import MlverError, RecordSchemaError, RecordUnreadable

SCHEMA = 1
RECORDS_DIR = ".mlver/records"
ARTIFACT_IN_GIT = "git"  # derived lineage's derived_from.artifact when git itself holds the artifact


def artifact_in_git(doc: Mapping[str, Any]) -> bool:
    """Whether ``doc`` is lineage derived from a commit whose artifact git
    holds (no DVC object to push, store or check in a remote). A record file
    never says so: reading one refuses the ``derived`` key."""
    source = doc.get("derived_from")
    return doc.get("derived") is True and isinstance(source, Mapping) and source.get("artifact") == ARTIFACT_IN_GIT


def record_path(model: str) -> str:
    """Where ``model``'s record is in the tree. A monorepo name ``sub/proj:nested``
    is stored as GTO writes it in tags, ``sub/proj=nested``: ':' cannot be in a
    file name on Windows (and '=' cannot be in a name, so the map is one to one)."""
    return f"{RECORDS_DIR}/{name_in_tag(model)}.json"


def record_model(path: str) -> str | None:
    """The model whose record is at ``path`` (record_path's inverse); None for
    any other path, or a file name no model can have (a tree is untrusted)."""
    prefix = RECORDS_DIR + "/"
    if not path.startswith(prefix) or not path.endswith(".json"):
        return None
    stem = path[len(prefix):-len(".json")]
    if stem.count(DIR_SEPARATOR_IN_TAG) > 1:
        return None
    model = stem.replace(DIR_SEPARATOR_IN_TAG, DIR_SEPARATOR)
    try:
        check_artifact(model)
    except MlverError:
        return None
    return model if record_path(model) == path else None


def canonical(record: Mapping[str, Any]) -> bytes:
    body = record
    if "digest" in record:
        body = dict(record)
        del body["digest"]
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_digest(record: Mapping[str, Any]) -> str:
    import hashlib  # ~2.5 ms (OpenSSL) that `ls` and `log` never need

    return "sha256:" + hashlib.sha256(canonical(record)).hexdigest()


# A '": ' is the end of a key but for a string that opens with ": " (what comes
# before an opening quote: a bracket, a comma, a colon or JSON's whitespace, but
# for the line breaks the shortcut removes first): there the space is the
# value's, and dropping it would make another record's canonical form. Those
# bytes (the colon and space too) all become NUL, so one search finds every
# such opening (a few keys ending in one of them are read the long way too),
# at a fifth of a regular expression's cost.
_BEFORE_OPENING = bytes.maketrans(b'{[,: \t', b"\0" * 6)


def content_digest(content: bytes, record: Mapping[str, Any]) -> str:
    """``compute_digest(record)``, where ``record`` is ``content`` parsed.

    Two shortcuts, ``_sorted_compact_hashes`` then ``_dumped_hashes``, taken
    only when the record holds no backslash (so every '"' delimits a string
    and its strings are written back as they were); each says yes only when
    the bytes it hashed hash to the declared digest, and the next is tried
    otherwise. Every other record is re-encoded."""
    declared = record.get("digest")
    if isinstance(declared, str) and declared.startswith("sha256:") and b"\\" not in content:
        if _sorted_compact_hashes(content, record, declared) or _dumped_hashes(content, declared):
            return declared
    return compute_digest(record)


def _sorted_compact_hashes(content: bytes, record: Mapping[str, Any], declared: str) -> bool:
    """Whether orjson's sorted compact encoding of the record without its
    ``digest`` hashes to ``declared``: ~1 us against ~9 us for
    ``_dumped_hashes``' byte surgery, 100,000 times in a first verify. Sound
    because that encoding is faithful (it parses back to the same typed value)
    except for a float NaN or infinity, which it writes as ``null``: so it
    counts only when it holds as many ``null`` as the content. Equal bytes
    then parse to the sealed record's value, whose canonical form is the one
    that was hashed. Another number format (1e-07 against 1e-7) only misses."""
    import hashlib

    encoded = _sorted_compact(record)
    return (encoded is not None and encoded.count(b"null") == content.count(b"null")
            and "sha256:" + hashlib.sha256(encoded).hexdigest() == declared)


def _dumped_hashes(content: bytes, declared: str) -> bool:
    """Whether ``content``, the record as ``dumps`` writes it (sorted keys,
    indented), hashes to ``declared`` once it is made its canonical form by
    dropping the whitespace outside its strings (every newline and the
    indentation after it, the space after each key) and its ``digest``
    member: JSON strings cannot hold a raw newline, and no string may open
    with ": " (``_BEFORE_OPENING``: the surgery would drop that space too, so
    ``":x"`` sealed and ``": x"`` edited would hash alike); an equal hash then
    means the bytes are the canonical form of the record (anything else, a
    changed key order, another number format, a duplicate key or a nested
    "digest", cannot hash to it)."""
    import hashlib

    # Every line starts outside a string (a raw CR or LF cannot be in one):
    # its leading whitespace goes (JSON's, as parsing refused any other).
    joined = b"".join(map(bytes.lstrip, content.splitlines()))
    compact = joined.replace(b'": ', b'":')
    member = b'"digest":"' + declared.encode() + b'"'
    at = -1 if b'\0"\0\0' in joined.translate(_BEFORE_OPENING) else compact.find(member)
    if at <= 0:
        return False
    end = at + len(member)
    if compact[at - 1:at] == b",":
        at -= 1
    elif compact[end:end + 1] == b",":
        end += 1
    view = memoryview(compact)  # the two parts hashed in place: no copy of the body
    digest = hashlib.sha256(view[:at])
    digest.update(view[end:])
    return "sha256:" + digest.hexdigest() == declared


def _sorted_compact(record: Mapping[str, Any]) -> bytes | None:
    """orjson's sorted, compact encoding of ``record`` without its digest
    (None: no orjson, or a value it cannot write, such as an integer past 64 bits)."""
    if not _fast:
        _orjson()
    if _fast[0] is None:  # (no orjson: nor a test's [None], json's scanner only)
        return None
    body = dict(record)
    del body["digest"]
    try:
        return _fast[1](body, option=_fast[2])
    except TypeError:  # (orjson.JSONEncodeError is one)
        return None


def seal(record: dict[str, Any]) -> dict[str, Any]:
    """Return the record with its digest set."""
    sealed = dict(record)
    sealed["digest"] = compute_digest(sealed)
    return sealed


def is_intact(record: Mapping[str, Any]) -> bool:
    return record.get("digest") == compute_digest(record)


def dumps(record: Mapping[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


_SCAN = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # (json.loads's own C scanner, its defaults)
# orjson (DVC's dependency, so always there) parses a record in half the time of
# json's scanner and gives the same value for every text it accepts, but one:
# an integer past 64 bits becomes a float. A run of 19 digits anywhere (an
# integer that could be past them, or anything else) is left to json's scanner.
_DIGITS = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))  # every digit a "0", every other byte a space
_LONG_NUMBER = b"0" * 19
_fast: list[Any] = []  # orjson's loads, dumps and OPT_SORT_KEYS, imported at the first record (uuid and the rest it imports: ~2 ms)


def _orjson() -> Any:
    if not _fast:
        try:
            import orjson
        except ImportError:  # pragma: no cover (DVC requires it)
            _fast.extend((None, None, 0))
        else:
            _fast.extend((orjson.loads, orjson.dumps, orjson.OPT_SORT_KEYS))
    return _fast[0]


def _json(text: str | bytes) -> Any:
    """``json.loads(text)``. Bytes that open an object as a record does (a
    '{', then no NUL: UTF-8 to json.loads) go to orjson, then to json's
    scanner straight: json.loads's encoding sniffing and wrappers were a
    sixth of parsing a record, and json's scanner half of what is left,
    100,000 times in a first verify. Anything else, and any doubt (an
    error, text after the object), is json.loads's to answer."""
    if type(text) is bytes and text[:1] == b"{" and text[1:2] != b"\0":
        fast = _fast[0] if _fast else _orjson()
        if fast is not None and _LONG_NUMBER not in text.translate(_DIGITS):
            try:
                return fast(text)
            except ValueError:  # (orjson.JSONDecodeError is one): json's to word the refusal, or to accept
                pass
        try:
            decoded = text.decode("utf-8", "surrogatepass")  # (json.loads's own decoding of UTF-8)
            value, end = _SCAN(decoded, 0)
        except (StopIteration, ValueError):
            return json.loads(text)
        if end == len(decoded) or not decoded[end:].strip(" \t\n\r"):  # (the whitespace json.loads allows after)
            return value
    return json.loads(text)


def loads(text: str | bytes, model: str) -> dict[str, Any]:
    try:
        record = _json(text)
    except ValueError as exc:
        raise RecordUnreadable(model, f"is not valid JSON: {exc}", record_path(model)) from exc
    if not isinstance(record, dict):
        raise RecordUnreadable(model, "is not a JSON object", record_path(model))
    schema = record.get("schema")
    if schema != SCHEMA:
        # Records of a newer mlver may carry fields we would drop on rewrite.
        raise RecordSchemaError(model, schema, SCHEMA)
    return record


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings into ``a.b.c`` keys; lists stay values."""
    flat: dict[str, Any] = {}
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, Mapping) and value:
                flat.update(flatten(value, name))
            else:
                flat[name] = value
    elif prefix:
        flat[prefix] = tree
    return flat
