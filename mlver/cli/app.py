"""The click application: the group every command registers on."""
from __future__ import annotations

import functools
from typing import Any

import click

from mlver.cli import boundary as _entry


class MlverGroup(click.Group):
    """Runs a subcommand and maps what escapes it to an exit code and one message."""

    def invoke(self, ctx: click.Context) -> Any:
        result: list[Any] = []
        _entry.json_errors(False)  # until the command's --json is parsed (one process may run several commands)
        code = _entry.guarded(lambda: result.append(super(MlverGroup, self).invoke(ctx)),
                              passthrough=(click.exceptions.Exit, click.ClickException, click.Abort))
        if code:
            ctx.exit(code)
        return result[0] if result else None


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
    _entry.show_tracebacks(traceback)


def _named(command: click.Command, path: str) -> None:
    """Say which verb runs (``remote add``), with its parameters, before it
    runs: what an interrupt leaves depends on it (mlver/cli/interrupts.py)."""
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            _named(sub, f"{path} {name}")
        return
    callback = command.callback
    if callback is None:
        return

    @functools.wraps(callback)
    def call(*args: Any, **kwargs: Any) -> Any:
        _entry.running(path, kwargs)
        return callback(*args, **kwargs)

    command.callback = call


def _register() -> None:
    from mlver.cli import governance, registry, remotes, review, setup, status, storage, train, views

    for module in (setup, train, registry, storage, governance, review, remotes, status, views):
        for command in module.COMMANDS:
            cli.add_command(command)
            _named(command, command.name or "")


_register()
