"""The `mlver` program (`python -m mlver` too).

The entry point imports the CLI inside its own ``try``: a Ctrl-C while
Python is still loading click and mlver (the first ~0.1 s) ends like one
later on, `error: interrupted` (with --json, a document on stdout too) and
exit 130, never a traceback. One that
comes after the command is over, while Python shuts down, ends the process
as the signal does by default.
"""
from __future__ import annotations


def main() -> None:
    try:
        from mlver.cli import main as cli_main

        cli_main()
    except KeyboardInterrupt:
        interrupted()
    except Exception as exc:  # a Ctrl-C while a class was being built (mlver.errors.interrupted_within)
        from mlver.errors import interrupted_within

        if interrupted_within(exc):
            interrupted()
        raise
    finally:
        _exiting()


def interrupted() -> None:
    import signal
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the goodbye
    try:
        sys.stderr.write("error: interrupted\n")
        sys.stderr.flush()
        from mlver.cli.boundary import interrupted_early

        interrupted_early(sys.argv[1:])  # with --json, a document on stdout too
    except (OSError, ValueError):
        pass
    raise SystemExit(130)


def _exiting() -> None:
    # The result is out and the exit code chosen; what is left is Python's
    # shutdown (exit handlers: git cat-file is closed there). A KeyboardInterrupt
    # raised in it has no boundary to reach and prints a traceback, so from here
    # SIGINT kills as it does by default (the shell says 130); nothing is undone
    # by it, since nothing is left to do.
    import signal

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.SIG_DFL)


if __name__ == "__main__":
    main()
