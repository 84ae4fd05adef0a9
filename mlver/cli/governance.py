"""verify, reproduce, card."""
from __future__ import annotations

import click

from mlver.cli.options import NON_NEGATIVE, output_options
from mlver.errors import ExitCode


@click.command()
@click.argument("ref", required=False)
@click.option("--all", "all_", is_flag=True, help="Check every record and registry tag (the default without REF).")
@click.option("--deep", is_flag=True, help="Download every object and re-hash it, not just check it is there.")
@click.option("--offline", is_flag=True, help="Check records and tags only; leave the remote alone.")
@click.option("-r", "--remote", metavar="NAME", help="Remote name (default: the DVC default remote).")
@click.option("--require-signatures", is_flag=True,
              help="Fail on any registry tag not signed by an allowed signer, whatever mlver.yaml says.")
@click.option("--allowed-signers", type=click.Path(exists=True, dir_okay=False),
              help="SSH allowed-signers file to check signatures against (default: git config gpg.ssh.allowedSignersFile).")
@output_options
def verify(ref: str | None, all_: bool, deep: bool, offline: bool, remote: str | None,
           require_signatures: bool, allowed_signers: str | None, as_json: bool) -> None:
    """Prove that what was recorded is what is stored.

    Every record's digest, every tag's digest against the record at its
    commit, every parent link, every artifact and data object in the remote
    (with --deep, re-hashed), and tag signatures when signing is on; and
    the registry's history: every stage assignment against the policy of its
    day, tags dated in the future or out of counter order, versions re-made
    or moved, version tags gone or changed since this clone last verified.
    Exit 1 when anything fails.

    The digest is an unkeyed checksum against accidents: only signed tags,
    checked against keys from outside the repository, bind a registry event
    to a person.

    Reads only: changes no file, commit, tag or remote object (caches and
    the tags it last verified are kept under .git/mlver).

    \b
    Examples:
      mlver verify
      mlver verify churn@v1.2.0 --deep
    """
    from mlver.api import audit as api
    from mlver.cli.render import Progress, render

    if ref and all_:
        raise click.UsageError("pass REF or --all, not both")
    with Progress("verify", rate=deep) as progress:
        result = api.verify(ref, deep=deep, offline=offline, remote=remote, require_signatures=require_signatures,
                            allowed_signers=allowed_signers, start=progress.start, progress=progress.update)
    render(result, as_json)
    if not result.ok:
        raise click.exceptions.Exit(int(ExitCode.CHECK_FAILED))


@click.command()
@click.argument("ref")
@click.option("--tolerance", type=NON_NEGATIVE, default=0.01, show_default=True,
              help="Largest absolute difference per metric that still counts as reproduced.")
@click.option("-r", "--remote", metavar="NAME", help="Remote to fetch the recorded data from (default: the DVC default remote).")
@output_options
def reproduce(ref: str, tolerance: float, remote: str | None, as_json: bool) -> None:
    """Retrain a version from its recorded code, data and params, and compare.

    Runs in a temporary git worktree at the recorded code commit, with the
    recorded data versions restored by hash; your working tree is never
    touched. The command is the one mlver.yaml declares at that commit (for
    a DVC stage, `dvc repro` of it and of the stage writing its metrics),
    shown before it runs; a record whose digest fails is refused. Says "bit-for-bit" (same artifact md5), "statistically" (every
    recorded metric within --tolerance) or "not reproduced" (exit 1).

    Writes: only in a temporary worktree and folder, removed afterwards (the
    fetched data stays in the DVC cache). Never your working tree, a
    commit, a tag or the remote.

    Example: mlver reproduce churn@v1.2.0 --tolerance 0.02
    """
    from mlver.api import reproduction as api
    from mlver.cli.render import note, render

    result = api.reproduce(ref, tolerance=tolerance, remote=remote,
                           on_command=lambda command: note(f"reproduce: running `{command}` in a temporary worktree"))
    render(result, as_json)
    if not result.reproduced:
        raise click.exceptions.Exit(int(ExitCode.CHECK_FAILED))


@click.command()
@click.argument("ref")
@click.option("-o", "--out", type=click.Path(dir_okay=False, writable=True), help="Write the card to this file instead of stdout.")
@click.option("--html", is_flag=True, help="An HTML page instead of markdown.")
@output_options
def card(ref: str, out: str | None, html: bool, as_json: bool) -> None:
    """A model card: description, intended use, lineage, metrics, stages and who set them.

    Intended use and limitations come from `intended_use:` and
    `limitations:` of the model in mlver.yaml; the description and the
    labels come from the artifacts section of dvc.yaml.

    Writes: the card to stdout, or to the -o file (--json: the card's text in
    a JSON document on stdout). Nothing else.

    Example: mlver card churn@v1.2.0 -o card.md
    """
    from mlver.api import cards as api
    from mlver.cli.render import check_output, render, write_text

    check_output(out)
    made = api.card(ref, html=html)
    if out or not as_json:
        write_text(made.text, out)
    if as_json:
        render(made, True)


COMMANDS = [verify, reproduce, card]
