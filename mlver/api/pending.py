"""``status``: per model, what is trained, changed or made but not yet recorded, released or pushed.

Cheap by design: workspace files are hashed through a stat cache
(adapters/hashcache.py), every record comes from one ``git cat-file
--batch``, tags from one ``for-each-ref`` and, when there is an origin, one
``ls-remote``; the default remote is asked once for every object at once.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlver import formats
from mlver.adapters import dvc, git, hashcache
from mlver.adapters.paramfiles import read_metrics, read_params
from mlver.api._common import load_registry, models_at, read_record, record_from_bytes
from mlver.domain import record as rec
from mlver.domain import tags
from mlver.domain.registry import ModelState, Registry
from mlver.errors import MlverError, PulledArtifact
from mlver.models import ModelStatus, Pending, Record, StatusResult
from mlver.project import ModelSpec, PathLike, Project

if TYPE_CHECKING:
    from mlver.api.objects import ObjectRef
    from mlver.models.record import RecordDoc

GIT_REMOTE = "origin"


def released_records(project: Project, model: str, state: ModelState | None) -> dict[str, Record]:
    """Every version of ``model`` ever released (deprecated ones too) -> its mlver record."""
    if state is None or not state.versions:
        return {}
    specs = {v: f"{e.commit}:{rec.record_path(model)}" for v, e in state.versions.items()}
    blobs = git.read_blobs_bounded(project.root, specs.values())
    found = {}
    for version, spec in specs.items():
        content = blobs.get(spec)
        if content is None:
            continue  # a version GTO made, without a record
        try:
            found[version] = record_from_bytes(model, spec.split(":", 1)[0], content)
        except MlverError:
            continue  # verify reports a record no command can read
    return found


def version_with_artifact(released: dict[str, Record], md5: str) -> str | None:
    """The newest version whose recorded artifact is exactly ``md5``."""
    hits = [v for v, r in released.items() if _artifact_md5(r) == md5]
    return hits[-1] if hits else None


def _artifact_md5(record: Record) -> str | None:
    artifact = record.typed.artifact
    return artifact.md5 if artifact else None


def released_as(released: dict[str, Record], record: Record | None) -> str | None:
    """The newest version whose record is exactly ``record`` (same digest)."""
    hits = [v for v, r in released.items() if record is not None and r.digest == record.digest]
    return hits[-1] if hits else None


def way_back(model: str, path: str, head_version: str | None) -> str:
    """The command that puts HEAD's model back in the workspace."""
    return f"`mlver pull {model}@{head_version}`" if head_version else f"`dvc checkout {path}`"


def check_not_pulled(project: Project, model: str, path: str, md5: str, params: dict[str, Any],
                     data: dict[str, str], head_record: Record | None) -> None:
    """Refuse to record as trained an artifact that is exactly a released
    version's while the params or data it would be recorded with are not
    that version's: a pulled model is not trained on HEAD's inputs.

    An identical artifact from identical params and data (a deterministic
    retraining) is what that version was trained on, and is let through;
    so is HEAD's own model (recorded again, or an input the training ignores)."""
    if head_record is not None and _artifact_md5(head_record) == md5:
        return
    released = released_records(project, model, load_registry(project, model).model(model))
    version = version_with_artifact(released, md5)
    if version is None:
        return
    doc = released[version].doc
    differs = []
    if dict(released[version].typed.params or {}) != dict(params):
        differs.append("params")
    from mlver.api.objects import named

    if {d.path: d.md5 for d in named(doc, artifact=False)} != data:
        differs.append("data")
    if differs:
        raise PulledArtifact(model, path, version, differs, way_back(model, path, released_as(released, head_record)))


def head_version(project: Project, model: str) -> tuple[Record | None, str | None]:
    """HEAD's record of ``model`` and the version it is released as."""
    head = git.head(project.root)
    record = read_record(project, model, head) if head else None
    if record is None:
        return None, None
    return record, released_as(released_records(project, model, load_registry(project, model).model(model)), record)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _changes(old: dict[str, Any], new: dict[str, Any], keys: list[str] | None = None) -> list[str]:
    keys = keys if keys is not None else sorted(set(old) | set(new))
    return [_change(k, old.get(k, "-"), new.get(k, "-")) for k in keys if old.get(k) != new.get(k)]


def _change(key: str, old: Any, new: Any) -> str:
    """``key old -> new`` as every other view writes values (0.333333, not
    0.3333333333333333), in full where that would print two equal texts."""
    a, b = formats.number(old), formats.number(new)
    if a == b:
        a, b = repr(old), repr(new)
    return f"{key} {_short(a)} -> {_short(b)}"


def _listed(items: list[str], limit: int = 3) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


class _Model:
    """The checks of one model against HEAD's record."""

    def __init__(self, project: Project, name: str, spec: ModelSpec | None, record: Record | None,
                 state: ModelState | None, dirty: set[str]) -> None:
        self.project, self.name, self.spec, self.record = project, name, spec, record
        self.released = released_records(project, name, state)
        self.state = state
        self.version = released_as(self.released, record)
        self.dirty = dirty
        self.pending: list[Pending] = []
        self.notes: list[str] = []

    def add(self, kind: str, detail: str, fix: str) -> None:
        self.pending.append(Pending(kind, detail, fix))

    @property
    def doc(self) -> dict[str, Any]:
        return self.record.doc if self.record is not None else {}

    @property
    def typed(self) -> RecordDoc | None:
        return self.record.typed if self.record is not None else None

    def head_label(self) -> str:
        return f"{self.name}@{self.version}" if self.version else "HEAD's record"

    def _gto_latest_holding(self, md5: str | None) -> str | None:
        """The latest version, when it has no record and its derived lineage
        names ``md5``: an adopted GTO project's workspace holds what it
        released, nothing was trained (only the latest is derived, so a
        registry of any size costs one derivation)."""
        latest = self.state.latest() if self.state else None
        if not md5 or latest is None or latest in self.released or self.state is None:
            return None
        from mlver.api.derived import derive_record

        derived = derive_record(self.project, self.name, self.state.versions[latest].commit)
        artifact = derived.doc.get("artifact") if derived else None
        return latest if isinstance(artifact, dict) and artifact.get("md5") == md5 else None

    def artifact(self) -> None:
        root, name = self.project.root, self.name
        artifact = self.typed.artifact if self.typed else None
        path = self.spec.path if self.spec else artifact.path if artifact else None
        if not path:
            return
        target = root / path
        recorded = artifact.md5 if artifact else None
        if not target.exists():
            if recorded:
                self.notes.append(f"{path} is not in the workspace: `mlver pull {name}` restores {self.head_label()}'s")
            return
        if target.is_dir():
            if self.record is None:
                self.add("trained", f"{path} exists but {name} has no record at HEAD", f"record it: `mlver record {name}`")
            elif not (self.spec and self.spec.stage) and dvc.changed(root, [path]):
                self.add("trained", f"{path} changed since {self.head_label()}: trained, not recorded",
                         f"{self._record_fix()}, or `dvc checkout {path}` to go back")
            return
        md5 = hashcache.md5s(root, [path])[path]
        if self.record is None and (made := self._gto_latest_holding(md5)):
            self.notes.append(f"{path} is {name}@{made}'s artifact (a version with no mlver record, made by GTO or by hand)")
            return
        if self.record is None:
            how = f"`mlver run {name}`" if self.spec and self.spec.stage else f"`mlver record {name}`"
            self.add("trained", f"{path} exists but {name} has no record at HEAD: trained, not recorded", f"record it: {how}")
            return
        if md5 == recorded:
            return
        back = way_back(name, path, self.version)
        pulled = version_with_artifact(self.released, md5 or "")
        if pulled is not None:
            self.add("pulled", f"the workspace holds {name}@{pulled}'s model ({path}), not {self.head_label()}'s",
                     f"go back with {back} (or `dvc checkout {path}`); recording it is refused")
        else:
            self.add("trained", f"{path} changed since {self.head_label()} (md5 {(recorded or '-')[:12]} -> {str(md5)[:12]}): "
                                "trained, not recorded", f"{self._record_fix()}, or `mlver run {name}` to train and record")

    def data(self) -> list[str]:
        """Checks the data; returns tracked directories whose workspace copy DVC must check."""
        root, name = self.project.root, self.name
        from mlver.api.objects import named

        recorded = {d.path: d.md5 for d in named(self.doc, artifact=False)}
        if self.spec and not self.spec.stage:
            paths = list(self.spec.data)
        else:  # a stage model: the .dvc-tracked sources its record names
            paths = [p for p in recorded if isinstance(p, str) and (root / dvc.dvcfile_for(p)).is_file()]
        folders = []
        for path in paths:
            out = dvc.read_dvcfile_out(root, path)
            if out is None:
                self.add("data", f"{path} is not tracked", f"`mlver data add {path}`")
                continue
            uncommitted = dvc.dvcfile_for(path) in self.dirty or not git.tracked(root, dvc.dvcfile_for(path))
            if self.record is not None and recorded.get(path) != out.md5:
                how = f"commit {dvc.dvcfile_for(path)}, then `mlver run {name}`" if uncommitted else f"`mlver run {name}`"
                self.add("data", f"{path} is a new version since {self.head_label()} "
                                 f"({str(recorded.get(path) or '-')[:12]} -> {out.md5[:12]}), not trained on", how)
            target = root / path
            if out.is_dir:
                if target.is_dir():
                    folders.append(path)
                continue
            if not target.exists():
                self.notes.append(f"{path} is not in the workspace: `mlver pull {name} --with-data` restores it")
                continue
            if hashcache.md5s(root, [path])[path] != out.md5:
                self.modified_data(path)
        return folders

    def modified_data(self, path: str) -> None:
        self.add("data", f"{path} was modified in the workspace and is not versioned",
                 f"`mlver data add {path}` to version it, or `dvc checkout {path}` to undo")

    def params(self) -> None:
        if self.record is None:
            return
        root, spec = self.project.root, self.spec
        recorded = dict(self.typed.params or {}) if self.typed else {}
        if spec is None:
            return
        if spec.stage:
            now: dict[str, Any] = {}
            files = [f for f in dict.fromkeys(["params.yaml", (spec.params or "").partition(":")[0]]) if f and (root / f).is_file()]
            for file in files:
                now.update(read_params(root, file)[1])
            changes = _changes(recorded, now, sorted(k for k in recorded if k in now))
        elif spec.params:
            files = [spec.params.partition(":")[0]]
            changes = _changes(recorded, read_params(root, spec.params)[1])
        else:
            return
        if changes:
            uncommitted = [f for f in files if f in self.dirty]
            where = f" ({', '.join(uncommitted)} not committed)" if uncommitted else ""
            self.add("params", f"params changed since {self.head_label()}{where}: {_listed(changes)}",
                     f"train on them: {'commit, then ' if uncommitted else ''}`mlver run {self.name}`")

    def metrics(self) -> None:
        if self.record is None or self.spec is None or not self.spec.metrics:
            return
        root, file = self.project.root, self.spec.metrics
        if not (root / file).is_file():
            return
        changes = _changes(dict(self.typed.metrics or {}) if self.typed else {}, read_metrics(root, file))
        if changes:
            self.add("metrics", f"{file} differs from {self.head_label()}: {_listed(changes)}",
                     f"record the model that wrote them: {self._record_fix()}, or `{self._undo(file)}`")

    def _record_fix(self) -> str:
        """`mlver record NAME`, after committing what it refuses to record over
        (params.yaml after `dvc exp run -S`: only the files a record commit
        writes may be uncommitted)."""
        from mlver.api.managed import managed_paths
        from mlver.domain.pipeline import covers

        managed = managed_paths(self.spec) if self.spec else []
        if self.spec and self.spec.stage:
            try:
                managed += dvc.lock_out_paths(self.project.root)
            except MlverError:
                pass  # (a dvc.lock that does not parse is said by the record itself)
        blocking = sorted(p for p in self.dirty if not any(covers(m, p) for m in managed)) if self.spec else []
        record = f"`mlver record {self.name}`"
        return f"commit {', '.join(blocking)}, then {record}" if blocking else record

    def _undo(self, file: str) -> str:
        """The command that puts back the recorded metrics: git's for a file it
        tracks; for one a stage writes into a DVC output (eval/, as dvclive
        does), DVC's, from the committed dvc.lock."""
        if git.tracked(self.project.root, file):
            return f"git checkout -- {file}"
        locks = sorted(f for f in self.dirty if f == "dvc.lock" or f.endswith("/dvc.lock"))
        return " && ".join([f"git checkout -- {' '.join(locks)}"] * bool(locks) + [f"dvc checkout {file}"])

    def release(self) -> None:
        if self.record is None:
            return
        if not self.record.intact:
            self.add("tampered", "HEAD's record fails its digest (edited by hand?)",
                     f"record it again: `mlver run {self.name}`")
        elif self.version is None:
            self.add("unreleased", f"HEAD's record ({(_artifact_md5(self.record) or '')[:12]}) is not released",
                     f"`mlver release {self.name}`")

    def objects(self) -> list[ObjectRef]:
        """Every object this model's records need in the remote."""
        from mlver.api.objects import record_objects

        records = [(f"{self.name} (HEAD)", self.record)] if self.record is not None else []
        records += [(f"{self.name}@{v}", r) for v, r in self.released.items()]
        return [o for label, record in records for o in record_objects(record, label)]


def _git_remote_tags(project: Project, registry: Registry, checks: dict[str, _Model], notes: list[str]) -> str | None:
    from mlver.adapters import gitremote

    root = project.root
    if git.config_value(root, f"remote.{GIT_REMOTE}.url") is None:
        notes.append(f"no git remote ({GIT_REMOTE}): tags and records are on this machine only")
        return None
    try:
        there = {(n, o) for n, o, _ in gitremote.ls_remote_tags(root, GIT_REMOTE)}
    except MlverError as exc:
        notes.append(f"could not list the tags of {GIT_REMOTE}: {exc.message}")
        return GIT_REMOTE
    missing: dict[str, list[str]] = {}
    for name, obj, _ in git.tag_refs(root):
        parsed = tags.parse(name)
        if parsed is not None and parsed.model in checks and (name, obj) not in there:
            missing.setdefault(parsed.model, []).append(name)
    for model, names in missing.items():
        checks[model].add("tags", f"{len(names)} registry tags not on {GIT_REMOTE}: {_listed(names)}",
                          f"`git push {GIT_REMOTE} {' '.join(names[:5])}`" if len(names) <= 5 else f"`git push {GIT_REMOTE} --tags`")
    return GIT_REMOTE


def _remote_objects(project: Project, checks: dict[str, _Model], notes: list[str]) -> str | None:
    from mlver.api.objects import expand_dirs, local_cache, remote_store

    if dvc.default_remote_name(project.root) is None:
        notes.append("no default remote: objects were not checked (`mlver remote add NAME URL --default`)")
        return None
    try:
        name, store = remote_store(project)
        cache = local_cache(project)
        wanted = {model: expand_dirs(c.objects(), [cache])
                  for model, c in checks.items()}
        there = store.existing({o.md5 for objs in wanted.values() for o in objs})
    except MlverError as exc:
        notes.append(f"could not check the default remote: {exc.message}")
        return None
    for model, objs in wanted.items():
        missing = list({o.md5: o.where for o in objs if o.md5 not in there}.values())
        if missing:
            checks[model].add("objects", f"{len(missing)} objects not in remote {name}: {_listed(missing)}", "`mlver push`")
    return name


def status(offline: bool = False, repo: PathLike = None) -> StatusResult:
    """What is pending per model; ``offline`` skips the git remote and the storage remote."""
    project = Project.find(repo)
    root = project.root
    head = git.head(root)
    registry = load_registry(project)
    specs = project.declared_models()
    names = sorted(set(specs) | set(models_at(project, head) if head else ()))
    dirty = set(git.changed_tracked(root)) if head else set()
    checks: dict[str, _Model] = {}
    folders: dict[str, list[str]] = {}
    for name in names:
        unreadable = None
        try:
            record = read_record(project, name, head) if head else None
        except MlverError as exc:  # a record no command will read: say so, check the rest
            record, unreadable = None, exc.message
        check = _Model(project, name, specs.get(name), record, registry.model(name), dirty)
        if unreadable:
            check.add("tampered", f"HEAD's record cannot be read: {unreadable}", f"record it again: `mlver run {name}`")
        check.artifact()
        for path in check.data():
            folders.setdefault(path, []).append(name)
        check.params()
        check.metrics()
        check.release()
        checks[name] = check
    if folders:  # DVC's own status (its state database) for tracked directories
        for path in dvc.changed(root, sorted(folders)):
            for name in folders.get(path, []):
                checks[name].modified_data(path)
    from mlver.api.objects import shared_storage_note

    shared = shared_storage_note(root)
    notes: list[str] = [shared] if shared else []
    git_remote = remote = None
    if offline:
        notes.append("offline: the git remote's tags and the storage remote were not checked")
    else:
        git_remote = _git_remote_tags(project, registry, checks, notes)
        remote = _remote_objects(project, checks, notes)
    models = []
    for name, check in checks.items():
        history = git.log_path(root, rec.record_path(name), max_count=1) if check.record is not None else []
        models.append(ModelStatus(name, history[0].commit if history else None, check.version,
                                  tuple(check.pending), tuple(check.notes)))
    return StatusResult(not any(m.pending for m in models), head, tuple(models), git_remote, remote, tuple(notes))
