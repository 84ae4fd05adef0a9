"""Running the user's training commands with their output on our stderr.

stdout belongs to mlver's result (so `mlver run --json | jq` works); a
training's own prints go to stderr, live.
"""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def _stderr_fd() -> int | None:
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return None  # an in-memory stderr (tests, notebooks): copy instead


def run_to_stderr(command: str | Sequence[str], cwd: Path, shell: bool = False, env: dict[str, str] | None = None) -> int:
    """Run a command, its stdout and stderr going to our stderr; returns the exit code."""
    fd = _stderr_fd()
    if fd is not None:
        sys.stderr.flush()
        return subprocess.run(command, shell=shell, cwd=cwd, stdout=fd, env=env).returncode
    proc = subprocess.Popen(command, shell=shell, cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    for line in iter(proc.stdout.readline, b""):
        sys.stderr.write(line.decode(errors="replace"))
    return proc.wait()
