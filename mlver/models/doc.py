"""A frozen type over a JSON object that gives the object back exactly.

The records' parts (models/record.py) and the profile comparisons of a
diff (models/diff.py) are each a ``DocPart``: known keys are fields, the
rest travel in ``extra``, and ``keys`` remembers which keys the object had
and in what order, so ``to_doc(build(d)) == d`` (a null stays null, an
absent key stays absent) and a document keeps its bytes and digest.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

P = TypeVar("P", bound="DocPart")


@dataclass(frozen=True)
class DocPart:
    """A JSON object with known keys (the fields) and unknown ones (``extra``)."""

    KNOWN: ClassVar[tuple[str, ...]] = ()
    _KNOWN: ClassVar[frozenset[str]] = frozenset()  # KNOWN as a set, for the key tests of build and to_doc
    keys: tuple[str, ...] = field(default=(), repr=False, compare=False)  # the document's keys, in its order
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        cls._KNOWN = frozenset(cls.KNOWN)

    @classmethod
    def _parts(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The fields' values from ``doc``: override to type a nested part."""
        return {k: doc.get(k) for k in cls.KNOWN}

    @classmethod
    def build(cls: type[P], doc: Mapping[str, Any]) -> P:
        """Typed as it is: ``doc`` was checked already (RecordDoc.from_doc checks a whole record)."""
        known = cls._KNOWN
        return cls(keys=tuple(doc), extra={k: v for k, v in doc.items() if k not in known}, **cls._parts(doc))

    def __bool__(self) -> bool:
        return bool(self.keys)  # as the object it came from: an empty one is false

    def _value(self, key: str) -> Any:
        return getattr(self, key)

    def to_doc(self) -> dict[str, Any]:
        known = self._KNOWN
        return {k: self._value(k) if k in known else self.extra[k] for k in self.keys}


def part(cls: type[P], value: Any) -> P | None:
    return None if value is None else cls.build(value)


def as_doc(part: DocPart | None) -> dict[str, Any] | None:
    return None if part is None else part.to_doc()


