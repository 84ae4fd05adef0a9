"""lineage, site: the registry as pictures and pages."""
from __future__ import annotations

import click

from mlver.cli.options import output_options


@click.command()
@click.argument("ref")
@click.option("--mermaid", "form", flag_value="mermaid", help="A mermaid flowchart (GitHub and GitLab render it in markdown).")
@click.option("--dot", "form", flag_value="dot", help="Graphviz DOT (`mlver lineage churn --dot | dot -Tsvg > lineage.svg`).")
@click.option("--last", type=click.IntRange(min=1), default=10, show_default=True, metavar="N",
              help="For a model NAME: draw its N newest versions.")
@output_options
def lineage(ref: str, form: str | None, last: int, as_json: bool) -> None:
    """The lineage graph: data versions (and, for a DVC pipeline, every
    dvc.lock dependency upstream) through the training (commit, command,
    params) to the model version and the stages it holds or held.

    REF is NAME (its newest versions), NAME@v1.2.0, NAME#stage or
    NAME@<git-rev>. Read from the records and dvc.lock: nothing is downloaded.

    Reads only: changes no file, commit or tag (caches under .git/mlver aside).

    \b
    Examples:
      mlver lineage churn@v1.2.0 --mermaid
      mlver lineage churn --dot | dot -Tsvg > churn.svg
      mlver lineage churn#prod --json
    """
    from mlver.api import lineages as api
    from mlver.cli.render import render, write_text
    from mlver.domain.lineage import to_dot, to_mermaid

    if form and as_json:
        raise click.UsageError("pass one of --mermaid, --dot or --json")
    graph = api.lineage(ref, last=last)
    if form == "mermaid":
        write_text(to_mermaid(graph))
    elif form == "dot":
        write_text(to_dot(graph))
    else:
        render(graph, as_json)


@click.command()
@click.option("-o", "--out", required=True, metavar="DIR",
              help="The folder to write: new, empty, or one an earlier `mlver site` wrote (it is replaced whole).")
@click.option("--title", default="Model registry", show_default=True, metavar="TEXT", help="The site's name, on every page.")
@output_options
def site(out: str, title: str, as_json: bool) -> None:
    """Write the registry as a static site: an index of models, a page per
    model (versions x metrics, metric history charts, the stage timeline,
    the lineage graph, data profiles and drift between versions) and a page
    per version (its card).

    Plain HTML and CSS with SVG charts mlver draws: no script, nothing
    fetched from elsewhere, readable offline. Built from the tags and the
    records alone (nothing is downloaded), in a folder beside DIR that then
    replaces DIR whole. `mlver ci github --pages` publishes it with the
    forge's Pages on every release or promotion.

    Writes: DIR only (replaced whole). Never a commit, a tag or the remote.

    Example: mlver site -o public && python -m http.server -d public
    """
    from mlver.api import sites as api
    from mlver.cli.render import render

    render(api.site(out, title=title), as_json)


COMMANDS = [lineage, site]
