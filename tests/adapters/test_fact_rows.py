"""The lines verify keeps per record blob (mlver.api.facts) give back the
facts they were written from, plain or JSON, and nothing else: a line this
code could not have written is read as no fact (the record is read again)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mlver.api import facts
from mlver.api.facts import RecordFacts

DIGEST = st.sampled_from(["sha256:" + c * 64 for c in "0af"])
ODD_TEXT = st.sampled_from(["", "-", "=", "x y", "a\tb", "é", "sha256:" + "A" * 64, "[", "1"])
TEXT = st.one_of(DIGEST, ODD_TEXT, st.text(max_size=4))
COMMIT = st.sampled_from(["c" * 40, "d" * 64, "C" * 40, "-", ""])
PATH = st.one_of(st.sampled_from(["models/m.pkl", "-", "=", "a b", "data/é.csv", "x\ty", "[x"]), st.none(), st.text(max_size=4))
MD5 = st.one_of(st.none(), st.sampled_from(["a" * 32, "b" * 32 + ".dir", "", "-", "A" * 32]), st.text(max_size=3))
SIZE = st.one_of(st.none(), st.integers(-3, 2 ** 70))
METRICS = st.dictionaries(st.text(max_size=3), st.one_of(st.floats(allow_nan=False), st.integers(), st.text(max_size=3)), max_size=3)


@st.composite
def record_facts(draw: st.DrawFn) -> RecordFacts:
    declared = draw(st.one_of(DIGEST, TEXT))
    intact = draw(st.booleans())
    computed = declared if intact else draw(st.one_of(DIGEST, TEXT).filter(lambda c: c != declared))
    parent = draw(st.one_of(st.none(), st.tuples(COMMIT, st.one_of(DIGEST, TEXT))))
    entries = draw(st.lists(st.tuples(PATH, MD5, SIZE), max_size=3))
    return RecordFacts(intact, declared, computed, parent, draw(METRICS), entries)


@settings(max_examples=400, deadline=None)
@given(record_facts(), st.booleans())
def test_a_kept_line_gives_back_its_facts(original: RecordFacts, metrics: bool) -> None:
    line = facts._row(original, metrics)
    assert "\n" not in line
    assert facts._unrow(line) == original._replace(metrics=original.metrics if metrics else None)


def test_plain_records_are_kept_without_json() -> None:
    plain = RecordFacts(True, "sha256:" + "a" * 64, "sha256:" + "a" * 64, ("c" * 40, "sha256:" + "b" * 64), {"acc": 0.5},
                        [("models/m.pkl", "d" * 32, 10), ("data/d", None, None)])
    assert facts._row(plain, False) == ("1 sha256:" + "a" * 64 + " = " + "c" * 40 + " sha256:" + "b" * 64
                                        + " models/m.pkl " + "d" * 32 + " 10 data/d - -")
    assert facts._row(plain, True).endswith('\t{"acc":0.5}')
    assert facts._row(plain._replace(entries=[("a b", None, None)]), False).startswith("[")


@given(st.text(max_size=40))
def test_a_line_it_did_not_write_is_no_fact_or_the_same_line(line: str) -> None:
    read = facts._unrow(line) if line else None
    if read is not None:
        assert facts._unrow(facts._row(read, read.metrics is not None)) == read


def test_near_misses_of_a_plain_line_are_no_facts() -> None:
    good = "1 sha256:" + "a" * 64 + " = - - models/m.pkl " + "d" * 32 + " 10"
    assert facts._unrow(good) is not None
    for bad in [good.replace("1 ", "2 ", 1), good.replace(" = ", " x ", 1), good + " extra", good.replace(" 10", " ten"),
                good.replace(" - -", " - sha256:" + "b" * 64), good.replace("d" * 32, "D" * 32), good.replace(" 10", " 1.5"),
                good + "\t[1]", good + "\t{", "0 sha256:" + "a" * 64 + " = - -", good.replace("models/m.pkl", "a\u00e9"),
                '[true, "x", "", null, {}, [["p", "m", "s"]]]', '[true, "x", "", "p", {}, []]', "[1, 2, 3, 4, 5, 6]"]:
        assert facts._unrow(bad) is None, bad


NAME = st.one_of(st.sampled_from(["Bench Bot", "a\tb", "[x", "", "é", "x\x1ey"]), st.text(max_size=5).filter(lambda t: "\n" not in t))
# The marked lines of a message, as facts.tag_infos keeps them: lines that splitlines() made.
MARKS = st.lists(st.text(max_size=6).map(lambda t: "".join(t.splitlines()) + " mlver-x"), max_size=3).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(NAME, NAME, st.integers(-2, 2 ** 40), MARKS)
def test_a_kept_tag_line_gives_back_its_tag(tagger: str, email: str, when: int, marks: str) -> None:
    line = facts._tag_row(tagger, email, when, marks)
    assert "\n" not in line
    assert facts._untag(line) == (tagger, email, when, marks)


def test_near_misses_of_a_tag_line_are_no_tags() -> None:
    assert facts._untag("5\ta\tb\t") == ("a", "b", 5, "")
    for bad in ["", "x\ta\tb\t", "5\ta\tb", "--5\ta\tb\tm", "1_0\ta\tb\tm", " 5\ta\tb\tm", "[1, 2]", '["a", "b", "5", "m"]', "[x"]:
        assert facts._untag(bad) is None, bad


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.sampled_from(
    ["sha256:" + "a" * 64, "sha256:" + "A" * 64, "sha256:" + "a" * 63 + "\n", "c" * 40, "c" * 64, "c" * 41, "d" * 32,
     "d" * 32 + ".dir", "d" * 32 + ".DIR", "d" * 31 + "é", "models/m.pkl", "a b", "a\tb", "\x7f", "~!", "٣" * 32, ""])))
def test_the_writers_tests_are_the_readers_patterns(value: str) -> None:
    """_plain_head tests a field with str methods, _unrow with the patterns: they agree on every text."""
    assert facts._is_digest(value) == bool(facts._DIGEST.fullmatch(value))
    assert facts._is_hex_id(value) == bool(facts._HEX_ID.fullmatch(value))
    assert facts._is_md5(value) == bool(facts._MD5.fullmatch(value))
    assert facts._is_path(value) == bool(facts._PATH.fullmatch(value))
