"""``ls NAME``: every released version of a model side by side, from the
records alone (two ``cat-file`` calls: the model's tag objects and its
records; nothing is downloaded). With ``git_url``, the model's tags are
fetched one commit deep into a temporary bare repository, as ``pull
--repo`` fetches one, and read the same way."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from mlver.adapters import git
from mlver.api._common import iso, load_registry, record_from_bytes, version_record
from mlver.domain import record as rec
from mlver.domain import tags
from mlver.domain.registry import ModelState
from mlver.domain.versions import Released, versions_table
from mlver.errors import MlverError, ModelNotInRepository, StageNotFound
from mlver.models import Record, VersionsTable
from mlver.project import PathLike, Project


def records_at(project: Project, wanted: Iterable[tuple[str, str]], workspace: bool = True) -> dict[tuple[str, str], Record | None]:
    """The record of each (model, commit), all in one ``cat-file``, else the
    lineage derived from the commit; None for one that has neither, or a
    record that cannot be read (a view shows that version without its
    numbers, it does not fail)."""
    pairs = list(dict.fromkeys(wanted))
    blobs = git.read_blobs_bounded(project.root, [f"{c}:{rec.record_path(n)}" for n, c in pairs])
    out: dict[tuple[str, str], Record | None] = {}
    for name, commit in pairs:
        content = blobs.get(f"{commit}:{rec.record_path(name)}")
        try:
            if content is not None:
                out[(name, commit)] = record_from_bytes(name, commit, content)
            else:
                from mlver.api.derived import derive_at  # rare (a version GTO made): dvc.yaml's reader

                out[(name, commit)] = derive_at(project.root, name, commit, project if workspace else None)
        except MlverError:
            out[(name, commit)] = None
    return out


def released(project: Project, name: str, state: ModelState, workspace: bool = True,
             records: Mapping[tuple[str, str], Record | None] | None = None) -> list[Released]:
    """Every active version of ``state`` (oldest first) with its tag's who and
    when and its record (``records``: read already, by ``records_at``)."""
    active = state.active_versions()
    if records is None:
        records = records_at(project, [(name, state.versions[v].commit) for v in active], workspace)
    out = []
    for version in active:
        event = state.versions[version]
        record = records.get((name, event.commit))
        info = event.info
        out.append(Released(
            version=version, commit=event.commit, time=iso(event.timestamp) if info else "",
            by=info.tagger if info else "", email=info.email if info else "",
            doc=record.doc if record else None, derived=bool(record and record.derived),
            intact=record.intact if record else False,
        ))
    return out


def _table(project: Project, name: str, against: str | None, sort_by: str | None, workspace: bool,
           url: str | None) -> VersionsTable:
    state = load_registry(project, name, detail=True).model(name)
    if state is None:
        if workspace:
            project.model(name)  # UnknownModel unless it is declared: then it has no versions yet
        return versions_table(name, [], None, repo=url)  # declared, never released
    items = released(project, name, state, workspace)
    holder, doc = None, None
    if against:
        holder = state.stages.get(against)
        if holder is None:
            raise StageNotFound(name, against)
        commit = state.versions[holder].commit if holder in state.versions else holder
        found = next((r for r in items if r.commit == commit), None)
        if found is not None:
            doc = found.doc
        else:  # a stage on a bare commit, as GTO allows
            record = version_record(project, name, commit)
            doc = record.doc if record else None
    return versions_table(name, items, state, against=against, against_version=holder, against_doc=doc,
                          sort_by=sort_by, repo=url)


def versions(name: str, against: str | None = None, sort_by: str | None = None, repo: PathLike = None,
             git_url: str | None = None) -> VersionsTable:
    """One row per released version of ``name``, newest first (``sort_by``: a
    metric, best first): stages now and before, who released it and when,
    data, the params that changed and every metric with its delta against
    the previous version and against the holder of stage ``against``."""
    tags.check_artifact(name)
    if git_url is None:
        return _table(Project.find(repo, require_config=False), name, against, sort_by, True, None)
    import tempfile

    from mlver.adapters import gitremote

    with tempfile.TemporaryDirectory(prefix="mlver-repo-") as tmp:
        bare = Path(tmp) / "repo.git"
        gitremote.init_bare(bare)
        known, mine = set(), []
        for tag, obj, commit in gitremote.ls_remote_tags(bare, git_url):
            parsed = tags.parse(tag)
            if parsed is None or obj == commit:
                continue  # a lightweight tag is not an event, as load_registry reads them
            known.add(parsed.model)
            if parsed.model == name:
                mine.append(tag)
        if not mine:
            raise ModelNotInRepository(name, git_url, sorted(known))
        gitremote.fetch_tags(bare, git_url, mine)
        return _table(Project(bare), name, against, sort_by, False, git_url)
