"""review, drift, ci."""
from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mlver.cli.options import NON_NEGATIVE, output_options
from mlver.errors import ExitCode

if TYPE_CHECKING:
    from mlver.models import ReviewResult


@click.command()
@click.option("--base", metavar="REV", help="The branch the pull request goes into (default: origin's HEAD, else main or master).")
@click.option("--head", metavar="REV", default="HEAD", show_default=True, help="The pull request's head.")
@click.option("--model", "model", metavar="NAME", help="Review one model only.")
@click.option("-o", "--out", "--output", "out", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write the markdown report to FILE and print a short summary.")
@click.option("--plots", metavar="DIR", type=click.Path(file_okay=False),
              help="Write PNG charts to DIR: metric history, base vs head; the most shifted columns.")
@click.option("--plots-url", metavar="URL", help="Embed the plots in the report from URL/<file> (e.g. where CI commits them).")
@click.option("--threshold", type=NON_NEGATIVE, metavar="PSI",
              help="Flag a data column whose PSI reaches this (default: review.drift_threshold in mlver.yaml, 0.2).")
@output_options
def review(base: str | None, head: str, model: str | None, out: str | None, plots: str | None,
           plots_url: str | None, threshold: float | None, as_json: bool) -> None:
    """The pull request report: what merging HEAD into BASE changes in every model.

    Per model: params, metrics (delta, %), artifact, environment; per data
    input: hash, size, rows, columns, per-column shift and drift (PSI); the
    code files changed. HEAD is compared with its merge base with BASE, as
    the pull request's own diff is. Only lineage records are read: no data
    is downloaded.

    Then the gates of mlver.yaml's `review.gates` (a metric's minimum, its
    largest drop, data drift, objects in the remote, record intact) as a
    checklist. Exit 1 when a gate fails.

    Writes: the report to stdout, or to the -o file; PNGs to the --plots
    folder. Never a commit, a tag or the remote.

    \b
    Examples:
      mlver review --base main
      mlver review --base origin/main -o report.md --plots plots
    """
    from mlver.api import reviews as api
    from mlver.cli.render import check_output

    check_output(out)
    result = api.review(base=base, head=head, model=model, plots=plots, plots_url=plots_url, threshold=threshold)
    _show_review(result, out, as_json)
    if not result.ok:
        raise click.exceptions.Exit(int(ExitCode.CHECK_FAILED))


def _show_review(result: ReviewResult, out: str | None, as_json: bool) -> None:
    """The markdown report to ``out`` (else stdout); with ``out`` or --json, the summary (or JSON) to stdout."""
    from mlver.cli.render import render, write_text
    from mlver.report import review_markdown

    if out or not as_json:
        write_text(review_markdown(result), out)
    if as_json or out:
        render(result, as_json)


@click.command()
@click.argument("ref")
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--threshold", type=NON_NEGATIVE, metavar="PSI",
              help="Drift when a column's PSI reaches this (default: review.drift_threshold in mlver.yaml, 0.2).")
@click.option("--input", "input_", metavar="PATH", help="The recorded training input to compare with, when the record has several.")
@output_options
def drift(ref: str, data: str, threshold: float | None, input_: str | None, as_json: bool) -> None:
    """Compare new data with the training data of a model version.

    DATA (CSV, TSV or Parquet; say, last week's production inputs) is
    checked against the profile of the training data kept in REF's record,
    without downloading the training data: per column the PSI over the
    recorded histogram bins or top values, and the changed statistics.
    Exit 1 when a column's PSI reaches the threshold.

    Reads only: changes no file, commit or tag (caches under .git/mlver aside).

    \b
    Examples:
      mlver drift churn#prod data/last_week.csv
      mlver drift churn@v1.2.0 inputs.parquet --threshold 0.1 --json
    """
    from mlver.api import monitoring as api
    from mlver.cli.render import render

    result = api.drift(ref, data, input=input_, threshold=threshold)
    render(result, as_json)
    if not result.ok:
        raise click.exceptions.Exit(int(ExitCode.CHECK_FAILED))


@click.command()
@click.argument("forge", type=click.Choice(["github", "gitlab"]))
@click.option("--python", "python", default="3.11", show_default=True, metavar="VERSION", help="Python version of the CI job.")
@click.option("--install", metavar="CMD",
              help="How the job installs mlver (and your project), e.g. 'pip install -r requirements.txt' "
                   "(default: a pip line pinned to this very mlver: its index version, git commit or path).")
@click.option("--pages", is_flag=True, help="Publish `mlver site` with the forge's Pages on every release or promotion tag "
                                            "(GitHub: a workflow of its own; GitLab: a pages job beside the review).")
@output_options
def ci(forge: str, python: str, install: str | None, pages: bool, as_json: bool) -> None:
    """Print a CI workflow that reviews every pull (merge) request.

    It installs mlver, runs `mlver review` against the target branch, posts
    the report as one comment that later pushes update (with the forge's
    own API and token), keeps the plots as job artifacts, and fails the
    job when a gate fails. With --pages: the job that builds `mlver site`
    and publishes it with the forge's Pages on every registry tag.

    Writes: the workflow to stdout only; save it where the example says.

    \b
    Examples:
      mlver ci github > .github/workflows/mlver-review.yml
      mlver ci gitlab > .gitlab-ci.yml
      mlver ci github --pages > .github/workflows/mlver-pages.yml
      mlver ci gitlab --pages > .gitlab-ci.yml
    """
    from mlver.api import reviews as api
    from mlver.cli.render import render, warn

    workflow = api.ci(forge, python=python, install=install, pages=pages)
    render(workflow, as_json)
    if workflow.install_note:
        warn(f"the job installs mlver with `{workflow.install}`: {workflow.install_note}")


COMMANDS = [review, drift, ci]
