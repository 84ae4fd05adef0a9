"""push, pull."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from mlver.cli.options import output_options

if TYPE_CHECKING:
    from mlver.models import PullResult


@click.command()
@click.argument("refs", nargs=-1)
@click.option("-r", "--remote", metavar="NAME", help="Remote name (default: the DVC default remote).")
@click.option("-v", "--verbose", is_flag=True, help="List every object sent (by default: a summary).")
@output_options
def push(refs: tuple[str, ...], remote: str | None, verbose: bool, as_json: bool) -> None:
    """Send recorded artifacts and data to remote storage.

    REFS name versions as every command does (churn, churn@v1.2.0,
    churn#prod, churn@HEAD). Without REFS: everything referenced by the
    records at HEAD and by every released version. Objects already in the
    remote are skipped, so an interrupted push resumes where it stopped.
    Progress goes to stderr; the summary (or --json) to stdout.

    Sent per version: its record's artifact and data, and what `dvc push`
    at the version's commit would send from the local cache (every output
    its dvc.lock and .dvc files name: a pipeline's other stages too, but
    not cache: false, push: false, another remote's or a `dvc import`'s),
    so a clone's `dvc pull` finds them. A record's object that neither the
    cache nor the remote has fails the push (exit 2); another stage's
    output is named on stderr and left out.

    Writes: the objects, in DVC's layout (files/md5/..), and a manifest of
    this project's objects (mlver/manifests/) in the remote. Never a file,
    commit or tag of the repository.

    \b
    Examples:
      mlver push
      mlver push churn#prod -r team
    """
    from mlver.api import storage as api
    from mlver.cli.render import Progress, note, render, warn

    with Progress("push") as progress:
        result = api.push(list(refs), remote=remote, start=progress.start, progress=progress.update)
    render(result, as_json)
    if verbose and result.sent and not as_json:
        render(list(result.sent), kind="SentObject")
    if result.pipeline:
        note(f"push: {result.pipeline} of the {result.objects} objects referenced are other outputs the versions' "
             "dvc.lock and .dvc files name (what `dvc push` there sends; a clone's `dvc pull` fetches them)")
    if result.unsent:
        shown = ", ".join(result.unsent[:5]) + (f" and {len(result.unsent) - 5} more" if len(result.unsent) > 5 else "")
        warn(f"not sent, in neither the local cache nor remote {result.remote}: {shown}; a clone's `dvc pull` "
             "at those commits will miss them: `dvc repro` there, or `dvc push` from a machine that has them")


def _source_options(command: Callable[..., None]) -> Callable[..., None]:
    """pull's options for where a version comes from: which remote, its settings, another repository."""
    for option in reversed([
        click.option("-r", "--remote", metavar="NAME", help="Remote name (default: the default remote, then the record's, "
                     "then the default at the version's commit and on the default branch: the first holding it)."),
        click.option("--remote-config", "remote_config", multiple=True, metavar="KEY=VALUE",
                     help="Merge a setting into the remote's config for this pull, as `dvc artifacts get` does "
                          "(e.g. endpointurl=https://minio:9000, url=s3://bucket/path); repeatable."),
        click.option("--repo", "git_url", metavar="GIT_URL",
                     help="Resolve REF in this git repository (URL or path) instead of the current project; no clone needed."),
        click.option("--trust-endpoint", is_flag=True,
                     help="With --repo: send your credentials (AWS, Google, SSH keys, ~/.netrc) to the endpoint "
                          "or host that repository's .dvc/config names (by default only to one you configured "
                          "yourself; others are asked without them), and skip the ssh host-key check against "
                          "~/.ssh/known_hosts, as dvc pull does. An ssh-agent is never forwarded."),
    ]):
        command = option(command)
    return command


@click.command()
@click.argument("ref")
@click.option("-o", "--out", type=click.Path(dir_okay=True), help="Where to write the artifact (default: its path in the project).")
@click.option("--with-data", is_flag=True, help="Also restore the data the model was trained on.")
@_source_options
@click.option("-f", "--force", is_flag=True,
              help="Replace or remove files of the project that hold changes no cache has (as `dvc pull --force`).")
@click.option("-v", "--verbose", is_flag=True, help="List every file pulled (by default: a summary).")
@output_options
def pull(ref: str, out: str | None, with_data: bool, remote: str | None, remote_config: tuple[str, ...],
         git_url: str | None, trust_endpoint: bool, force: bool, verbose: bool, as_json: bool) -> None:
    """Restore a version's artifact (and data) from storage, md5-verified.

    Nothing is written outside the project (or the -o destination): a record
    or directory manifest naming a path that climbs out, is absolute, or goes
    through a symlink is refused, as is a record whose digest fails. -o with
    an existing folder puts the file inside it, like cp.

    With --repo, works anywhere: REF (churn, churn@v1.2.0, churn#prod) is
    resolved from that repository's tags, fetching only the one commit that
    holds the record, and the artifact comes from the remote the record
    names, else the default remote at that commit or on the default branch
    (default output: its file name in the current directory). The endpoint
    is named on stderr before it is contacted.

    Writes: the artifact (with --with-data, the data too) at its path or -o,
    each switched in whole after its md5 checks; the objects into the DVC
    cache. Never a commit, a tag, a .dvc file or the remote, and never over
    unsaved work: a file of the project it would replace or remove whose
    content no cache holds is refused, as DVC does, unless --force.

    \b
    Examples:
      mlver pull churn@v0.1.0 -o /tmp/churn.pkl
      mlver pull churn#prod --repo https://github.com/acme/churn.git -o model.pkl
    """
    from mlver.api import storage as api
    from mlver.cli.render import Progress, warn

    with Progress("pull") as progress:
        result = api.pull(ref, out=out, with_data=with_data, remote=remote, remote_config=list(remote_config),
                          start=progress.start, progress=progress.update, git_url=git_url,
                          trust_endpoint=trust_endpoint, notice=warn, force=force)
    _show_pulled(result, verbose, as_json)


def _show_pulled(result: PullResult, verbose: bool, as_json: bool) -> None:
    from mlver.cli.render import render, warn

    render(result, as_json)
    if verbose and not as_json:
        render(list(result.files), kind="PulledFile")
    if result.back:
        what = f"{result.model}@{result.version}" if result.version else result.ref
        warn(f"the workspace now holds {what}, not {result.head_record}: `mlver record {result.model}` refuses it; "
             f"go back with {result.back}")


def _age(text: str) -> int:
    from mlver.errors import UnreadableValue

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    if not number.isdigit():
        raise UnreadableValue("the age", text, "e.g. 0, 30m, 24h or 7d")
    return int(number) * units[unit]


@click.command()
@click.option("--cloud", is_flag=True, help="Also collect the default remote (with -r: that remote).")
@click.option("-r", "--remote", metavar="NAME", help="The remote to collect (implies --cloud).")
@click.option("--keep-last", type=click.IntRange(min=0), default=0, show_default=True, metavar="N",
              help="Also keep each model's last N records on every branch, released or not.")
@click.option("--min-age", default="24h", show_default=True, metavar="AGE",
              help="Keep objects written less than AGE ago (0, 30m, 24h, 7d): a push under way is not yet in git.")
@click.option("-f", "--force", is_flag=True, help="Delete; without it gc only says what it would free.")
@output_options
def gc(cloud: bool, remote: str | None, keep_last: int, min_age: str, force: bool, as_json: bool) -> None:
    """Free storage: objects no release, stage or branch needs (dry run by default).

    Kept: every object of any release, of any version a stage ever held
    (rollback targets), of the records at every local and remote-tracking
    branch head, the DVC-tracked files (.dvc, dvc.lock) at those heads and
    in the workspace, and with --keep-last N each model's last N records.
    In a remote, objects another project's manifest names (each
    `mlver push` writes one) are never deleted. Says per model what it
    frees; --force deletes.

    Writes: nothing without --force; with it, deletes the freed objects from
    the DVC cache (and with --cloud, the remote). Never a file, commit or tag
    of the repository.

    With DVC's own gc (checked with dvc 3.67): `dvc gc -a -T` or `-A` keep
    every release and stage and each branch's record; `-T` alone every
    release but no other branch's record; `-w` (DVC's usual advice) and `-a`
    delete every version not in the workspace or at a branch head. With -c
    they delete from the remote too, whatever another project (sharing it)
    or a tag this clone has not fetched still needs: prefer `mlver gc`.

    \b
    Examples:
      mlver gc --cloud            # what it would free
      mlver gc --cloud --force    # free it
    """
    from mlver.api import collection as api
    from mlver.cli.render import note, render, warn

    result = api.gc(cloud=cloud, keep_last=keep_last, force=force, remote=remote, min_age=_age(min_age))
    render(result, as_json)
    for line in result.notes:
        warn(line)
    if result.dry_run and not as_json:
        note("with DVC's own gc, only `dvc gc -a -T` (or -A) keeps every release and stage: see `mlver gc --help`")


COMMANDS = [push, pull, gc]
