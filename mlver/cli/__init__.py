"""The command line's entry point (``mlver.__main__`` calls ``main``); the
error boundary that turns exceptions into exit codes is mlver/cli/boundary.py.

The click application is mlver/cli/app.py. ``mlver ls`` with no other
arguments than its flags skips it: importing click is a fifth of that
command's start-up, and ``ls`` is the read people (and scripts polling a
registry) run most. Anything else (``ls --help``, an unknown option,
``--traceback``) goes through click, which parses and answers as always.
"""
from __future__ import annotations

import sys
from typing import Any

from mlver.cli.boundary import asks_json, guarded, json_errors, ls, reported, running

_LS_FLAGS = {"--json": "as_json", "-d": "deprecated", "--deprecated": "deprecated"}


def _lean(argv: list[str]) -> int | None:
    """The exit code of a plain `mlver ls [--json] [-d]`; None for anything else."""
    if not argv or argv[0] != "ls" or not set(argv[1:]) <= set(_LS_FLAGS) or len(set(argv)) != len(argv):
        return None
    flags = {_LS_FLAGS[a] for a in argv[1:]}
    import gc

    gc.disable()  # a read that ends in a moment: the collector's passes over its imports were ~5% of it
    json_errors("as_json" in flags)
    running("ls", {})
    return guarded(lambda: ls("deprecated" in flags, "as_json" in flags), network=False)


def main() -> None:
    # Not standalone: click would turn a Ctrl-C while it parses into
    # `Aborted!` and exit 1; a KeyboardInterrupt reaches mlver.__main__, which
    # says `error: interrupted` and exits 130 like any other interruption.
    lean = _lean(sys.argv[1:])
    if lean is not None:
        sys.exit(lean)
    import click

    from mlver.cli.app import cli, usage_error

    try:
        code = cli.main(prog_name="mlver", standalone_mode=False)
    except click.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        sys.stderr.write("Aborted!\n")
        sys.exit(1)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # `mlver` alone: the help, on stderr, exit 2
        sys.exit(exc.exit_code)
    except click.UsageError as exc:  # `mlver --bogus`: refused before any verb, in the boundary's words
        json_errors(asks_json(sys.argv[1:]))
        sys.exit(reported(usage_error(exc)))
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
