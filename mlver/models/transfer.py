"""Results of push, pull and the remote commands."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SentObject:
    md5: str
    where: str  # "churn@v0.1.0 models/churn.pkl"
    size: int


@dataclass(frozen=True)
class TransferResult:
    remote: str
    objects: int  # objects referenced
    transferred: int
    bytes: int
    present: int  # already where they had to go
    # Objects a version with no record names that neither the cache nor the remote has,
    # where its commit shares another remote: left there, said, not a failure.
    notes: tuple[str, ...] = ()
    sent: tuple[SentObject, ...] = ()  # the transferred ones (push -v lists them)
    # Of ``objects``, how many only DVC's files (dvc.lock, .dvc) at the versions' commits name:
    # other stages' outputs, which `dvc push` there would send and a clone's `dvc pull` fetches.
    pipeline: int = 0
    unsent: tuple[str, ...] = ()  # those of them neither the cache nor the remote has (not a failure)


@dataclass(frozen=True)
class PulledFile:
    path: str
    md5: str
    size: int


@dataclass(frozen=True)
class PullResult:
    ref: str
    model: str
    version: str | None
    commit: str
    files: tuple[PulledFile, ...]
    fetched: int
    bytes: int
    derived: bool = False  # the version has no mlver record: what was pulled is what its commit names
    # Set when the pull left the workspace holding another model than HEAD's
    # record names: that record's label and the command that puts its model back.
    head_record: str | None = None
    back: str | None = None
    written: int = 0  # files written
    kept: int = 0  # files already in place (their stat matches what mlver placed or hashed)
    removed: int = 0  # files a pulled directory had that the version does not


@dataclass(frozen=True)
class RemoteInfo:
    """A configured DVC remote, as `mlver remote list` and `remote add` show it."""

    name: str
    url: str
    level: str  # "repo" (.dvc/config, in git), "local" (.dvc/config.local), "global", "system"
    default: bool
    endpoint_url: str | None = None


@dataclass(frozen=True)
class RemoteCheck:
    name: str
    url: str
    can: tuple[str, ...]  # what the check proved: "list", "write", "read"
    endpoint_url: str | None = None
    notes: tuple[str, ...] = ()  # e.g. the remote is the folder older mlver shared between projects


@dataclass(frozen=True)
class PresignedUrl:
    ref: str
    model: str
    version: str | None
    md5: str
    remote: str
    url: str
    expires_in: int  # seconds
    expires_at: str  # UTC ISO time


@dataclass(frozen=True)
class GcFreed:
    """What gc frees (or would) in one store for one model."""

    model: str | None  # None: objects no record ever named (data never recorded, old runs)
    objects: int
    bytes: int


@dataclass(frozen=True)
class GcStore:
    """One store gc went through: the local cache or a remote."""

    name: str  # "cache" or the remote's name
    url: str
    objects: int  # objects it held
    kept: int  # named by something gc keeps
    protected: int  # kept only because another project's manifest names them
    young: int  # kept because they are newer than the grace period
    freed: tuple[GcFreed, ...]
    freed_objects: int
    freed_bytes: int
    foreign: int = 0  # in a remote: never pushed by nor named in this project (another project's, without a manifest)


@dataclass(frozen=True)
class GcResult:
    dry_run: bool  # nothing was deleted
    project: str | None  # the project id manifests are written under (the root commit)
    kept_refs: tuple[str, ...]  # what the keep set was built from ("churn@v0.1.0", "main: churn", ...)
    stores: tuple[GcStore, ...]
    notes: tuple[str, ...] = ()
