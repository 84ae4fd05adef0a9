"""``review``: the pull request report, its gates and plots; ``ci``: the workflow that runs it.

A review reads lineage records only (two ``ls-tree``, one ``cat-file`` for
every model, one ``numstat`` of the pull request): no data is downloaded, so
it costs the same for 1 KB and 1 TB of data.

A pull request cannot steer its own review: the gates, the drift threshold
and the remote the ``in_remote`` gate asks come from the merge base's
mlver.yaml and .dvc/config (what head changes there is reported as a
change), and the code table is git's own diff of merge base..head, never a
list of paths a record of head claims.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlver.adapters import git
from mlver.api.diffs import Found, collect_records, commit_of, diffs_of, load_record
from mlver.domain import gates as g
from mlver.domain import record as rec
from mlver.errors import ConfigError, MlverError, NoCommonHistory, NoDefaultBranch, UnknownChoice
from mlver.models import CiWorkflow, GateResult, Lineage, ModelDiff, Record, ReviewResult
from mlver.models.diff import CodeChange, FileChange
from mlver.models.record import ColumnProfile, DataRef, RecordDoc
from mlver.models.review import ConfigChange
from mlver.project import CONFIG, Config, ModelSpec, PathLike, Project, parse_config

HISTORY = 20  # trainings per metric history chart
SHIFTED = 3  # distribution charts per model: the columns with the highest PSI
MIN_PSI = 0.01  # below this a column did not move enough to be worth a chart
DVC_CONFIG = ".dvc/config"
SETTINGS = ("review", "policy", "signing", "allowed_signers")  # the mlver.yaml keys that decide what passes
_SECRET = re.compile(r"secret|password|token|key_id", re.I)


@dataclasses.dataclass(frozen=True)
class _Side:
    """What one revision says about how to review: its mlver.yaml and .dvc/config."""

    config: Config
    dvc_config: str | None
    problem: str | None = None  # head's mlver.yaml could not be read


def _side(project: Project, commit: str, label: str, strict: bool) -> _Side:
    blobs = git.read_blobs(project.root, [f"{commit}:{CONFIG}", f"{commit}:{DVC_CONFIG}"])
    content, dvc_config = blobs.get(f"{commit}:{CONFIG}"), blobs.get(f"{commit}:{DVC_CONFIG}")
    text = dvc_config.decode(errors="replace") if dvc_config is not None else None
    try:
        return _Side(parse_config(content, f"{CONFIG} at {label}"), text)
    except ConfigError as exc:
        if strict:
            raise
        return _Side(Config(), text, exc.message)


def _declared(side: _Side) -> Mapping[str, ModelSpec]:
    return side.config.models


def _settings(side: _Side) -> dict[str, Any]:
    """The settings a review and the registry's checks depend on, flattened to ``a.b.c``."""
    from mlver.adapters import dvc

    flat: dict[str, Any] = {}
    doc = side.config.to_doc()
    for key in SETTINGS:
        if key in doc:
            flat.update(rec.flatten({key: doc[key]}))
    if side.problem:
        flat[CONFIG] = f"unreadable: {side.problem}"
    if side.dvc_config is not None:
        try:
            remotes, default = dvc.remotes_in_text(side.dvc_config)
        except MlverError as exc:
            flat[DVC_CONFIG] = f"unreadable: {exc.message}"
        else:
            flat[f"{DVC_CONFIG}: core.remote"] = default
            for name, remote in remotes.items():
                for option, value in remote.options.items():
                    flat[f"{DVC_CONFIG}: remote.{name}.{option}"] = "***" if _SECRET.search(option) else value
    return {k: v for k, v in flat.items() if v is not None}


def config_changes(base: _Side, head: _Side) -> list[ConfigChange]:
    """Every review setting head changes: (setting, base value, head value)."""
    old, new = _settings(base), _settings(head)
    return [ConfigChange(k, old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]


def _pr_code(project: Project, merge_base: str, head: str, base: _Side, head_side: _Side) -> CodeChange:
    """``git diff --numstat merge_base head`` less the files mlver writes
    itself when it records: records, dvc.lock, the models' .dvc files, and
    the metrics files the base declares (head could declare train.py one)."""
    skip: set[str] = set()
    for side in (base, head_side):
        for spec in _declared(side).values():
            skip.add(spec.path.rstrip("/") + ".dvc")  # DVC's metadata, never code
    skip |= {spec.metrics for spec in _declared(base).values() if spec.metrics}
    files = tuple(
        FileChange(path, added, removed)
        for path, added, removed in git.numstat(project.root, merge_base, head)
        if not (path in skip or path.startswith(rec.RECORDS_DIR + "/") or path.rsplit("/", 1)[-1] == "dvc.lock")
    )
    return CodeChange(merge_base, head, files=files, added=sum(f.added or 0 for f in files),
                      removed=sum(f.removed or 0 for f in files))


def _base_store(project: Project, base: _Side) -> tuple[str, Any]:
    """The default remote as the base's .dvc/config names it, with this
    machine's own settings (credentials, a local default) over it; a
    config.local committed by the pull request is not this machine's."""
    from mlver.adapters import dvc
    from mlver.api.objects import store_among

    local = not git.tracked(project.root, ".dvc/config.local")
    remotes, default = dvc.remotes_over(project.root, base.dvc_config, local=local)
    return store_among(project, remotes, default)  # raises RemoteError for a remote it cannot reach


def _base_rev(project: Project, base: str | None) -> str:
    if base:
        return base
    branch = git.default_branch(project.root)
    if branch is None:
        raise NoDefaultBranch("review against", "name it: `mlver review --base main`")
    return branch


def _remote_missing(store: Any, record: Record, sizes: dict[str, int | None]) -> tuple[int, list[str]]:
    """(objects checked, "path (md5)" of those absent from the store or of the
    wrong size); ``sizes`` remembers answers across models sharing data."""
    from mlver.api.objects import named

    checked, missing = 0, []
    for entry in named(record.doc):
        md5 = entry.md5
        if not md5:
            continue
        checked += 1
        if md5 not in sizes:
            sizes[md5] = store.size(md5)
        size = sizes[md5]
        wrong = entry.size is not None and not md5.endswith(".dir") and size != entry.size
        if size is None or wrong:
            missing.append(f"{entry.path} ({md5[:8]}{', wrong size' if size is not None else ''})")
    return checked, missing


def _gates(project: Project, config: g.ReviewConfig, names: list[str], found: Found, diffs: list[ModelDiff],
           old_commit: str, new_commit: str, model: str | None, base: _Side, declared: set[str]) -> list[GateResult]:
    records = {n: (found[(n, old_commit)][0], found[(n, new_commit)][0]) for n in names}
    metrics = {n: set((o.typed.metrics if o else None) or {}) | set((h.typed.metrics if h else None) or {})
               for n, (o, h) in records.items()}
    g.check_names(config, set(names) | declared, metrics, only=model)
    by_model = {d.model: d for d in diffs}
    subjects = sorted(set(names) | ({n for n in config.gates if n != g.ALL} if model is None else {model} & set(config.gates)))
    results: list[GateResult] = []
    store: Any = None
    remote = ""
    ancestry: dict[str, bool] = {}
    sizes: dict[str, int | None] = {}
    for name in subjects:
        gates = config.for_model(name)
        old, new = records.get(name, (None, None))
        if gates.empty or (new is None and old is not None):
            continue  # no gates, or removed by this change: nothing left to gate
        if new is None:
            results.append(GateResult(name, "record", False, f"no record of {name} at head: record it with `mlver run {name}`"))
            continue
        base_metrics = (old.typed.metrics or {}) if old else None
        own = config.gates.get(name, g.ModelGates()).metrics
        for rule in gates.metrics:
            if rule not in own and rule.metric not in metrics.get(name, set()):
                continue  # a "*" rule for a metric this model does not have
            results.append(g.check_metric(name, rule, base_metrics, new.typed.metrics or {}))
        if gates.max_drift is not None:
            d = by_model.get(name)
            results.append(g.check_drift(name, gates.max_drift, d.data if d else [], new_model=old is None))
        if gates.in_remote:
            if store is None:
                remote, store = _base_store(project, base)
            results.append(g.check_remote(name, remote, *_remote_missing(store, new, sizes)))
        if gates.intact:
            code = new.typed.code.commit if new.typed.code else None
            if code and code not in ancestry:
                ancestry[code] = git.is_ancestor(project.root, code, new_commit)
            results.append(g.check_intact(name, new.intact, code, bool(code and ancestry[code])))
    return results


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


def _history(project: Project, model: str, head: str, registry: Any) -> list[tuple[str, RecordDoc]]:
    """(label, record) of the model's last HISTORY trainings in head's history, oldest first."""
    commits = git.log_path(project.root, rec.record_path(model), rev=head, max_count=HISTORY)
    blobs = git.read_blobs_bounded(project.root, [f"{c.commit}:{rec.record_path(model)}" for c in commits])
    state = registry.model(model)
    out = []
    for c in reversed(commits):
        content = blobs.get(f"{c.commit}:{rec.record_path(model)}")
        if content is None:
            continue  # the commit deleted the record
        try:
            # Past records are untrusted like any other: the one checked reader.
            doc = load_record(model, c.commit, content, f"the record of {model} at {c.commit[:12]}")[0].typed
        except MlverError:
            continue  # a record no command can read has no point on the chart
        version = state.version_at(c.commit) if state else None
        out.append((version or c.commit[:7], doc))
    return out


def _lineage(project: Project, diffs: list[ModelDiff], found: Found, head_commit: str) -> list[Lineage]:
    """The lineage graph of each changed model's head record (the report draws it in mermaid)."""
    from mlver.api._common import load_registry
    from mlver.api.lineages import record_lineage

    changed = [d for d in diffs if d.status in ("changed", "added") and found[(d.model, head_commit)][0] is not None]
    if not changed:
        return []
    registry = load_registry(project)
    graphs = []
    for d in changed:
        record = found[(d.model, head_commit)][0]
        state = registry.model(d.model)
        if record is not None:
            version = state.version_at(record.commit) if state and record.commit else None
            graphs.append(record_lineage(project, d.new_ref, record, version, state))
    return graphs


def _column(entry: DataRef | None, name: str) -> ColumnProfile | None:
    """The first column called ``name`` in a data input's profile."""
    profile = entry.profile if entry else None
    return next((c for c in (profile.columns or ()) if c.name == name), None) if profile else None


def _plots(project: Project, out: Path, diffs: list[ModelDiff], found: Found, old_commit: str, new_commit: str) -> list[str]:
    from mlver.api._common import load_registry

    registry = load_registry(project)
    written: list[str] = []
    for d in diffs:
        if d.status not in ("changed", "added"):
            continue
        old, new = found[(d.model, old_commit)][0], found[(d.model, new_commit)][0]
        if new is None:  # "changed" and "added" have a head record; the check is for the type checker
            continue
        written += _metric_plots(out, d, old, new, _history(project, d.model, new_commit, registry))
        if old is not None:
            written += _shift_plots(out, d, old, new)
    return written


def _metric_plots(out: Path, d: ModelDiff, old: Record | None, new: Record,
                  history: list[tuple[str, RecordDoc]]) -> list[str]:
    """The numeric metrics by training (the moved ones first), base and head
    marked: one PNG of them all, and the site's SVG chart of each."""
    from mlver.adapters import plots
    from mlver.adapters.atomic import write_text
    from mlver.domain.charts import metric_history

    numeric = [k for k, v in sorted((new.typed.metrics or {}).items())
               if isinstance(v, (int, float)) and not isinstance(v, bool)]
    moved = {m.key for m in d.metrics if m.changed}
    keys = sorted(numeric, key=lambda k: k not in moved)
    if not (history and keys):
        return []
    digests = [doc.digest for _, doc in history]
    base = digests.index(old.digest) if old and old.digest in digests else None
    head = len(history) - 1 if digests[-1] == new.digest else None
    series = {k: [v if isinstance(v := (doc.metrics or {}).get(k), (int, float)) else None for _, doc in history]
              for k in keys}
    labels = [label for label, _ in history]
    path = out / f"{_slug(d.model)}-metrics.png"
    plots.metric_history(path, f"{d.model}: metrics by training", labels, series, base, head)
    written = [str(path)]
    marks = {i: name for i, name in ((base, "base"), (head, "head")) if i is not None}
    for key in keys:
        svg = out / f"{_slug(d.model)}-metric-{_slug(key)}.svg"
        write_text(svg, metric_history(f"{d.model}: {key} by training", labels, series[key], marks))
        written.append(str(svg))
    return written


def _shift_plots(out: Path, d: ModelDiff, old: Record, new: Record) -> list[str]:
    """Old and new distributions of the columns that shifted most (PSI)."""
    from mlver.adapters import plots

    shifted = []
    for x in d.data:
        for col in x.profile.columns if x.profile else ():
            if col.psi is not None and col.psi >= MIN_PSI:
                shifted.append((col.psi, x.path, col.name))
    sides = [{e.path: e for e in r.typed.data or ()} for r in (old, new)]
    written = []
    for psi_value, data_path, column in sorted(shifted, reverse=True)[:SHIFTED]:
        cols = [_column(side.get(data_path), column) for side in sides]
        if cols[0] is None or cols[1] is None:
            continue
        path = out / f"{_slug(d.model)}-{_slug(data_path)}-{_slug(column)}.png"
        plots.distribution(path, f"{d.model}: {data_path} {column} (PSI {psi_value:.3g})", cols[0].to_doc(), cols[1].to_doc())
        written.append(str(path))
    return written


def review(base: str | None = None, head: str = "HEAD", model: str | None = None, plots: str | None = None,
           plots_url: str | None = None, threshold: float | None = None, repo: PathLike = None) -> ReviewResult:
    """What merging ``head`` into ``base`` changes in every model (or ``model``),
    and the gates of the merge base's mlver.yaml ``review`` section checked on head.

    Compares head with the merge base of the two, as a pull request does.
    ``plots``: a folder to write PNG charts into.
    """
    project = Project.find(repo)
    base = _base_rev(project, base)
    base_commit, head_commit = commit_of(project, base, "base revision"), commit_of(project, head, "head revision")
    merge_base = git.merge_base(project.root, base_commit, head_commit)
    if merge_base is None:
        raise NoCommonHistory(base, head)
    old_label = base if merge_base == base_commit else merge_base[:12]
    if head == "HEAD":  # name the branch under review when there is one
        head = git.run(project.root, "symbolic-ref", "-q", "--short", "HEAD", check=False).strip() or head
    base_side = _side(project, merge_base, f"the merge base {merge_base[:12]}", strict=True)
    head_side = _side(project, head_commit, head, strict=False)
    config = base_side.config.review
    threshold = config.drift_threshold if threshold is None else threshold
    names, found = collect_records(project, merge_base, head_commit, old_label, head, model)
    code = _pr_code(project, merge_base, head_commit, base_side, head_side)
    diffs = [dataclasses.replace(d, code=code)
             for d in diffs_of(project, names, found, merge_base, head_commit, old_label, head, threshold)]
    declared = set(_declared(base_side)) | set(_declared(head_side))
    results = _gates(project, config, names, found, diffs, merge_base, head_commit, model, base_side, declared)
    if plots:  # created when missing, even when no model changed: CI uploads the folder either way
        try:
            Path(plots).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from mlver.errors import OutputNotWritable

            raise OutputNotWritable(plots, exc.strerror or str(exc), "give --plots a folder path where a folder can be made") from exc
    written = _plots(project, Path(plots), diffs, found, merge_base, head_commit) if plots else []
    graphs = _lineage(project, diffs, found, head_commit)
    return ReviewResult(
        base=base, base_commit=merge_base, head=head, head_commit=head_commit, diffs=tuple(diffs),
        gates=tuple(results), ok=all(r.passed for r in results), drift_threshold=threshold,
        plots=tuple(written), plots_url=plots_url, code=code, config_changes=tuple(config_changes(base_side, head_side)),
        lineage=tuple(graphs),
    )


FORGES = {"github": ".github/workflows/mlver-review.yml", "gitlab": ".gitlab-ci.yml"}
PAGES = {"github": ".github/workflows/mlver-pages.yml", "gitlab": ".gitlab-ci.yml"}  # GitLab: one file, both jobs


def ci(forge: str, python: str = "3.11", install: str | None = None, pages: bool = False) -> CiWorkflow:
    """A ready CI workflow that runs ``mlver review`` on every pull (merge)
    request, keeps one comment with the report up to date and keeps the
    plots as job artifacts. ``install`` None: the pip line of exactly the
    mlver that runs this (an index version, a git URL at a commit, a path).
    ``pages``: the workflow that publishes ``mlver site`` with the forge's
    Pages on every release or promotion tag (GitHub: its own file; GitLab:
    a ``pages`` job beside the review's)."""
    from mlver.report import ci_workflow

    if forge not in FORGES:
        raise UnknownChoice("forge", forge, list(FORGES))
    note = ""
    if install is None:
        from mlver.adapters import installed

        line = installed.current()
        install, note = line.command, line.note
    template = "github-pages" if pages and forge == "github" else forge
    site = "_site" if forge == "github" else "public"  # where each forge's Pages takes the files from
    text = ci_workflow(template, python=python, install=install, report="mlver-review.md", plots="mlver-plots",
                       pages=pages, site=site)
    return CiWorkflow(forge=forge, path=(PAGES if pages else FORGES)[forge], text=text, install=install, install_note=note)
