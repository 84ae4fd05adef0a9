"""push, pull."""
from __future__ import annotations

import click

from mlver.cli.options import output_options


@click.command()
@click.argument("refs", nargs=-1)
@click.option("-r", "--remote", help="Remote name (default: the DVC default remote).")
@output_options
def push(refs: tuple[str, ...], remote: str | None, as_json: bool) -> None:
    """Send recorded artifacts and data to remote storage.

    Without REFS: everything referenced by the records at HEAD and by every
    released version. Objects already in the remote are skipped, so an
    interrupted push resumes where it stopped.

    Example: mlver push
    """
    from mlver import api
    from mlver.cli.render import Progress, render

    progress = Progress("push")
    result = api.push(list(refs), remote=remote, start=progress.start, progress=progress.update)
    progress.finish()
    render(result, as_json)


@click.command()
@click.argument("ref")
@click.option("-o", "--out", type=click.Path(dir_okay=True), help="Where to write the artifact (default: its path in the project).")
@click.option("--with-data", is_flag=True, help="Also restore the data the model was trained on.")
@click.option("-r", "--remote", help="Remote name (default: the DVC default remote).")
@click.option("--repo", "git_url", metavar="GIT_URL",
              help="Resolve REF in this git repository (URL or path) instead of the current project; no clone needed.")
@click.option("--trust-endpoint", is_flag=True,
              help="With --repo: send your AWS credentials to the S3 endpoint that repository's .dvc/config names "
                   "(by default only to an endpoint you configured yourself; others are asked without them).")
@output_options
def pull(ref: str, out: str | None, with_data: bool, remote: str | None, git_url: str | None,
         trust_endpoint: bool, as_json: bool) -> None:
    """Restore a version's artifact (and data) from storage, md5-verified.

    Nothing is written outside the project (or the -o destination): a record
    or directory manifest naming a path that climbs out, is absolute, or goes
    through a symlink is refused, as is a record whose digest fails. -o with
    an existing folder puts the file inside it, like cp.

    With --repo, works anywhere: REF (churn, churn@v1.2.0, churn#prod) is
    resolved from that repository's tags, fetching only the one commit that
    holds the record, and the artifact comes from the remote the record
    names (default output: its file name in the current directory). The
    endpoint is named on stderr before it is contacted.

    \b
    Example: mlver pull churn@v0.1.0 -o /tmp/churn.pkl
             mlver pull churn#prod --repo https://github.com/acme/churn.git -o model.pkl
    """
    from mlver import api
    from mlver.cli.render import Progress, render, warn

    progress = Progress("pull")
    result = api.pull(ref, out=out, with_data=with_data, remote=remote, start=progress.start,
                      progress=progress.update, git_url=git_url, trust_endpoint=trust_endpoint, notice=warn)
    progress.finish()
    render(result, as_json)
    if result.back:
        what = f"{result.model}@{result.version}" if result.version else result.ref
        warn(f"the workspace now holds {what}, not {result.head_record}: `mlver record {result.model}` refuses it; "
             f"go back with {result.back}")


COMMANDS = [push, pull]
