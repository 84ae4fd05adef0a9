"""The registry fold, on synthetic tag events."""
from __future__ import annotations

from dataclasses import dataclass

from mlver.domain.registry import fold


@dataclass
class T:
    name: str
    commit: str
    timestamp: int
    tagger: str = "a"
    email: str = "a@x"
    message: str = ""


def test_versions_stages_and_unassignment() -> None:
    reg = fold([
        T("churn@v0.1.0", "c1", 1),
        T("churn@v0.2.0", "c2", 2),
        T("churn#prod#1", "c1", 3),
        T("churn#prod#2", "c2", 4),
        T("churn#staging#3", "c2", 5),
        T("other@v1.0.0", "c9", 1),
        T("not-a-registry-tag", "c1", 1),
    ])
    churn = reg.model("churn")
    assert churn.latest() == "v0.2.0"
    assert churn.stages == {"prod": "v0.2.0", "staging": "v0.2.0"}
    assert churn.max_number == 3
    assert set(reg.models) == {"churn", "other"}

    reg = fold([
        T("churn@v0.1.0", "c1", 1), T("churn@v0.2.0", "c2", 2),
        T("churn#prod#1", "c1", 3), T("churn#prod#2", "c2", 4), T("churn#prod!#3", "c2", 5),
    ])
    # Un-assigning v0.2.0 hands prod back to the latest still-active assignment.
    assert reg.model("churn").stages == {"prod": "v0.1.0"}


def test_semver_order_not_time_order_decides_latest() -> None:
    reg = fold([T("m@v1.10.0", "a", 1), T("m@v1.9.0", "b", 2), T("m@v1.10.0!#1", "a", 3)])
    assert reg.model("m").latest() == "v1.9.0"
    assert reg.model("m").active_versions() == ["v1.9.0"]


def test_deprecation_and_ties_broken_by_counter() -> None:
    reg = fold([T("m@v1.0.0", "a", 1), T("m@v2.0.0", "b", 1),
                T("m#prod#2", "b", 7), T("m#prod#1", "a", 7), T("m@deprecated#3", "a", 8)])
    state = reg.model("m")
    assert state.stages == {"prod": "v2.0.0"}
    assert state.deprecated
