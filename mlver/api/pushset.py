"""What ``mlver push`` sends: the records at HEAD and at every released
version (or at the refs named), each as the objects it names.

With no refs at 100,000 versions, reading every version's record is the cost:
the facts verify keeps under each record's blob id (mlver/api/facts.py) say
what a record names, so a push after a verify, or after another push, reads
only the records it has not seen; the others are read in history order
(git's delta cache: in tag-name order the same blobs cost git ten times more).
"""
from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path

from mlver.adapters import git, gitcache, statcache
from mlver.api._common import load_registry, models_at, read_record, resolve_record
from mlver.api.dvcouts import CommitOuts
from mlver.api.objects import ObjectRef, named, record_objects
from mlver.domain import record as rec
from mlver.domain import validate
from mlver.errors import MlverError
from mlver.models import Record
from mlver.project import Project

_PLAN = "push-plan"
_COMMITS = re.compile(r"(?:(?:[0-9a-f]{40}|[0-9a-f]{64})?\n)*")  # ("" for a source without one)
_HASHES = re.compile(r"(?:[0-9a-f]{32}(?:\.dir)?\n)*")
_FEW = 256  # records to read below which their order costs git nothing worth a rev-list


@dataclass(frozen=True)
class Source:
    """One record to push: where its objects are said to come from."""
    label: str  # "churn@v1.2.0", "churn (HEAD)"
    commit: str | None
    objects: tuple[ObjectRef, ...]  # what its record names, labelled
    anchors: frozenset[str]  # its artifact's hashes, when named by ref: the pipeline it needs
    derived: bool  # no mlver record: lineage derived from its commit


def of_record(label: str, record: Record) -> Source:
    return Source(label, record.commit, tuple(record_objects(record, label)),
                  frozenset(o.md5 for o in named(record.doc, data=False) if o.md5), record.derived)


def sources(project: Project, refs: list[str]) -> list[Source]:
    """The records to push for ``refs``, or for HEAD and every released
    version. A version with no mlver record (GTO's, Studio's, a hand-made
    tag) gets its lineage derived from its commit, as every read does."""
    if refs:
        out = []
        for ref in refs:
            parsed, record, version = resolve_record(project, ref)
            out.append(of_record(f"{parsed.model}@{version}" if version else str(parsed), record))
        return out
    wanted = _wanted(project)
    found = _known(project, wanted)
    out = []
    for spec, (label, model, commit, released) in wanted.items():
        source = found.get(spec)
        if source is not None:
            out.append(source)
        elif released:
            from mlver.api.derived import derive_record

            derived = derive_record(project, model, commit)  # the record's absence is known: no second read
            if derived is not None:
                out.append(of_record(label, derived))
    return out


def _wanted(project: Project) -> dict[str, tuple[str, str, str, bool]]:
    """spec -> (label, model, commit, released), in the order push names them."""
    registry = load_registry(project)
    wanted: dict[str, tuple[str, str, str, bool]] = {}
    head = git.head(project.root)
    if head:
        for model in models_at(project, head):
            wanted[f"{head}:{rec.record_path(model)}"] = (f"{model} (HEAD)", model, head, False)
    for name, state in registry.models.items():
        for version in state.active_versions():
            commit = state.versions[version].commit
            wanted.setdefault(f"{commit}:{rec.record_path(name)}", (f"{name}@{version}", name, commit, True))
    return wanted


def _history_order(project: Project, specs: list[str], known: Container[str]) -> list[str]:
    """``specs`` oldest commit first when many are to be read (the tags' own
    dates are not read by a push): the order git's pack reads fastest."""
    if sum(1 for spec in specs if spec not in known) < _FEW:
        return specs
    listed = git.run(project.root, "rev-list", "--reverse", "--branches", "--tags", check=False).split()
    position = {commit: i for i, commit in enumerate(listed)}
    return sorted(specs, key=lambda spec: position.get(spec.partition(":")[0], len(position)))


def _known(project: Project, wanted: dict[str, tuple[str, str, str, bool]]) -> dict[str, Source]:
    """spec -> its source, for the specs that hold a record; a record that
    fails its checks fails the push, as reading it would."""
    from mlver.api.facts import FactCache

    cache = FactCache(project.root)
    order = _history_order(project, list(wanted), cache.raw["s"])
    found: dict[str, Source] = {}
    try:
        for spec, facts in cache.records([(spec, wanted[spec][1], wanted[spec][2]) for spec in order]):
            if facts is None:
                continue
            if isinstance(facts, MlverError):
                raise facts
            label, model, commit, _ = wanted[spec]
            entries = facts.entries
            if not all(md5 is None or (type(md5) is str and validate.MD5.fullmatch(md5)) for _, md5, _ in entries):
                # Not what a checked record can say: a damaged cache line. The record itself decides.
                record = read_record(project, model, commit)
                if record is not None:
                    found[spec] = of_record(label, record)
                continue
            objects = tuple(ObjectRef(md5, f"{label} {path or ''}") for path, md5, _ in entries if md5)
            found[spec] = Source(label, commit, objects, frozenset(), False)  # (anchors: for refs only)
    finally:
        cache.save()
    return found


def planned(project: Project, refs: list[str], remote: str) -> tuple[list[Source], CommitOuts]:
    """The records to push and what DVC's files at their commits name for
    ``remote``. With no refs both are a function of the tag refs, HEAD's commit
    and the code alone: kept under exactly that key (the refs' stat, as ``ls``
    keys its rows: any tag added, deleted, moved, fetched or packed misses),
    unless a version's lineage was derived (read from more than its commit)."""
    if refs:
        found = sources(project, refs)
        return found, _outs(project, found, remote, refs)
    key = _plan_key(project, remote)
    if key is not None:
        cached = _unplan(statcache.read_keyed(project.root, _PLAN, key))
        if cached is not None:
            return cached
    found = sources(project, refs)
    outs = _outs(project, found, remote, refs)
    if key is not None and not any(s.derived for s in found):
        statcache.write_keyed(project.root, _PLAN, key, {
            "labels": [s.label for s in found], "commits": [s.commit or "" for s in found],
            "counts": [len(s.objects) for s in found], "md5s": [o.md5 for s in found for o in s.objects],
            "wheres": [o.where for s in found for o in s.objects],
            "outs": [o.md5 for o in outs.objects], "outs_where": [o.where for o in outs.objects], "notes": list(outs.notes)})
    return found, outs


def _outs(project: Project, found: list[Source], remote: str, refs: list[str]) -> CommitOuts:
    from mlver.api.dvcouts import pushed_at

    commits: dict[str, tuple[str, set[str] | None]] = {}
    for source in found:
        if not source.commit:
            continue
        first, had = commits.get(source.commit, (source.label, set()))
        mine = set(source.anchors) if refs else None
        commits[source.commit] = (first, None if had is None or mine is None else had | mine)
    return pushed_at(project, commits, remote)


def _plan_key(project: Project, remote: str) -> bytes | None:
    import hashlib

    import mlver

    state = git.tag_refs_state(project.root)  # (before anything reads the refs: a change meanwhile misses next time)
    if state is None:
        return None
    code = gitcache.code_stamp(*sorted(Path(str(mlver.__file__)).parent.rglob("*.py")))
    parts = (code, git.history_context(project.root), git.head(project.root) or "", remote)
    return hashlib.blake2b(state + "\0".join(parts).encode(), digest_size=32).hexdigest().encode()


def _unplan(doc: object) -> tuple[list[Source], CommitOuts] | None:
    """A kept plan back, or None for anything this code did not write (read it
    all again). 100,000 versions' worth is checked in a few passes in C:
    joining refuses what is not a string, one regex each checks the hashes."""
    fields = ("labels", "commits", "counts", "md5s", "wheres", "outs", "outs_where", "notes")
    if not isinstance(doc, dict) or not all(type(doc.get(f)) is list for f in fields):
        return None
    labels, commits, counts, md5s, wheres, outs, outs_where, notes = (doc[f] for f in fields)
    try:
        for texts in (labels, wheres, outs_where, notes):
            "\n".join(texts)
        sound = (len(labels) == len(commits) == len(counts) and len(md5s) == len(wheres) == sum(counts)
                 and len(outs) == len(outs_where) and min(counts, default=0) >= 0
                 and _COMMITS.fullmatch("".join(f"{c}\n" for c in commits)) is not None
                 and _HASHES.fullmatch("".join(f"{m}\n" for m in md5s + outs)) is not None)
    except TypeError:
        return None
    if not sound or not all(type(n) is int for n in counts):
        return None
    found, at = [], 0
    for label, commit, count in zip(labels, commits, counts, strict=True):
        found.append(Source(label, commit or None, tuple(map(ObjectRef, md5s[at:at + count], wheres[at:at + count])),
                            frozenset(), False))
        at += count
    return found, CommitOuts(tuple(map(ObjectRef, outs, outs_where)), tuple(notes))
