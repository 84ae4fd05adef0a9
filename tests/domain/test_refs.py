"""domain/refs.py's ``locate``: what a version, stage or bare name points at in a
model's registry state, the one reading every resolver (local, signed-only,
``pull --repo``) goes through."""
from __future__ import annotations

import pytest
from fixtures.events import events

from mlver.domain.refs import Ref, locate, parse_ref
from mlver.domain.registry import fold
from mlver.errors import StageNotFound, VersionNotFound

C1, C2, C3, BARE = "1" * 40, "2" * 40, "3" * 40, "b" * 40

STATE = fold(events(
    ("churn@v0.1.0", C1, 1), ("churn@v0.2.0", C2, 2), ("churn@v0.3.0", C3, 3),
    ("churn#prod#1", C2, 4),  # a stage on a version: its commit and that version
    ("churn#staging#2", C1, 5), ("churn#staging!#3", C1, 6),  # assigned, then unassigned
    ("churn#canary#4", BARE, 7),  # GTO lets a stage sit on a commit no version names
    ("churn@v0.3.0!", C3, 8),  # deregistered: not a version any more, not the latest
)).model("churn")


@pytest.mark.parametrize(("text", "answer"), [
    ("churn@v0.1.0", (C1, "v0.1.0")),
    ("churn@v0.2.0", (C2, "v0.2.0")),
    ("churn#prod", (C2, "v0.2.0")),
    ("churn#canary", (BARE, None)),
    ("churn", (C2, "v0.2.0")),  # the latest version left after v0.3.0 was deregistered
])
def test_a_reference_points_at_its_commit_and_version(text: str, answer: tuple[str, str | None]) -> None:
    assert locate(parse_ref(text), STATE) == answer


@pytest.mark.parametrize(("text", "error"), [
    ("churn@v0.3.0", VersionNotFound),  # deregistered
    ("churn@v9.9.9", VersionNotFound),
    ("churn#staging", StageNotFound),  # unassigned
    ("churn#nope", StageNotFound),
])
def test_what_the_registry_does_not_hold_is_refused(text: str, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        locate(parse_ref(text), STATE)
    assert parse_ref(text).model in str(raised.value)


def test_a_model_with_no_registry_state() -> None:
    assert locate(Ref("churn"), None) is None  # the caller decides: HEAD's record, or an error with --repo
    with pytest.raises(VersionNotFound):
        locate(Ref("churn", version="v0.1.0"), None)
    with pytest.raises(StageNotFound):
        locate(Ref("churn", stage="prod"), None)
    nothing_left = fold(events(("churn@v0.1.0", C1, 1), ("churn@v0.1.0!", C1, 2))).model("churn")
    assert nothing_left is not None and locate(Ref("churn"), nothing_left) is None


def test_a_git_revision_is_not_for_the_registry() -> None:
    with pytest.raises(ValueError):
        locate(Ref("churn", rev="HEAD~1"), STATE)
