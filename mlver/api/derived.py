"""Lineage derived from a commit, for versions that have no mlver record.

A version registered by GTO, Studio or by hand points at a commit, and that
commit says most of what a record would: the artifact's hash (its ``.dvc``
file, or the ``dvc.lock`` of the stage that outputs it), the data upstream
of that stage (``.dvc``-tracked dependencies, walking the pipeline), the
params of those stages, and the metrics files in the tree. ``derive_record``
puts that into a record-shaped document marked ``"derived": true``, so
every verb that reads a record can read it, and says where it came from.

Everything here is read from a commit: untrusted. DVC's files are read by
mlver/domain/dvcentries.py (DVC md5s; project paths that stay inside the
repository, out of .git/.dvc/.mlver) under its SKIP policy: an entry that
fails is left out. Other paths go through mlver/domain/validate.py.
"""
from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from mlver import formats
from mlver.adapters import dvc, git
from mlver.api.dvcouts import parsed
from mlver.domain import dvcentries
from mlver.domain import record as rec
from mlver.domain.dvcentries import MAX_STAGES, Policy
from mlver.domain.tags import DIR_SEPARATOR
from mlver.domain.validate import check_md5, check_project_path
from mlver.errors import ConfigError, MlverError
from mlver.models import Record
from mlver.project import CONFIG, GTO_INDEX, ModelSpec, Project, artifacts_in, parse_config

IN_GIT = rec.ARTIFACT_IN_GIT  # derived_from.artifact of an artifact committed to git, not to DVC storage


def _safe_path(path: Any) -> str | None:
    """A repo-relative posix path that stays inside the repository, or None."""
    if not isinstance(path, str) or not path or "://" in path:
        return None
    try:
        return check_project_path(posixpath.normpath(path), "a derived record")
    except MlverError:
        return None


def _md5(value: Any) -> str | None:
    try:
        return check_md5(value, "a derived record")
    except MlverError:
        return None


def _yaml(content: bytes | None, where: str = "a file") -> Any:
    """One of DVC's files at a commit, bounded and safely loaded; None when it is absent or unreadable."""
    try:
        return parsed(content, where)
    except MlverError:
        return None


def _doc(entry: dvcentries.Entry) -> dict[str, Any]:
    return {"path": entry.path, "md5": entry.md5, "size": entry.size, "nfiles": entry.nfiles}


def _dvcfile_out(content: bytes | None, path: str) -> dict[str, Any] | None:
    """The out of a ``.dvc`` file tracking ``path`` (its paths are relative to its folder)."""
    outs = [e for e in dvcentries.dvcfile_outs(_yaml(content), posixpath.dirname(path), f"{path}.dvc", Policy.SKIP)
            if e.path]
    return _doc(outs[0]) if outs else None


def _stages(lock: Any, folder: str) -> dict[str, dict[str, Any]]:
    """A dvc.lock's stages, read by ``dvcentries``' SKIP policy: an entry
    that fails its checks (or lies outside the project) is left out."""
    where = posixpath.join(folder, dvc.LOCK_FILE)
    return {name: {"cmd": stage.cmd, "params": stage.params,
                   "deps": [_doc(e) for e in stage.deps if e.path], "outs": [_doc(e) for e in stage.outs if e.path]}
            for name, stage in dvcentries.lock_stages(lock, folder, where, Policy.SKIP).items()}


def _upstream(stages: dict[str, dict[str, Any]], first: str) -> list[str]:
    """``first`` and every stage it depends on through outputs, nearest first."""
    producer = {o["path"]: name for name, s in stages.items() for o in s["outs"]}
    order: list[str] = []
    todo = [first]
    while todo and len(order) < MAX_STAGES:
        name = todo.pop(0)
        if name in order:
            continue
        order.append(name)
        todo += [producer[d["path"]] for d in stages[name]["deps"] if d["path"] in producer]
    return order


def pipelines_at(root: Path, model: str, artifacts: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Per commit, the dvc.lock stages there that led to the artifact path
    ``artifacts`` names for it, the one writing it first, each {name, cmd,
    deps, outs, params} with checked paths and hashes ([] where no stage
    writes it). One ``cat-file`` for every commit; lineage graphs read a
    stage model's sources through this, as derived records do."""
    folder = model.split(DIR_SEPARATOR, 1)[0] if DIR_SEPARATOR in model else ""
    lockfile = posixpath.join(folder, dvc.LOCK_FILE)
    blobs = git.read_blobs(root, [f"{c}:{lockfile}" for c in artifacts])
    out: dict[str, list[dict[str, Any]]] = {}
    for commit, path in artifacts.items():
        stages = _stages(_yaml(blobs.get(f"{commit}:{lockfile}"), f"{lockfile} at {commit[:12]}"), folder)
        producing = next((n for n, s in stages.items() if any(o["path"] == path for o in s["outs"])), None)
        out[commit] = [{"name": n, **stages[n]} for n in _upstream(stages, producing)] if producing else []
    return out


def _metric_files(dvc_doc: Any, folder: str, declared: str | None) -> list[str]:
    files: list[Any] = []
    if isinstance(dvc_doc, dict):
        top = dvc_doc.get("metrics")
        files += [posixpath.join(folder, f) for f in top if isinstance(f, str)] if isinstance(top, list) else []
        for stage in (dvc_doc.get("stages") or {}).values() if isinstance(dvc_doc.get("stages"), dict) else ():
            for item in (stage.get("metrics") or []) if isinstance(stage, dict) else ():
                name = next(iter(item), None) if isinstance(item, dict) else item
                if isinstance(name, str):
                    files.append(posixpath.join(folder, name))
    if declared:  # the metrics file mlver.yaml declares for the model
        files.append(declared)
    return list(dict.fromkeys(p for p in map(_safe_path, files) if p))


def derive_record(project: Project, model: str, commit: str) -> Record | None:
    """The lineage of ``model`` derivable from ``commit``; None when the commit
    does not even say where the model's artifact is."""
    return derive_at(project.root, model, commit, project)


def derive_at(root: Path, model: str, commit: str, project: Project | None = None) -> Record | None:
    """``derive_record`` reading the git repository at ``root`` (a bare one
    fetched for ``pull --repo`` too). Without ``project`` (no working tree),
    the commit alone says where the artifact is: no fallback to the
    workspace's declarations."""
    folder = model.split(DIR_SEPARATOR, 1)[0] if DIR_SEPARATOR in model else ""
    dvcfile, lockfile = posixpath.join(folder, "dvc.yaml"), posixpath.join(folder, dvc.LOCK_FILE)
    first = git.read_blobs(root, [f"{commit}:{p}" for p in (dvcfile, lockfile, CONFIG, GTO_INDEX)])
    dvc_text, lock_text, config_text, index_text = (first[f"{commit}:{p}"] for p in (dvcfile, lockfile, CONFIG, GTO_INDEX))
    entry, path = _declared_path(model, commit, dvc_text, dvcfile, config_text, project,
                                 None if folder else index_text)
    if not path:
        return None

    stages = _stages(_yaml(lock_text), folder)
    producing = next((n for n, s in stages.items() if any(o["path"] == path for o in s["outs"])), None)
    chain = _upstream(stages, producing) if producing else []
    deps = list({d["path"]: d for n in chain for d in stages[n]["deps"]}.values())
    metric_files = _metric_files(_yaml(dvc_text), folder, entry.metrics if entry else None)
    specs = [f"{commit}:{path}.dvc"] + [f"{commit}:{d['path']}.dvc" for d in deps] + [f"{commit}:{m}" for m in metric_files]
    blobs = git.read_blobs(root, specs)
    artifact, source = _artifact_entry(path, blobs[f"{commit}:{path}.dvc"], stages, producing, lockfile)
    if source == "none" and "://" not in path:
        artifact, source = _git_artifact(root, commit, artifact)
    contents = {m: blobs.get(f"{commit}:{m}") for m in metric_files}
    if project is not None:  # a metrics file a stage writes into a DVC output is read where `dvc metrics show` reads it
        contents.update(_from_cache(root, [m for m, c in contents.items() if c is None], stages))
    name, email, when = _author(root, commit)
    doc = {
        "schema": rec.SCHEMA,
        "model": model,
        "derived": True,
        "derived_from": {"artifact": source, "stages": chain, "metrics": [m for m in metric_files if contents.get(m) is not None]},
        "artifact": artifact,
        # What a commit cannot say (the environment, how the run went) is left empty, not guessed.
        "code": {"commit": commit, "clean": True, "dirty_files": [], "exit_code": None, "duration_s": None,
                 "command": stages[producing]["cmd"] if producing and isinstance(stages[producing]["cmd"], str) else None},
        "data": _data_inputs(deps, blobs, commit),
        "params": _chain_params(stages, chain),
        "metrics": _metrics_at(metric_files, contents),
        "env": {"python": None, "platform": None, "packages": {}},
        "created": when,
        "author": {"name": name, "email": email},
    }
    return Record(model=model, commit=commit, doc=doc, intact=True, derived=True)


def _declared_path(model: str, commit: str, dvc_text: bytes | None, dvcfile: str, config_text: bytes | None,
                   project: Project | None, index_text: bytes | None = None) -> tuple[ModelSpec | None, str | None]:
    """(mlver.yaml's entry for the model at ``commit``, where its artifact is):
    that commit's mlver.yaml, else its dvc.yaml's ``artifacts:``, else its
    GTO ``artifacts.yaml``, else (with a working tree) today's declarations;
    a URL when the artifact lives outside the repository (example-gto's s3://
    models, no hash to derive)."""
    declared = None
    for text, where in ((dvc_text, dvcfile), (index_text, GTO_INDEX)):
        try:
            declared = declared or (artifacts_in(text, f"{where} at {commit[:12]}").get(model) if text else None)
        except MlverError:
            continue
    declared = declared or (project.artifacts.get(model) if project else None)
    try:
        entry = parse_config(config_text, f"{CONFIG} at {commit[:12]}").models.get(model)
    except ConfigError:
        entry = None  # that commit's declaration is unreadable: derive from dvc.yaml alone
    path = (_safe_path(entry.path) if entry else None) or (_safe_path(declared.path) if declared else None)
    if not path and project:
        current = project.declared_models().get(model)
        path = _safe_path(current.path) if current else None
    url = declared.path if declared and "://" in declared.path else None
    return entry, path or url


def _artifact_entry(path: str, dvcfile: bytes | None, stages: dict[str, Any], producing: str | None,
                    lockfile: str) -> tuple[dict[str, Any], str]:
    """(the record's artifact entry, where its hash came from): its ``.dvc``
    file, else the dvc.lock stage that produces it, else nowhere ("none")."""
    artifact: dict[str, Any] = {"path": path, "md5": None, "size": None, "nfiles": None, "remote": None}
    tracked = _dvcfile_out(dvcfile, path)
    if tracked and tracked["md5"]:
        artifact.update({k: tracked[k] for k in ("md5", "size", "nfiles")})
        return artifact, f"{path}.dvc"
    if producing:
        out = next(o for o in stages[producing]["outs"] if o["path"] == path)
        artifact.update({k: out[k] for k in ("md5", "size", "nfiles")})
        return artifact, f"{lockfile} (stage {producing})" if out["md5"] else "none"
    return artifact, "none"


def _git_artifact(root: Path, commit: str, artifact: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """An artifact committed to git itself (example-gto's ``models/churn.pkl``),
    which ``dvc artifacts get`` reads from the commit: its hash is the blob's,
    hashed once per blob id (every command derives it again)."""
    from mlver.adapters import gitcache

    spec = f"{commit}:{artifact['path']}"
    blob = git.blob_ids_sized(root, [spec]).get(spec)
    found = gitcache.blob_md5(root, *blob) if blob else None
    if found is None:
        return artifact, "none"
    return {**artifact, "md5": found[0], "size": found[1]}, IN_GIT


def git_artifact_bytes(root: Path, record: Record) -> bytes | None:
    """The content of a derived record's artifact that git holds (None when
    git does not hold it at the record's commit, or holds other bytes)."""
    artifact = record.doc.get("artifact") or {}
    if not (record.derived and rec.artifact_in_git(record.doc) and record.commit and artifact.get("path")):
        return None
    # A model git holds may be larger than any record: bounded by the size its md5 was taken at.
    size = artifact.get("size")
    limit = max(size, git.MAX_BLOB_BYTES) if type(size) is int else None
    content = git.read_blob(root, record.commit, artifact["path"], limit)
    import hashlib

    return content if content is not None and hashlib.md5(content).hexdigest() == artifact.get("md5") else None


def _chain_params(stages: dict[str, Any], chain: list[str]) -> dict[str, Any]:
    """The params of every stage upstream of the model's, flattened (the model's own stage wins)."""
    params: dict[str, Any] = {}
    for name in reversed(chain):
        for values in stages[name]["params"].values():
            if isinstance(values, dict):
                params.update(rec.flatten(values))
    return params


def _data_inputs(deps: list[dict[str, Any]], blobs: dict[str, bytes | None], commit: str) -> list[dict[str, Any]]:
    """The dependencies DVC tracks (each has a .dvc file at the commit): the data the model was trained on."""
    data = []
    for dep in deps:
        content = blobs.get(f"{commit}:{dep['path']}.dvc")
        if content is None:
            continue  # code, or an intermediate output: not a data source
        out = _dvcfile_out(content, dep["path"])
        md5 = (out or {}).get("md5") or dep["md5"]
        if md5:
            data.append({"path": dep["path"], "md5": md5, "size": (out or dep).get("size"),
                         "nfiles": (out or dep).get("nfiles"), "profile": None})
    return data


def _from_cache(root: Path, files: list[str], stages: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    """Metrics files that are (inside) an output of a dvc.lock stage (the
    tutorial's ``eval/metrics.json`` in the ``eval`` folder dvclive writes),
    read from the local DVC cache by the hashes the lock names, each object
    md5-checked; a file whose objects the cache lacks is left out."""
    import hashlib

    from mlver.adapters.storage import LocalStore

    if not files:
        return {}
    cache = LocalStore(dvc.cache_dir(root), "the local cache")

    def read(md5: str) -> bytes | None:
        content = cache.read(md5)
        return content if content is not None and hashlib.md5(content).hexdigest() == md5.removesuffix(".dir") else None

    outs = [o for stage in stages.values() for o in stage["outs"] if o["md5"]]
    found: dict[str, bytes] = {}
    for file in files:
        for out in outs:
            md5 = out["md5"] if out["path"] == file and not out["md5"].endswith(".dir") else None
            if md5 is None and out["md5"].endswith(".dir") and file.startswith(out["path"] + "/"):
                manifest = read(out["md5"])
                try:
                    entries = dict(dvc.parse_dir_manifest(manifest, f"{out['path']} (manifest)")) if manifest else {}
                except MlverError:
                    entries = {}
                md5 = _md5(entries.get(file[len(out["path"]) + 1:]))
            content = read(md5) if md5 else None
            if content is not None:
                found[file] = content
                break
    return found


def _metrics_at(metric_files: list[str], contents: dict[str, bytes | None]) -> dict[str, Any]:
    from mlver.adapters.paramfiles import metrics_from_tree, parse_tree

    metrics: dict[str, Any] = {}
    for file in metric_files:
        content = contents.get(file)
        if content is None:
            continue
        try:
            metrics.update(metrics_from_tree(parse_tree(content.decode(errors="replace"), file, "metrics"), file))
        except MlverError:
            continue  # a malformed metrics file at an old commit: no metrics from it
    return metrics


def _author(root: Path, commit: str) -> tuple[str, str, str | None]:
    """The commit's author and time (UTC ISO): who made the version, as far as git knows."""
    who = git.run(root, "show", "-s", "--format=%an%x1f%ae%x1f%at", commit, check=False).strip().split("\x1f")
    name, email, stamp = (who + ["", "", ""])[:3]
    when = formats.utc_iso(int(stamp)) if stamp.isdigit() else None
    return name, email, when
