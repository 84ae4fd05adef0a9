"""Semver parsing, printing, ordering and bumps; model references; stage policy."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlver.domain.policy import Breach, Gate, Policy, breaches
from mlver.domain.refs import Ref, parse_ref
from mlver.domain.semver import Version, precedence
from mlver.errors import InvalidName, InvalidReference, InvalidVersion

ident = st.from_regex(r"[0-9A-Za-z-]{1,4}", fullmatch=True).filter(lambda s: not (s.isdigit() and s != "0" and s[0] == "0"))
versions = st.builds(
    Version, st.integers(0, 30), st.integers(0, 30), st.integers(0, 30),
    st.one_of(st.just(""), st.lists(ident, min_size=1, max_size=3).map(".".join)),
    st.one_of(st.just(""), st.lists(st.from_regex(r"[0-9A-Za-z-]{1,3}", fullmatch=True), min_size=1, max_size=2).map(".".join)),
)


def test_parse_reads_every_part() -> None:
    assert Version.parse("v1.22.333-rc.1+build.7") == Version(1, 22, 333, "rc.1", "build.7")
    v = Version.parse("v0.1.0")
    assert (v.major, v.minor, v.patch, v.pre, v.build) == (0, 1, 0, "", "")
    assert str(Version(1, 2, 3, "alpha", "b5")) == "v1.2.3-alpha+b5"
    assert str(Version(1, 2, 3, build="b5")) == "v1.2.3+b5"
    with pytest.raises(InvalidVersion, match="invalid version '1.2.3'"):
        Version.parse("1.2.3")
    assert not Version.is_valid("v1.2") and Version.is_valid("v1.2.3")


@given(versions)
def test_str_and_parse_round_trip_and_precedence_is_the_sort_key(v: Version) -> None:
    assert Version.parse(str(v)) == v and Version.parse(str(v)).build == v.build
    assert precedence(str(v)) == v.sort_key()


@pytest.mark.parametrize("part, expected", [("major", "v2.0.0"), ("minor", "v1.3.0"), ("patch", "v1.2.4")])
def test_bumps_reset_the_lower_parts_and_drop_pre_and_build(part: str, expected: str) -> None:
    assert str(Version(1, 2, 3, "", "b1").bump(part)) == expected
    assert str(Version(1, 2, 3, "rc.1", "b1").bump(part)) == {"major": "v2.0.0", "minor": "v1.3.0", "patch": "v1.2.3"}[part]


def test_an_unknown_bump_part_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown bump part 'micro'"):
        Version(1, 0, 0).bump("micro")


@pytest.mark.parametrize("low, high", [
    ("v1.0.0-alpha", "v1.0.0"),
    ("v1.0.0-alpha", "v1.0.0-alpha.1"),
    ("v1.0.0-alpha.1", "v1.0.0-alpha.beta"),  # numbers before strings
    ("v1.0.0-2", "v1.0.0-10"),  # numeric identifiers compare as numbers
    ("v1.0.0-beta.2", "v1.0.0-beta.11"),
    ("v1.0.0-rc.1", "v1.0.0-rc.a"),
    ("v1.0.0-a", "v1.0.0-b"),
    ("v1.9.0", "v1.10.0"),
    ("v0.9.9", "v1.0.0"),
    ("v1.0.9", "v1.1.0"),
    ("v1.0.0+a", "v1.0.0+b"),  # build breaks ties only
    ("v1.0.0+zzz", "v1.0.1"),
])
def test_semver_precedence(low: str, high: str) -> None:
    a, b = Version.parse(low), Version.parse(high)
    assert a < b and b > a and a != b and a <= b and not b <= a
    assert precedence(low) < precedence(high)


def test_equality_and_hash_follow_the_whole_version() -> None:
    assert Version(1, 0, 0) == Version.parse("v1.0.0") and hash(Version(1, 0, 0)) == hash(Version.parse("v1.0.0"))
    assert Version(1, 0, 0, build="a") != Version(1, 0, 0)
    assert Version(1, 0, 0).__eq__("v1.0.0") is NotImplemented and Version(1, 0, 0).__lt__("v1.0.0") is NotImplemented
    assert len({Version(1, 0, 0), Version(1, 0, 0), Version(1, 0, 1)}) == 2


@given(versions, versions)
def test_order_is_consistent_with_equality(a: Version, b: Version) -> None:
    assert (a < b) + (a == b) + (a > b) == 1
    assert (a == b) == (str(a) == str(b))


@pytest.mark.parametrize("text, ref, shown", [
    ("churn", Ref("churn"), "churn"),
    ("churn@v1.2.0", Ref("churn", version="v1.2.0"), "churn@v1.2.0"),
    ("churn#prod", Ref("churn", stage="prod"), "churn#prod"),
    ("churn@HEAD~1", Ref("churn", rev="HEAD~1"), "churn@HEAD~1"),
    ("churn@main#x", Ref("churn", rev="main#x"), "churn@main#x"),  # '@' comes first: all after it is the revision
    ("churn#prod@x", None, ""),  # a stage name cannot hold '@'
    ("sub/proj:nested@abc123", Ref("sub/proj:nested", rev="abc123"), "sub/proj:nested@abc123"),
])
def test_references(text: str, ref: Ref | None, shown: str) -> None:
    if ref is None:
        with pytest.raises(InvalidName):
            parse_ref(text)
        return
    assert parse_ref(text) == ref and str(ref) == shown


@pytest.mark.parametrize("text, why", [
    ("", "it is empty"),
    ("churn@", "nothing after '@'"),
    ("churn#", "nothing after '#'"),
    ("churn@-rf", "'-rf' is not a version or a git revision"),
    ("churn@a b", "'a b' is not a version or a git revision"),
    ("churn@a\tb", "is not a version"),
    ("churn@a\nb", "is not a version"),
])
def test_bad_references_say_why(text: str, why: str) -> None:
    with pytest.raises(InvalidReference) as err:
        parse_ref(text)
    assert why in err.value.message and repr(text) in err.value.message


def test_a_reference_with_a_bad_name_is_refused() -> None:
    with pytest.raises(InvalidName):
        parse_ref("../x@v1.0.0")
    with pytest.raises(InvalidName):
        parse_ref("@v1.0.0")


def test_gates_compare_in_the_right_direction() -> None:
    assert Gate("accuracy", min=0.9).failure(0.89) == "accuracy 0.89 < min 0.9"
    assert Gate("accuracy", min=0.9).failure(0.9) is None
    assert Gate("latency_ms", max=50).failure(50) is None
    assert Gate("latency_ms", max=50).failure(50.5) == "latency_ms 50.5 > max 50"
    assert Gate("x", min=0, max=1).failure(-1) == "x -1 < min 0" and Gate("x", min=0, max=1).failure(2) == "x 2 > max 1"
    assert Gate("x").failure(1e9) is None


def test_previous_stage() -> None:
    p = Policy(stages=("dev", "staging", "prod"))
    assert p.previous("prod") == "staging" and p.previous("staging") == "dev"
    assert p.previous("dev") is None and p.previous("qa") is None and Policy().previous("prod") is None


def test_breaches_of_a_stage_assignment() -> None:
    policy = Policy(("dev", "staging", "prod"), {"prod": (Gate("accuracy", min=0.9), Gate("latency_ms", max=50)),
                                                 "dev": (Gate("accuracy", min=0.1),)})
    assert breaches(policy, "qa", True, {}) == [Breach("stage", "stage qa is not in the policy")]
    assert breaches(policy, "dev", False, {"accuracy": 0.5}) == []  # the first stage has none before it
    assert breaches(policy, "prod", True, {"accuracy": 0.95, "latency_ms": 10}) == []
    assert breaches(policy, "prod", False, {"accuracy": 0.5, "latency_ms": 60}) == [
        Breach("order", "skipped staging"),
        Breach("gate", "gate accuracy 0.5 < min 0.9", "accuracy"),
        Breach("gate", "gate latency_ms 60 > max 50", "latency_ms"),
    ]
    assert breaches(policy, "prod", True, {"accuracy": True, "latency_ms": "fast"}) == [
        Breach("metric", "gate metric accuracy not recorded", "accuracy"),
        Breach("metric", "gate metric latency_ms not recorded", "latency_ms"),
    ]
    assert breaches(policy, "prod", True, {"accuracy": 1}) == [Breach("metric", "gate metric latency_ms not recorded", "latency_ms")]
    assert breaches(policy, "prod", True, None) == []  # no record: gates cannot be checked here
    assert breaches(Policy(gates={"x": (Gate("a", min=1),)}), "x", False, {"a": 0}) == [Breach("gate", "gate a 0 < min 1", "a")]
