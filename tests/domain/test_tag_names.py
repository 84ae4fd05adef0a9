"""Names and tags, refusal by refusal: which kind of name, which value, and the one grammar's templates."""
from __future__ import annotations

import pytest

from mlver.domain import tags
from mlver.domain.semver import Version
from mlver.errors import InvalidName, NameTooLong


def _refused(call: object, *args: object) -> str:
    with pytest.raises(InvalidName) as info:
        call(*args)  # type: ignore[operator]
    return info.value.message


def test_refusals_name_the_kind_and_show_the_value() -> None:
    assert _refused(tags.check_name, "Bad", "stage").startswith("invalid stage name 'Bad': ")
    assert _refused(tags.check_name, "Bad").startswith("invalid model name 'Bad': ")
    assert _refused(tags.check_name, 7).startswith("invalid model name '7': ")  # repr of what is not text
    assert _refused(tags.check_name, None).startswith("invalid model name 'None': ")
    assert _refused(tags.check_artifact, "../x:m", "artifact").startswith("invalid artifact name '../x:m': ")
    assert _refused(tags.check_artifact, ["m"]).startswith("invalid model name \"['m']\": ")
    assert _refused(tags.check_stage, "pr od").startswith("invalid stage name 'pr od': ")
    assert _refused(tags.check_stage, 3).startswith("invalid stage name '3': ")


def test_too_long_names_say_which_kind() -> None:
    long = "a" * 101
    for call, args, kind in [(tags.check_name, (long, "stage"), "stage"), (tags.check_name, (long,), "model"),
                             (tags.check_artifact, (long, "artifact"), "artifact"), (tags.check_artifact, ("d:" + long,), "model"),
                             (tags.check_artifact, ("Upper_" + long,), "model"), (tags.check_stage, (long,), "stage"),
                             (tags.check_stage, ("Pre_" + long,), "stage")]:
        with pytest.raises(NameTooLong) as info:
            call(*args)  # type: ignore[operator]
        assert info.value.message.startswith(f"invalid {kind} name "), (call, info.value.message)
    assert tags.check_artifact("a" * 100) == "a" * 100 and tags.check_stage("A_" + "b" * 98) == "A_" + "b" * 98


@pytest.mark.parametrize("name", ["..:m", "a/..:m", ".:m", "a/.:m", "a//b:m", "sub/..:m"])
def test_a_monorepo_folder_never_climbs_out(name: str) -> None:
    with pytest.raises(InvalidName):
        tags.check_artifact(name)


@pytest.mark.parametrize("name", ["sub/proj:nested", "a.b:m", "x/y.z_w:Model_1", "Churn_Model", "a/b"])
def test_gto_names_mlver_reads(name: str) -> None:
    assert tags.check_artifact(name) == name


@pytest.mark.parametrize("stage", ["Pre_Prod", "a/b", "prod"])
def test_gto_stage_names(stage: str) -> None:
    assert tags.check_stage(stage) == stage


@pytest.mark.parametrize("stage", ["a//b", "a/../b", "-x", "", "a b", "x@y"])
def test_stage_names_that_are_refused(stage: str) -> None:
    with pytest.raises(InvalidName):
        tags.check_stage(stage)


def test_every_template_with_and_without_a_counter() -> None:
    T, A = tags.TagName, tags.Action
    assert T(A.REGISTER, "m", version="v1.0.0").format() == "m@v1.0.0"
    assert T(A.DEREGISTER, "m", version="v1.0.0", number=4).format() == "m@v1.0.0!#4"
    assert T(A.ASSIGN, "sub/p:n", stage="prod", number=3).format() == "sub/p=n#prod#3"
    assert T(A.UNASSIGN, "m", stage="prod").format() == "m#prod!"
    assert T(A.DEPRECATE, "m", number=0).format() == "m@deprecated#0"
    assert tags.version_tag("sub/p:n", Version(1, 2, 3)) == "sub/p=n@v1.2.3"
    assert tags.version_tag("m", "v0.1.0") == "m@v0.1.0"
    assert tags.name_in_tag("a:b") == "a=b" and tags.name_in_tag("ab") == "ab"


@pytest.mark.parametrize("tag", ["a/../b=m@v1.0.0", "a/./b=m#prod#1", "a//b=m@v1.0.0", "../x=m#prod", "./x=m@deprecated",
                                 "m@vv1.0.0", "m@v1.0.0!!", "m@deprecated!", "=m@v1.0.0"])
def test_tags_that_are_not_registry_tags(tag: str) -> None:
    assert tags.parse(tag) is None


def test_a_dotted_folder_is_fine_when_no_segment_is_a_dot() -> None:
    assert tags.parse("a.b/c=m@v1.0.0") == tags.TagName(tags.Action.REGISTER, "a.b/c:m", version="v1.0.0")
    assert tags.parse("a.b/c=m#prod#2") == tags.TagName(tags.Action.ASSIGN, "a.b/c:m", stage="prod", number=2)
    assert tags.parse("m#prod#007") == tags.TagName(tags.Action.ASSIGN, "m", stage="prod", number=7)
