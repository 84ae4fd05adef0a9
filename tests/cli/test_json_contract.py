"""Every verb with --json, as a script runs it: on success stdout is one JSON
document and nothing else; on a typical user error it is the boundary's
`{"error": ...}` document, with the same exit code and the same two lines
on stderr as without --json. A verb that gains --json must join the table."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from conftest import Project

Setup = Callable[[Project, pytest.FixtureRequest], None]


def _nothing(p: Project, request: pytest.FixtureRequest) -> None:
    pass


def _second_version(p: Project, request: pytest.FixtureRequest) -> None:
    p.set_params(lr=0.2)
    p.commit_all("lr 0.2")
    p.ok("run", "churn")


def _two_holders(p: Project, request: pytest.FixtureRequest) -> None:
    _second_version(p, request)
    p.ok("release", "churn")
    p.ok("promote", "churn@v0.1.0", "prod")
    p.ok("promote", "churn@v0.2.0", "prod")


def _foreign_folder(p: Project, request: pytest.FixtureRequest) -> None:
    p.write("docs/notes.txt", "mine")


def _on_s3(p: Project, request: pytest.FixtureRequest) -> None:
    s3 = request.getfixturevalue("s3")
    p.ok("remote", "add", "storage", s3.url(), "--endpoint-url", s3.endpoint, "--default")
    p.ok("push")


PLAIN = "(not a repository)"  # run the error case in a folder that is not a git repository

# verb -> (setup, the success argv, its exit code, a typical mistake's argv); the mistake exits 2.
CASES: dict[str, tuple[Setup, list[str], int, list[str]]] = {
    "init": (_nothing, ["init"], 0, ["init", "--remote", "s3://b/x"]),
    "data add": (_nothing, ["data", "add", "data/train.csv"], 0, ["data", "add", "nothere.csv"]),
    "model add": (_nothing, ["model", "add", "m2", "--path", "m2.pkl"], 0, ["model", "add", "churn", "--path", "x"]),
    "run": (_nothing, ["run", "churn"], 0, ["run", "nope"]),
    "record": (_nothing, ["record", "churn"], 0, ["record", "nope"]),
    "release": (_second_version, ["release", "churn"], 0, ["release", "churn", "--version", "1.x"]),
    "promote": (_nothing, ["promote", "churn@v0.1.0", "prod"], 0, ["promote", "churn@v9.0.0", "prod"]),
    "rollback": (_two_holders, ["rollback", "churn", "prod"], 0, ["rollback", "churn", "staging"]),
    "deprecate": (_nothing, ["deprecate", "churn@v0.1.0"], 0, ["deprecate", "churn@v9.9.9"]),
    "ls": (_nothing, ["ls"], 0, ["ls", "nope"]),
    "log": (_nothing, ["log", "churn"], 0, ["log", "nope"]),
    "show": (_nothing, ["show", "churn"], 0, ["show", "churn@v9.9.9"]),
    "diff": (_nothing, ["diff", "churn@v0.1.0", "HEAD"], 0, ["diff", "nope", "HEAD"]),
    "review": (_nothing, ["review", "--base", "main"], 0, ["review", "--base", "nope"]),
    "drift": (_nothing, ["drift", "churn", "data/train.csv"], 0, ["drift", "churn", "nothere.csv"]),
    "ci": (_nothing, ["ci", "github", "--install", "pip install mlver"], 0, ["ci", "github", "--python", ""]),
    "push": (_nothing, ["push"], 0, ["push", "-r", "nosuch"]),
    "pull": (_nothing, ["pull", "churn@v0.1.0"], 0, ["pull", "churn@v9.9.9"]),
    "gc": (_nothing, ["gc"], 0, ["gc", "--min-age", "soon"]),
    "remote add": (_nothing, ["remote", "add", "team", "../team-storage"], 0, ["remote", "add", "a b", "/tmp/x"]),
    "remote list": (_nothing, ["remote", "list"], 0, [PLAIN, "remote", "list"]),
    "remote check": (_nothing, ["remote", "check"], 0, ["remote", "check", "nosuch"]),
    "url": (_on_s3, ["url", "churn@v0.1.0"], 0, ["url", "churn@v0.1.0", "-r", "mlver-local"]),
    "verify": (_nothing, ["verify", "--offline"], 0, ["verify", "churn@v9.9.9"]),
    "reproduce": (_nothing, ["reproduce", "churn@v0.1.0"], 0, ["reproduce", "nope"]),
    "status": (_nothing, ["status"], 1, [PLAIN, "status"]),  # nothing pushed: pending, exit 1
    "lineage": (_nothing, ["lineage", "churn"], 0, ["lineage", "nope"]),
    "card": (_nothing, ["card", "churn"], 0, ["card", "churn@v9.9.9"]),
    "site": (_nothing, ["site", "-o", "public"], 0, ["site", "-o", "docs"]),
}
SETUP_FOR_ERROR = {"site": _foreign_folder}


def _commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            yield from _commands(command, path + " ")
        else:
            yield path, command


def test_the_table_holds_every_verb_with_json() -> None:
    from mlver.cli import cli

    with_json = {path for path, command in _commands(cli)
                 if any("--json" in getattr(param, "opts", ()) for param in command.params)}
    assert with_json == set(CASES)


@pytest.mark.parametrize("verb", sorted(CASES))
def test_json_on_success_and_on_a_mistake(verb: str, trained: Project, request: pytest.FixtureRequest,
                                          isolate: Path) -> None:
    setup, argv, code, mistake = CASES[verb]
    setup(trained, request)
    done = trained.mlver(*argv, "--json")
    assert done.exit_code == code, done.stderr
    doc: Any = json.loads(done.stdout)  # the whole of stdout is the document
    assert "error" not in doc if isinstance(doc, dict) else isinstance(doc, list)

    SETUP_FOR_ERROR.get(verb, _nothing)(trained, request)
    where = trained
    if mistake[0] == PLAIN:
        (isolate / "plain").mkdir()
        where, mistake = Project(isolate / "plain"), mistake[1:]
    text = where.mlver(*mistake)
    as_json = where.mlver(*mistake, "--json")
    assert text.exit_code == as_json.exit_code == 2, (text.stderr, as_json.stderr)
    assert text.stdout == "" and "Traceback" not in text.stderr + as_json.stderr
    (key,) = json.loads(as_json.stdout)
    error = json.loads(as_json.stdout)[key]
    assert key == "error" and error["exit_code"] == 2 and error["family"] and error["class"]
    assert as_json.stderr == text.stderr and text.stderr.endswith(f"error: {error['message']}\nhint: {error['hint']}\n")
