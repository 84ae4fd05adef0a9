"""``verify --all --offline`` kept for the exact state it was computed from.

At 100,000 versions even reading every fact from the cache of mlver.api.facts
(each tag's date, each record's digest) takes seconds; most verifies run on
a registry that has not changed since the last one. So the findings that are
a function of git objects alone are kept under a key naming every input
they were computed from: the source of mlver, the history context (shallow
boundary, grafts, replace refs), every tag ref with its object and commit,
HEAD, every branch tip, the default branch and the policy the work tree
states. Any change to any of them computes everything again (through the
fact cache). What does not come from git objects is checked again on every
run: the clock (tags dated in the future, from the tags' dates kept), the
work tree's symlinks (every recorded path, kept), and the clone's own journal
of version tags (its content is part of the kept answer). A verify with
signing required, against the remote, or with a version made by GTO (whose
lineage is derived partly from the work tree) is never kept.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlver.adapters import git, gitcache
from mlver.models import Finding
from mlver.project import Project


@dataclass
class Kept:
    records: list[Finding]
    history: list[Finding]  # after the tags dated in the future
    parents: list[Finding]
    seen: list[Finding]
    journal: str  # sha256 of the seen-versions journal after that run
    dated: list[tuple[str, int]]  # (tag, date) of every event dated after `now`
    now: int
    paths: list[str]  # every path a record names (their symlinks are checked each run)
    counts: tuple[int, int]  # records, tags


def _source_stamp() -> str:
    import mlver

    return gitcache.code_stamp(*sorted(Path(str(mlver.__file__)).parent.rglob("*.py")))


def key(project: Project, listing: str) -> str:
    """``listing``: every tag ref with its object and peeled commit, as ``git.tag_listing`` gives it."""
    digest = hashlib.sha256()
    branch = git.default_branch(project.root)
    for part in (_source_stamp(), git.history_context(project.root), git.head(project.root) or "",
                 " ".join(sorted(git.branch_tips(project.root))), branch or "",
                 (git.resolve_commit(project.root, branch) or "") if branch else "",
                 repr(project.config.policy)):  # (a frozen dataclass: its repr is its value)
        digest.update(part.encode() + b"\0")
    digest.update(listing.encode())
    return digest.hexdigest()


def journal_digest(file: Path) -> str:
    try:
        return hashlib.sha256(file.read_bytes()).hexdigest()
    except OSError:
        return ""


def _file(project: Project) -> Path:
    return gitcache.path(project.root, "verdict")


def load(project: Project, wanted: str) -> Kept | None:
    tables = gitcache.load(_file(project), wanted)
    doc: Any = tables.get("kept")
    if not isinstance(doc, dict):
        return None
    try:
        return Kept(
            **{k: [Finding(*f) for f in doc[k]] for k in ("records", "history", "parents", "seen")},
            journal=str(doc["journal"]), dated=[(str(n), int(t)) for n, t in doc["dated"]], now=int(doc["now"]),
            paths=[str(p) for p in doc["paths"]], counts=(int(doc["counts"][0]), int(doc["counts"][1])),
        )
    except (KeyError, TypeError, ValueError):
        return None


def save(project: Project, wanted: str, kept: Kept) -> None:
    doc = {
        **{k: [[f.ref, f.problem, f.fix] for f in getattr(kept, k)] for k in ("records", "history", "parents", "seen")},
        "journal": kept.journal, "dated": kept.dated, "now": kept.now, "paths": kept.paths, "counts": list(kept.counts),
    }
    gitcache.save(_file(project), {"kept": doc}, wanted)
