"""remote add/list/check, url."""
from __future__ import annotations

import click

from mlver.cli.options import output_options


@click.group()
def remote() -> None:
    """Configure and check remote storage (DVC remotes: S3, ssh, azure, http, ... or a directory)."""


@remote.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--endpoint-url", metavar="URL", help="An S3-compatible endpoint (MinIO, Ceph, ...), e.g. https://minio:9000.")
@click.option("-d", "--default", "default", is_flag=True, help="Make it the default remote for push and pull.")
@click.option("--local", is_flag=True, help="Write to .dvc/config.local (this machine only) instead of .dvc/config.")
@click.option("--shared", is_flag=True,
              help="A directory remote every clone reaches (a mount): write it to .dvc/config, not config.local.")
@click.option("-f", "--force", is_flag=True, help="Replace a remote of the same name.")
@output_options
def remote_add(name: str, url: str, endpoint_url: str | None, default: bool, local: bool, shared: bool,
               force: bool, as_json: bool) -> None:
    """Add a remote: s3://BUCKET[/PREFIX], any other DVC remote URL
    (ssh://, azure://, gs://, https://, webdav://, hdfs://, ...) or a directory.

    A network remote is written to .dvc/config, shared through git (commit
    it); a directory to .dvc/config.local unless --shared. Credentials are
    never written: they come from the environment (AWS_ACCESS_KEY_ID, ...),
    ~/.aws, ~/.ssh, or `dvc remote modify --local NAME password|keyfile|... VALUE`.

    Writes: .dvc/config or .dvc/config.local, as DVC's `dvc remote add` does.
    Never commits, never contacts the remote (`mlver remote check` does).

    \b
    Examples:
      mlver remote add storage s3://ml-team/churn --default
      mlver remote add team ssh://deploy@nas/srv/dvc --default
      mlver remote add nfs /mnt/team/dvc --shared
    """
    from mlver.api import remotes as api
    from mlver.cli.render import render

    render(api.remote_add(name, url, endpoint_url=endpoint_url, default=default, local=local, force=force,
                          shared=shared), as_json)


@remote.command("list")
@output_options
def remote_list(as_json: bool) -> None:
    """List the configured remotes, the default first.

    Reads only: the DVC config files; contacts no remote.

    Example: mlver remote list
    """
    from mlver.api import remotes as api
    from mlver.cli.render import render

    render(api.remote_list(), as_json, kind="RemoteInfo")


@remote.command("check")
@click.argument("name", required=False)
@output_options
def remote_check(name: str | None, as_json: bool) -> None:
    """Prove access to a remote (default: the default remote) before a long transfer.

    Lists, writes, reads back and deletes a small test object. Tells apart
    missing credentials, a missing bucket, access denied, rejected
    credentials, an unreachable endpoint and a wrong region (exit 2).

    Writes: one small test object in the remote, deleted again. Nothing in
    the repository.

    Example: mlver remote check storage
    """
    from mlver.api import remotes as api
    from mlver.cli.render import render, warn

    result = api.remote_check(name)
    render(result, as_json)
    for note in result.notes:
        warn(note)


@click.command()
@click.argument("ref")
@click.option("--expires", default="1h", show_default=True, metavar="DURATION", help="How long the URL works: 30m, 1h, 7d (at most 7d).")
@click.option("-r", "--remote", metavar="NAME", help="Remote name (default: the one the record names, else the default).")
@output_options
def url(ref: str, expires: str, remote: str | None, as_json: bool) -> None:
    """Print a presigned HTTPS URL for a version's artifact in S3.

    For deployment systems that only speak HTTP: anyone with the URL can
    download the artifact until it expires, without credentials.

    Reads only: checks the object is in the remote and signs the URL on
    this machine; nothing is written.

    Example: curl -o churn.pkl "$(mlver url churn#prod --expires 30m)"
    """
    from mlver.api import remotes as api
    from mlver.cli.render import render

    render(api.url(ref, expires=expires, remote=remote), as_json)


COMMANDS = [remote, url]
