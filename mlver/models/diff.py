"""The rows of a diff between two records, one frozen type per shape.

``domain/compare.py`` builds them, ``ModelDiff`` (models/review.py) holds
them, ``mlver/diffview.py`` turns them into what a reader sees. Each row's
``to_doc()`` is its ``--json`` document: those keys are a contract (tests/cli),
so a field added here is not in ``to_doc()`` unless the contract grows too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from mlver.models.profilediff import ProfileChange

# What a change means to a reviewer: better or worse where the metric's name
# tells (loss, latency: lower is better), same when nothing moved, unknown
# when the name does not tell or the values are not two numbers.
Verdict = str  # better | worse | same | unknown


def verdict(moved: bool, better: bool | None) -> Verdict:
    """The one rule, for a diff's metric rows and ``ls NAME``'s and the site's cells."""
    if not moved:
        return "same"
    if better is None:
        return "unknown"
    return "better" if better else "worse"


@dataclass(frozen=True)
class ValueChange:
    """A key whose value differs between two mappings (a param, an env entry)."""

    key: str
    old: Any  # None when added
    new: Any  # None when removed
    status: str  # added | removed | changed

    def to_doc(self) -> dict[str, Any]:
        return {"key": self.key, "old": self.old, "new": self.new, "status": self.status}


@dataclass(frozen=True)
class ParamChange(ValueChange):
    """A hyperparameter (flattened ``a.b.c`` key) added, removed or changed."""


@dataclass(frozen=True)
class EnvChange(ValueChange):
    """Python, the platform or a package version that differs."""


@dataclass(frozen=True)
class MetricChange:
    """A metric on either side, with the delta and its direction when both are numbers."""

    key: str
    old: Any
    new: Any
    delta: float | None = None
    pct: float | None = None  # delta as % of |old|; None when old is 0
    direction: str | None = None  # up | down | same; None when not two numbers
    better: bool | None = None  # None: the name does not tell, or nothing moved

    @property
    def changed(self) -> bool:
        return bool(self.old != self.new)

    @property
    def verdict(self) -> Verdict:
        return verdict(self.changed and self.direction != "same", self.better)

    def to_doc(self) -> dict[str, Any]:
        return {"key": self.key, "old": self.old, "new": self.new, "delta": self.delta, "pct": self.pct,
                "direction": self.direction, "better": self.better}


@dataclass(frozen=True)
class DataChange:
    """One data input on either side: hash, size, files and, for tabular data
    that changed, what the profiles say (drift.compare_profiles' report)."""

    path: str
    status: str  # added | removed | unchanged | changed
    old_md5: str | None = None
    new_md5: str | None = None
    old_size: int | None = None
    new_size: int | None = None
    old_nfiles: int | None = None
    new_nfiles: int | None = None
    profile: ProfileChange | None = None  # only for "changed"; None: hash-only comparison (models/profilediff.py)
    note: str | None = None  # why the comparison is partial (no profile on a side, not tabular)

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "path": self.path, "status": self.status, "old_md5": self.old_md5, "new_md5": self.new_md5,
            "old_size": self.old_size, "new_size": self.new_size, "old_nfiles": self.old_nfiles, "new_nfiles": self.new_nfiles,
        }
        if self.status == "changed":  # the key is there exactly when a comparison was attempted
            doc["profile"] = None if self.profile is None else self.profile.to_doc()
        if self.note is not None:
            doc["note"] = self.note
        return doc


@dataclass(frozen=True)
class ArtifactChange:
    path: str | None
    old_md5: str | None
    new_md5: str | None
    old_size: int | None
    new_size: int | None
    changed: bool

    def to_doc(self) -> dict[str, Any]:
        return {"path": self.path, "old_md5": self.old_md5, "new_md5": self.new_md5,
                "old_size": self.old_size, "new_size": self.new_size, "changed": self.changed}


@dataclass(frozen=True)
class FileChange:
    path: str
    added: int | None  # lines; None for a binary file
    removed: int | None

    def to_doc(self) -> dict[str, Any]:
        return {"path": self.path, "added": self.added, "removed": self.removed}


@dataclass(frozen=True)
class CodeChange:
    """The files changed between two code commits (mlver's own outputs left out)."""

    old_commit: str
    new_commit: str
    files: tuple[FileChange, ...] | None  # None: a code commit is not in this repository
    added: int | None = None  # lines over all files; None when there is nothing to count
    removed: int | None = None
    note: str | None = None

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"old_commit": self.old_commit, "new_commit": self.new_commit,
                               "files": None if self.files is None else [f.to_doc() for f in self.files]}
        if self.added is not None:
            doc["added"] = self.added
        if self.removed is not None:
            doc["removed"] = self.removed
        if self.note is not None:
            doc["note"] = self.note
        return doc
