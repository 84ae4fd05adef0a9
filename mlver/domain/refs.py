"""Model references: ``churn``, ``churn@v1.2.0``, ``churn#prod``, ``churn@<git-rev>``.

The name may be any GTO artifact name, e.g. the monorepo ``sub/proj:nested``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlver.domain.semver import Version
from mlver.domain.tags import check_artifact, check_stage
from mlver.errors import InvalidReference, StageNotFound, VersionNotFound

if TYPE_CHECKING:
    from mlver.domain.registry import ModelState


@dataclass(frozen=True)
class Ref:
    model: str
    version: str = ""
    stage: str = ""
    rev: str = ""

    def __str__(self) -> str:
        if self.version:
            return f"{self.model}@{self.version}"
        if self.stage:
            return f"{self.model}#{self.stage}"
        if self.rev:
            return f"{self.model}@{self.rev}"
        return self.model


def parse_ref(text: str) -> Ref:
    if not text:
        raise InvalidReference(text, "it is empty")
    at, hash_ = text.find("@"), text.find("#")
    cut = min(i for i in (at, hash_, len(text)) if i >= 0)
    model, rest = text[:cut], text[cut:]
    check_artifact(model)
    if not rest:
        return Ref(model)
    body = rest[1:]
    if not body:
        raise InvalidReference(text, f"nothing after {rest[0]!r}")
    if rest[0] == "#":
        check_stage(body)
        return Ref(model, stage=body)
    if Version.is_valid(body):
        return Ref(model, version=body)
    if body.startswith("-") or any(c in body for c in " \t\n"):
        raise InvalidReference(text, f"{body!r} is not a version or a git revision")
    return Ref(model, rev=body)


def locate(ref: Ref, state: ModelState | None) -> tuple[str, str | None] | None:
    """Where a version, stage or bare name points in a model's registry state
    (``None`` when it has none): (the commit, the version there; None for a
    stage GTO assigned to a bare commit). None for a bare name when no
    version is released: locally that is HEAD's record, with --repo an
    error, so the caller decides. VersionNotFound or StageNotFound when the
    registry does not answer it. The one reading of the registry every
    resolver goes through (local, signed-only, ``pull --repo``); a git
    revision (``ref.rev``) names its commit itself and is not for here."""
    if ref.rev:
        raise ValueError(f"{ref} names a git revision, not a registry entry")
    if ref.version:
        if state is None or ref.version not in state.versions or ref.version in state.deregistered:
            raise VersionNotFound(ref.model, ref.version)
        return state.versions[ref.version].commit, ref.version
    if ref.stage:
        held = state.stages.get(ref.stage) if state else None
        if state is None or held is None:
            raise StageNotFound(ref.model, ref.stage)
        if held in state.versions:
            return state.versions[held].commit, held
        return held, None
    latest = state.latest() if state else None
    return (state.versions[latest].commit, latest) if state and latest else None
