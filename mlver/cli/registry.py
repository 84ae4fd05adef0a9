"""release, ls, log, show, diff."""
from __future__ import annotations

import click

from mlver.cli.options import NON_NEGATIVE, output_options


@click.command()
@click.argument("name")
@click.argument("rev", default="HEAD")
@click.option("--bump", type=click.Choice(["major", "minor", "patch"]), help="Which part to bump (default: minor).")
@click.option("--version", "version", metavar="vX.Y.Z", help="An explicit version, e.g. v1.0.0.")
@output_options
def release(name: str, rev: str, bump: str | None, version: str | None, as_json: bool) -> None:
    """Release the record of NAME at REV (default HEAD) as a new version.

    Creates the annotated tag NAME@vX.Y.Z in GTO's format; its message holds
    the record's digest. The first release is v0.1.0; an existing version is
    never moved.

    Writes: that one tag. Never a file or a commit, never the git remote
    (`git push origin TAG` publishes it).

    Example: mlver release churn --bump minor
    """
    from mlver.api import registry as api
    from mlver.cli.render import publish, render

    result = api.release(name, bump=bump, version=version, rev=rev)
    render(result, as_json)
    publish(result.tag)


@click.command("ls")
@click.argument("name", required=False)
@click.option("-d", "--deprecated", is_flag=True, help="Include deprecated models (hidden by default, as in `gto show`).")
@click.option("--against", metavar="STAGE", help="With NAME: also compare every metric with the version holding STAGE now.")
@click.option("--sort-by", metavar="METRIC", help="With NAME: best first by METRIC (lowest first for loss, error, latency...).")
@click.option("--md", is_flag=True, help="With NAME: a markdown table (for a pull request or a wiki).")
@click.option("--csv", "as_csv", is_flag=True, help="With NAME: CSV, one row per version, a column per metric and delta.")
@click.option("--repo", "git_url", metavar="GIT_URL", help="With NAME: read the versions of this git repository (URL or path); no clone needed.")
@output_options
def ls_(name: str | None, deprecated: bool, against: str | None, sort_by: str | None, md: bool, as_csv: bool,
        git_url: str | None, as_json: bool) -> None:
    """List models and datasets with their latest version and stages; with
    NAME, every released version of that model side by side.

    Works in any git repository with GTO tags, before `mlver init`. The
    table lists what `gto show` lists (what has a version, and what GTO's
    artifacts.yaml declares); models and datasets declared in dvc.yaml or
    mlver.yaml with no version yet follow in a section of their own
    (`"registry": false` in --json). With NAME, one row per version, newest first: the stages it holds (and held
    before), who released it and when, its data (hash, rows), the params
    that changed against the version before it, and every metric with its
    delta against that version (and, with --against, against the stage's
    version). Read from the records alone: nothing is downloaded.

    Reads only: changes no file, commit or tag (caches under .git/mlver aside).

    \b
    Examples:
      mlver ls --json | jq '.[].latest'
      mlver ls churn --against prod
      mlver ls churn --sort-by accuracy --md
      mlver ls churn --csv --repo https://github.com/acme/churn.git
    """
    if name is None:
        if against or sort_by or md or as_csv or git_url:
            raise click.UsageError("--against, --sort-by, --md, --csv and --repo need a model NAME: `mlver ls NAME ...`")
        from mlver.cli.boundary import ls

        ls(deprecated, as_json)
        return
    _versions(name, against, sort_by, md, as_csv, git_url, as_json)


def _versions(name: str, against: str | None, sort_by: str | None, md: bool, as_csv: bool, git_url: str | None,
              as_json: bool) -> None:
    from mlver.api import views as api
    from mlver.cli.render import render, versions_csv, write_text

    if sum((md, as_csv, as_json)) > 1:
        raise click.UsageError("pass one of --md, --csv or --json")
    table = api.versions(name, against=against, sort_by=sort_by, git_url=git_url)
    if md:
        from mlver.report import versions_markdown

        write_text(versions_markdown(table))
    elif as_csv:
        write_text(versions_csv(table))
    else:
        render(table, as_json)


@click.command()
@click.argument("name")
@click.option("--versions", "by_version", is_flag=True, help="One row per released version with its metrics (as `mlver ls NAME`).")
@output_options
def log(name: str, by_version: bool, as_json: bool) -> None:
    """The audit trail of a model: recorded trainings and registry events, newest first.

    Reads only: changes no file, commit or tag (caches under .git/mlver aside).

    \b
    Examples:
      mlver log churn
      mlver log churn --versions
    """
    if by_version:
        _versions(name, None, None, False, False, None, as_json)
        return
    from mlver.api import registry as api
    from mlver.cli.render import render

    render(api.log(name), as_json, kind="LogEvent")


@click.command()
@click.argument("ref")
@click.option("--at", metavar="TIME", help="Resolve REF as the registry stood then (a date like 2026-01-31, or an ISO time).")
@output_options
def show(ref: str, at: str | None, as_json: bool) -> None:
    """Show one record in full.

    REF is NAME (latest version), NAME@v1.2.0, NAME#stage or NAME@<git-rev>;
    NAME may be a monorepo name such as sub/proj:nested. A version with no
    mlver record (registered by GTO or by hand) shows the lineage derived
    from its commit, marked as derived.

    Reads only: changes no file, commit or tag (caches under .git/mlver aside).

    \b
    Examples:
      mlver show churn@v0.1.0
      mlver show churn#prod --at 2026-01-31
    """
    from mlver.api import registry as api
    from mlver.cli.render import render

    render(api.show(ref, at=at), as_json)


@click.command()
@click.argument("ref")
@click.argument("stage")
@click.option("--force", is_flag=True, help="Override the policy's stage order and gates; recorded in the tag.")
@output_options
def promote(ref: str, stage: str, force: bool, as_json: bool) -> None:
    """Assign STAGE to a released version (tag NAME#STAGE#N).

    With a policy in mlver.yaml, the version must have held the stage
    before this one and meet this stage's metric gates.

    Writes: that one tag, on the version's commit. Never a file or a commit,
    never the git remote (`git push origin TAG` publishes it).

    Example: mlver promote churn@v1.2.0 prod
    """
    from mlver.api import stages as api
    from mlver.cli.render import publish, render

    result = api.promote(ref, stage, force=force)
    render(result, as_json)
    publish(result.tag)


@click.command()
@click.argument("name")
@click.argument("stage")
@output_options
def rollback(name: str, stage: str, as_json: bool) -> None:
    """Give STAGE back to the version that held it before.

    A new assignment event: history is kept, and rolling back again keeps
    going back.

    Writes: one tag NAME#STAGE#N on the earlier version's commit. Never a
    file or a commit, never the git remote.

    Example: mlver rollback churn prod
    """
    from mlver.api import stages as api
    from mlver.cli.render import publish, render

    result = api.rollback(name, stage)
    render(result, as_json)
    publish(result.tag)


@click.command()
@click.argument("ref")
@output_options
def deprecate(ref: str, as_json: bool) -> None:
    """Deprecate a version (NAME@vX.Y.Z), un-assign a stage (NAME#stage), or
    deprecate a whole model (NAME), in GTO's tag formats.

    Writes: one tag. Never deletes or moves a tag, never a file or a commit,
    never the git remote.

    Example: mlver deprecate churn@v1.0.0
    """
    from mlver.api import stages as api
    from mlver.cli.render import publish, render

    result = api.deprecate(ref)
    render(result, as_json)
    publish(result.tag)


@click.command()
@click.argument("a", required=False)
@click.argument("b", required=False)
@click.argument("name", required=False)
@click.option("--md", is_flag=True, help="Print markdown (tables for a pull request) instead of text.")
@click.option("--threshold", type=NON_NEGATIVE, metavar="PSI",
              help="Flag a data column whose PSI reaches this (default: review.drift_threshold in mlver.yaml, 0.2).")
@output_options
def diff(a: str | None, b: str | None, name: str | None, md: bool, threshold: float | None, as_json: bool) -> None:
    """Compare two records: params, metrics, data, code, artifact, environment.

    A and B are model references (churn@v0.1.0, churn#prod, churn@main) or
    git revisions (then every model, or NAME). B defaults to HEAD. With no
    arguments: the merge base of the default branch and HEAD against HEAD,
    i.e. what a pull request of this branch changes. Data is compared by
    hash, and by profile for tabular files: rows, columns, per-column
    shift and PSI, without downloading anything. A model on one side only
    is reported as added or removed.

    Reads only: changes no file, commit or tag (caches under .git/mlver aside).

    \b
    Examples:
      mlver diff
      mlver diff churn@v0.1.0 churn@v0.2.0
      mlver diff main HEAD churn --md
    """
    from mlver.api import diffs as api
    from mlver.cli.render import render, write_text

    if md and as_json:
        raise click.UsageError("pass --md or --json, not both")
    diffs = api.diff(a, b, name, threshold=threshold)
    if md:
        from mlver.report import diff_markdown

        write_text(diff_markdown(diffs))
        return
    render(diffs, as_json, kind="ModelDiff")


COMMANDS = [release, promote, rollback, deprecate, ls_, log, show, diff]
