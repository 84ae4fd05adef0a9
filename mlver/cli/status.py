"""status."""
from __future__ import annotations

import click

from mlver.cli.options import output_options
from mlver.errors import ExitCode


@click.command()
@click.option("--offline", is_flag=True, help="Do not ask the git remote for its tags or the storage remote for its objects.")
@output_options
def status(offline: bool, as_json: bool) -> None:
    """What is pending per model; exit 1 when anything is.

    Against HEAD's record of each model: an artifact trained and not
    recorded, or one pulled from another version; data, params or metrics
    changed since; a record not released; registry tags not on the git
    remote (origin); objects not in the default remote. Unchanged files are
    not hashed again (their size and mtime are remembered).

    Reads only: changes no file, commit, tag or remote object (caches under
    .git/mlver aside).

    Example: mlver status   (in CI or a pre-push hook: fails when something is pending)
    """
    from mlver.api import pending as api
    from mlver.cli.render import render

    result = api.status(offline=offline)
    render(result, as_json)
    if not result.clean:
        raise click.exceptions.Exit(int(ExitCode.CHECK_FAILED))


COMMANDS = [status]
