"""init, data add, model add."""
from __future__ import annotations

import click

from mlver.cli.options import output_options


@click.command()
@click.option("--remote", metavar="URL", help="Default remote (a directory, or s3://bucket/prefix). "
              "Default: a folder of this project's own under $XDG_DATA_HOME/mlver/projects.")
@click.option("--own-storage", is_flag=True,
              help="Move a project off the storage folder older mlver shared between projects: copies the "
                   "objects gc keeps into a folder of its own and makes that the default remote.")
@output_options
def init(remote: str | None, own_storage: bool, as_json: bool) -> None:
    """Make this folder an mlver project.

    Runs `git init` and `dvc init` where missing, writes mlver.yaml, and sets
    up a default local remote in .dvc/config.local (per machine, untracked),
    a folder that belongs to this project alone. Safe to run twice.

    Writes: git init and dvc init where missing, mlver.yaml if missing, the
    default remote in .dvc/config.local (an s3:// or other URL goes to
    .dvc/config as `storage`), all staged. Never commits; an existing
    mlver.yaml is kept as it is.

    Example: mlver init
    """
    from mlver.api import setup as api
    from mlver.cli.render import render, warn

    result = api.init(remote=remote, own_storage=own_storage)
    render(result, as_json)
    for note in result.notes:
        warn(note)


@click.group()
def data() -> None:
    """Track data with DVC."""


@data.command("add")
@click.argument("paths", nargs=-1, required=True)
@output_options
def data_add(paths: tuple[str, ...], as_json: bool) -> None:
    """Track files or directories with DVC and stage their .dvc files.

    Tabular files (CSV, TSV, Parquet) are profiled once here; the profile
    goes into every record trained on this version of the data.

    Writes: PATH.dvc and PATH's .gitignore entry (staged), the data into the
    DVC cache. Never commits, never touches the remote (`mlver push` does).

    Example: mlver data add data/train.csv
    """
    from mlver.api import setup as api
    from mlver.cli.render import Progress, render

    with Progress("add", unit="path") as progress:
        added = api.data_add(list(paths), start=progress.start, progress=progress.update)
    render(added, as_json)


@click.group()
def model() -> None:
    """Declare models."""


@model.command("add")
@click.argument("name")
@click.option("--path", required=True, metavar="PATH", help="Where training writes the model file or directory.")
@click.option("--data", "data_paths", multiple=True, metavar="PATH", help="A DVC-tracked input (repeatable).")
@click.option("--params", metavar="FILE[:KEYS]", help="Hyperparameters file, optionally with keys: params.yaml[:train,model].")
@click.option("--metrics", metavar="FILE", help="Metrics file the training writes (JSON or YAML).")
@click.option("--command", metavar="CMD", help="The training command, run from the repository root.")
@click.option("--stage", metavar="STAGE", help="A dvc.yaml stage that trains the model (run with `dvc repro`).")
@click.option("--desc", default="", help="Description, written to dvc.yaml artifacts.")
@click.option("--label", "labels", multiple=True, metavar="LABEL", help="A label for dvc.yaml artifacts (repeatable).")
@output_options
def model_add(name: str, path: str, data_paths: tuple[str, ...], params: str | None, metrics: str | None,
              command: str | None, stage: str | None, desc: str, labels: tuple[str, ...], as_json: bool) -> None:
    """Declare a model in mlver.yaml and in dvc.yaml's artifacts.

    Writes: mlver.yaml and dvc.yaml (staged), keeping their comments and
    order. Never commits, never runs the training (`mlver run NAME` does).

    Example: mlver model add churn --path models/churn.pkl --data data/train.csv
    --params params.yaml --metrics metrics.json --command "python train.py"
    """
    from mlver.api import setup as api
    from mlver.cli.render import render

    render(api.model_add(name, path, data_paths, params, metrics, command, stage, desc, labels), as_json)


COMMANDS = [init, data, model]
