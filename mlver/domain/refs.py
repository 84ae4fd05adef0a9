"""Model references: ``churn``, ``churn@v1.2.0``, ``churn#prod``, ``churn@<git-rev>``.

The name may be any GTO artifact name, e.g. the monorepo ``sub/proj:nested``."""
from __future__ import annotations

from dataclasses import dataclass

from mlver.domain.semver import Version
from mlver.domain.tags import check_artifact, check_stage
from mlver.errors import InvalidReference


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
