"""The registry's tag grammar, in GTO's format, as one table.

    register      churn@v1.2.0
    deregister    churn@v1.2.0!#4
    assign        churn#prod#3
    unassign      churn#prod!#5
    deprecate     churn@deprecated#6

GTO numbers every counted tag of an artifact with one counter shared by all
its actions (max + 1), so we do the same: numbers are unique per model.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from enum import Enum

from mlver.domain.semver import SEMVER_PATTERN, Version
from mlver.domain.validate import check_name_length
from mlver.errors import InvalidName

# Stricter than GTO's own rule (which allows '_', '/' and uppercase) so that a
# name is also a safe file name and a safe path component on every platform.
NAME_PATTERN = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_NAME_RE = re.compile(rf"^{NAME_PATTERN}$")


class Action(str, Enum):
    REGISTER = "register"
    DEREGISTER = "deregister"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    DEPRECATE = "deprecate"


TEMPLATES: dict[Action, str] = {
    Action.REGISTER: "{model}@{version}",
    Action.DEREGISTER: "{model}@{version}!#{number}",
    Action.ASSIGN: "{model}#{stage}#{number}",
    Action.UNASSIGN: "{model}#{stage}!#{number}",
    Action.DEPRECATE: "{model}@deprecated#{number}",
}

# GTO's parser accepts names we never write (e.g. with '_'), so parse with
# its looser name rule: a foreign tag is read, not silently dropped.
_GTO_NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
_TAG_RE = re.compile(
    rf"^(?P<model>{_GTO_NAME})"
    rf"(?:(?:#(?P<stage>{_GTO_NAME})|@(?P<version>v{SEMVER_PATTERN}))(?P<cancel>!?)"
    r"|@(?P<deprecated>deprecated))"
    r"(?:#(?P<number>[0-9]+))?$"
)


@dataclass(frozen=True)
class TagName:
    action: Action
    model: str
    version: str = ""
    stage: str = ""
    number: int = 0

    def format(self) -> str:
        return TEMPLATES[self.action].format(
            model=self.model, version=self.version, stage=self.stage, number=self.number
        )


def check_name(name: str, kind: str = "model") -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidName(kind, name if isinstance(name, str) else repr(name))
    return check_name_length(name, kind)


@lru_cache(maxsize=None)
def parse(tag: str) -> TagName | None:
    """Parse a tag name; None when it is not a registry tag (cached: a
    registry read parses every tag of the repository)."""
    match = _TAG_RE.match(tag)
    if not match:
        return None
    number = int(match["number"]) if match["number"] else 0
    model = match["model"]
    if match["deprecated"]:
        return TagName(Action.DEPRECATE, model, number=number)
    cancel = match["cancel"] == "!"
    if match["version"]:
        if cancel:
            return TagName(Action.DEREGISTER, model, version=match["version"], number=number)
        if match["number"]:
            return None  # "m@v1.0.0#3" is not a form GTO writes
        return TagName(Action.REGISTER, model, version=match["version"])
    return TagName(
        Action.UNASSIGN if cancel else Action.ASSIGN, model, stage=match["stage"], number=number
    )


def version_tag(model: str, version: Version | str) -> str:
    return TagName(Action.REGISTER, model, version=str(version)).format()
