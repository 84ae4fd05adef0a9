"""What ``mlver gc`` keeps and what it may delete: pure logic, no I/O.

The keep set is every object a kept reference names (a release, a stage ever
held, a branch head's records and DVC-tracked files, the last N records); the
api gathers those and hands the result here. A remote shared by several
projects also holds one manifest per project (``mlver/manifests/<id>.json``,
written by every ``mlver push``): the objects another project's manifest
names are never deleted. A manifest is read from storage anyone with write
access could have changed, so it is validated here, and one that fails makes
gc refuse rather than guess.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlver.domain import dvcentries
from mlver.domain.validate import MD5
from mlver.errors import InputTooLarge, ManifestInvalid

MANIFEST_DIR = "mlver/manifests"
MANIFEST_SCHEMA = 1
PROJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # the project's root commit
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_MANIFEST_OBJECTS = 1_500_000  # 35 bytes each in the file: about 52 MB
MAX_MANIFESTS = 10_000  # projects sharing one remote


def manifest_name(project: str) -> str:
    return f"{project}.json"


def manifest_project(name: str) -> str | None:
    """The project id a manifest's file name says, None for any other file."""
    stem = name[: -len(".json")] if name.endswith(".json") else ""
    return stem if PROJECT_ID.fullmatch(stem) else None


def format_manifest(project: str, objects: Iterable[str], updated: str) -> bytes:
    doc = {"schema": MANIFEST_SCHEMA, "project": project, "updated": updated, "objects": sorted(set(objects))}
    return (json.dumps(doc, indent=0, sort_keys=True) + "\n").encode()


def parse_manifest(content: bytes, name: str, where: str) -> frozenset[str]:
    """The objects a manifest names; ManifestInvalid (or InputTooLarge) when
    it is not exactly what ``format_manifest`` writes for the project its
    file name says."""
    project = manifest_project(name)
    if project is None:
        raise ManifestInvalid(where, "its file name is not <project id>.json")
    if len(content) > MAX_MANIFEST_BYTES:
        raise InputTooLarge("size", f"{len(content)} bytes", where, f"a manifest is at most {MAX_MANIFEST_BYTES} bytes")
    try:
        doc: Any = json.loads(content)
    except (ValueError, RecursionError):
        raise ManifestInvalid(where, "it is not JSON") from None
    if not isinstance(doc, dict) or doc.get("schema") != MANIFEST_SCHEMA:
        raise ManifestInvalid(where, f"it is not a schema {MANIFEST_SCHEMA} manifest")
    if doc.get("project") != project:
        raise ManifestInvalid(where, "the project it names is not the one its file name says")
    objects = doc.get("objects")
    if not isinstance(objects, list):
        raise ManifestInvalid(where, "'objects' is not a list")
    if len(objects) > MAX_MANIFEST_OBJECTS:
        raise InputTooLarge("objects", f"{len(objects)} entries", where,
                            f"a manifest names at most {MAX_MANIFEST_OBJECTS} objects")
    bad = next((o for o in objects if not isinstance(o, str) or not MD5.fullmatch(o)), None)
    if bad is not None:
        raise ManifestInvalid(where, f"it names {str(bad)[:60]!r}, which is not an object hash")
    return frozenset(objects)


@dataclass(frozen=True)
class Stored:
    """An object as listed in a store."""

    size: int
    mtime: float  # unix time it was written; 0 when the store cannot say


@dataclass
class Plan:
    """What one store would lose: ``delete`` (directory manifests first) and, per
    model that named them in any record ever, how many objects and bytes."""

    delete: list[str] = field(default_factory=list)
    freed: dict[str, tuple[int, int]] = field(default_factory=dict)  # model ("" for none) -> (objects, bytes)
    kept: int = 0  # objects the keep set names
    protected: int = 0  # objects only another project's manifest keeps
    foreign: int = 0  # objects this project never pushed nor named: someone else's
    young: int = 0  # objects younger than the grace period
    freed_bytes: int = 0


def plan(stored: Mapping[str, Stored], keep: set[str], protected: set[str], owners: Mapping[str, str],
         cutoff: float, ours: set[str] | None = None) -> Plan:
    """Which of ``stored`` may go: not kept, not another project's, and written
    before ``cutoff`` (a push running right now has not published its
    manifest or git refs yet; git's own gc keeps recent objects the same way).
    With ``ours`` (a shared remote), only those objects may go at all: what
    this project's pushes claimed or its records named, never what a project
    without a manifest (plain ``dvc push``) put there."""
    result = Plan()
    for md5, info in stored.items():
        if md5 in keep:
            result.kept += 1
        elif md5 in protected:
            result.protected += 1
        elif ours is not None and md5 not in ours and md5 not in owners:
            result.foreign += 1
        elif info.mtime > cutoff:
            result.young += 1
        else:
            result.delete.append(md5)
            owner = owners.get(md5, "")
            count, size = result.freed.get(owner, (0, 0))
            result.freed[owner] = (count + 1, size + info.size)
            result.freed_bytes += info.size
    # A .dir object in a store promises its files: it goes before them.
    result.delete.sort(key=lambda m: (not m.endswith(".dir"), m))
    return result


def hashes_in_dvcfile(doc: Any) -> set[str]:
    """Every object hash a ``.dvc`` file or ``dvc.lock`` names (outs and deps,
    its stages' too), for keeping what ``dvc pull`` / ``dvc checkout`` need:
    ``dvcentries``' KEEP policy, where only what is not a hash is passed over."""
    if not isinstance(doc, dict):
        return set()
    keep, where = dvcentries.Policy.KEEP, "a DVC file"  # KEEP raises nothing: no message names it
    named = [*dvcentries.entries(doc.get("outs"), "", where, keep),
             *dvcentries.entries(doc.get("deps"), "", where, keep, "deps", dep=True)]
    for stage in dvcentries.stage_list(doc, "", where, keep):
        named += [*stage.outs, *stage.deps]
    return {e.md5 for e in named if e.md5}
