"""The lineage record's canonical form, digest and schema.

A record is a plain JSON document (see DESIGN §2). It is stored pretty-printed
with sorted keys so it diffs well; its digest is the sha256 of the canonical
(compact, sorted) form of everything but the ``digest`` field itself.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mlver.errors import ConfigError, RecordSchemaError

SCHEMA = 1
RECORDS_DIR = ".mlver/records"


def record_path(model: str) -> str:
    return f"{RECORDS_DIR}/{model}.json"


def canonical(record: Mapping[str, Any]) -> bytes:
    body = record
    if "digest" in record:
        body = dict(record)
        del body["digest"]
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_digest(record: Mapping[str, Any]) -> str:
    import hashlib  # ~2.5 ms (OpenSSL) that `ls` and `log` never need

    return "sha256:" + hashlib.sha256(canonical(record)).hexdigest()


def seal(record: dict[str, Any]) -> dict[str, Any]:
    """Return the record with its digest set."""
    sealed = dict(record)
    sealed["digest"] = compute_digest(sealed)
    return sealed


def is_intact(record: Mapping[str, Any]) -> bool:
    return record.get("digest") == compute_digest(record)


def dumps(record: Mapping[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def loads(text: str | bytes, model: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise ConfigError(
            f"the record of {model} is not valid JSON: {exc}",
            f"restore it from git: `git checkout HEAD -- {record_path(model)}`",
        ) from exc
    if not isinstance(record, dict):
        raise ConfigError(f"the record of {model} is not a JSON object", "re-record the model")
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
