"""Comparing two lineage records: params, metrics, data, artifact, env."""
from __future__ import annotations

from typing import Any, Mapping

_MISSING = object()


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, _MISSING), new.get(key, _MISSING)
        if a == b:
            continue
        status = "added" if a is _MISSING else "removed" if b is _MISSING else "changed"
        rows.append({
            "key": key,
            "old": None if a is _MISSING else a,
            "new": None if b is _MISSING else b,
            "status": status,
        })
    return rows


def params_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    return _changes(old, new)


def metrics_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every metric on either side, with delta and percent change."""
    rows = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        delta = pct = None
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            delta = b - a
            pct = (delta / abs(a) * 100.0) if a else None
        rows.append({"key": key, "old": a, "new": b, "delta": delta, "pct": pct})
    return rows


def data_diff(old: list[Mapping[str, Any]], new: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    from mlver.domain.profile import compare_profiles

    by_old = {d["path"]: d for d in old}
    by_new = {d["path"]: d for d in new}
    rows = []
    for path in sorted(set(by_old) | set(by_new)):
        a, b = by_old.get(path), by_new.get(path)
        if a is None:
            status = "added"
        elif b is None:
            status = "removed"
        else:
            status = "unchanged" if a.get("md5") == b.get("md5") else "changed"
        row: dict[str, Any] = {
            "path": path,
            "status": status,
            "old_md5": a and a.get("md5"),
            "new_md5": b and b.get("md5"),
            "old_size": a and a.get("size"),
            "new_size": b and b.get("size"),
            "old_nfiles": a and a.get("nfiles"),
            "new_nfiles": b and b.get("nfiles"),
        }
        pa, pb = (a or {}).get("profile"), (b or {}).get("profile")
        if status == "changed" and (pa or pb):
            row["profile"] = compare_profiles(pa, pb)
        elif status == "changed":
            row["profile"] = None  # not tabular: the hash is all there is to compare
        rows.append(row)
    return rows


def artifact_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "path": new.get("path") or old.get("path"),
        "old_md5": old.get("md5"),
        "new_md5": new.get("md5"),
        "old_size": old.get("size"),
        "new_size": new.get("size"),
        "changed": old.get("md5") != new.get("md5"),
    }


def env_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    flat_old = {"python": old.get("python"), "platform": old.get("platform"), **(old.get("packages") or {})}
    flat_new = {"python": new.get("python"), "platform": new.get("platform"), **(new.get("packages") or {})}
    return _changes(flat_old, flat_new)
