"""The one error boundary: what escapes a command becomes one message (and,
with --json, one document) and an exit code. ``mlver.cli.app`` runs every
click command through it, ``mlver.cli.main`` the lean ``ls``.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from mlver.errors import ExitCode, MlverError, interrupted_within, interruption_doc

_SHOW_TRACEBACK = False
_JSON_ERRORS = False  # the command was given --json: its error is a JSON document on stdout too
_RUNNING: tuple[str, dict[str, Any]] = ("", {})  # the verb being run and its parameters, for the interrupt message


def show_tracebacks(on: bool) -> None:
    global _SHOW_TRACEBACK
    _SHOW_TRACEBACK = on


def json_errors(on: bool) -> None:
    """Whether the command being run asks for --json (set before it writes anything)."""
    from mlver.cli.render import forget_documents

    global _JSON_ERRORS
    _JSON_ERRORS = on
    forget_documents()


def asks_json(args: list[str]) -> bool:
    """The verb's arguments ask for --json (what follows `--` is a training command's)."""
    return "--json" in (args[:args.index("--")] if "--" in args else args)


def running(verb: str, params: dict[str, Any]) -> None:
    global _RUNNING
    _RUNNING = (verb, params)


def _traceback() -> None:
    if _SHOW_TRACEBACK:
        import traceback

        traceback.print_exc()


def guarded(call: Callable[[], object], passthrough: tuple[type[BaseException], ...] = (),
            network: bool = True) -> int:
    """Run a command; what escapes it becomes one message and an exit code (0: none escaped).
    ``network``: say on stderr when a network call keeps it waiting (mlver/waiting.py)."""
    from mlver.cli import render

    try:
        if network:
            from mlver import waiting

            with waiting.report_to(render.Waiting()):
                call()
        else:
            call()
    except MlverError as exc:
        return reported(exc)
    except KeyboardInterrupt as exc:
        return _interrupted(exc)
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
        if interrupted_within(exc):
            return _interrupted(exc)
        _traceback()
        render.error(
            f"internal error: {type(exc).__name__}: {exc}",
            "this is a bug in mlver; rerun with --traceback and report it",
        )
        return int(ExitCode.BUG)
    return 0


def _interrupted(exc: BaseException) -> int:
    from mlver.cli import render
    from mlver.cli.interrupts import message

    said = message(*_RUNNING, exc)
    render.error(said)
    _error_document(interruption_doc(said, _RUNNING[0] or None))
    return int(ExitCode.INTERRUPTED)


def interrupted_early(argv: list[str]) -> None:
    """A Ctrl-C that came before the boundary ran (Python loading mlver, click parsing)
    or after it: with --json, the bare interruption as the document on stdout too."""
    global _JSON_ERRORS
    _JSON_ERRORS = _JSON_ERRORS or asks_json(argv)
    _error_document(interruption_doc("interrupted", None))


def reported(exc: MlverError) -> int:
    """Say what went wrong (with --json, as a document on stdout too); the exit code it means."""
    from mlver.cli import render

    _traceback()
    render.error(exc.message, exc.hint)
    _error_document(exc.to_doc())
    return int(exc.exit_code)


def _error_document(doc: dict[str, Any]) -> None:
    """With --json, how the command ended is the document on stdout, unless its own began there."""
    from mlver.cli import render

    if _JSON_ERRORS and not render.document_begun():
        render.render({"error": doc}, as_json=True)


def ls(deprecated: bool, as_json: bool) -> None:
    """`mlver ls`: the one implementation, for click's command and the lean path."""
    from mlver.api.registry import ls as list_models
    from mlver.cli.render import render

    render(list_models(deprecated=deprecated), as_json, kind="ModelSummary")
