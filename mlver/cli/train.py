"""run, record."""
from __future__ import annotations

import click

from mlver.cli.options import output_options


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--allow-dirty", is_flag=True, help="Train on uncommitted changes; the diff's hash is recorded.")
@output_options
def run(name: str, command: tuple[str, ...], allow_dirty: bool, as_json: bool) -> None:
    """Train a model and record it.

    Refuses when tracked files have uncommitted changes or declared data
    differs from its committed .dvc hash. Runs the model's command (or
    `dvc repro` of its stage, or the command after `--`), tracks the model
    file with DVC, writes .mlver/records/NAME.json and commits only those.

    Writes: what the training writes, then one commit of the record, the
    model's .dvc file (or dvc.lock) and the metrics file. Never a tag and
    never the remote (`mlver release`, `mlver push`); on any failure or
    Ctrl-C the record, the .dvc file and git are put back as they were.

    \b
    Examples:
      mlver run churn
      mlver run churn -- python train.py --fast
    """
    import shlex

    from mlver.api import training as api
    from mlver.cli.render import note, render

    cmd = shlex.join(command) if command else None
    result = api.run(name, command=cmd, allow_dirty=allow_dirty)
    render(result, as_json)
    for line in result.notes:
        note(f"note: {line}")


@click.command()
@click.argument("name")
@click.option("--allow-dirty", is_flag=True, help="Record on uncommitted changes; the diff's hash is recorded.")
@output_options
def record(name: str, allow_dirty: bool, as_json: bool) -> None:
    """Record a model that was trained outside mlver.

    Refuses, as `run` does, uncommitted changes and data that differs from
    its committed .dvc hash; tracks the model file with DVC.

    Writes: one commit of .mlver/records/NAME.json, the model's .dvc file
    (or dvc.lock) and the metrics file. Never a tag and never the remote;
    on any failure or Ctrl-C everything is put back as it was.

    Example: python train.py && mlver record churn
    """
    from mlver.api import training as api
    from mlver.cli.render import render

    render(api.record(name, allow_dirty=allow_dirty), as_json)


COMMANDS = [run, record]
