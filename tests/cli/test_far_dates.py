"""A hostile repository's tag dated past datetime's year 9999 (git accepts it): ls, log and verify answer."""
from __future__ import annotations

import os
import subprocess

from conftest import Project


def test_a_tag_dated_past_year_9999_is_shown_not_a_crash(trained: Project) -> None:
    env = {**os.environ, "GIT_COMMITTER_DATE": "@999999999999 +0000"}
    subprocess.run(["git", "tag", "-a", "churn@v9.0.0", "-m", "far"], cwd=trained.root, env=env, check=True)
    assert "+33658" in trained.ok("ls", "--json").stdout
    trained.ok("log", "churn")
    result = trained.mlver("verify", "--all", "--offline")
    assert result.exit_code in (0, 1), result.output
