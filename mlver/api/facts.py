"""What verify needs from git objects, read once per object id and cached.

A record blob is parsed, checked and hashed once: its facts (intact, the
digest it declares and the one it has, its parent, metrics and the objects
it names) are kept under its blob id in ``.git/mlver/cache/facts.json``,
as are the blob at each ``commit:record`` spec, each tag object's tagger,
date and message, and each commit's time. Every key is an object id (a
spec names a commit, which names its tree), so a fact cannot go stale and
whoever can push cannot make one lie; the file is stamped with the history
context (replace refs could swap an object's content) and the code that
checks records, and starts afresh when either differs. A record that fails
its checks is never cached as such: it is read again, so its finding names
the commit it was found at.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from mlver.adapters import git, gitcache
from mlver.errors import MlverError

_FILE = "facts"
_CHUNK = 8192  # tag objects read at a time: their messages are let go chunk by chunk
_FLUSH = 4096  # lines: a first verify at 100,000 versions never holds its whole cache in memory
# Tables of one id or number a line, written as is (a first verify writes 200,000 of them).
_PLAIN: dict[str, Any] = {"s": lambda v: v if len(v) in (40, 64) and v.isalnum() else None,
                          "c": lambda v: int(v) if v.isdigit() else None}
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode  # json.dumps without building an encoder per line
_MARKS = "mlver-"  # every line of a tag message verify reads has one (digest, forced, rollback)


class RecordFacts(NamedTuple):
    intact: bool
    digest: str  # the digest the record declares
    computed: str  # the digest of its content
    parent: tuple[str, str] | None  # (commit, digest) of the record it replaced
    metrics: dict[str, Any]
    entries: list[tuple[str | None, str | None, int | None]]  # (path, md5, size): artifact first, then data


def entries_of(doc: dict[str, Any]) -> list[tuple[str | None, str | None, int | None]]:
    """The artifact and data objects a record (or derived lineage) names, as the cache keeps them."""
    from mlver.api.objects import named

    return [(o.path, o.md5, o.size) for o in named(doc)]


def _facts(model: str, commit: str | None, content: bytes) -> RecordFacts:
    from mlver.api._common import checked_record_doc
    from mlver.domain import record as rec

    doc = checked_record_doc(model, commit, content)
    computed = rec.content_digest(content, doc)
    declared = doc.get("digest") or ""
    parent = doc.get("parent")
    return RecordFacts(
        declared == computed, declared, computed,
        (parent["commit"], parent["digest"]) if isinstance(parent, dict) and parent.get("commit") else None,
        doc.get("metrics") or {}, entries_of(doc),
    )


def _row(facts: RecordFacts) -> list[Any]:
    """The line kept for a blob: its content's digest only when it is not the one declared."""
    return list(facts._replace(computed="" if facts.intact else facts.computed))


def _unrow(row: Any) -> RecordFacts | None:
    if not isinstance(row, list) or len(row) != len(RecordFacts._fields):
        return None
    facts = RecordFacts(*row)
    return facts._replace(computed=facts.digest) if facts.intact and not facts.computed else facts


def _stamp(root: Any) -> str:
    from mlver.api import _common
    from mlver.domain import record, validate

    return git.history_context(root) + ":" + gitcache.code_stamp(__file__, _common.__file__, record.__file__, validate.__file__)


class FactCache:
    """The cache as one verify sees it: an append-only file of
    ``TABLE<TAB>KEY<TAB>JSON`` lines under a stamp line, read at the start
    (values parsed only when asked for) and appended to as facts are learnt.
    A damaged line is skipped; a line two runs both append is the same fact."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.file = gitcache.path(root, _FILE)
        self.stamp = _stamp(root)
        self.raw: dict[str, dict[str, str]] = {t: {} for t in "sbtcm"}
        self.fresh = True  # the file must be started anew before appending
        self.pending: list[str] = []
        self.learnt: set[str] = set()  # blobs appended by this run
        try:
            lines = open(self.file, errors="replace")
        except OSError:
            return
        with lines:  # line by line: the file is ~90 MB at 100,000 versions
            if lines.readline().rstrip("\n") != f"mlver-facts {self.stamp}":
                return
            self.fresh = False
            for line in lines:
                table, _, rest = line.partition("\t")
                key, tab, value = rest.partition("\t")
                if tab and table in self.raw and value.endswith("\n"):  # (a line cut short by a crash is dropped)
                    self.raw[table][key] = value[:-1]

    def _get(self, table: str, key: str) -> Any:
        value = self.raw[table].get(key)
        if value is None:
            return None
        if table in _PLAIN:
            return _PLAIN[table](value)
        try:
            return json.loads(value)
        except ValueError:
            return None

    def _put(self, table: str, key: str, value: Any) -> None:
        text = str(value) if table in _PLAIN else _ENCODE(value)
        if table == "m":
            self.raw[table][key] = text  # the others are not asked twice in one run
        self.pending.append(f"{table}\t{key}\t{text}\n")
        if len(self.pending) >= _FLUSH:
            self.save()

    def save(self) -> None:
        """Append what was learnt (a clone we cannot write to is only slower)."""
        if not self.pending:
            return
        lines, self.pending = self.pending, []
        try:
            if self.fresh:
                from mlver.adapters.atomic import write_text

                write_text(self.file, f"mlver-facts {self.stamp}\n")
                self.fresh = False
            with open(self.file, "a") as out:
                out.write("".join(lines))
        except OSError:
            pass

    def tag_infos(self, objects: Iterable[str]) -> dict[str, git.TagInfo]:
        """Tagger, date and the lines of the message verify reads (those with
        an ``mlver-`` mark), by tag object."""
        wanted = list(dict.fromkeys(objects))
        found: dict[str, git.TagInfo] = {}
        missing = []
        names: dict[str, str] = {}  # one string per tagger, not one per tag
        for obj in wanted:
            row = self._get("t", obj)
            if isinstance(row, list) and len(row) == 4:
                found[obj] = git.TagInfo(names.setdefault(row[0], row[0]), names.setdefault(row[1], row[1]), row[2], row[3])
            else:
                missing.append(obj)
        chunks = [missing[start:start + _CHUNK] for start in range(0, len(missing), _CHUNK)]
        # Many chunks (a first verify): git reads the next one while this one is parsed.
        ahead = git.tag_infos_ahead(self.root, chunks[0]) if len(chunks) > 1 else None
        for i, chunk in enumerate(chunks):
            if ahead is None:
                read = git.tag_infos(self.root, chunk)
            else:
                reader, ahead = ahead, git.tag_infos_ahead(self.root, chunks[i + 1]) if i + 1 < len(chunks) else None
                read = reader(chunk)
            for obj, info in read.items():
                marks = "\n".join(line for line in info.message.splitlines() if _MARKS in line)
                who = names.setdefault(info.tagger, info.tagger), names.setdefault(info.email, info.email)
                found[obj] = git.TagInfo(*who, info.timestamp, marks)
                self._put("t", obj, [*who, info.timestamp, marks])
        return found

    def commit_times(self, commits: Iterable[str], walked: Mapping[str, int] | None = None) -> dict[str, int]:
        """Committer time of each commit that exists; ``walked``: times git
        listed for the commits branches reach (git.branch_commit_times_ahead),
        taken before reading any commit as an object (0: git found no date)."""
        wanted = list(dict.fromkeys(commits))
        found = {}
        missing = []
        for commit in wanted:
            when = self._get("c", commit)
            if not isinstance(when, int) and walked is not None:
                when = walked.get(commit) or None
                if when is not None:
                    self._put("c", commit, when)
            if isinstance(when, int):
                found[commit] = when
            else:
                missing.append(commit)
        for commit, when in git.commit_times(self.root, missing).items():
            found[commit] = when
            self._put("c", commit, when)
        return found

    def knows_times(self, commits: Iterable[str]) -> bool:
        """Whether every one of ``commits`` has its time kept already."""
        return all(commit in self.raw["c"] for commit in commits)

    def memo(self, key: str) -> Any:
        """A derived result under ``key`` (the caller puts every input in the key)."""
        return self._get("m", key)

    def remember(self, key: str, value: Any) -> None:
        self._put("m", key, value)

    def records(self, wanted: Sequence[tuple[str, str, str]]) -> Iterator[tuple[str, RecordFacts | MlverError | None]]:
        """``(spec, model, commit)`` -> (spec, the record's facts, the error
        that refuses it, or None when there is no record there), cached ones
        first, then the rest read in the order given (pass history order:
        git's delta cache). Nothing is kept: the caller keeps what it needs."""
        unread: dict[str, tuple[str, str]] = {}
        for spec, model, commit in wanted:
            oid = self._get("s", spec)
            facts = _unrow(self._get("b", oid)) if oid else None
            if facts is not None:
                yield spec, facts
            elif spec not in unread:
                unread[spec] = (model, commit)
        for spec, blob, content in git.stream_blobs(self.root, list(unread)):
            if blob is None or content is None:
                yield spec, None  # not cached: the commit may only be missing from this clone yet
                continue
            self._put("s", spec, blob)
            facts = _unrow(self._get("b", blob))
            if facts is not None:
                yield spec, facts
                continue
            try:
                facts = _facts(*unread[spec], content)
            except MlverError as exc:
                yield spec, exc  # never cached: read again, so the finding names the commit it is at
                continue
            if blob not in self.learnt:
                self.learnt.add(blob)
                self._put("b", blob, _row(facts))
            yield spec, facts
