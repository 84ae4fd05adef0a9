"""Semantic versions as GTO writes them: ``v`` + semver 2.0."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache, total_ordering

from mlver.errors import InvalidVersion

_NUM = r"0|[1-9]\d*"
_PRE_ID = r"0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*"
SEMVER_PATTERN = (
    rf"(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>(?:{_PRE_ID})(?:\.(?:{_PRE_ID}))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_VERSION_RE = re.compile(rf"^v{SEMVER_PATTERN}$")

BUMP_PARTS = ("major", "minor", "patch")


@lru_cache(maxsize=1 << 16)
def precedence(text: str) -> tuple:
    """``Version.parse(text).sort_key()``, once per distinct string: a registry
    of 100,000 versions has a few thousand (every model has its v0.1.0)."""
    return Version.parse(text).sort_key()


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: str = ""
    build: str = ""

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION_RE.match(text)
        if not match:
            raise InvalidVersion(text)
        return cls(
            int(match["major"]),
            int(match["minor"]),
            int(match["patch"]),
            match["pre"] or "",
            match["build"] or "",
        )

    @staticmethod
    def is_valid(text: str) -> bool:
        return bool(_VERSION_RE.match(text))

    def __str__(self) -> str:
        text = f"v{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += f"-{self.pre}"
        if self.build:
            text += f"+{self.build}"
        return text

    def bump(self, part: str) -> Version:
        if part == "major":
            return Version(self.major + 1, 0, 0)
        if part == "minor":
            return Version(self.major, self.minor + 1, 0)
        if part == "patch":
            # A pre-release bumps to its own release, as semver orders them.
            if self.pre:
                return Version(self.major, self.minor, self.patch)
            return Version(self.major, self.minor, self.patch + 1)
        raise ValueError(f"unknown bump part {part!r}")

    def sort_key(self) -> tuple:
        """A plain tuple with the version's precedence, cheap to compare in bulk."""
        return self._key()

    def _key(self) -> tuple:
        # semver §11: a pre-release sorts before its release; identifiers
        # compare numerically when numeric, numbers before strings.
        if not self.pre:
            pre_key: tuple = (1,)
        else:
            pre_key = (0, *(
                (0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre.split(".")
            ))
        # Build metadata has no precedence in semver; it only breaks ties so
        # that two distinct tags never compare equal.
        return (self.major, self.minor, self.patch, pre_key, self.build)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

