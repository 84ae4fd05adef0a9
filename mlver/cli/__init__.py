"""The command line: the one error boundary that turns exceptions into exit codes.

The click application is mlver/cli/app.py. ``mlver ls`` with no other
arguments than its flags skips it: importing click is a fifth of that
command's start-up, and ``ls`` is the read people (and scripts polling a
registry) run most. Anything else (``ls --help``, an unknown option,
``--traceback``) goes through click, which parses and answers as always.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from mlver.errors import ExitCode, MlverError

_SHOW_TRACEBACK = False
_JSON_ERRORS = False  # the command was given --json: its error is a JSON document on stdout too
_LS_FLAGS = {"--json": "as_json", "-d": "deprecated", "--deprecated": "deprecated"}


def show_tracebacks(on: bool) -> None:
    global _SHOW_TRACEBACK
    _SHOW_TRACEBACK = on


def json_errors(on: bool) -> None:
    global _JSON_ERRORS
    _JSON_ERRORS = on


def _traceback() -> None:
    if _SHOW_TRACEBACK:
        import traceback

        traceback.print_exc()


def guarded(call: Callable[[], object], passthrough: tuple[type[BaseException], ...] = ()) -> int:
    """Run a command; what escapes it becomes one message and an exit code (0: none escaped)."""
    from mlver.cli import render

    try:
        call()
    except MlverError as exc:
        _traceback()
        render.error(exc.message, exc.hint)
        if _JSON_ERRORS:
            render.render({"error": exc.to_doc()}, as_json=True)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        render.error("interrupted; nothing was recorded or tagged")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly as DVC does (128 + SIGPIPE);
        # stdout goes to /dev/null so the interpreter's last flush cannot fail again.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except passthrough:
        raise
    except Exception as exc:  # the boundary: anything else is our bug
        _traceback()
        render.error(
            f"internal error: {type(exc).__name__}: {exc}",
            "this is a bug in mlver; rerun with --traceback and report it",
        )
        return int(ExitCode.BUG)
    return 0


def ls(deprecated: bool, as_json: bool) -> None:
    """`mlver ls`: the one implementation, for click's command and the lean path."""
    from mlver.api.registry import ls as list_models
    from mlver.cli.render import render

    render(list_models(deprecated=deprecated), as_json, kind="ModelSummary")


def _lean(argv: list[str]) -> int | None:
    """The exit code of a plain `mlver ls [--json] [-d]`; None for anything else."""
    if not argv or argv[0] != "ls" or not set(argv[1:]) <= set(_LS_FLAGS) or len(set(argv)) != len(argv):
        return None
    flags = {_LS_FLAGS[a] for a in argv[1:]}
    import gc

    gc.disable()  # a read that ends in a moment: the collector's passes over its imports were ~5% of it
    json_errors("as_json" in flags)
    return guarded(lambda: ls("deprecated" in flags, "as_json" in flags))


def main() -> None:
    # Not standalone: click would turn a Ctrl-C while it parses into
    # `Aborted!` and exit 1; here it is exit 130 like any other interruption.
    from mlver.__main__ import interrupted

    try:
        lean = _lean(sys.argv[1:])
    except KeyboardInterrupt:
        interrupted()
    if lean is not None:
        sys.exit(lean)
    import click

    from mlver.cli.app import cli

    try:
        code = cli.main(prog_name="mlver", standalone_mode=False)
    except KeyboardInterrupt:
        interrupted()
    except click.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            interrupted()
        sys.stderr.write("Aborted!\n")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def __getattr__(name: str) -> Any:
    # `from mlver.cli import cli` (tests, plugins) still finds the click group.
    if name in ("cli", "MlverGroup"):
        from mlver.cli import app

        return getattr(app, name)
    raise AttributeError(f"module 'mlver.cli' has no attribute {name!r}")
