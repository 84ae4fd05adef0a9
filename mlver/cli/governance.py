"""verify, reproduce, card."""
from __future__ import annotations

import click

from mlver.cli.options import output_options
from mlver.errors import ExitCode


@click.command()
@click.argument("ref", required=False)
@click.option("--all", "all_", is_flag=True, help="Check every record and registry tag (the default without REF).")
@click.option("--deep", is_flag=True, help="Download every object and re-hash it, not just check it is there.")
@click.option("--offline", is_flag=True, help="Check records and tags only; leave the remote alone.")
@click.option("-r", "--remote", help="Remote name (default: the DVC default remote).")
@output_options
def verify(ref: str | None, all_: bool, deep: bool, offline: bool, remote: str | None, as_json: bool) -> None:
    """Prove that what was recorded is what is stored.

    Every record's digest, every tag's digest against the record at its
    commit, every parent link, every artifact and data object in the remote
    (with --deep, re-hashed), and tag signatures when signing is on.
    Exit 1 when anything fails.

    \\b
    Examples:
      mlver verify
      mlver verify churn@v1.2.0 --deep
    """
    from mlver import api
    from mlver.cli.render import render

    if ref and all_:
        raise click.UsageError("pass REF or --all, not both")
    result = api.verify(ref, deep=deep, offline=offline, remote=remote)
    render(result, as_json)
    if not result.ok:
        raise click.exceptions.Exit(int(ExitCode.CHECK_FAILED))


COMMANDS = [verify]
