"""The `mlver` program (`python -m mlver` too).

The entry point imports the CLI inside its own ``try``: a Ctrl-C while
Python is still loading click and mlver (the first ~0.1 s) ends like one
later on, `error: interrupted` and exit 130, never a traceback.
"""
from __future__ import annotations


def main() -> None:
    try:
        from mlver.cli import main as cli_main

        cli_main()
    except KeyboardInterrupt:
        interrupted()


def interrupted() -> None:
    import signal
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the goodbye
    try:
        sys.stderr.write("error: interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    raise SystemExit(130)


if __name__ == "__main__":
    main()
