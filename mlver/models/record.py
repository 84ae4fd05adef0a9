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
from dataclasses import dataclass
from typing import Any, ClassVar

from mlver.models.doc import DocPart, as_doc, part


@dataclass(frozen=True)
class ArtifactRef(DocPart):
    KNOWN: ClassVar[tuple[str, ...]] = ("path", "md5", "size", "nfiles", "remote")
    path: str = ""
    md5: str | None = None
    size: int | None = None
    nfiles: int | None = None
    remote: str | None = None


@dataclass(frozen=True)
class Histogram(DocPart):
    KNOWN: ClassVar[tuple[str, ...]] = ("edges", "counts")
    edges: list[Any] | None = None  # len(counts) + 1 bin edges
    counts: list[Any] | None = None


@dataclass(frozen=True)
class ColumnProfile(DocPart):
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
        return {**{k: doc.get(k) for k in cls.KNOWN}, "histogram": part(Histogram, doc.get("histogram"))}

    def _value(self, key: str) -> Any:
        return as_doc(self.histogram) if key == "histogram" else getattr(self, key)


@dataclass(frozen=True)
class ProfileDoc(DocPart):
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
class DataRef(DocPart):
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
        return {**{k: doc.get(k) for k in cls.KNOWN}, "profile": part(ProfileDoc, doc.get("profile"))}

    def _value(self, key: str) -> Any:
        return as_doc(self.profile) if key == "profile" else getattr(self, key)


@dataclass(frozen=True)
class CodeRun(DocPart):
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
class Environment(DocPart):
    KNOWN: ClassVar[tuple[str, ...]] = ("python", "platform", "packages")
    python: str | None = None
    platform: str | None = None
    packages: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Author(DocPart):
    KNOWN: ClassVar[tuple[str, ...]] = ("name", "email")
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ParentRef(DocPart):
    """The record this one replaces, by the commit holding it and its digest."""

    KNOWN: ClassVar[tuple[str, ...]] = ("commit", "digest")
    commit: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class RecordDoc(DocPart):
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
            "artifact": part(ArtifactRef, doc.get("artifact")), "code": part(CodeRun, doc.get("code")),
            # Absent is no inputs (a reader loops over them); null stays null for to_doc.
            "data": () if "data" not in doc else None if data is None else tuple(DataRef.build(d) for d in data),
            "env": part(Environment, doc.get("env")), "author": part(Author, doc.get("author")),
            "parent": part(ParentRef, doc.get("parent")),
        }

    def _value(self, key: str) -> Any:
        if key in ("artifact", "code", "env", "author", "parent"):
            return as_doc(getattr(self, key))
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
