"""``site -o DIR``: the registry as a static site, from git alone.

An index of models, a page per model (versions x metrics, metric history
charts, the stage timeline, the lineage graph, data profiles and drift
between consecutive versions) and a page per version (its card, and what changed
since the version before it, laid out from mlver/diffview.py). Plain
HTML and CSS with SVG pictures mlver draws itself: no script, no request
to anywhere else, readable offline and from a forge's Pages.

It reads what ``ls NAME``, ``log``, ``lineage`` and ``card`` read, in bulk:
every tag object in one ``cat-file``, every version's record in another,
the declarations at HEAD once. The site is built in a folder beside DIR and
put in place whole (mlver/adapters/atomic.py).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlver.adapters import atomic, git
from mlver.api._common import iso, load_registry, now_iso
from mlver.api.cards import card_context, declarations_at, declared_fields
from mlver.api.lineages import LAST, trained
from mlver.api.registry import registry_events
from mlver.api.views import records_at, released
from mlver.diffview import view
from mlver.domain.charts import lineage_svg, metric_history
from mlver.domain.compare import is_number, model_diff
from mlver.domain.lineage import lineage_graph
from mlver.domain.registry import ModelState
from mlver.domain.versions import Released, versions_table
from mlver.errors import ConfigError, OutputNotWritable
from mlver.models import ModelDiff, Record, SiteResult, VersionsTable
from mlver.project import PathLike, Project
from mlver.report import render_template

MARK = ".mlver-site"  # in every folder `mlver site` writes: a folder without it is never replaced
DRIFT_PAIRS = 20  # consecutive version pairs whose data drift a model page shows
SHIFTED = 3  # columns named per drifted input


def _slug(text: str) -> str:
    """A file name for a model or version: names keep [a-z0-9-] (GTO's rule);
    a monorepo's "/" and ":" become "_" and ".", which no name has."""
    return re.sub(r"[^A-Za-z0-9.+-]", "_", text.replace("/", "_").replace(":", "."))


def _check_target(target: Path, out: str) -> None:
    if target.exists() and not target.is_dir():
        raise OutputNotWritable(out, "it is a file", f"give -o a folder, e.g. -o {target.with_suffix('')}-site")
    if target.is_dir() and any(target.iterdir()) and not (target / MARK).is_file():
        raise OutputNotWritable(out, "it holds files that no `mlver site` wrote, and the site replaces the whole folder",
                                "give -o a new or empty folder, or the folder of an earlier `mlver site`")


def _charts(table: VersionsTable) -> list[tuple[str, str, str, str]]:
    """(file, svg, alt text, caption) of each numeric metric's history, oldest version first."""
    rows = table.rows[::-1] if table.sort_by is None else sorted(table.rows, key=lambda r: r.released)
    labels = [r.version for r in rows]
    marks = {i: ", ".join(r.stages) for i, r in enumerate(rows) if r.stages}
    out = []
    for i, metric in enumerate(table.metrics):
        values = [c.value if (c := r.metrics.get(metric)) is not None and is_number(c.value) else None for r in rows]
        numbers = [v for v in values if v is not None]
        if not numbers:
            continue
        title = f"{table.model}: {metric} by version"
        alt = (f"Line chart of {metric} over {len(rows)} versions of {table.model}, from {labels[0]} to {labels[-1]}: "
               f"lowest {min(numbers):.4g}, highest {max(numbers):.4g}, latest {numbers[-1]:.4g}")
        out.append((f"metric-{i + 1}.svg", metric_history(title, labels, values, marks), alt, f"{metric} by version"))
    return out


def _diffs(name: str, items: list[Released], records: Mapping[tuple[str, str], Record | None],
           threshold: float) -> dict[str, ModelDiff]:
    """Version -> its diff against the version before it (both with a record or derived lineage)."""
    out = {}
    for old, new in zip(items, items[1:], strict=False):
        a, b = records.get((name, old.commit)), records.get((name, new.commit))
        if a is not None and b is not None:  # typed once each: the card reads the same Record.typed
            out[new.version] = model_diff(name, f"{name}@{old.version}", f"{name}@{new.version}", old.commit, new.commit,
                                          a.typed, b.typed, threshold)
    return out


def _drift(items: list[Released], diffs: Mapping[str, ModelDiff]) -> list[dict[str, Any]]:
    """Data that changed between consecutive versions (the newest pairs), from the profiles in the records."""
    out = []
    pairs = list(zip(items, items[1:], strict=False))[-DRIFT_PAIRS:]
    for old, new in reversed(pairs):
        for row in diffs[new.version].data if new.version in diffs else ():
            profile = row.profile
            if row.status != "changed" or not profile:
                continue
            columns = sorted(profile.columns, key=lambda c: -(c.psi or 0.0))[:SHIFTED]
            rows = profile.rows
            out.append({"old": old.version, "new": new.version, "path": row.path, "rows_old": rows.old if rows else None,
                        "rows_new": rows.new if rows else None, "added": profile.columns_added or [],
                        "removed": profile.columns_removed or [], "note": row.note or "",
                        "shifted": [{"name": c.name, "psi": c.psi, "drifted": bool(c.drifted)}
                                    for c in columns if c.psi is not None]})
    return out


def _profiles(version: str, record: Record | None) -> list[dict[str, Any]]:
    """The profiled inputs of the newest version's record, typed (ProfileDoc's columns)."""
    if record is None:
        return []
    return [{"version": version, "path": d.path, "md5": d.md5, "rows": d.profile.rows, "columns": d.profile.columns}
            for d in record.typed.data or () if d.profile and d.profile.columns]


def _threshold(project: Project) -> float:
    from mlver.domain.drift import DEFAULT_THRESHOLD

    try:
        return project.config.review.drift_threshold
    except ConfigError:
        return DEFAULT_THRESHOLD  # an unreadable mlver.yaml: the site still shows the registry


def _model_pages(project: Project, name: str, state: ModelState, records: Mapping[tuple[str, str], Record | None],
                 declared: dict[str, Any], principals: dict[str, str] | None, site: dict[str, Any],
                 threshold: float) -> dict[str, str | bytes]:
    items = released(project, name, state, records=records)
    table = versions_table(name, items, state)
    folder = f"m/{_slug(name)}/"
    # A page per version that has a record (or lineage derived from its commit): the card needs one.
    hrefs = {i.version: f"{_slug(i.version)}.html" for i in items if records.get((name, i.commit)) is not None}
    files: dict[str, str | bytes] = {}
    charts = []
    for file, svg, alt, caption in _charts(table):
        files[folder + file] = svg
        charts.append({"src": file, "alt": alt, "caption": caption})
    newest = items[::-1]
    by_version = trained(project, name, state, items)
    graph = lineage_graph(name, name, by_version[::-1][:LAST])
    title = f"Lineage of the {min(LAST, len(items))} newest versions of {name}"
    files[folder + "lineage.svg"] = lineage_svg(graph, title)
    lineage = {"src": "lineage.svg", "caption": title + ": data, training, version, stages held (dashed: held before)",
               "alt": f"{title}: " + "; ".join(f"{n.label}" for n in graph.nodes if n.kind in ("data", "version"))[:600]}
    diffs = _diffs(name, items, records, threshold)
    timeline = [e for _, e in sorted(registry_events(name, state), key=lambda pair: pair[0], reverse=True)]
    common = {"site": site, "root": "../../"}
    files[folder + "index.html"] = render_template(
        "site_model.html.j2", t=table, desc=declared.get("desc") or "", version_href=hrefs, charts=charts,
        lineage=lineage, timeline=timeline, profiles=_profiles(newest[0].version, records.get((name, newest[0].commit))) if newest else [],
        drift=_drift(items, diffs), threshold=threshold, **common)
    for item, drawn in zip(items, by_version, strict=True):
        record = records.get((name, item.commit))
        if record is None:
            continue  # no page: the table names it without a link
        context = card_context(f"{name}@{item.version}", record, item.version, state, declared, principals)
        one = lineage_graph(f"{name}@{item.version}", name, [drawn])
        context["lineage_svg"] = _markup(lineage_svg(one, f"Lineage of {name} {item.version}"))
        context["diff"] = view(diffs[item.version]) if item.version in diffs else None
        files[folder + hrefs[item.version]] = render_template("site_version.html.j2", **context, **common)
    return files


def _markup(text: str) -> Any:
    from markupsafe import Markup

    return Markup(text)  # SVG mlver drew, every text in it escaped by mlver.domain.charts


def _write(files: Mapping[str, str | bytes], target: Path, out: str) -> None:
    import shutil

    try:
        built = atomic.temp_folder_beside(target)
    except OSError as exc:
        raise OutputNotWritable(out, exc.strerror or str(exc), "check the folder's permissions and free space") from exc
    try:
        folders: set[Path] = set()
        for relative, content in files.items():
            path = built / relative
            if path.parent not in folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                folders.add(path.parent)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())  # private until put in place
        atomic.replace_folder(built, target)
    except OSError as exc:
        shutil.rmtree(built, ignore_errors=True)
        raise OutputNotWritable(out, exc.strerror or str(exc), "check the folder's permissions and free space") from exc
    except BaseException:
        shutil.rmtree(built, ignore_errors=True)
        raise


def site(out: str, title: str = "Model registry", repo: PathLike = None) -> SiteResult:
    """Write the registry site into ``out`` (a new or empty folder, or an earlier site)."""
    from importlib import resources

    from mlver import __version__

    project = Project.find(repo, require_config=False)
    target = Path(out).resolve()
    _check_target(target, out)
    registry = load_registry(project, detail=True)
    datasets = set(project.datasets())
    states = {n: s for n, s in sorted(registry.models.items()) if s.active_versions()}
    records = records_at(project, [(n, s.versions[v].commit) for n, s in states.items() for v in s.active_versions()])
    head = git.head(project.root)
    declarations = [declarations_at(project, head)] if head else []
    principals = None  # the site shows the registry; whether its tags verify is `mlver verify`'s answer (the footer says so)
    versions = sum(len(s.active_versions()) for s in states.values())
    site_info = {"title": title, "mlver": __version__, "commit": head, "built": now_iso(), "versions": versions}
    threshold = _threshold(project)
    files: dict[str, str | bytes] = {
        MARK: "written by `mlver site`: the next `mlver site -o` here replaces this whole folder\n",
        "style.css": (resources.files("mlver") / "templates" / "site.css.j2").read_text(encoding="utf-8"),  # .j2: shipped as the templates are
    }
    index = []
    for name, state in states.items():
        files.update(_model_pages(project, name, state, records, declared_fields(name, declarations), principals,
                                  site_info, threshold))
        folder = f"m/{_slug(name)}/"
        latest = state.latest()
        event = state.versions[latest] if latest else None
        index.append({
            "name": name, "href": folder + "index.html", "latest": latest,
            "latest_href": folder + f"{_slug(latest)}.html" if latest and event and records.get((name, event.commit)) else None,
            "versions": len(state.active_versions()), "dataset": name in datasets, "deprecated": state.deprecated,
            "released": iso(event.info.timestamp) if event and event.info else "",
            "released_by": event.info.tagger if event and event.info else "",
            "stages": [(stage, {"name": held, "href": folder + f"{_slug(held)}.html" if held in state.versions
                                and records.get((name, state.versions[held].commit)) else None})
                       for stage, held in sorted(state.stages.items())],
        })
    files["index.html"] = render_template("site_index.html.j2", models=index, site=site_info, root="")
    _write(files, target, out)
    pages = sum(1 for f in files if f.endswith(".html"))
    return SiteResult(out=str(target), models=len(states), versions=versions, pages=pages, files=len(files))
