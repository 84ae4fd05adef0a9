"""What verify needs from git objects, read once per object id and cached.

A record blob is parsed, checked and hashed once: its facts (intact, the
digest it declares and the one it has, its parent, the objects it names and,
where a stage was assigned to it, its metrics; a verify that needs them where
they were not kept reads the record again) are kept under its blob id in
``.git/mlver/cache/facts.json``, as are the blob at each ``commit:record`` spec, each tag object's tagger,
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
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from mlver.adapters import git, gitcache, statcache
from mlver.api._common import checked_record, record_where
from mlver.api.objects import named_rows
from mlver.domain import record as rec
from mlver.domain import validate
from mlver.errors import MlverError

_FILE = "facts"
_FLUSH = 4096  # lines: a first verify at 100,000 versions never holds its whole cache in memory
# Tables of one id or number a line, written as is (a first verify writes 200,000 of them).
# (isascii: str.isdigit() passes "²", which int() refuses, and isalnum() any script's letters.)
_PLAIN: dict[str, Any] = {"s": lambda v: v if len(v) in (40, 64) and v.isascii() and v.isalnum() else None,
                          "c": lambda v: int(v) if v.isascii() and v.isdigit() else None}
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode  # json.dumps without building an encoder per line
_MARKS = "mlver-"  # every line of a tag message verify reads has one (digest, forced, rollback)


class RecordFacts(NamedTuple):
    intact: bool
    digest: str  # the digest the record declares
    computed: str  # the digest of its content
    parent: tuple[str, str] | None  # (commit, digest) of the record it replaced
    metrics: dict[str, Any] | None  # None: not kept in the cache (read the record when they are needed)
    entries: list[tuple[str | None, str | None, int | None]]  # (path, md5, size): artifact first, then data


def entries_of(doc: dict[str, Any]) -> list[tuple[str | None, str | None, int | None]]:
    """The artifact and data objects a record (or derived lineage) names, as the cache keeps them."""
    return named_rows(doc)


def _facts(model: str, commit: str | None, content: bytes) -> tuple[RecordFacts, bool]:
    """The facts, and whether the record passed its checks at a glance (its entries' paths and md5s plain)."""
    doc, plain = checked_record(model, commit, content)
    computed = rec.content_digest(content, doc)
    declared = doc.get("digest") or ""
    parent = doc.get("parent")
    return RecordFacts(
        declared == computed, declared, computed,
        (parent["commit"], parent["digest"]) if isinstance(parent, dict) and parent.get("commit") else None,
        doc.get("metrics") or {}, named_rows(doc, plain),
    ), plain


# A blob's line, written 100,000 times by a first verify, without JSON when every field is plain:
# "INTACT DECLARED COMPUTED|= PARENT_COMMIT|- PARENT_DIGEST|- (PATH MD5|- SIZE|-)...", then a tab and
# the metrics' JSON when they are kept. Only values no marker or space can be mistaken for are
# written so (a record's path may hold a space: that record's line is JSON).
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_HEX_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_MD5 = re.compile(r"[0-9a-f]{32}(?:\.dir)?")
_PATH = re.compile(r"[!-~]+")  # printable ASCII, no space
# Exactly the heads _plain_head writes, so a line read back is one this code could have written.
_HEAD = re.compile(r"(?:1 {d} =|0 {d} {d}) (?:{h} {d}|- -)(?: [!-~]+ (?:{m}|-) (?:-?[0-9]+|-))*".format(
    d=_DIGEST.pattern, h=f"(?:{_HEX_ID.pattern})", m=_MD5.pattern))


_HEX = "0123456789abcdef"


# The regexes above as string tests, for the writer: a first verify asks them 500,000 times
# (the reader's _HEAD keeps the regexes; tests check a written line reads back).
def _is_digest(value: str) -> bool:
    return len(value) == 71 and value[:7] == "sha256:" and not value[7:].strip(_HEX)


def _is_hex_id(value: str) -> bool:
    return (len(value) == 40 or len(value) == 64) and not value.strip(_HEX)


def _is_md5(value: str) -> bool:
    return ((len(value) == 32 and not value.strip(_HEX))
            or (len(value) == 36 and value[32:] == ".dir" and not value[:32].strip(_HEX)))


def _is_path(value: str) -> bool:
    return value != "" and value.isascii() and value.isprintable() and " " not in value


def _row(facts: RecordFacts, metrics: bool, plain: bool = False) -> str:
    """The line kept for a blob (``metrics``: with them): its content's digest
    only when it is not the one declared. ``plain``: its entries' paths and
    md5s are known plain (validate.check_record passed it at a glance)."""
    intact, declared, computed, parent, kept, entries = facts
    kept = kept if metrics else None
    head = _plain_head(intact, declared, computed, parent, entries, plain)
    if head is None:
        return _ENCODE([intact, declared, "" if intact else computed, parent, kept, entries])
    return head if kept is None else f"{head}\t{_ENCODE(kept)}"


def _plain_head(intact: bool, declared: str, computed: str, parent: tuple[str, str] | None,
                entries: list[tuple[str | None, str | None, int | None]], plain: bool = False) -> str | None:
    if type(declared) is not str or not _is_digest(declared) or (not intact and not _is_digest(computed)):
        return None
    parts = ["1" if intact else "0", declared, "=" if intact else computed]
    if parent is None:
        parts += ("-", "-")
    elif type(parent[0]) is str and type(parent[1]) is str and _is_hex_id(parent[0]) and _is_digest(parent[1]):
        parts += parent
    else:
        return None
    for path, md5, size in entries:
        if plain:
            if md5 == "":  # (a plain path is one; an md5 it has is one, or "", which the line cannot hold)
                return None
        elif path is None or not _is_path(path) or (md5 is not None and not _is_md5(md5)):
            return None
        parts += (path, "-" if md5 is None else md5, "-" if size is None else str(size))  # type: ignore[arg-type]
    return " ".join(parts)


def _json_row(row: Any) -> bool:
    """A JSON line as ``_row`` writes it: each field of its type."""
    def text(value: Any) -> bool:
        return value is None or type(value) is str

    return (type(row) is list and len(row) == len(RecordFacts._fields) and type(row[0]) is bool
            and type(row[1]) is str and type(row[2]) is str
            and (row[3] is None or (type(row[3]) is list and len(row[3]) == 2 and all(map(text, row[3]))))
            and (row[4] is None or type(row[4]) is dict) and type(row[5]) is list
            and all(type(e) is list and len(e) == 3 and text(e[0]) and text(e[1]) and (e[2] is None or type(e[2]) is int)
                    for e in row[5]))


def _unrow(value: str) -> RecordFacts | None:
    """A kept line back as facts; None for one this code did not write (damaged: read the record again)."""
    if value[:1] == "[":
        try:
            row = json.loads(value)
        except (ValueError, RecursionError):  # (a line nested too deep for the parser)
            return None
        if not _json_row(row):
            return None
        facts = RecordFacts(row[0], row[1], row[2], tuple(row[3]) if row[3] else None, row[4], [tuple(e) for e in row[5]])
        return facts._replace(computed=facts.digest) if facts.intact and not facts.computed else facts
    head, tab, metrics_text = value.partition("\t")
    if not _HEAD.fullmatch(head):
        return None
    parts = head.split(" ")
    metrics = None
    try:
        entries: list[tuple[str | None, str | None, int | None]] = [
            (parts[i], None if parts[i + 1] == "-" else parts[i + 1], None if parts[i + 2] == "-" else int(parts[i + 2]))
            for i in range(5, len(parts), 3)]
        if tab:
            metrics = json.loads(metrics_text)
    except (ValueError, RecursionError):
        return None
    if tab and not isinstance(metrics, dict):
        return None
    return RecordFacts(parts[0] == "1", parts[1], parts[1] if parts[2] == "=" else parts[2],
                       None if parts[3] == "-" else (parts[3], parts[4]), metrics, entries)


_LF, _RS = "\n", "\x1e"
_TIME = re.compile(r"-?[0-9]+")


def _tag_row(tagger: str, email: str, timestamp: int, marks: str) -> str:
    """A tag object's line: "TIME<TAB>TAGGER<TAB>EMAIL<TAB>MARKS" (its marked lines joined by \\x1e,
    which splitlines() never leaves in a line), or JSON when a name holds a tab."""
    if "\t" in tagger or "\t" in email:
        return _ENCODE([tagger, email, timestamp, marks])
    return f"{timestamp}\t{tagger}\t{email}\t{marks.replace(_LF, _RS)}"


def _untag(value: str | None) -> tuple[str, str, int, str] | None:
    """A tag object's line back; None for none or one this code did not write."""
    if not value:
        return None
    if value[0] == "[":
        try:
            row = json.loads(value)
        except (ValueError, RecursionError):
            return None
        if (type(row) is list and len(row) == 4 and type(row[0]) is str and type(row[1]) is str
                and type(row[2]) is int and type(row[3]) is str):
            return row[0], row[1], row[2], row[3]
        return None
    parts = value.split("\t", 3)
    if len(parts) != 4 or not _TIME.fullmatch(parts[0]):
        return None
    return parts[1], parts[2], int(parts[0]), parts[3].replace(_RS, _LF)


def _stamp(root: Any) -> str:
    from mlver.api import _common
    from mlver.domain import record, validate

    return git.history_context(root) + ":" + gitcache.code_stamp(__file__, _common.__file__, record.__file__, validate.__file__)


class FactCache:
    """The cache as one verify sees it: an append-only file of
    ``TABLE<TAB>KEY<TAB>VALUE`` lines (JSON, or plain text where it is plain) under a stamp line, read at the start
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
        lines = statcache.open_regular(self.file, binary=False)
        if lines is None:
            return
        # Line by line (the file is ~90 MB at 100,000 versions), each ending at "\n" only: a
        # "\r" in a tagger's name (git allows it) must not start a line its author wrote.
        with lines:
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
        except (ValueError, RecursionError):
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
        text = "".join(self.pending)
        self.pending.clear()  # (in place: records() appends to this list)
        try:
            if self.fresh:
                from mlver.adapters.atomic import write_text

                write_text(self.file, f"mlver-facts {self.stamp}\n")
                self.fresh = False
            with open(self.file, "a", encoding="utf-8", newline="\n") as out:
                out.write(text)
        except OSError:
            pass

    def tag_infos(self, objects: Iterable[str]) -> dict[str, git.TagInfo]:
        """Tagger, date and the lines of the message verify reads (those with
        an ``mlver-`` mark), by tag object."""
        return self.tag_infos_ahead(objects)(None)

    def tag_infos_ahead(self, objects: Iterable[str], then: Callable[[], None] | None = None
                        ) -> Callable[[Iterable[str] | None], dict[str, git.TagInfo]]:
        """``tag_infos``, with git reading the tag objects not kept started now
        (one ``cat-file`` for all: a first verify starts it before it parses
        110,000 tag names, which git reads meanwhile on the other core). The
        reader gives the infos of the objects it is asked for (None: all of
        ``objects``); what git reads is taken at its first call, parsed as git
        writes it, and ``then`` is called once git is done (the next git to
        start, while the rest is parsed). Meant to be called once: a later
        call reads again."""
        wanted = list(dict.fromkeys(objects))
        rows = self.raw["t"]
        told: list[None] = []

        def done() -> None:  # (once, also when no object was read ahead)
            if not told:
                told.append(None)
                if then is not None:
                    then()

        answer: Callable[[], Iterator[tuple[str, git.TagInfo]]] | None = git.tag_infos_streamed_ahead(
            self.root, [obj for obj in wanted if obj not in rows], done)
        found: dict[str, git.TagInfo] = {}
        names: dict[str, str] = {}  # one string per tagger, not one per tag

        def reader(asked: Iterable[str] | None) -> dict[str, git.TagInfo]:
            nonlocal answer
            if answer is not None:
                read, answer = answer, None
                self._take(read(), found, names)  # (parsed as git writes them)
                done()
            result, unread = self._known(wanted if asked is None else asked, found, names)
            if unread:
                unread = list(dict.fromkeys(unread))
                self._take(git.tag_infos_streamed_ahead(self.root, unread)(), found, names)
                result.update((obj, found[obj]) for obj in unread if obj in found)
            found.clear()  # (110,000 entries: the events hold what they need; a later call reads again)
            return result

        return reader

    def _known(self, asked: Iterable[str], found: dict[str, git.TagInfo], names: dict[str, str]
               ) -> tuple[dict[str, git.TagInfo], list[str]]:
        """The infos of ``asked`` that git has just read (``found``) or the cache keeps,
        and the objects neither holds (to read now)."""
        rows = self.raw["t"]
        result: dict[str, git.TagInfo] = {}
        unread = []
        for obj in asked:
            info = found.get(obj)
            if info is None:
                row = _untag(rows.get(obj))
                if row is None:
                    unread.append(obj)  # a line this code did not write (or none: missing): read now
                    continue
                info = git.tag_info(names.setdefault(row[0], row[0]), names.setdefault(row[1], row[1]), row[2], row[3])
            if info is not None:
                result[obj] = info
        return result, unread

    def _take(self, read: Iterator[tuple[str, git.TagInfo]], found: dict[str, git.TagInfo], names: dict[str, str]) -> None:
        """Tag objects git read, into ``found`` (their marked lines only) and the cache."""
        pending = self.pending
        for obj, info in read:
            message = info.message
            marks = "\n".join([line for line in message.splitlines() if _MARKS in line]) if _MARKS in message else ""
            tagger, email = names.setdefault(info.tagger, info.tagger), names.setdefault(info.email, info.email)
            found[obj] = git.tag_info(tagger, email, info.timestamp, marks)
            pending.append(f"t\t{obj}\t{_tag_row(tagger, email, info.timestamp, marks)}\n")
            if len(pending) >= _FLUSH:
                self.save()

    def commit_times(self, commits: Iterable[str], walked: Mapping[str, int] | None = None) -> dict[str, int]:
        """Committer time of each commit that exists; ``walked``: times git
        listed for the commits branches reach (git.branch_commit_times_ahead),
        taken before reading any commit as an object (0: git found no date)."""
        found: dict[str, int] = {}
        missing = []
        rows, pending = self.raw["c"], self.pending  # (_get and _put unrolled: 100,000 commits in a first verify)
        for commit in dict.fromkeys(commits):
            value = rows.get(commit)
            when = int(value) if value is not None and value.isascii() and value.isdigit() else None
            if when is None and walked is not None:
                when = walked.get(commit) or None
                if when is not None:
                    pending.append(f"c\t{commit}\t{when}\n")
                    if len(pending) >= _FLUSH:
                        self.save()
            if when is None:
                missing.append(commit)
            else:
                found[commit] = when
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

    def records(self, wanted: Sequence[tuple[str, str, str]], metrics: Collection[str] = ()
                ) -> Iterator[tuple[str, RecordFacts | MlverError | None]]:
        """``(spec, model, commit)`` -> (spec, the record's facts, the error
        that refuses it, or None when there is no record there), cached ones
        first, then the rest read in the order given (pass newest first:
        git's delta cache). ``metrics``: the specs whose facts must carry
        their metrics (kept only for them). Nothing is kept: the caller
        keeps what it needs."""
        unread: dict[str, tuple[str, str]] = {}
        rows = self.raw["b"]
        for spec, model, commit in wanted:
            oid = self._get("s", spec)
            row = rows.get(oid) if oid else None
            facts = _unrow(row) if row else None
            if facts is not None and (facts.metrics is not None or spec not in metrics):
                yield spec, facts
            elif spec not in unread:
                unread[spec] = (model, commit)
        pending, learnt = self.pending, self.learnt
        for spec, blob, content in git.stream_blobs(self.root, list(unread), validate.MAX_RECORD_BYTES):
            if blob is None or content is None:
                yield spec, None  # not cached: the commit may only be missing from this clone yet
                continue
            if isinstance(content, git.Oversized):  # (refused by its size: a 10 GB blob is never read)
                yield spec, validate.too_large(content.size, record_where(*unread[spec]))
                continue
            pending.append(f"s\t{spec}\t{blob}\n")
            row = rows.get(blob)
            facts = _unrow(row) if row else None
            if facts is not None and (facts.metrics is not None or spec not in metrics):
                yield spec, facts
                continue
            try:
                facts, plain = _facts(*unread[spec], content)
            except MlverError as exc:
                yield spec, exc  # never cached: read again, so the finding names the commit it is at
                continue
            if blob not in learnt:
                learnt.add(blob)
                pending.append(f"b\t{blob}\t{_row(facts, spec in metrics, plain)}\n")
            if len(pending) >= _FLUSH:
                self.save()
            yield spec, facts
