"""The registry fold, on synthetic tag events."""
from __future__ import annotations

from fixtures.events import events as tagged

from mlver.domain.registry import Event, fold


def events(*spec: tuple[str, str, int]) -> list[Event]:
    return tagged(*spec, skip_unparsed=True)


def test_versions_stages_and_unassignment() -> None:
    reg = fold(events(
        ("churn@v0.1.0", "c1", 1),
        ("churn@v0.2.0", "c2", 2),
        ("churn#prod#1", "c1", 3),
        ("churn#prod#2", "c2", 4),
        ("churn#staging#3", "c2", 5),
        ("other@v1.0.0", "c9", 1),
        ("not-a-registry-tag", "c1", 1),
    ))
    churn = reg.model("churn")
    assert churn.latest() == "v0.2.0"
    assert churn.stages == {"prod": "v0.2.0", "staging": "v0.2.0"}
    assert churn.max_number == 3
    assert set(reg.models) == {"churn", "other"}

    reg = fold(events(
        ("churn@v0.1.0", "c1", 1), ("churn@v0.2.0", "c2", 2),
        ("churn#prod#1", "c1", 3), ("churn#prod#2", "c2", 4), ("churn#prod!#3", "c2", 5),
    ))
    # Un-assigning v0.2.0 hands prod back to the latest still-active assignment.
    assert reg.model("churn").stages == {"prod": "v0.1.0"}


def test_semver_order_not_time_order_decides_latest() -> None:
    reg = fold(events(("m@v1.10.0", "a", 1), ("m@v1.9.0", "b", 2), ("m@v1.10.0!#1", "a", 3)))
    assert reg.model("m").latest() == "v1.9.0"
    assert reg.model("m").active_versions() == ["v1.9.0"]


def test_deprecation_ties_and_assignment_before_registration() -> None:
    reg = fold(events(("m#prod#2", "b", 7), ("m@v1.0.0", "a", 1), ("m@v2.0.0", "b", 6),
                      ("m#prod#1", "a", 7), ("m@deprecated#3", "a", 8)))
    state = reg.model("m")
    # Ties in time go to the version created first (GTO's rule, whatever the
    # counters say); a version tagged after its stage assignment still names it.
    assert state.stages == {"prod": "v1.0.0"}
    assert state.deprecated
    assert [e.name for e in state.events][2:4] == ["m#prod#1", "m#prod#2"]


def test_stage_on_an_unreleased_commit() -> None:
    reg = fold(events(("m@v1.0.0", "a", 1), ("m#dev#1", "zzz", 2)))
    assert reg.model("m").stages == {"dev": "zzz"}


def test_deregistering_the_holder_gives_the_stage_back() -> None:
    """As `gto show`: the stage goes to the version assigned before, never to
    the deregistered version's bare commit."""
    reg = fold(events(
        ("m@v1.0.0", "a", 1), ("m@v2.0.0", "b", 2),
        ("m#prod#1", "a", 3), ("m#prod#2", "b", 4), ("m#staging#3", "b", 5),
        ("m@v2.0.0!#4", "b", 6),
    ))
    state = reg.model("m")
    assert state.stages == {"prod": "v1.0.0"}
    assert state.version_of("b") == "v2.0.0" and state.version_at("b") is None
    # Every holder gone: the stage is empty, not a commit.
    reg = fold(events(("m@v1.0.0", "a", 1), ("m#prod#1", "a", 2), ("m@v1.0.0!#2", "a", 3)))
    assert reg.model("m").stages == {} and reg.model("m").latest() is None


def test_unassign_then_reassign_and_simple_tags() -> None:
    reg = fold(events(
        ("m@v1.0.0", "a", 1), ("m@v2.0.0", "b", 2),
        ("m#prod", "a", 3),  # GTO's simple form: no counter
        ("m#prod#2", "b", 4), ("m#prod!#3", "b", 5), ("m#prod#4", "b", 6),
    ))
    assert reg.model("m").stages == {"prod": "v2.0.0"}
    reg = fold(events(("m@v1.0.0", "a", 1), ("m#prod", "a", 2), ("m#prod!", "a", 3)))
    assert reg.model("m").stages == {}


def test_deprecation_lasts_until_a_later_event() -> None:
    base = [("m@v1.0.0", "a", 1), ("m#prod#1", "a", 2), ("m@deprecated#2", "a", 3)]
    state = fold(events(*base)).model("m")
    assert state.deprecated and state.stages == {"prod": "v1.0.0"} and state.latest() == "v1.0.0"
    # GTO: an artifact is deprecated while the deprecation is its latest event.
    assert not fold(events(*base, ("m@v2.0.0", "b", 4))).model("m").deprecated
    assert not fold(events(*base, ("m#dev#3", "a", 4))).model("m").deprecated
    assert fold(events(*base, ("m@v0.9.0", "z", 0))).model("m").deprecated
    # Within one second any other event beats the deprecation, whatever the counters (GTO).
    assert not fold(events(("m#prod#1", "a", 5), ("m@deprecated#2", "a", 5))).model("m").deprecated
    assert not fold(events(("m@deprecated#1", "a", 5), ("m#prod#2", "a", 5))).model("m").deprecated


def test_monorepo_names_fold_under_their_full_name() -> None:
    reg = fold(events(("sub/proj=nested@v0.0.1", "a", 1), ("sub/proj=nested#prod#1", "a", 2)))
    assert set(reg.models) == {"sub/proj:nested"}
    assert reg.model("sub/proj:nested").stages == {"prod": "v0.0.1"}
