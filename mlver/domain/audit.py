"""What the registry's history says about itself, checked without signatures.

Tags carry their own dates and counters, and mlver writes them in a known
order: counters count up, a version is never released below an existing one,
a tag is made after the commit it names, and nothing is dated in the future.
A tag made by hand or re-made to move a version breaks one of these unless
every date was forged with care; only a signature proves who made it. Pure:
events, commit times, metrics and the clock come in, findings go out.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from mlver.domain.policy import Policy, breaches
from mlver.domain.record import record_path
from mlver.domain.registry import Event
from mlver.domain.semver import Version
from mlver.domain.tags import Action
from mlver.models import Finding

SKEW = 300  # seconds a clock may run ahead before a date counts as the future

T = TypeVar("T")


def _when(timestamp: int) -> str:
    from mlver.formats import utc_iso

    return utc_iso(timestamp)


def _out_of_order(items: Sequence[T], key: Callable[[T], tuple], strict: bool = False) -> list[T]:
    """The items outside one longest run that ``key`` keeps non-decreasing
    (``strict``: increasing):
    the fewest that have to be wrong for the rest to be in order (so one
    post-dated tag is blamed, not every honest tag made before its date)."""
    tails: list[tuple] = []
    tail_index: list[int] = []
    previous = [-1] * len(items)
    for i, item in enumerate(items):
        k = key(item)
        pos = (bisect_left if strict else bisect_right)(tails, k)
        if pos == len(tails):
            tails.append(k)
            tail_index.append(i)
        else:
            tails[pos] = k
            tail_index[pos] = i
        previous[i] = tail_index[pos - 1] if pos else -1
    keep = set()
    i = tail_index[-1] if tail_index else -1
    while i >= 0:
        keep.add(i)
        i = previous[i]
    return [item for i, item in enumerate(items) if i not in keep]


def future_dated(events: Iterable[Event], now: int, skew: int = SKEW) -> list[Finding]:
    """A tag dated ahead of now wins every stage decision until that date."""
    return future_names([(e.name, e.timestamp) for e in events if e.info], now, skew)


def future_names(dated: Iterable[tuple[str, int]], now: int, skew: int = SKEW) -> list[Finding]:
    """``future_dated`` of (tag, date) pairs."""
    return [
        Finding(name, f"the tag is dated {_when(when)}, in the future: until then it outranks every later event",
                f"check who made it (`git tag -v {name}`); if it is bogus, delete it (`git tag -d {name}`, "
                f"`git push --delete origin {name}`)")
        for name, when in dated if when > now + skew
    ]


def counter_order(events: Iterable[Event]) -> list[Finding]:
    """Per model, the ``#N`` counters must grow with the tags' dates."""
    by_model: dict[str, list[Event]] = {}
    for e in events:
        if e.tag.number and e.info:
            by_model.setdefault(e.tag.model, []).append(e)
    findings = []
    for numbered in by_model.values():
        numbered.sort(key=lambda e: (e.timestamp, e.tag.number))
        for e in _out_of_order(numbered, lambda e: (e.tag.number,), strict=True):
            findings.append(Finding(
                e.name, f"its counter #{e.tag.number} is out of order with its date {_when(e.timestamp)}: "
                "it was made by hand, or its date was forged",
                f"compare `mlver log {e.tag.model}` with `git tag -v {e.name}`; delete it if nobody vouches for it",
            ))
    return findings


def release_order(events: Iterable[Event], made_by_mlver: Callable[[Event], bool]) -> list[Finding]:
    """mlver never releases a version below an existing one, so its version
    tags' dates grow with their versions: a lower version tagged after a
    higher one was re-made (a version moved to another record)."""
    by_model: dict[str, list[Event]] = {}
    for e in events:
        if e.tag.action is Action.REGISTER and e.info and made_by_mlver(e):
            by_model.setdefault(e.tag.model, []).append(e)
    findings = []
    keys: dict[str, tuple] = {}  # version -> its sort key: 100 models share "v1.2.3", parsed once

    def order(e: Event) -> tuple:
        key = keys.get(e.tag.version)
        if key is None:
            key = keys[e.tag.version] = Version.parse(e.tag.version).sort_key()
        return key

    for versions in by_model.values():
        versions.sort(key=order)
        for e in _out_of_order(versions, lambda e: (e.timestamp,)):
            findings.append(Finding(
                e.name, f"it is dated {_when(e.timestamp)}, after a higher version was released: "
                "mlver never releases below an existing version, so this tag was re-made or moved",
                f"find its first target (`git log --all -- {record_path(e.tag.model)}`) and restore the tag there",
            ))
    return findings


def tagged_before_commit(events: Iterable[Event], commit_time: Mapping[str, int], skew: int = SKEW) -> list[Finding]:
    """A tag cannot be made before the commit it points at exists."""
    return [
        Finding(e.name, f"it is dated {_when(e.timestamp)}, before its commit {e.commit[:12]} "
                f"({_when(commit_time[e.commit])}): its date was forged",
                f"check who made it (`git tag -v {e.name}`); a moved tag keeps its old date to look unchanged")
        for e in events if e.info and e.commit in commit_time and e.timestamp + skew < commit_time[e.commit]
    ]


@dataclass(frozen=True)
class Assignment:
    tag: str
    model: str
    stage: str
    version: str  # or the bare commit
    metrics: Mapping[str, object] | None  # the record's; None: no record to check gates on
    forced: bool  # the tag says what --force overrode
    rollback: bool
    timestamp: int = 0  # the tag's date: which policy was in force


def policy_findings(policy_at: Callable[[int], Policy], assignments: Iterable[Assignment]) -> list[Finding]:
    """Replay every assignment, oldest first, against the policy of its day:
    one that breaks it with no ``--force`` note was not made through
    ``promote``. (A gate raised later does not condemn older promotions.)"""
    held: dict[tuple[str, str], set[str]] = {}
    findings = []
    for a in assignments:
        policy = policy_at(a.timestamp)
        if a.rollback and a.version in held.get((a.model, a.stage), set()):
            found = []  # back to a version that held the stage before: no order or gate applies
        else:  # (a "rollback" to a version that never held the stage is an assignment like any other)
            previous = policy.previous(a.stage) or ""
            found = [b.text for b in breaches(policy, a.stage, a.version in held.get((a.model, previous), set()), a.metrics)]
        held.setdefault((a.model, a.stage), set()).add(a.version)
        if found and not a.forced:
            findings.append(Finding(
                a.tag, f"it gives {a.stage} to {a.version} outside the policy ({'; '.join(found)}) and carries no --force note",
                f"if it was meant, say so with `mlver promote ... --force`; else un-assign it: `mlver deprecate {a.model}#{a.stage}`",
            ))
    return findings
