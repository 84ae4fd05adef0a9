"""``drift``: new data (say, last week's production inputs) against the
profile of the training data in a version's record.

The training data is never downloaded: the record's profile keeps, per
column, the histogram edges and counts (numbers) or the top values (text),
and the new file's values are counted into exactly those bins.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mlver.adapters import git
from mlver.api.diffs import load_record
from mlver.api.trust import resolve_trusted
from mlver.domain import record as rec
from mlver.domain.drift import check_stored
from mlver.domain.refs import parse_ref
from mlver.errors import (
    ColumnsMismatch,
    InputAmbiguous,
    InputNotRecorded,
    ProfileMissing,
    RecordNotFound,
    RecordTampered,
)
from mlver.models import DriftResult
from mlver.models.profilediff import ProfileChange
from mlver.models.record import DataRef, ProfileDoc
from mlver.project import PathLike, Project


def _pick_input(entries: tuple[DataRef, ...], data: Path, wanted: str | None, label: str) -> DataRef:
    """The recorded input to compare with: ``wanted``, the only profiled one,
    or the one with the same file name as ``data``."""
    if wanted is not None:
        match = [e for e in entries if e.path == wanted.rstrip("/") or Path(e.path).name == wanted]
        if not match:
            raise InputNotRecorded(label, wanted, [e.path for e in entries])
        return match[0]
    profiled = [e for e in entries if e.profile]
    if len(profiled) == 1:
        return profiled[0]
    same_name = [e for e in profiled if Path(e.path).name == data.name]
    if len(same_name) == 1:
        return same_name[0]
    if not profiled:
        listed = ", ".join(e.path for e in entries) or "none"
        raise ProfileMissing(label, "", f"inputs: {listed}")
    raise InputAmbiguous(label, [e.path for e in profiled], data.name)


def drift(ref: str, data: str, input: str | None = None, threshold: float | None = None, repo: PathLike = None) -> DriftResult:
    """Compare ``data`` (a CSV/TSV/Parquet file) with the training data
    profile in the record of ``ref``; ``ok`` is False when a column's PSI
    reaches ``threshold`` (default: review.drift_threshold in mlver.yaml, 0.2)."""
    from mlver.adapters import tabular

    project = Project.find(repo)
    if threshold is None:
        threshold = project.config.review.drift_threshold
    parsed, commit, version = resolve_trusted(project, parse_ref(ref))
    label = f"{parsed.model}@{version}" if version and not parsed.rev else str(parsed)
    entry, stored = _trained_profile(project, parsed.model, commit, label, Path(data), input)
    read, extra = _columns_to_read(Path(data), stored, data, label)
    report = tabular.drift_file(stored.to_doc(), Path(data), read, threshold)  # the arithmetic reads the stored document
    report["extra_columns"] = extra
    _flag_kind_changes(report, stored)
    typed = ProfileChange.build(report)
    return DriftResult(
        ref=label, model=parsed.model, commit=commit, version=version, data=data, input=entry.path,
        input_md5=entry.md5 or "", threshold=threshold, rows=typed.rows, columns=typed.columns,
        drifted_columns=report["drifted_columns"], type_changed=typed.type_changed,
        extra_columns=report["extra_columns"], ok=not report["drifted_columns"],
    )


def _trained_profile(project: Project, model: str, commit: str, label: str, data: Path,
                     input: str | None) -> tuple[DataRef, ProfileDoc]:
    """The recorded input to compare ``data`` with, and its checked profile."""
    content = git.read_blob_bounded(project.root, commit, rec.record_path(model))
    if content is None:
        raise RecordNotFound(model, label)
    record, _ = load_record(model, commit, content, label)
    if not record.intact:  # an edited profile would tell whatever drift its editor wanted
        raise RecordTampered(model, label, rec.record_path(model))
    inputs = record.typed.data or ()
    entry = _pick_input(inputs, data, input, f"the record of {label}")
    stored = entry.profile
    if not stored or not stored.columns:  # null columns too: no column to compare
        why = entry.profile_error or ("it is not tabular" if not stored else "its profile lists no columns")
        raise ProfileMissing(f"{label}", entry.path, why)
    check_stored(stored, f"the record of {label}", f"data[{inputs.index(entry)}].profile")
    return entry, stored


def _columns_to_read(path: Path, stored: ProfileDoc, data: str, label: str) -> tuple[list[str], list[str]]:
    """The file's names of the training columns, and its extra columns.
    Only the training columns are read and profiled: extra columns (a
    million of them, a 50 MB cell) cost their names and nothing else."""
    from mlver.adapters import tabular
    from mlver.domain.profile import cap

    named: dict[str, str] = {}  # a profile keeps names capped (a 50 MB name is 256 characters and a hash)
    for name in tabular.read_columns(path):
        named.setdefault(cap(name), name)
    trained = list(dict.fromkeys(str(c.name) for c in stored.columns or ()))
    known = set(trained)
    extra = [c for c in named if c not in known]
    if missing := [c for c in trained if c not in named]:
        raise ColumnsMismatch(data, label, missing, extra)
    return [named[c] for c in trained], extra


def _flag_kind_changes(report: dict[str, Any], stored: ProfileDoc) -> None:
    """A column whose values changed kind (numbers arriving as text) has no
    PSI, but it is the worst drift there is: flag it, do not pass it."""
    kinds = {c.name: c.kind for c in stored.columns or ()}
    for col in report["columns"]:
        if kinds.get(col["name"]) not in (None, col["kind"]):
            col.update(drifted=True, note=f"was {kinds[col['name']]}, now {col['kind']}")
            report["drifted_columns"].append(col["name"])
