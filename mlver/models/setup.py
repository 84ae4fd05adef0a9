"""Results of init, data add, model add, run and record."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InitResult:
    root: str
    created_git: bool
    created_dvc: bool
    remote_name: str
    remote_url: str
    notes: tuple[str, ...] = ()  # e.g. the default remote is the folder older mlver shared between projects


@dataclass(frozen=True)
class DataAddResult:
    path: str
    md5: str
    size: int | None
    nfiles: int | None
    profiled: bool


@dataclass(frozen=True)
class ModelAddResult:
    name: str
    path: str
    data: tuple[str, ...]
    params: str | None
    metrics: str | None
    command: str | None
    stage: str | None
    staged: tuple[str, ...] = ()  # the files the declaration changed (dvc.yaml only when it gained a line)


@dataclass(frozen=True)
class RecordResult:
    model: str
    commit: str
    digest: str
    path: str
    artifact_md5: str
    metrics: dict[str, Any]
    dirty: bool
    notes: tuple[str, ...] = ()  # what the user should know that is not the result (stderr)
    unchanged: bool = False  # HEAD's record already is this training: nothing was written
