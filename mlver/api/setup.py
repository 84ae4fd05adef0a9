"""Setting a project up: init, data add, model add."""
from __future__ import annotations

from pathlib import Path

from mlver.adapters import dvc, git, yamledit
from mlver.adapters.atomic import Snapshot
from mlver.adapters.paramfiles import read_params
from mlver.adapters.storage import Progress
from mlver.api.objects import Start, data_home, is_legacy_shared, shared_storage_note
from mlver.api.profiles import profile_for
from mlver.domain.tags import check_name
from mlver.errors import (
    ArtifactConflict,
    DataIsStageOutput,
    DataNotFound,
    DataNotTracked,
    MlverError,
    ModelExists,
    OptionsExclusive,
    TrackedByGit,
)
from mlver.models import DataAddResult, InitResult, ModelAddResult
from mlver.project import CONFIG, CONFIG_VERSION, PathLike, Project, parse_config

DEFAULT_REMOTE = "mlver-local"

_CONFIG_HEADER = """\
# mlver project settings. Models are declared with `mlver model add`;
# each one lists its data (DVC-tracked paths), params (file[:keys]),
# metrics file, and the command or DVC stage that trains it.
"""


def project_storage_dir(root: Path) -> Path:
    """A new default storage folder that belongs to the project at ``root`` alone."""
    import re
    import secrets

    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", root.name).strip("-.")[:40] or "project"
    return data_home() / "mlver" / "projects" / f"{slug}-{secrets.token_hex(4)}"


def init(path: Path | None = None, remote: str | None = None, own_storage: bool = False) -> InitResult:
    """Make ``path`` (default: cwd) an mlver project; safe to run twice.
    ``own_storage``: move a project off the old shared storage folder."""
    cwd = (path or Path.cwd()).resolve()
    if remote and own_storage:
        raise OptionsExclusive("--own-storage", "--remote",
                               "--own-storage makes a new local folder the default remote, --remote names one: pass one")
    if remote:
        from mlver.api.remotes import refuse_credentials

        refuse_credentials("storage", "URL", remote)
    if remote and "://" in remote and not remote.startswith("file://"):
        from mlver.api.remotes import check_url

        check_url("storage", remote)  # a malformed or unsupported URL fails before anything is created
    created_git = False
    try:
        root = git.toplevel(cwd)
    except MlverError:
        git.init(cwd)
        root, created_git = cwd, True
    created_dvc = not dvc.is_initialised(root)
    if created_dvc:
        dvc.init(root)
    config = root / CONFIG
    if not config.exists():
        config.write_text(_CONFIG_HEADER + f"version: {CONFIG_VERSION}\nmodels: {{}}\n")
    remotes, default = dvc.remotes(root)
    note = None
    if remote:
        url = remote if "://" in remote else str(Path(remote).expanduser().resolve())
        shared = "://" in remote  # a team remote belongs in the tracked config
        dvc.set_remote(root, "storage" if shared else DEFAULT_REMOTE, url, "repo" if shared else "local", True)
        name = "storage" if shared else DEFAULT_REMOTE
    elif default and own_storage:
        name, url = default, _move_to_own_storage(root, default, remotes)
    elif default:
        name, url = default, remotes[default].url if default in remotes else ""
        note = _kept_default(name, url)
    else:
        url = str(project_storage_dir(root))
        Path(url).mkdir(parents=True, exist_ok=True)
        # Machine-specific, so it lives in config.local, which DVC git-ignores.
        dvc.set_remote(root, DEFAULT_REMOTE, url, "local", True)
        name = DEFAULT_REMOTE
    to_stage = [p for p in (CONFIG, ".dvc/config", ".dvc/.gitignore", ".dvcignore") if (root / p).exists()]
    git.run(root, "add", "--", *to_stage)
    notes = tuple(n for n in (note, shared_storage_note(root)) if n)
    return InitResult(str(root), created_git, created_dvc, name, url, notes)


def _move_to_own_storage(root: Path, name: str, remotes: dict[str, dvc.Remote]) -> str:
    """Copy every object gc would keep from the shared folder (or the cache)
    into a new folder of this project's own and make it the default remote;
    the shared folder keeps its objects (other projects may need them)."""
    from mlver.adapters.storage import LocalStore
    from mlver.api.collection import keep_set
    from mlver.api.objects import local_cache, store_for

    url = remotes[name].url if name in remotes else ""
    if not is_legacy_shared(url, root / ".dvc"):
        return url  # already its own, or a team remote: nothing to move
    project = Project.find(root)
    old = store_for(remotes[name], root / ".dvc")
    cache = local_cache(project)
    target = project_storage_dir(root)
    new = LocalStore(target / "files" / "md5", f"{name} ({target})")
    new.check_writable()
    for md5 in sorted(keep_set(project, [cache, old]), key=lambda m: m.endswith(".dir")):
        source = next((s for s in (cache, old) if s.has(md5)), None)
        if source is not None:
            new.put(source.path(md5), md5)
    dvc.set_remote(root, name, str(target), "local", True)
    return str(target)


def _kept_default(name: str, url: str) -> str | None:
    """What init says about a network default remote it found and kept (a
    directory, e.g. its own from a first init, goes without saying)."""
    from mlver.api.remotes import check_url

    if "://" not in url or url.startswith("file://"):
        return None
    try:
        check_url(name, url)
    except MlverError as exc:
        return f"kept the existing default remote {name}, which mlver cannot use: {exc.message} ({exc.hint})"
    return f"kept the existing default remote {name}"


def data_add(paths: list[str], repo: PathLike = None, start: Start | None = None,
             progress: Progress | None = None) -> list[DataAddResult]:
    """Track data with DVC, stage the .dvc files, and profile tabular files.
    ``start`` hears how many paths and, when all are files, their bytes;
    ``progress`` the bytes hashed as they are."""
    project = Project.find(repo)
    rels = [project.rel(p) for p in paths]
    for rel in rels:
        if not (project.root / rel).exists():
            raise DataNotFound(rel)
        if git.tracked(project.root, rel):
            raise TrackedByGit("data", rel)
    if dvc.has_stages(project.root):
        _not_stage_outputs(project, rels)
    if start:
        files = [project.root / rel for rel in rels]
        start(len(rels), sum(f.stat().st_size for f in files) if all(f.is_file() for f in files) else 0)
    outs = dvc.add(project.root, rels, progress)
    staged = [f for rel in rels for f in dvc.tracked_side_files(rel) if (project.root / f).exists()]
    git.run(project.root, "add", "--", *staged)
    results = []
    for out in outs:
        profile, _ = profile_for(project, out)
        results.append(DataAddResult(out.path, out.md5, out.size, out.nfiles, profile is not None))
    return results


def _not_stage_outputs(project: Project, rels: list[str]) -> None:
    """Refuse what a pipeline stage writes (example-get-started's data/prepared)
    before DVC does, with the way DVC versions it."""
    with dvc.pipeline_session(project.root) as session:
        pipeline = session.pipeline()
    for rel in rels:
        stage = pipeline.producer(rel)
        if stage is not None and not stage.source:
            raise DataIsStageOutput(rel, stage.name)


def _dvc_yaml_edits(doc: yamledit.Document, name: str, model_path: str, metrics: str | None,
                    desc: str, labels: tuple[str, ...]) -> None:
    """Declare the artifact (keeping an existing entry's desc, labels and meta)
    and list the metrics file where `dvc metrics show` looks for it."""
    existing = doc.get(("artifacts", name))
    if existing is None:
        artifact: dict[str, object] = {"path": model_path, "type": "model"}
        if desc:
            artifact["desc"] = desc
        if labels:
            artifact["labels"] = list(labels)
        doc.set(("artifacts",), name, artifact)
    else:
        if not isinstance(existing, dict):
            raise ArtifactConflict(name, "in a form mlver cannot read")
        kind = existing.get("type")
        if kind not in (None, "model"):
            raise ArtifactConflict(name, f"as a {kind}, not a model")
        if existing.get("path") != model_path:
            raise ArtifactConflict(name, f"with path {existing.get('path')}, not {model_path}")
        if kind is None:
            doc.set(("artifacts", name), "type", "model")
        if desc and not existing.get("desc"):
            doc.set(("artifacts", name), "desc", desc)
        if labels and not existing.get("labels"):
            doc.set(("artifacts", name), "labels", list(labels))
    if metrics:
        top = doc.get(("metrics",)) or []
        in_stages = any(
            metrics == (next(iter(m)) if isinstance(m, dict) and m else m)
            for stage in (doc.get(("stages",)) or {}).values() if isinstance(stage, dict)
            for m in stage.get("metrics") or []
        )
        if metrics not in top and not in_stages:
            doc.append(("metrics",), metrics)


def model_add(
    name: str,
    path: str,
    data: list[str] | tuple[str, ...] = (),
    params: str | None = None,
    metrics: str | None = None,
    command: str | None = None,
    stage: str | None = None,
    desc: str = "",
    labels: list[str] | tuple[str, ...] = (),
    repo: PathLike = None,
) -> ModelAddResult:
    """Declare a model in mlver.yaml and in dvc.yaml's ``artifacts:``.

    Both files are edited by adding lines: comments, order, quoting and every
    other entry stay as they were.
    """
    project = Project.find(repo)
    check_name(name)
    if name in project.config.models:  # reading it checks the whole file first: no edit of a broken one
        raise ModelExists(name)
    if command and stage:
        raise OptionsExclusive("--command", "--stage", "a model is trained by one of them: pass only one")
    model_path = project.rel(path)
    data_paths = [project.rel(d) for d in data]
    if params:
        file, _, keys = params.partition(":")
        params = project.rel(file) + (f":{keys}" if keys else "")
        read_params(project.root, params)  # a missing or malformed file fails now, not at run time
    if metrics:
        metrics = project.rel(metrics)
    _check_inputs(project, name, model_path, data_paths, metrics, stage)
    entry: dict[str, object] = {"path": model_path}
    if data_paths:
        entry["data"] = data_paths
    for key, value in (("params", params), ("metrics", metrics), ("command", command), ("stage", stage)):
        if value:
            entry[key] = value
    staged = _write_declaration(project, name, entry, model_path, metrics, desc, tuple(labels))
    return ModelAddResult(name, model_path, tuple(data_paths), params, metrics, command, stage, staged)


def _check_inputs(project: Project, name: str, model_path: str, data_paths: list[str], metrics: str | None,
                  stage: str | None) -> None:
    """A stage model's declaration must agree with its pipeline; a command model's data must be DVC-tracked."""
    if stage:
        from mlver.domain.pipeline import plan

        with dvc.pipeline_session(project.root) as session:
            metrics_in_git = bool(metrics and git.tracked(project.root, metrics))
            plan(session.pipeline(), name, stage, model_path, metrics, tuple(data_paths), metrics_in_git)
    else:
        for d in data_paths:
            if dvc.read_dvcfile_out(project.root, d) is None:
                raise DataNotTracked(d)


def _write_declaration(project: Project, name: str, entry: dict[str, object], model_path: str, metrics: str | None,
                       desc: str, labels: tuple[str, ...]) -> tuple[str, ...]:
    """Add the entry to mlver.yaml and the artifact to dvc.yaml, and stage both; on any failure both are as they were.
    Returns the files changed: dvc.yaml stays as it is when it declares all of it already (example-get-started)."""
    config_path = project.root / CONFIG
    dvc_yaml = project.root / "dvc.yaml"
    config = yamledit.load(config_path)
    config.set(("models",), name, entry)
    parse_config(config.text)  # what is written reads back through the schema
    dvc_doc = yamledit.load(dvc_yaml)
    _dvc_yaml_edits(dvc_doc, name, model_path, metrics, desc, labels)

    snapshot = Snapshot(project.root, [CONFIG, "dvc.yaml"])
    try:
        yamledit.save(config_path, config)
        edited = dvc_doc.text != (snapshot.saved["dvc.yaml"] or b"").decode()
        if edited:
            yamledit.save(dvc_yaml, dvc_doc)
        git.run(project.root, "add", "--", CONFIG, *(["dvc.yaml"] if edited else []))
    except BaseException:
        snapshot.restore()
        raise
    return (CONFIG, "dvc.yaml") if edited else (CONFIG,)
