"""The registry's tag grammar, in GTO's format, as one table.

    register      churn@v1.2.0
    deregister    churn@v1.2.0!#4        (simple form: churn@v1.2.0!)
    assign        churn#prod#3           (simple form: churn#prod)
    unassign      churn#prod!#5          (simple form: churn#prod!)
    deprecate     churn@deprecated#6     (simple form: churn@deprecated)

GTO numbers every counted tag of an artifact with one counter shared by all
its actions (max + 1), so we do the same: numbers are unique per model. A
tag without a number is GTO's "simple" form (``gto assign --simple``).

A monorepo artifact ``sub/proj:nested`` (declared in ``sub/proj/dvc.yaml``)
is written ``sub/proj=nested`` in its tags, as GTO writes it; everywhere
else (refs, ``ls``, ``log``) it keeps GTO's ``dir:name`` form.
"""
from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache
from typing import NamedTuple, TypeVar

from mlver.domain.semver import SEMVER_PATTERN, Version
from mlver.domain.validate import check_name_length
from mlver.errors import InvalidName

# Stricter than GTO's own rule (which allows '_', '/' and uppercase) so that a
# name mlver creates is also a safe file name and path component everywhere.
NAME_PATTERN = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_NAME_RE = re.compile(rf"^{NAME_PATTERN}$")

# GTO's looser name rule: names mlver did not create (GTO, Studio, by hand)
# are read, not dropped. The folder of a monorepo name is stricter than
# GTO's (whose character class is accidentally a range that admits '@' and
# '='): path segments of letters, digits, '.', '_' and '-'.
_GTO_NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9/_-]*[a-zA-Z0-9])?"
_DIR = r"[a-zA-Z0-9._-]+(?:/[a-zA-Z0-9._-]+)*"
_FULL_NAME_RE = re.compile(rf"^(?:(?P<dir>{_DIR}):)?{_GTO_NAME}$")
_GTO_NAME_RE = re.compile(rf"^{_GTO_NAME}$")
DIR_SEPARATOR, DIR_SEPARATOR_IN_TAG = ":", "="


class Action(str, Enum):
    REGISTER = "register"
    DEREGISTER = "deregister"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    DEPRECATE = "deprecate"


TEMPLATES: dict[Action, str] = {
    Action.REGISTER: "{model}@{version}",
    Action.DEREGISTER: "{model}@{version}!",
    Action.ASSIGN: "{model}#{stage}",
    Action.UNASSIGN: "{model}#{stage}!",
    Action.DEPRECATE: "{model}@deprecated",
}
COUNTER = "#{number}"  # appended to a template for a counted tag

_TAG_RE = re.compile(
    rf"^(?P<model>(?:{_DIR}{DIR_SEPARATOR_IN_TAG})?{_GTO_NAME})"
    rf"(?:(?:#(?P<stage>{_GTO_NAME})|@(?P<version>v{SEMVER_PATTERN}))(?P<cancel>!?)"
    r"|@(?P<deprecated>deprecated))"
    r"(?:#(?P<number>[0-9]+))?$"
)


class TagName(NamedTuple):
    """A parsed tag name. A tuple, not a frozen dataclass: a registry read
    makes one per tag, and a frozen dataclass's ``__init__`` cost 4x more."""

    action: Action
    model: str  # GTO's full name: "churn" or "sub/proj:nested"
    version: str = ""
    stage: str = ""
    number: int | None = None  # None: GTO's simple form, no counter

    def format(self) -> str:
        name = TEMPLATES[self.action].format(
            model=name_in_tag(self.model), version=self.version, stage=self.stage
        )
        return name if self.number is None else name + COUNTER.format(number=self.number)


def name_in_tag(model: str) -> str:
    return model.replace(DIR_SEPARATOR, DIR_SEPARATOR_IN_TAG)


def check_name(name: str, kind: str = "model") -> str:
    """A name mlver may create (a model it declares, a stage it writes)."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidName(kind, name if isinstance(name, str) else repr(name))
    return check_name_length(name, kind)


def _safe_segments(text: str) -> bool:
    return all(part not in ("", ".", "..") for part in text.split("/"))


def check_artifact(name: str, kind: str = "model") -> str:
    """A name mlver reads: its own, or any GTO artifact name, including a
    monorepo ``dir:name``; never one that climbs out of a folder."""
    if isinstance(name, str) and _NAME_RE.match(name):
        return check_name_length(name, kind)
    match = _FULL_NAME_RE.match(name) if isinstance(name, str) else None
    if not match or not _safe_segments(name.replace(DIR_SEPARATOR, "/", 1)):
        raise InvalidName(kind, name if isinstance(name, str) else repr(name))
    return check_name_length(name, kind)


def check_stage(name: str) -> str:
    """A stage name as GTO allows it (reading a registry mlver did not write)."""
    if isinstance(name, str) and (_NAME_RE.match(name) or (_GTO_NAME_RE.match(name) and _safe_segments(name))):
        return check_name_length(name, "stage")
    raise InvalidName("stage", name if isinstance(name, str) else repr(name))


_MODEL_IN_TAG_RE = re.compile(rf"(?:{_DIR}{DIR_SEPARATOR_IN_TAG})?{_GTO_NAME}")  # _TAG_RE's model group
_valid_version = lru_cache(maxsize=1 << 16)(Version.is_valid)


@lru_cache(maxsize=1 << 12)
def _model_in_tag(text: str) -> str | None:
    """The artifact a registration tag names (``sub/proj=nested`` -> ``sub/proj:nested``),
    once per model rather than once per tag; None when it is not a safe name."""
    if not _MODEL_IN_TAG_RE.fullmatch(text):
        return None
    model = text.replace(DIR_SEPARATOR_IN_TAG, DIR_SEPARATOR)
    flat = model.replace(DIR_SEPARATOR, "/", 1)
    # The pattern admits an empty segment only as "//", "." and ".." only with a dot.
    if "//" in flat or ("." in flat and not _safe_segments(flat)):
        return None
    return model


_valid_stage = lru_cache(maxsize=1 << 12)(lambda text: _GTO_NAME_RE.fullmatch(text) is not None)
_new = tuple.__new__  # TagName's own __new__ (keywords, defaults) costs 3x more, once per tag
# What registrations' names and versions were found to be: a dict lookup is a
# fifth of parse's cost cheaper than an lru_cache hit, twice per tag. Bounded.
_MODELS: dict[str, str | None] = {}
_VERSIONS: dict[str, bool] = {}
_SEEN_MAX = 1 << 16
_UNSEEN = object()
_REGISTER = Action.REGISTER
_T = TypeVar("_T")


def _remember(seen: dict[str, _T], key: str, value: _T) -> _T:
    if len(seen) >= _SEEN_MAX:
        seen.clear()
    seen[key] = value
    return value


def parse(tag: str) -> TagName | None:
    """Parse a tag name; None when it is not a registry tag. A registry read
    parses every tag of the repository, so the two forms nearly every tag
    takes are split by hand, as _TAG_RE would split them (property-tested
    equal to it); anything else goes to the pattern."""
    model, at, version = tag.partition("@")
    if at and "#" not in tag and version[-1:] not in ("!", "\n") and version != "deprecated":
        # "name@vX.Y.Z", nine tags in ten: a name cannot hold '@'.
        name = _MODELS.get(model, _UNSEEN)
        if name is _UNSEEN:
            name = _remember(_MODELS, model, _model_in_tag(model))
        valid = _VERSIONS.get(version)
        if valid is None:
            valid = _remember(_VERSIONS, version, _valid_version(version))
        return _new(TagName, (_REGISTER, name, version, "", None)) if name and valid else None
    if not at and "\n" not in tag:
        # "name#stage[!][#N]": neither a name nor a stage can hold '#' or '!'.
        model, sharp, rest = tag.partition("#")
        if not sharp:
            return None
        stage, sharp, counter = rest.partition("#")
        cancel = stage[-1:] == "!"
        if cancel:
            stage = stage[:-1]
        name = _model_in_tag(model)
        if not name or not _valid_stage(stage) or (sharp and not (counter.isascii() and counter.isdigit())):
            return None
        return _new(TagName, (Action.UNASSIGN if cancel else Action.ASSIGN, name, "", stage, int(counter) if sharp else None))
    match = _TAG_RE.match(tag)
    if not match:
        return None
    number = int(match["number"]) if match["number"] else None
    model = match["model"].replace(DIR_SEPARATOR_IN_TAG, DIR_SEPARATOR)
    flat = model.replace(DIR_SEPARATOR, "/", 1)
    # The pattern admits an empty segment only as "//", "." and ".." only with a dot.
    if "//" in flat or ("." in flat and not _safe_segments(flat)):
        return None
    if match["deprecated"]:
        return TagName(Action.DEPRECATE, model, number=number)
    cancel = match["cancel"] == "!"
    if match["version"]:
        # GTO never writes "m@v1.0.0#3" but reads it as a registration.
        action = Action.DEREGISTER if cancel else Action.REGISTER
        return TagName(action, model, version=match["version"], number=number)
    return TagName(
        Action.UNASSIGN if cancel else Action.ASSIGN, model, stage=match["stage"], number=number
    )


def version_tag(model: str, version: Version | str) -> str:
    return TagName(Action.REGISTER, model, version=str(version)).format()
