"""The registry fold's edge cases: semver (not string) order, ties within a second, bare commits,
and the latest registration from tag names alone."""
from __future__ import annotations

from fixtures.events import Info, events
from hypothesis import given
from hypothesis import strategies as st

from mlver.domain import tags
from mlver.domain.registry import Event, fold, latest_registrations
from mlver.domain.semver import Version


def test_versions_sort_by_semver_not_as_strings() -> None:
    state = fold(events(("m@v1.10.0", "a", 1), ("m@v1.9.0", "b", 2), ("m@v1.10.0-rc.1", "c", 3),
                         ("m@v1.2.0", "d", 4))).models["m"]
    assert state.name == "m"
    assert state.active_versions() == ["v1.2.0", "v1.9.0", "v1.10.0-rc.1", "v1.10.0"]
    assert state.latest() == "v1.10.0"
    assert state.versions["v1.9.0"].commit == "b" and state.versions["v1.9.0"].name == "m@v1.9.0"
    assert state.semver["v1.9.0"] == Version.parse("v1.9.0").sort_key()


def test_the_first_registration_of_a_version_is_the_one_kept() -> None:
    state = fold(events(("m@v1.0.0", "a", 1), ("m@v1.0.0#5", "b", 2))).models["m"]
    assert state.versions["v1.0.0"].commit == "a" and state.by_commit == {"a": ["v1.0.0"]}
    assert state.max_number == 5 and len(state.events) == 2


def test_max_number_is_the_highest_counter_of_any_action() -> None:
    state = fold(events(("m#prod#4", "a", 1), ("m#dev#4", "a", 2), ("m#prod#2", "a", 3), ("m@deprecated", "a", 4))).models["m"]
    assert state.max_number == 4
    assert fold(events(("m@v1.0.0", "a", 1))).models["m"].max_number == 0


def test_the_newest_version_at_a_commit_owns_its_stageevents() -> None:
    state = fold(events(("m@v1.9.0", "a", 1), ("m@v1.10.0", "a", 2), ("m#prod#1", "a", 3))).models["m"]
    assert state.version_at("a") == "v1.10.0" and state.version_at("zzz") is None
    assert state.stages == {"prod": "v1.10.0"}
    gone = fold(events(("m@v1.9.0", "a", 1), ("m@v1.10.0", "a", 2), ("m@v1.10.0!", "a", 3), ("m@v1.9.0!", "a", 3),
                        ("m@v0.1.0", "b", 4))).models["m"]
    assert gone.version_at("a") is None
    assert gone.version_of("a") == "v1.10.0"  # all deregistered: the newest of them, as GTO says
    assert gone.version_of("b") == "v0.1.0" and gone.version_of("nothing") is None
    half = fold(events(("m@v1.10.0", "a", 1), ("m@v1.9.0", "a", 2), ("m@v1.10.0!", "a", 3))).models["m"]
    assert half.version_at("a") == "v1.9.0" and half.version_of("a") == "v1.9.0"


def test_an_unassignment_in_the_same_second_wins_over_the_assignment() -> None:
    state = fold(events(("m@v1.0.0", "a", 1), ("m#prod!#3", "a", 5), ("m#prod#2", "a", 5))).models["m"]
    assert state.stages == {}
    again = fold(events(("m@v1.0.0", "a", 1), ("m#prod#2", "a", 5), ("m#prod!#3", "a", 5), ("m#prod#4", "a", 6))).models["m"]
    assert again.stages == {"prod": "v1.0.0"}


def test_stages_after_an_empty_one_are_still_folded() -> None:
    state = fold(events(("m@v1.0.0", "a", 1), ("m#dev#1", "a", 2), ("m#dev!#2", "a", 3), ("m#prod#3", "a", 4))).models["m"]
    assert state.stages == {"prod": "v1.0.0"}
    two = fold(events(("a@v1.0.0", "x", 1), ("a#dev#1", "x", 2), ("a#dev!#2", "x", 3),
                       ("b@v1.0.0", "y", 1), ("b#dev#1", "y", 2)))
    assert two.models["a"].stages == {} and two.models["b"].stages == {"dev": "v1.0.0"}


def test_two_versions_assigned_in_one_second_go_to_the_one_created_first() -> None:
    state = fold(events(("m@v2.0.0", "b", 1), ("m@v1.0.0", "a", 2), ("m#prod#3", "a", 9), ("m#prod#4", "b", 9))).models["m"]
    assert state.ties and state.stages == {"prod": "v2.0.0"}
    plain = fold(events(("m@v2.0.0", "b", 1), ("m@v1.0.0", "a", 2), ("m#prod#3", "a", 8), ("m#prod#4", "b", 9))).models["m"]
    assert not plain.ties and plain.stages == {"prod": "v2.0.0"}
    alone = fold(events(("m@v1.0.0", "a", 2), ("m#prod#3", "a", 9))).models["m"]
    assert not alone.ties


def test_a_bare_commit_in_a_tie_is_created_at_its_latest_stage_event() -> None:
    # the bare commit c was last touched at 5, after v1.0.0's registration at 4: v1.0.0 is older and wins
    state = fold(events(("m#dev#1", "c", 5), ("m@v1.0.0", "a", 4), ("m#prod#2", "c", 9), ("m#prod#3", "a", 9))).models["m"]
    assert state.ties and state.stages == {"prod": "v1.0.0", "dev": "c"}
    # touched at 3 (its prod event at 9 counts too: the latest is 9), registered at 4
    later = fold(events(("m#dev#1", "c", 3), ("m@v1.0.0", "a", 10), ("m#prod#2", "c", 11), ("m#prod#3", "a", 11))).models["m"]
    assert later.stages["prod"] == "v1.0.0"  # c's latest event (11) is after the registration (10)
    early = fold(events(("m@v1.0.0", "a", 20), ("m#prod#2", "c", 11), ("m#prod#3", "a", 11))).models["m"]
    assert early.stages["prod"] == "c"  # c: created at 11, v1.0.0 at 20


def test_a_tie_of_bare_commits_goes_by_their_first_tag() -> None:
    state = fold(events(("m#prod#2", "d", 9), ("m#prod#1", "c", 9))).models["m"]
    assert state.ties and state.stages["prod"] == "c"  # same time: m#prod#1 < m#prod#2 by name
    # both were last touched at 9; d's first tag is at 1, c's at 9: d's comes first
    early = fold(events(("m#dev#1", "d", 1), ("m#prod#3", "d", 9), ("m#prod#2", "c", 9))).models["m"]
    assert early.stages["prod"] == "d"


def test_versions_without_tag_objects_fold_at_time_zero() -> None:
    parsed = tags.parse("m@v1.0.0")
    assert parsed is not None
    event = Event(parsed, "m@v1.0.0", "a")
    assert event.timestamp == 0 and event.order == (0, 0)
    numbered = tags.parse("m#prod#7")
    assert numbered is not None
    assert Event(numbered, "m#prod#7", "a", Info(5)).order == (5, 7)
    assert Event(numbered, "m#prod#7", "a").order == (0, 7)


def test_latest_registrations_from_names_alone() -> None:
    def latest(*spec: tuple[str, str]) -> dict[str, str]:
        found = latest_registrations(events(*((name, commit, 0) for name, commit in spec)))
        return {model: event.commit for model, event in found.items()}

    assert latest(
        ("m@v1.9.0", "p19"), ("m@v1.10.0", "p110"), ("m@v1.10.0#4", "again"),
        ("n@v1.0.0", "n1"), ("n@v1.0.0!", "x"), ("o@v1.0.0", "o1"), ("o@v2.0.0!", "x"),
        ("m#prod#5", "stage"), ("p@v0.1.0", "p"), ("p@deprecated", "d"),
    ) == {"m": "p110", "o": "o1", "p": "p"}
    assert latest(("m@v1.10.0", "1"), ("m@v1.10.0!", "0"), ("m@v1.9.0", "2")) == {"m": "2"}
    assert latest_registrations([]) == {}


@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12), st.booleans()), min_size=1, max_size=12))
def test_latest_registrations_agrees_with_the_fold(spec: list[tuple[int, int, bool]]) -> None:
    names = [f"m@v1.{minor}.{patch}{'!' if cancel else ''}" for minor, patch, cancel in spec]
    parsed = [tags.parse(n) for n in names]
    events = [Event(p, n, "c" + n, Info(i)) for i, (p, n) in enumerate(zip(parsed, names, strict=True)) if p]
    state = fold(events).models["m"]
    found = latest_registrations(events).get("m")
    latest = found.tag.version if found else None
    assert latest == state.latest()
