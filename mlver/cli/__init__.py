"""The command line: the one error boundary that turns exceptions into exit codes."""
from __future__ import annotations

import sys
from typing import Any

import click

from mlver.errors import ExitCode, MlverError

_SHOW_TRACEBACK = False


def _traceback() -> None:
    if _SHOW_TRACEBACK:
        import traceback

        traceback.print_exc()


class MlverGroup(click.Group):
    """Runs a subcommand and maps what escapes it to an exit code and one message."""

    def invoke(self, ctx: click.Context) -> Any:
        from mlver.cli import render

        try:
            return super().invoke(ctx)
        except MlverError as exc:
            _traceback()
            render.error(exc.message, exc.hint)
            ctx.exit(int(exc.exit_code))
        except KeyboardInterrupt:
            render.error("interrupted; nothing was recorded or tagged")
            ctx.exit(int(ExitCode.INTERRUPTED))
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly as DVC does (128 + SIGPIPE);
            # stdout goes to /dev/null so the interpreter's last flush cannot fail again.
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(141)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # the boundary: anything else is our bug
            _traceback()
            render.error(
                f"internal error: {type(exc).__name__}: {exc}",
                "this is a bug in mlver; rerun with --traceback and report it",
            )
            ctx.exit(int(ExitCode.BUG))


@click.group(cls=MlverGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mlver", message="mlver %(version)s")
@click.option("--traceback", is_flag=True, help="Show the Python traceback of an error.")
def cli(traceback: bool) -> None:
    """Git-native data and model versioning.

    Every trained model is tied to its exact data, code commit and params in
    a lineage record kept in git; large files live in DVC remote storage;
    versions and stages are git tags in GTO's format.

    \b
    Quick start:
      mlver init
      mlver data add data/train.csv
      mlver model add churn --path models/churn.pkl --data data/train.csv \\
          --params params.yaml --metrics metrics.json --command "python train.py"
      git commit -m "declare churn"
      mlver run churn
      mlver release churn
    """
    global _SHOW_TRACEBACK
    _SHOW_TRACEBACK = traceback


def _register() -> None:
    from mlver.cli import governance, registry, remotes, review, setup, status, storage, train

    for module in (setup, train, registry, storage, governance, review, remotes, status):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    # Not standalone: click would turn a Ctrl-C while it parses into
    # `Aborted!` and exit 1; here it is exit 130 like any other interruption.
    from mlver.__main__ import interrupted

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
