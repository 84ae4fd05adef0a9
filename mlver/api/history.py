"""verify's replay of the registry's history, beyond each tag on its own:
dates, counters, release order, the policy of each assignment's day, records
no branch ever held, and version tags that changed since this clone saw them.
Without signatures these catch a hand-made or hastily moved tag, not a
careful forger; mlver.api.trust is what binds tags to people."""
from __future__ import annotations

import hashlib
import time
from bisect import bisect_right
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING

from mlver.adapters import git
from mlver.api import pathlog
from mlver.api.stages import FORCED_MARK, ROLLBACK_MARK, digest_in
from mlver.domain import audit, tags
from mlver.domain import record as rec
from mlver.domain.policy import Policy
from mlver.domain.registry import Event, Registry
from mlver.domain.tags import Action
from mlver.errors import MlverError
from mlver.models import Finding
from mlver.project import CONFIG, Project, parse_config

if TYPE_CHECKING:
    from mlver.api.facts import FactCache

SEEN_VERSIONS = "mlver/seen-versions"  # in .git: the version tags this clone has verified


def seen_versions(project: Project, refs: list[tuple[str, str, str]]) -> list[Finding]:
    """Version tags this clone saw on an earlier verify, kept in its .git
    (never pushed): a version is never moved or removed, so one that changed
    object or disappeared since is a finding until someone looks. The first
    sighting is kept, so the finding does not go away by itself."""
    path = git.private_path(project.root, SEEN_VERSIONS)
    seen: dict[str, tuple[str, str]] = {}
    if path.is_file():
        for line in path.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 3:
                seen.setdefault(parts[0], (parts[1], parts[2]))
    # One pass over the tags: the ones seen before are looked up, the others
    # written down as they come (a first verify: 100,000 lines, never all held).
    now: dict[str, tuple[str, str]] = {}
    journal = _Journal(path)
    parse, register = tags.parse, Action.REGISTER
    for name, obj, commit in refs:
        parsed = parse(name)
        if parsed is None or parsed.action is not register:
            continue
        if name in seen:
            now[name] = (obj, commit)
        else:
            journal.add(f"{name} {obj} {commit}\n")
    journal.close()
    findings = []
    fix = (f"restore the tag to commit {{commit}} if nobody meant to change it; if it was meant, "
           f"delete its line from {path}")
    for name, (obj, commit) in seen.items():
        current = now.get(name)
        if current is None:
            findings.append(Finding(name, f"the version tag disappeared since this clone last verified it (at {commit[:12]})",
                                    fix.format(commit=commit[:12])))
        elif current[0] != obj:
            findings.append(Finding(name, f"the version tag changed since this clone last verified it "
                                    f"(commit {commit[:12]}, now {current[1][:12]})", fix.format(commit=commit[:12])))
    return findings


class _Journal:
    """Lines appended to the seen-versions journal a few thousand at a time
    (a read-only clone: nothing to remember with, the other checks still run)."""

    def __init__(self, path: Path) -> None:
        self.path, self.lines = path, list[str]()
        self.out: IO[str] | None = None
        self.failed = False

    def add(self, line: str) -> None:
        self.lines.append(line)
        if len(self.lines) >= 4096:
            self.flush()

    def flush(self) -> None:
        if self.lines and not self.failed:
            try:
                if self.out is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self.out = open(self.path, "a")
                self.out.writelines(self.lines)
            except OSError:
                self.failed = True
        self.lines.clear()

    def close(self) -> None:
        self.flush()
        if self.out is not None:
            try:
                self.out.close()
            except OSError:
                pass


def _promised(known: Mapping[str, str | None]) -> Callable[[Event], str | None]:
    """``digest_in`` of an event's message, from ``known`` where it holds the tag (one look-up, not a scan)."""
    unknown = object()

    def digest(e: Event) -> str | None:
        found = known.get(e.name, unknown)
        return digest_in(e.info.message if e.info else "") if found is unknown else found  # type: ignore[return-value]

    return digest


def _unborn_records(project: Project, events: list[Event], cache: FactCache, ahead: Ahead | None = None,
                    digest: Callable[[Event], str | None] | None = None) -> list[Finding]:
    """A version tag made by mlver names a record some branch held: one whose
    record no branch ever had was put on a commit made just for the tag."""
    digest = digest or _promised({})
    released = [e for e in events if e.tag.action is Action.REGISTER and digest(e)]
    if not released or git.is_shallow(project.root):
        return []  # a shallow clone does not have the history to look in
    # Which released commits no branch reaches is decided by the branch tips
    # and those commits alone: remembered under exactly that key.
    key = hashlib.sha256(" ".join(sorted(git.branch_tips(project.root)) + ["|"] +
                                  sorted({e.commit for e in released})).encode()).hexdigest()
    off = cache.memo(f"unreached:{key}")
    if not isinstance(off, list):
        walked = ahead.walked() if ahead is not None else None
        reachable = set(walked) if walked is not None else git.on_branches(project.root)
        off = sorted({e.commit for e in released if e.commit not in reachable})
        cache.remember(f"unreached:{key}", off)
    unreached = set(off)
    released = [e for e in released if e.commit in unreached]  # the rest were on a branch, with their record
    if not released:
        return []
    specs = {e.name: f"{e.commit}:{rec.record_path(e.tag.model)}" for e in released}
    ids = git.object_ids(project.root, specs.values())
    held = git.blobs_on_branches(project.root, rec.RECORDS_DIR)
    return [
        Finding(e.name, f"the record it names (at {e.commit[:12]}) was never on any branch: "
                "that commit was made for the tag, not by a training",
                f"find the commit it was released on (`git log -p -- {rec.record_path(e.tag.model)}`) and compare")
        for e in released
        if ids.get(specs[e.name]) and (rec.record_path(e.tag.model), ids[specs[e.name]]) not in held
    ]


class Ahead:
    """The whole-history walks of the replay, started before the records are
    read so git runs them meanwhile on the other core: the branches' commits
    and times (when the cache lacks them) and mlver.yaml's history (when
    stages were assigned). Each is asked for at most once; ``close`` ends
    the ones nobody asked for."""

    def __init__(self, project: Project, refs: list[tuple[str, str, str]], cache: FactCache) -> None:
        """``refs``: (name, object, commit) of the tags verify reads, before
        they are folded: the walks start before the tag objects are read."""
        annotated = [(name, commit) for name, obj, commit in refs if obj != commit]  # (GTO's events are among them)
        need_times = not cache.knows_times(c for _, c in annotated)
        self._walked: dict[str, int] | None = None
        branch = git.default_branch(project.root)
        assigned = any("#" in name and (tag := tags.parse(name)) is not None and tag.action is Action.ASSIGN
                       for name, _ in annotated)
        walks: list[Callable[[], git.BranchWalk | None]] = []

        def one_walk(tip: str) -> Callable[[], git.BranchWalk | None]:
            # Both answers from one walk: with two, git walked the history twice, side by side with this parse.
            walks.append(git.branch_walk_ahead(project.root, CONFIG, tip))
            return walks[0]

        self._config: list[Callable[[], list[git.RawCommit]]] = (
            [pathlog.history_ahead(project.root, CONFIG, branch, one_walk if need_times else None)] if branch and assigned else [])
        self._walk: list[Callable[[], dict[str, int]]] = []
        if walks:
            self._walk.append(lambda: _times(project, walks[0]))
        elif need_times:
            self._walk.append(git.branch_commit_times_ahead(project.root))

    def walked(self) -> dict[str, int] | None:
        if self._walk:
            self._walked = self._walk.pop()()
        return self._walked

    def config_commits(self, project: Project) -> list[git.RawCommit]:
        if self._config:
            return self._config.pop()()
        branch = git.default_branch(project.root)
        return pathlog.history(project.root, CONFIG, branch) if branch else []

    def close(self) -> None:
        self.walked()
        self._walked = None  # (100,000 commits: let go before the journal is read)
        if self._config:
            try:
                self._config.pop()()
            except MlverError:
                pass


def _times(project: Project, walk: Callable[[], git.BranchWalk | None]) -> dict[str, int]:
    walked = walk()
    if walked is None or walked.odd_dates:
        return git.branch_commit_times_ahead(project.root)()  # (rev-list reads dates log cannot)
    return walked.times


def _policy_history(project: Project, ahead: Ahead | None = None) -> Callable[[int], Policy]:
    """The policy as mlver.yaml on the default branch stated it at any moment
    (a branch cannot rewrite it; a commit's time says since when it held)."""
    if ahead is not None:
        commits = ahead.config_commits(project)
    else:
        branch = git.default_branch(project.root)
        commits = pathlog.history(project.root, CONFIG, branch) if branch else []
    blobs = git.read_blobs(project.root, [f"{c.commit}:{CONFIG}" for c in commits])
    timeline: list[tuple[int, Policy]] = []
    for c in reversed(commits):
        content = blobs.get(f"{c.commit}:{CONFIG}")
        try:
            policy = parse_config(content, f"{CONFIG} at {c.commit[:12]}").policy
        except MlverError:
            continue  # a broken policy then was not enforced by promote either
        timeline.append((c.timestamp, policy))
    if not timeline:
        current = project.config.policy
        return lambda _: current

    def at(moment: int) -> Policy:
        index = bisect_right([when for when, _ in timeline], moment)
        return timeline[index - 1][1] if index else Policy()

    return at


def history_findings(project: Project, registry: Registry, metrics: Mapping[str, Mapping[str, object]],
                     only: set[str] | None, cache: FactCache, ahead: Ahead | None = None,
                     promised: Mapping[str, str | None] | None = None) -> tuple[list[Finding], list[Finding]]:
    """Dates, counters, release order and the policy, replayed over every
    model's whole history (``only``: report just these tags). ``metrics``:
    of each record read, by ``commit:record`` spec. Returns (tags dated in
    the future, the rest): only the first depends on the clock. ``ahead``:
    the walks started before the records were read. ``promised``: the
    digest each tag's message promises (``digest_in``), by tag, where the
    caller has it (the others are read from their messages)."""
    every = [e for state in registry.models.values() for e in state.events]
    digest = _promised(promised or {})
    future = [f for f in audit.future_dated(every, int(time.time())) if only is None or f.ref in only]
    findings = audit.counter_order(every)
    findings += audit.release_order(every, lambda e: digest(e) is not None)
    findings += audit.tagged_before_commit(every, cache.commit_times((e.commit for e in every),
                                                                     ahead.walked() if ahead is not None else None))
    findings += _unborn_records(project, every, cache, ahead, digest)
    assignments = []
    for state in registry.models.values():
        for e in state.events:
            if e.tag.action is not Action.ASSIGN:
                continue
            message = e.info.message if e.info else ""
            assignments.append(audit.Assignment(
                e.name, state.name, e.tag.stage, state.version_of(e.commit) or e.commit,
                metrics.get(f"{e.commit}:{rec.record_path(state.name)}"), FORCED_MARK in message, ROLLBACK_MARK in message,
                e.timestamp,
            ))
    findings += audit.policy_findings(_policy_history(project, ahead), assignments) if assignments else []
    return future, [f for f in findings if only is None or f.ref in only]
