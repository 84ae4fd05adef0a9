"""The typical mistakes on a command line, each refused before any work in the
words of every other error (`error:` and `hint:`, exit 2, a JSON document
with --json): what the parser refuses, an empty value where a script's
variable was unset, a number that cannot mean anything, a repository with
no commit yet."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Project


@pytest.mark.parametrize(("argv", "said", "usage"), [
    (["gc", "--keep-last", "-1"], "invalid value for '--keep-last': -1 is not in the range x>=0", "mlver gc [OPTIONS]"),
    (["lineage", "churn", "--last", "0"], "invalid value for '--last'", "mlver lineage [OPTIONS] REF"),
    (["show"], "missing argument 'REF'", "mlver show [OPTIONS] REF"),
    (["ls", "--jsn"], "no such option '--jsn'", "mlver ls [OPTIONS] [NAME]"),
    (["nosuch"], "no such command 'nosuch'", "mlver [OPTIONS] COMMAND [ARGS]..."),
    (["verify", "churn@v0.1.0", "--all"], "pass REF or --all, not both", "mlver verify [OPTIONS] [REF]"),
    (["diff", "--md"], "pass --md or --json, not both", "mlver diff [OPTIONS] [A] [B] [NAME]"),
])
def test_what_the_parser_refuses_is_an_error_like_any_other(trained: Project, argv: list[str], said: str,
                                                            usage: str) -> None:
    as_json = "--md" in argv  # diff --md --json: the refusal comes from the verb itself
    run = trained.fails(*argv, *(["--json"] if as_json else []))
    error_line, hint_line = run.stderr.splitlines()
    assert error_line.startswith(f"error: {said}") and "Usage:" not in run.stderr
    command = usage.split(" [")[0]
    assert hint_line == f"hint: usage: {usage}; see `{command} --help`"
    doc = json.loads(trained.fails(*argv, "--json").stdout)["error"]
    assert (doc["class"], doc["family"], doc["exit_code"]) == ("BadUsage", "usage", 2)
    assert doc["fields"]["command"] == command and doc["fields"]["usage"] == usage


def test_a_refusal_before_any_verb(trained: Project) -> None:
    run = subprocess.run([sys.executable, "-m", "mlver", "--bogus", "ls"], cwd=trained.root, capture_output=True,
                         text=True)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == ("error: no such option '--bogus'\n"
                          "hint: usage: mlver [OPTIONS] COMMAND [ARGS]...; see `mlver --help`\n")
    as_json = subprocess.run([sys.executable, "-m", "mlver", "--bogus", "ls", "--json"], cwd=trained.root,
                             capture_output=True, text=True)
    assert as_json.returncode == 2 and json.loads(as_json.stdout)["error"]["class"] == "BadUsage"
    alone = subprocess.run([sys.executable, "-m", "mlver", "remote"], cwd=trained.root, capture_output=True, text=True)
    assert alone.returncode == 2 and "Commands:" in alone.stderr  # a group alone still shows its help


def test_json_after_the_double_dash_is_the_trainings(trained: Project) -> None:
    run = trained.fails("run", "nope", "--", "python", "train.py", "--json")
    assert run.stdout == ""  # `--json` there is the training command's argument, not mlver's


@pytest.mark.parametrize("argv", [
    ["push", "-r", ""],
    ["gc", "--cloud", "-r", "", "--force"],
    ["pull", "churn@v0.1.0", "-o", ""],
    ["verify", ""],
    ["card", "churn", "-o", ""],
    ["ci", "github", "--python", ""],
    ["review", "--base", ""],
    ["show", "churn", "--at", ""],
    ["data", "add", "data/train.csv", "--json"],  # a sanity case: nothing empty, so it is not refused
])
def test_an_empty_value_is_never_the_default(trained: Project, argv: list[str]) -> None:
    # In a script an empty value is an unset variable: `mlver gc --cloud -r "$REMOTE" --force`
    # with REMOTE unset must not collect the default remote.
    if "" not in argv:
        trained.ok(*argv)
        return
    remote = sorted(p.name for p in trained.remote.rglob("*"))
    option = next(a for a in argv[argv.index("") - 1::-1] if a.startswith("-")) if argv[-1] != "" or argv[-2].startswith("-") \
        else "REF"
    run = trained.fails(*argv)
    longest = {"-r": "--remote", "-o": "--out"}.get(option, option)
    assert run.stderr.startswith(f"error: {longest} is empty\nhint: give {longest} a value"), run.stderr
    assert sorted(p.name for p in trained.remote.rglob("*")) == remote


def test_an_empty_description_is_still_allowed(trained: Project) -> None:
    trained.ok("model", "add", "m2", "--path", "m2.pkl", "--desc", "")


@pytest.mark.parametrize("argv", [
    ["drift", "churn", "data/train.csv", "--threshold", "-0.5"],
    ["drift", "churn", "data/train.csv", "--threshold", "nan"],
    ["diff", "churn@v0.1.0", "HEAD", "--threshold", "inf"],
    ["review", "--base", "main", "--threshold", "-1"],
    ["reproduce", "churn@v0.1.0", "--tolerance", "-1"],
])
def test_a_threshold_or_tolerance_must_be_a_finite_number_not_below_zero(trained: Project, argv: list[str]) -> None:
    # Below zero every column drifts and no metric reproduces; NaN compares False with everything.
    run = trained.fails(*argv)
    assert "is not a finite number >= 0" in run.stderr.splitlines()[0]


def test_a_repository_with_no_commit_yet(isolate: Path) -> None:
    p = Project(isolate / "fresh")
    p.root.mkdir()
    p.ok("init")
    p.write("m.pkl", "model")
    p.ok("model", "add", "churn", "--path", "m.pkl")
    for argv in (["release", "churn"], ["show", "churn@HEAD"], ["diff", "HEAD", "HEAD"], ["review", "--base", "main"]):
        run = p.mlver(*argv)  # (not p.fails: its snapshot of the repository reads HEAD)
        assert run.exit_code == 2 and run.stderr.startswith("error: the repository has no commit yet\nhint: commit your code first"), argv


def test_stage_names_get_stage_examples(trained: Project) -> None:
    assert "hint: e.g. `prod`, `staging`;" in trained.fails("promote", "churn@v0.1.0", "Prod").stderr
    assert "error: invalid model name (empty):" in trained.fails("release", "").stderr
