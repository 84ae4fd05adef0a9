"""Reads of the registry and of records: ls, log, show, release (and the Record every verb reads)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from mlver.models.record import RecordDoc


@dataclass(frozen=True)
class Record:
    """A lineage record as stored, plus where it was read from."""

    model: str
    commit: str | None  # the commit holding it; None for the work tree
    doc: dict[str, Any]
    intact: bool
    derived: bool = False  # no mlver record: lineage derived from the commit (a GTO or hand-made version)

    @property
    def digest(self) -> str:
        return self.doc.get("digest", "")

    @cached_property
    def typed(self) -> RecordDoc:
        """The document as mlver/models/record.py's types (checked where it was read)."""
        from mlver.models.record import RecordDoc

        return RecordDoc.build(self.doc)


@dataclass(frozen=True)
class ModelSummary:
    model: str
    latest: str | None
    latest_commit: str | None
    released: str | None  # when the latest version was tagged
    versions: int
    stages: dict[str, str]
    deprecated: bool
    declared: bool
    type: str = "model"  # or "dataset" (a dvc.yaml artifact of that type), as GTO lists both
    # A row `gto show` lists too (it has a tag, or GTO's artifacts.yaml declares it);
    # False: only declared (dvc.yaml, mlver.yaml) with no version, which GTO leaves out.
    registry: bool = True


@dataclass(frozen=True)
class LogEvent:
    kind: str  # record | release | deregister | assign | unassign | deprecate
    model: str
    commit: str
    author: str
    email: str
    time: str  # UTC ISO 8601
    message: str
    version: str | None = None
    stage: str | None = None
    tag: str | None = None
    note: str = ""  # "forced: ..." or "rolled back from v1.2.0"
    signer: str | None = None  # the verified signer's principal; None when signatures were not checked


@dataclass(frozen=True)
class Shown:
    ref: str
    record: Record
    versions: tuple[str, ...]  # versions released at this record's commit
    stages: tuple[str, ...]  # stages those versions hold now (or at ``at``)
    at: str | None = None  # the moment asked about with --at


@dataclass(frozen=True)
class ReleaseResult:
    model: str
    version: str
    tag: str
    commit: str
    digest: str
