"""What two profiles of a data input say changed, as frozen types over
domain/drift.py's reports (a diff's data rows, ``drift``'s result).

Apart from models/diff.py so that ``ls NAME``, which compares params and
metrics only, does not build these classes at start-up.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from mlver.models.doc import DocPart, as_doc, part


@dataclass(frozen=True)
class Pair(DocPart):
    """A statistic on both sides (domain/drift.py's pair), with its delta where drift computes one."""

    KNOWN: ClassVar[tuple[str, ...]] = ("old", "new", "delta")
    old: Any = None
    new: Any = None
    delta: Any = None


@dataclass(frozen=True)
class TypeChange(DocPart):
    KNOWN: ClassVar[tuple[str, ...]] = ("name", "old", "new")
    name: str = ""
    old: str | None = None  # dtypes
    new: str | None = None


@dataclass(frozen=True)
class ColumnShift(DocPart):
    """One common column of two profiles (or of new data against a profile): what moved and its PSI."""

    KNOWN: ClassVar[tuple[str, ...]] = ("name", "kind", "null_rate", "mean", "std", "min", "max", "top_changed", "top",
                                        "psi", "drifted", "note")
    name: str = ""
    kind: str | None = None
    null_rate: Pair | None = None
    mean: Pair | None = None  # numeric columns
    std: Pair | None = None
    min: Pair | None = None  # datetime columns
    max: Pair | None = None
    top_changed: bool | None = None  # categorical columns: another set of top values
    top: Pair | None = None  # old and new [value, count] pairs
    psi: float | None = None  # None: the values cannot be compared (another kind)
    drifted: bool | None = None  # psi at or over the threshold
    note: str | None = None

    _SHIFTS: ClassVar[tuple[str, ...]] = ("null_rate", "mean", "std", "min", "max", "top")

    @classmethod
    def _parts(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**{k: doc.get(k) for k in cls.KNOWN}, **{k: part(Pair, doc.get(k)) for k in cls._SHIFTS}}

    def _value(self, key: str) -> Any:
        return as_doc(getattr(self, key)) if key in self._SHIFTS else getattr(self, key)


@dataclass(frozen=True)
class ProfileChange(DocPart):
    """What two profiles of a data input say changed (domain/drift.compare_profiles'
    report), or new data against a recorded profile (its drift_frame report)."""

    KNOWN: ClassVar[tuple[str, ...]] = ("rows", "type_changed", "columns", "drifted_columns", "columns_added",
                                        "columns_removed", "missing_columns", "extra_columns")
    rows: Pair | None = None
    type_changed: tuple[TypeChange, ...] = ()
    columns: tuple[ColumnShift, ...] = ()
    drifted_columns: list[str] | None = None
    columns_added: list[str] | None = None  # two profiles compared
    columns_removed: list[str] | None = None
    missing_columns: list[str] | None = None  # new data against a profile
    extra_columns: list[str] | None = None

    @classmethod
    def _parts(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**{k: doc.get(k) for k in cls.KNOWN}, "rows": part(Pair, doc.get("rows")),
                "type_changed": tuple(TypeChange.build(t) for t in doc.get("type_changed") or ()),
                "columns": tuple(ColumnShift.build(c) for c in doc.get("columns") or ())}

    def _value(self, key: str) -> Any:
        if key == "rows":
            return as_doc(self.rows)
        if key in ("type_changed", "columns"):
            return [x.to_doc() for x in getattr(self, key)]
        return getattr(self, key)
