"""The tag grammar and semver: round trips, ordering, bumps."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlver.domain import tags
from mlver.domain.refs import Ref, parse_ref
from mlver.domain.semver import Version
from mlver.errors import InvalidName, InvalidReference, InvalidVersion

names = st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?\Z")
numbers = st.integers(min_value=0, max_value=10_000)
pre_ids = st.one_of(st.integers(0, 999).map(str), st.from_regex(r"\A[a-z][a-z0-9-]{0,5}\Z"))
versions = st.builds(
    Version,
    numbers, numbers, numbers,
    st.one_of(st.just(""), st.lists(pre_ids, min_size=1, max_size=3).map(".".join)),
    st.one_of(st.just(""), st.from_regex(r"\A[a-z0-9]{1,6}\Z")),
)


@given(versions)
def test_version_round_trip(v: Version) -> None:
    assert Version.parse(str(v)) == v


@given(versions, versions)
def test_version_order_is_total_and_consistent(a: Version, b: Version) -> None:
    assert (a < b) + (b < a) + (a == b) == 1


@given(versions)
def test_pre_release_sorts_before_release(v: Version) -> None:
    release = Version(v.major, v.minor, v.patch)
    if v.pre:
        assert v < release
        assert v.bump("patch") == release


@given(versions, st.sampled_from(["major", "minor", "patch"]))
def test_bump_is_greater(v: Version, part: str) -> None:
    assert v.bump(part) > v


def test_semver_precedence_example() -> None:
    chain = ["v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta",
             "v1.0.0-beta.2", "v1.0.0-beta.11", "v1.0.0-rc.1", "v1.0.0", "v1.1.0", "v2.0.0"]
    parsed = [Version.parse(v) for v in chain]
    assert sorted(parsed) == parsed
    assert Version.parse("v0.1.0").bump("minor") == Version.parse("v0.2.0")
    assert Version.parse("v1.2.3").bump("major") == Version.parse("v2.0.0")


@pytest.mark.parametrize("bad", ["1.0", "1.0.0", "vx", "v1.0", "v01.0.0", "v1.0.0-", ""])
def test_invalid_versions(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        Version.parse(bad)


# GTO's names: its own rule (uppercase, '_', '/'), optionally in a monorepo folder.
gto_names = st.from_regex(r"\A[a-zA-Z0-9](?:[a-zA-Z0-9/_-]{0,12}[a-zA-Z0-9])?\Z").filter(lambda n: "//" not in n)
folders = st.from_regex(r"\A[a-z0-9_-]{1,6}(?:/[a-z0-9._-]{1,6}){0,2}\Z").filter(
    lambda d: all(p not in (".", "..") for p in d.split("/")))
models = st.one_of(names, gto_names, st.builds(lambda d, n: f"{d}:{n}", folders, names))
counters = st.one_of(st.none(), numbers)  # None: GTO's simple tags, no counter
tag_names = st.one_of(
    st.builds(lambda m, v: tags.TagName(tags.Action.REGISTER, m, version=str(v)), models, versions),
    st.builds(lambda m, v, n: tags.TagName(tags.Action.DEREGISTER, m, version=str(v), number=n), models, versions, counters),
    st.builds(lambda m, s, n: tags.TagName(tags.Action.ASSIGN, m, stage=s, number=n), models, gto_names, counters),
    st.builds(lambda m, s, n: tags.TagName(tags.Action.UNASSIGN, m, stage=s, number=n), models, gto_names, counters),
    st.builds(lambda m, n: tags.TagName(tags.Action.DEPRECATE, m, number=n), models, counters),
)


@given(tag_names)
def test_tag_round_trip(tag: tags.TagName) -> None:
    assert tags.parse(tag.format()) == tag
    assert ":" not in tag.format()  # a monorepo name is written dir=name, as GTO writes it
    ref = parse_ref(tag.model + (f"#{tag.stage}" if tag.stage else f"@{tag.version}" if tag.version else ""))
    assert ref.model == tag.model


@pytest.mark.parametrize("text, expected", [
    ("churn@v1.2.0", tags.TagName(tags.Action.REGISTER, "churn", version="v1.2.0")),
    ("churn#prod#3", tags.TagName(tags.Action.ASSIGN, "churn", stage="prod", number=3)),
    ("churn#prod!#4", tags.TagName(tags.Action.UNASSIGN, "churn", stage="prod", number=4)),
    ("churn@v1.0.0!#5", tags.TagName(tags.Action.DEREGISTER, "churn", version="v1.0.0", number=5)),
    ("churn@deprecated#6", tags.TagName(tags.Action.DEPRECATE, "churn", number=6)),
    # GTO's simple tags carry no counter
    ("churn#prod", tags.TagName(tags.Action.ASSIGN, "churn", stage="prod")),
    ("churn#prod!", tags.TagName(tags.Action.UNASSIGN, "churn", stage="prod")),
    ("churn@v1.0.0!", tags.TagName(tags.Action.DEREGISTER, "churn", version="v1.0.0")),
    ("churn@deprecated", tags.TagName(tags.Action.DEPRECATE, "churn")),
    ("churn@v1.0.0#3", tags.TagName(tags.Action.REGISTER, "churn", version="v1.0.0", number=3)),
    # monorepo artifacts: dir=name in the tag, dir:name everywhere else
    ("sub/proj=nested@v0.0.1", tags.TagName(tags.Action.REGISTER, "sub/proj:nested", version="v0.0.1")),
    ("sub/proj=nested#prod#2", tags.TagName(tags.Action.ASSIGN, "sub/proj:nested", stage="prod", number=2)),
    ("Churn_Model@v1.0.0", tags.TagName(tags.Action.REGISTER, "Churn_Model", version="v1.0.0")),
    ("../x=m@v1.0.0", None),
    ("a=b=c@v1.0.0", None),
    ("churn@created", None),
    ("v1.0.0", None),
    ("release-2024", None),
    ("churn@1.0.0", None),
])
def test_parse_examples(text: str, expected: tags.TagName | None) -> None:
    assert tags.parse(text) == expected


@pytest.mark.parametrize("bad", ["", "../x", "a b", "x@y", "x#y", "Churn", "-x", "x-", "a/b", "a..b", "a_b"])
def test_invalid_names(bad: str) -> None:
    with pytest.raises(InvalidName):
        tags.check_name(bad)


@given(names)
def test_valid_names(name: str) -> None:
    assert tags.check_name(name) == name


@pytest.mark.parametrize("text, ref", [
    ("churn", Ref("churn")),
    ("churn@v1.2.0", Ref("churn", version="v1.2.0")),
    ("churn#prod", Ref("churn", stage="prod")),
    ("churn@main", Ref("churn", rev="main")),
    ("churn@HEAD~1", Ref("churn", rev="HEAD~1")),
    ("churn@v1.2", Ref("churn", rev="v1.2")),
    ("sub/proj:nested@v0.0.1", Ref("sub/proj:nested", version="v0.0.1")),
    ("sub/proj:nested#prod", Ref("sub/proj:nested", stage="prod")),
    ("sub/proj:nested", Ref("sub/proj:nested")),
    ("churn#Pre_Prod", Ref("churn", stage="Pre_Prod")),
])
def test_parse_ref(text: str, ref: Ref) -> None:
    assert parse_ref(text) == ref
    assert str(parse_ref(text)) == text


@pytest.mark.parametrize("bad", ["", "churn@", "churn#", "churn#pr od", "churn#-x", "@v1.0.0", "churn@-x",
                                 "../x:m@v1.0.0", "a/../b:m", "/abs:m", "sub:", ":m", "a:b:c"])
def test_bad_refs(bad: str) -> None:
    with pytest.raises((InvalidReference, InvalidName)):
        parse_ref(bad)


def test_no_api_module_shadows_a_verb() -> None:
    """`import mlver.api.X` binds X on the package: a module named like a verb
    would replace the function for every later caller."""
    import pkgutil

    import mlver
    import mlver.api

    modules = {m.name for m in pkgutil.iter_modules(mlver.api.__path__)}
    assert not modules & set(mlver.api._VERBS)
    top = {m.name for m in pkgutil.iter_modules(mlver.__path__)}
    assert not top & set(mlver._VERBS)


def _regex_only(tag: str):
    """tags.parse as it was before its fast path for registrations: _TAG_RE alone."""
    m = tags._TAG_RE.match(tag)
    if not m:
        return None
    number = int(m["number"]) if m["number"] else None
    model = m["model"].replace("=", ":")
    if not tags._safe_segments(model.replace(":", "/", 1)):
        return None
    if m["deprecated"]:
        return tags.TagName(tags.Action.DEPRECATE, model, number=number)
    cancel = m["cancel"] == "!"
    if m["version"]:
        action = tags.Action.DEREGISTER if cancel else tags.Action.REGISTER
        return tags.TagName(action, model, version=m["version"], number=number)
    return tags.TagName(tags.Action.UNASSIGN if cancel else tags.Action.ASSIGN, model, stage=m["stage"], number=number)


_MODELS = ["m", "churn", "a/b", "sub/p=n", "s.x/y=n", "a..b=c", "..=c", "x//y", "A_b", "-x", "x-", "a=b=c",
           "=n", "d/=n", "m\n", "b.c", "", "./x=n", "a/../b=n"]
_VERSIONS = ["v1.2.3", "v1.2.3-rc.1", "v01.2.3", "v1.2", "deprecated", "v1.0.0+b.1", "v1.0.0-", "1.0.0",
             "v1.0.0\n", "V1.0.0", "v1.0.0-0a.b", "v1.0.0@v2.0.0", "", "prod", "Pre_Prod", "a/b", "a//b", "p!x",
             "p-", "-p", "p\n", "p#", "p!", "\u0663"]


_SUFFIXES = ["", "!", "#3", "!#2", "#", "#x", "\n", "#03", "!\n", "#\u0663", "#3#4", "!!", "#3\n"]


def test_the_fast_paths_parse_as_the_pattern_does() -> None:
    """Registrations and stage tags are split by hand: every near miss (all
    ~16,000 combinations) parses as the full pattern parses it (a '#' or '!'
    left in a name, a non-ASCII digit in the counter, a trailing newline, an
    unsafe folder)."""
    import itertools

    for model, sep, rest, suffix in itertools.product(_MODELS, ["@", "#", "@@"], _VERSIONS, _SUFFIXES):
        tag = model + sep + rest + suffix
        assert tags.parse(tag) == _regex_only(tag), tag
