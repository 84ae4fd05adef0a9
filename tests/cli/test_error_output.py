"""An error under --json is a document a script can branch on: its family,
its class and the fields it was raised with, beside the usual two lines on stderr."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import Project, Run


def _error(run: Run) -> dict[str, Any]:
    doc = json.loads(run.stdout)
    assert list(doc) == ["error"]
    return dict(doc["error"])


def test_json_errors_carry_family_class_and_fields(trained: Project) -> None:
    head = trained.git("rev-parse", "HEAD").strip()
    cases = [
        (("show", "nope@v1.0.0"), "not-found", "UnknownModel", {"name": "nope"}),
        (("release", "churn"), "conflict", "AlreadyReleased", {"model": "churn", "version": "v0.1.0", "commit": head}),
        (("release", "churn", "--bump", "patch", "--version", "v9.0.0"), "usage", "OptionsExclusive",
         {"first": "--bump", "second": "--version"}),
        (("release", "x@y"), "usage", "InvalidName", {"kind": "model", "name": "x@y"}),
    ]
    for args, family, cls, fields in cases:
        text = trained.fails(*args)
        assert text.stdout == "", "without --json an error is only the two lines on stderr"
        run = trained.fails(*args, "--json")
        error = _error(run)
        assert (error["family"], error["class"], error["exit_code"]) == (family, cls, 2), args
        assert {k: error["fields"][k] for k in fields} == fields, args
        # The same words as on stderr, where people read them.
        assert run.stderr == text.stderr == f"error: {error['message']}\nhint: {error['hint']}\n"


def test_json_error_of_the_lean_ls_path(tmp_path: Path) -> None:
    # `mlver ls --json` skips click; outside a repository its error is a document too.
    run = subprocess.run([sys.executable, "-m", "mlver", "ls", "--json"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 2
    error = json.loads(run.stdout)["error"]
    assert (error["family"], error["class"]) == ("usage", "NotARepository")
    assert error["fields"] == {"path": str(tmp_path)}
    plain = subprocess.run([sys.executable, "-m", "mlver", "ls"], cwd=tmp_path, capture_output=True, text=True)
    assert plain.returncode == 2 and plain.stdout == "" and plain.stderr.startswith("error: not a git repository")
