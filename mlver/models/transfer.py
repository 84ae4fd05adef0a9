"""Results of push, pull and the remote commands."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TransferResult:
    remote: str
    objects: int  # objects referenced
    transferred: int
    bytes: int
    present: int  # already where they had to go


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
