"""The lineage record (DESIGN §2) as frozen types, one ``from_doc``/``to_doc`` per part.

``RecordDoc.from_doc`` takes a document from outside (git, a remote) and
checks it with domain/validate.py's record checks and the schema number
before anything is typed; ``to_doc()`` gives back the very document:
``to_doc(from_doc(d)) == d`` for every record mlver writes, so its digest
and its bytes on disk do not change. Keys this mlver does not know (a newer
mlver's, or a user's) travel in ``extra``; which known keys the document
had, and in what order, in ``keys`` (a key present as null stays null, an
absent one stays absent). Data profiles are typed too (ProfileDoc,
ColumnProfile); params, metrics and packages stay mappings: their keys are
the user's.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

P = TypeVar("P", bound="_Part")


@dataclass(frozen=True)
class _Part:
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


def _part(cls: type[P], value: Any) -> P | None:
    return None if value is None else cls.build(value)


def _doc(part: _Part | None) -> dict[str, Any] | None:
    return None if part is None else part.to_doc()


@dataclass(frozen=True)
class ArtifactRef(_Part):
    KNOWN: ClassVar[tuple[str, ...]] = ("path", "md5", "size", "nfiles", "remote")
    path: str = ""
    md5: str | None = None
    size: int | None = None
    nfiles: int | None = None
    remote: str | None = None


@dataclass(frozen=True)
class Histogram(_Part):
    KNOWN: ClassVar[tuple[str, ...]] = ("edges", "counts")
    edges: list[Any] | None = None  # len(counts) + 1 bin edges
    counts: list[Any] | None = None


@dataclass(frozen=True)
class ColumnProfile(_Part):
    """One column of a data profile: its kind, nulls and the summary drift compares
    (numbers: min, max, mean, std, quantiles, histogram; categories: top values)."""

    KNOWN: ClassVar[tuple[str, ...]] = ("name", "dtype", "kind", "nulls", "unique", "other", "top", "quantiles",
                                        "histogram", "min", "max", "mean", "std", "approximate", "top_error")
    name: str | None = None
    dtype: str | None = None
    kind: str | None = None  # numeric | categorical | boolean | datetime | ...
    nulls: int | None = None
    unique: int | None = None
    other: int | None = None  # rows outside the top values
    top: list[Any] | None = None  # [value, count] pairs, most frequent first
    quantiles: Mapping[str, Any] | None = None  # p01 ... p99
    histogram: Histogram | None = None
    min: Any = None  # a number, or an ISO time for datetimes
    max: Any = None
    mean: float | None = None
    std: float | None = None
    approximate: Mapping[str, Any] | None = None  # field -> its error bound (a streamed profile)
    top_error: int | None = None

    @classmethod
    def _parts(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**{k: doc.get(k) for k in cls.KNOWN}, "histogram": _part(Histogram, doc.get("histogram"))}

    def _value(self, key: str) -> Any:
        return _doc(self.histogram) if key == "histogram" else getattr(self, key)


@dataclass(frozen=True)
class ProfileDoc(_Part):
    """The profile of a tabular data input (domain/profile.py, profile_stream.py):
    enough to diff data versions and check drift without the data. ``schema``
    is absent from schema 1 profiles (the whole table in memory), 2 when streamed."""

    KNOWN: ClassVar[tuple[str, ...]] = ("schema", "format", "rows", "columns")
    schema: int | None = None
    format: str | None = None
    rows: int | None = None
    columns: tuple[ColumnProfile, ...] | None = ()  # () when absent; None when null

    @classmethod
    def _parts(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        columns = doc.get("columns")
        return {**{k: doc.get(k) for k in cls.KNOWN},
                "columns": None if columns is None and "columns" in doc else tuple(ColumnProfile.build(c) for c in columns or ())}

    def _value(self, key: str) -> Any:
        if key == "columns":
            return None if self.columns is None else [c.to_doc() for c in self.columns]
        return getattr(self, key)

    @classmethod
    def from_doc(cls, doc: Any, where: str = "a data profile") -> ProfileDoc:
        """A profile from outside (a record, the profile cache), checked by
        domain/validate.py's profile shape, then typed."""
        from mlver.domain import validate

        validate.check_profile(doc, where)
        return cls.build(doc)


@dataclass(frozen=True)
class DataRef(_Part):
    """One declared input: DVC's hash and, for tabular data, its profile."""

    KNOWN: ClassVar[tuple[str, ...]] = ("path", "md5", "size", "nfiles", "profile", "profile_error")
    path: str = ""
    md5: str | None = None
    size: int | None = None
    nfiles: int | None = None
    profile: ProfileDoc | None = None
    profile_error: str | None = None  # why there is no profile

    @classmethod
    def _parts(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {**{k: doc.get(k) for k in cls.KNOWN}, "profile": _part(ProfileDoc, doc.get("profile"))}

    def _value(self, key: str) -> Any:
        return _doc(self.profile) if key == "profile" else getattr(self, key)


@dataclass(frozen=True)
class CodeRun(_Part):
    """The code commit checked out while training and the run on it."""

    KNOWN: ClassVar[tuple[str, ...]] = ("commit", "clean", "dirty_files", "diff_sha256", "command", "exit_code",
                                        "started", "duration_s", "outputs")
    commit: str | None = None
    clean: bool | None = None
    dirty_files: list[Any] | None = None
    diff_sha256: str | None = None
    command: str | None = None
    exit_code: int | None = None
    started: str | None = None
    duration_s: float | None = None
    outputs: list[Any] | None = None


@dataclass(frozen=True)
class Environment(_Part):
    KNOWN: ClassVar[tuple[str, ...]] = ("python", "platform", "packages")
    python: str | None = None
    platform: str | None = None
    packages: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Author(_Part):
    KNOWN: ClassVar[tuple[str, ...]] = ("name", "email")
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ParentRef(_Part):
    """The record this one replaces, by the commit holding it and its digest."""

    KNOWN: ClassVar[tuple[str, ...]] = ("commit", "digest")
    commit: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class RecordDoc(_Part):
    """One lineage record, checked. ``schema`` is the record format's number
    (domain/record.py's SCHEMA); a record of another is refused by from_doc."""

    KNOWN: ClassVar[tuple[str, ...]] = ("schema", "model", "created", "digest", "artifact", "code", "data", "params",
                                        "metrics", "env", "author", "parent", "framework", "signature")
    schema: int = 0
    model: str | None = None
    created: str | None = None
    digest: str | None = None
    artifact: ArtifactRef | None = None
    code: CodeRun | None = None
    data: tuple[DataRef, ...] | None = ()
    params: Mapping[str, Any] | None = None  # flattened a.b.c keys
    metrics: Mapping[str, Any] | None = None
    env: Environment | None = None
    author: Author | None = None
    parent: ParentRef | None = None
    framework: Mapping[str, Any] | None = None  # what mlver.sklearn recorded of the estimator
    signature: Mapping[str, Any] | None = None

    @classmethod
    def _parts(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        data = doc.get("data")
        return {
            **{k: doc.get(k) for k in cls.KNOWN},
            "artifact": _part(ArtifactRef, doc.get("artifact")), "code": _part(CodeRun, doc.get("code")),
            # Absent is no inputs (a reader loops over them); null stays null for to_doc.
            "data": () if "data" not in doc else None if data is None else tuple(DataRef.build(d) for d in data),
            "env": _part(Environment, doc.get("env")), "author": _part(Author, doc.get("author")),
            "parent": _part(ParentRef, doc.get("parent")),
        }

    def _value(self, key: str) -> Any:
        if key in ("artifact", "code", "env", "author", "parent"):
            return _doc(getattr(self, key))
        if key == "data":
            return None if self.data is None else [d.to_doc() for d in self.data]
        return getattr(self, key)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], where: str = "a record") -> RecordDoc:
        """``doc`` from outside (git, a remote), checked with validate.check_record
        (paths, hashes, commits, the JSON type of every field) and its schema
        number, then typed. A record of another schema is RecordSchemaError:
        a newer mlver's fields could mean what this one cannot tell."""
        from mlver.domain import validate
        from mlver.domain.record import SCHEMA
        from mlver.errors import RecordSchemaError, RecordUnreadable

        if not isinstance(doc, dict):
            raise RecordUnreadable(where, "is not a JSON object", where)
        if doc.get("schema") != SCHEMA or type(doc.get("schema")) is not int:
            raise RecordSchemaError(str(doc.get("model") or where), doc.get("schema"), SCHEMA)
        validate.check_record(doc, where)
        return cls.build(doc)
