"""``gc``: free the local cache (and, with ``cloud``, the default remote) of
objects nothing keeps, and the per-project manifests that make that safe on
a shared remote.

Kept: every object any release names (deregistered ones too), any version or
commit a stage was ever assigned to (rollback targets), the records of every
local and remote-tracking branch head, the DVC-tracked files (``.dvc`` files,
``dvc.lock``) at those heads and in the workspace, so ``dvc pull`` and
``dvc checkout`` keep working, and with ``keep_last`` each model's last N
records on every branch. Versions with no record (GTO's) keep the lineage
derived from their commit. In a remote, whatever another project's manifest
names stays too, and so does anything written within the grace period (a
push under way has not published its git refs yet).
"""
from __future__ import annotations

import json
import time
from typing import Any

from mlver.adapters import dvc, git
from mlver.api._common import (
    load_registry,
    models_at,
    now_iso,
    record_from_bytes,
    version_record,
)
from mlver.api.objects import Store, local_cache, named, remote_store
from mlver.domain import record as rec
from mlver.domain import retention, validate
from mlver.domain.tags import Action
from mlver.errors import GcRefused, InputTooLarge, MlverError
from mlver.models import GcFreed, GcResult, GcStore
from mlver.project import PathLike, Project

GRACE_S = 24 * 3600


def project_id(project: Project) -> str | None:
    """The project's id in a remote's manifests: the root commit of HEAD's
    first-parent history, the same in every clone and unlike any other project's."""
    from mlver.adapters import gitcache

    head = git.head(project.root)
    if head is None:
        return None
    # Walking 100,000 commits for it was a third of a push with nothing to send: HEAD's
    # commit fixes its first-parent history, but for grafts and replace refs (the stamp).
    file, stamp = gitcache.path(project.root, "project-id"), f"{git.history_context(project.root)}:1"
    kept = gitcache.load(file, stamp).get("roots", {}).get(head)
    if isinstance(kept, str) and validate.COMMIT.fullmatch(kept):
        return kept
    roots = git.run(project.root, "rev-list", "--first-parent", "--max-parents=0", head, check=False).split()
    if roots:
        gitcache.save(file, {"roots": {head: roots[-1]}}, stamp)
    return roots[-1] if roots else None


def _manifest_path(name: str) -> str:
    return f"{retention.MANIFEST_DIR}/{name}"


def publish_manifest(project: Project, store: Store, objects: set[str]) -> None:
    """Add ``objects`` to this project's manifest in ``store`` (before they are
    sent: another project's gc that lists them afterwards finds them claimed)."""
    pid = project_id(project)
    if pid is None or not hasattr(store, "meta_write") or not objects:
        return
    name = retention.manifest_name(pid)
    path = _manifest_path(name)
    have: frozenset[str] = frozenset()
    content = store.meta_read(path, retention.MAX_MANIFEST_BYTES)
    if content is not None:
        try:
            have = retention.parse_manifest(content, name, path)
        except MlverError:
            have = frozenset()  # ours, unreadable: written anew from what this push names
    if objects <= have:
        return
    store.meta_write(path, retention.format_manifest(pid, have | objects, now_iso()))


def _hashes(doc: Any) -> set[str]:
    """The artifact and data hashes of a record document, read leniently: a
    record some check refuses still names what it needs."""
    from mlver.domain.validate import MD5

    return {o.md5 for o in named(doc) if o.md5 and MD5.fullmatch(o.md5)}


def _record_hashes(model: str, commit: str, content: bytes, notes: list[str]) -> set[str]:
    try:
        return _hashes(record_from_bytes(model, commit, content).doc)
    except MlverError as exc:
        notes.append(f"the record of {model} at {commit[:12]} is refused by checks ({exc.message}); "
                     "gc keeps the objects it names anyway")
        try:
            return _hashes(json.loads(content))
        except (ValueError, RecursionError):
            return set()


def _branch_heads(project: Project) -> dict[str, str]:
    """Every local and remote-tracking branch (and a detached HEAD) -> its commit."""
    out = git.run(project.root, "for-each-ref", "--format=%(objecttype) %(objectname) %(refname:short)",
                  "refs/heads", "refs/remotes", check=False)
    heads: dict[str, str] = {}
    for line in out.splitlines():
        kind, _, rest = line.partition(" ")
        oid, _, name = rest.partition(" ")
        if kind == "commit":
            heads.setdefault(name, oid)
    head = git.head(project.root)
    if head and head not in heads.values():
        heads["HEAD"] = head
    return heads


def _dvc_files(names: list[str]) -> list[str]:
    return [n for n in names if n.endswith((".dvc", "/" + dvc.LOCK_FILE)) or n == dvc.LOCK_FILE]


def _dvc_hashes(text: bytes | str, where: str) -> set[str]:
    from mlver.adapters.yamlfile import safe_load

    try:
        return retention.hashes_in_dvcfile(safe_load(text, where))
    except MlverError:
        return set()


def _origin_unfetched(project: Project, notes: list[str]) -> list[str]:
    """Branches and tags of ``origin`` pointing at commits this clone lacks:
    a release made elsewhere that gc here would not know to keep."""
    root = project.root
    if git.config_value(root, "remote.origin.url") is None:
        return []
    try:
        listing = git.run(root, "ls-remote", "--heads", "--tags", "origin")
    except MlverError as exc:
        notes.append(f"could not list origin's branches and tags ({exc.message}): gc keeps what this clone knows")
        return []
    refs = {}
    for line in listing.splitlines():
        oid, _, ref = line.partition("\t")
        if ref and not ref.endswith("^{}"):
            refs[ref] = oid
    if not refs:
        return []
    check = git.run(root, "cat-file", "--batch-check", input="".join(f"{o}\n" for o in refs.values()).encode(), check=False)
    missing = {line.split()[0] for line in check.splitlines() if line.endswith(" missing")}
    return sorted(ref for ref, oid in refs.items() if oid in missing)


class _KeepSet:
    """What gc keeps, gathered from the registry, the branches and the workspace."""

    def __init__(self, project: Project, keep_last: int, notes: list[str]) -> None:
        self.project, self.notes = project, notes
        self.objects: set[str] = set()
        self.refs: list[str] = []
        self.owners: dict[str, str] = {}  # md5 -> a model some record ever named it in
        self._gather(keep_last)

    def _gather(self, keep_last: int) -> None:
        heads = _branch_heads(self.project)
        wanted, registered = self._records_kept(heads, keep_last)
        self._add_records(wanted, registered)
        self._add_dvc_files(list(heads.values()) + [commit for _, commit in sorted(registered)])
        self._attribute()

    def _records_kept(self, heads: dict[str, str], keep_last: int) -> tuple[dict[tuple[str, str], str], set[tuple[str, str]]]:
        """(model, commit) -> why its record is kept: every version, every stage
        ever held (what a rollback may return to), each branch head's records and
        their last ``keep_last``; and which of them the registry names."""
        project, root = self.project, self.project.root
        registry = load_registry(project)
        wanted: dict[tuple[str, str], str] = {}
        registered: set[tuple[str, str]] = set()
        for name, state in registry.models.items():
            for version, event in state.versions.items():
                wanted.setdefault((name, event.commit), f"{name}@{version}")
                registered.add((name, event.commit))
            for event in state.events:
                if event.tag.action is Action.ASSIGN:  # every stage ever held: what a rollback may return to
                    held = state.version_of(event.commit)
                    wanted.setdefault((name, event.commit),
                                      f"{name}#{event.tag.stage} ({f'{name}@{held}' if held else event.commit[:12]})")
                    registered.add((name, event.commit))
        for branch, commit in sorted(heads.items()):
            for model in models_at(project, commit):
                wanted.setdefault((model, commit), f"{branch}: {model}")
                if keep_last > 0:
                    out = git.run(root, "log", f"-n{keep_last}", "--format=%H", commit, "--", rec.record_path(model))
                    for old in out.split():
                        wanted.setdefault((model, old), f"{model} at {old[:12]} (last {keep_last} on {branch})")
        return wanted, registered

    def _add_records(self, wanted: dict[tuple[str, str], str], registered: set[tuple[str, str]]) -> None:
        """Keep what each wanted record names (a registered version without one:
        what its derived lineage names)."""
        project = self.project
        specs = {key: f"{key[1]}:{rec.record_path(key[0])}" for key in wanted}
        blobs = git.read_blobs(project.root, specs.values())
        for key, label in wanted.items():
            model, commit = key
            content = blobs.get(specs[key])
            if content is not None:
                found = _record_hashes(model, commit, content, self.notes)
            elif key in registered:
                try:
                    derived = version_record(project, model, commit, True)
                except MlverError as exc:
                    self.notes.append(f"{label}: no lineage could be derived ({exc.message})")
                    derived = None
                found = _hashes(derived.doc) if derived is not None else set()
            else:
                continue
            self.objects |= found
            for md5 in found:
                self.owners.setdefault(md5, model)
            self.refs.append(label)

    def _add_dvc_files(self, commits: list[str]) -> None:
        """Keep what DVC's own files name at ``commits`` (every branch head, and every
        version and stage kept: what `mlver push` sent with them, so a clone's `dvc pull`
        there still works) and in the workspace."""
        from mlver.api.dvcouts import named_at

        root = self.project.root
        self.objects |= named_at(self.project, commits)
        workspace = _dvc_files(git.run(root, "ls-files", "-z", "-co", "--exclude-standard").split("\0"))
        for name in workspace:
            path = root / name
            if path.is_file():
                self.objects |= _dvc_hashes(path.read_bytes(), name)

    def _attribute(self) -> None:
        """Which model each object belonged to, from every record in the history."""
        root = self.project.root
        out = git.run(root, "log", "--all", "--format=%x1e%H", "--name-only", "--", rec.RECORDS_DIR, check=False)
        specs: dict[str, str] = {}
        for chunk in out.split("\x1e"):
            lines = [line for line in chunk.splitlines() if line]
            for path in lines[1:]:
                if path.startswith(rec.RECORDS_DIR + "/") and path.endswith(".json"):
                    specs[f"{lines[0]}:{path}"] = path[len(rec.RECORDS_DIR) + 1: -len(".json")]
        for spec, content in git.read_blobs(root, specs).items():
            if content is None:
                continue
            try:
                doc = json.loads(content)
            except (ValueError, RecursionError):
                continue
            for md5 in _hashes(doc):
                self.owners.setdefault(md5, specs[spec])

    def named_in_history(self) -> set[str]:
        """Every hash any version of a ``.dvc`` file or ``dvc.lock`` in this
        project's history names: what its own ``dvc push`` may have sent."""
        root = self.project.root
        out = git.run(root, "log", "--all", "--format=", "--raw", "--no-abbrev", "--no-renames",
                      "--", "*.dvc", dvc.LOCK_FILE, f"*/{dvc.LOCK_FILE}", check=False)
        blobs = {fields[3] for line in out.splitlines() if line.startswith(":")
                 and len(fields := line.split("\t", 1)[0].split()) >= 4 and fields[3].strip("0")}
        found: set[str] = set()
        for oid, content in git.read_blobs(root, sorted(blobs)).items():
            if content is not None:
                found |= _dvc_hashes(content, f"blob {oid[:12]}")
        return found

    def expanded(self, stores: list[Store]) -> set[str]:
        """The keep set with the files of every kept directory (its manifest
        read from the first of ``stores`` that has it)."""
        keep = set(self.objects)
        for md5 in sorted(m for m in self.objects if m.endswith(".dir")):
            content = next((c for c in (s.read(md5) for s in stores if s.has(md5)) if c is not None), None)
            if content is None:
                self.notes.append(f"directory {md5} is kept but its manifest is in no store: its files cannot be told apart")
                continue
            try:
                keep.update(m for _, m in dvc.parse_dir_manifest(content, f"directory manifest {md5}"))
            except MlverError as exc:
                self.notes.append(exc.message)
        return keep


def keep_set(project: Project, stores: list[Store], keep_last: int = 0) -> set[str]:
    """Every object gc keeps, directories' files included."""
    return _KeepSet(project, keep_last, []).expanded(stores)


def _manifests(store: Store, pid: str | None) -> tuple[set[str], set[str], bool]:
    """Every object another project's manifest names, those this project's
    own names, and whether the store holds this project's own (it pushed
    there); ManifestInvalid when one cannot be read exactly."""
    protected: set[str] = set()
    own: set[str] = set()
    mine = False
    names = store.meta_names(retention.MANIFEST_DIR)
    if len(names) > retention.MAX_MANIFESTS:
        raise InputTooLarge("manifests", f"{len(names)} files", f"{retention.MANIFEST_DIR} in {store.label}",
                            f"gc reads at most {retention.MAX_MANIFESTS} projects' manifests",
                            "inspect the folder: no team shares one remote between that many projects")
    for name in names:
        path = _manifest_path(name)
        content = store.meta_read(path, retention.MAX_MANIFEST_BYTES)
        if content is None:
            continue  # removed since it was listed
        if pid is not None and name == retention.manifest_name(pid):
            # Ours protects nothing (this gc writes it anew from the keep set): it
            # says which objects this project's pushes claimed, and so may free.
            mine = True
            try:
                own |= retention.parse_manifest(content, name, path)
            except MlverError:
                pass
            continue
        protected |= retention.parse_manifest(content, name, f"manifest {path} in {store.label}")
    return protected, own, mine


def _users_own(project: Project, name: str, url: str) -> bool:
    """Whether this machine's DVC config (config.local, global, system), not the
    repository's .dvc/config, gives remote ``name`` that URL."""
    mine, _ = dvc.remotes_over(project.root, None)
    return name in mine and mine[name].url == url


def _freed(plan: retention.Plan) -> tuple[GcFreed, ...]:
    rows = [GcFreed(model or None, n, size) for model, (n, size) in plan.freed.items()]
    return tuple(sorted(rows, key=lambda r: (r.model is None, r.model or "")))


def _collect(name: str, url: str, store: Store, keep: set[str], protected: set[str], owners: dict[str, str],
             cutoff: float, force: bool, stored: dict[str, tuple[int, float]], ours: set[str] | None = None) -> GcStore:
    listed = {m: retention.Stored(size, mtime) for m, (size, mtime) in stored.items()}
    plan = retention.plan(listed, keep, protected, owners, cutoff, ours)
    if force:
        for md5 in plan.delete:
            store.remove(md5)
    return GcStore(name, url, len(listed), plan.kept, plan.protected, plan.young, _freed(plan),
                   len(plan.delete), plan.freed_bytes, plan.foreign)


def gc(cloud: bool = False, keep_last: int = 0, force: bool = False, remote: str | None = None,
       min_age: int = GRACE_S, repo: PathLike = None) -> GcResult:
    """Delete (with ``force``; else only say) the objects of the local cache,
    and with ``cloud`` (or ``remote``) of that remote too, that nothing keeps."""
    project = Project.find(repo)
    notes: list[str] = []
    cache = local_cache(project)
    if not cache.objects_dir.resolve().is_relative_to((project.root / ".dvc").resolve()):
        raise GcRefused(f"the DVC cache {cache.objects_dir}", "it is outside this project (cache.dir), so other "
                        "projects may use it", "collect a shared cache with `dvc gc --projects ...`, which knows them all")
    remote_name, store = _remote_to_collect(project, remote, notes) if cloud or remote else (None, None)
    kept = _KeepSet(project, keep_last, notes)
    cutoff = time.time() - max(min_age, 0)
    pid = project_id(project)
    stores: list[GcStore] = []
    if store is not None and remote_name is not None:
        stores.append(_collect_remote(project, kept, remote_name, store, cache, cutoff, force, pid, notes))
    keep = kept.expanded([cache] + ([store] if store is not None else []))
    stores.insert(0, _collect("cache", str(cache.objects_dir), cache, keep, set(), kept.owners, cutoff, force,
                              cache.objects()))
    return GcResult(not force, pid, tuple(dict.fromkeys(kept.refs)), tuple(stores), tuple(dict.fromkeys(notes)))


def _remote_to_collect(project: Project, remote: str | None, notes: list[str]) -> tuple[str, Store]:
    """The named (or default) remote as a store gc may collect: refused when
    other projects' objects may be there unclaimed, when mlver cannot list it,
    or when origin holds refs this clone has not fetched."""
    from mlver.api.objects import is_legacy_shared

    remote_name, store = remote_store(project, remote)
    remotes, _ = dvc.remotes(project.root)
    if is_legacy_shared(remotes[remote_name].url, project.root / ".dvc"):
        raise GcRefused(f"remote {remote_name} ({remotes[remote_name].url})",
                        "it is the per-user folder earlier mlver versions gave every project, and a project "
                        "that has not pushed since has no manifest there",
                        "give this project its own storage first: `mlver init --own-storage`")
    if not hasattr(store, "objects"):
        raise GcRefused(f"remote {remote_name}", "mlver cannot list this kind of remote",
                        "collect it with `dvc gc --cloud` from every project that uses it")
    unfetched = _origin_unfetched(project, notes)
    if unfetched:
        shown = ", ".join(unfetched[:3]) + (f" and {len(unfetched) - 3} more" if len(unfetched) > 3 else "")
        raise GcRefused(f"remote {remote_name}", f"origin has branches or tags this clone has not fetched ({shown}), "
                        "whose objects gc would not know to keep", "`git fetch origin --tags`, then run gc again")
    return remote_name, store


def _collect_remote(project: Project, kept: _KeepSet, remote_name: str, store: Store, cache: Store,
                    cutoff: float, force: bool, pid: str | None, notes: list[str]) -> GcStore:
    """Collect the remote: what nothing keeps and no project's manifest claims
    (this project's manifest rewritten, with ``force``, to what it keeps)."""
    # The listing comes before the manifests are read: a push writes its
    # manifest before its objects, so every object listed is claimed by then.
    stored = store.objects()
    protected, own, mine = _manifests(store, pid)
    remotes, _ = dvc.remotes(project.root)
    named = kept.named_in_history()
    keep = kept.expanded([cache, store])
    ours = mine or _users_own(project, remote_name, remotes[remote_name].url)
    if ours:
        own |= named
    elif any(m in stored for m in named - protected - own - keep):
        # A history is anyone's to write: a cloned repository's .dvc/config could point
        # at any folder or bucket and its commits name objects there that are not its.
        notes.append(f"remote {remote_name} holds no manifest of this project and only the repository's "
                     ".dvc/config names it: gc deletes nothing there on the word of this history alone "
                     f"(`mlver push -r {remote_name}` first if this project is the one that sent them)")
    for md5 in sorted(m for m in own if m.endswith(".dir") and m in stored):
        content = store.read(md5)  # a directory this project claims claims its files
        try:
            own.update(f for _, f in dvc.parse_dir_manifest(content or b"[]", f"directory manifest {md5}"))
        except MlverError as exc:
            notes.append(exc.message)
    collected = _collect(remote_name, remotes[remote_name].url, store, keep, protected, kept.owners,
                         cutoff, force, stored, own)
    if force and ours and pid is not None and hasattr(store, "meta_write"):  # (else the next gc would be ours)
        store.meta_write(_manifest_path(retention.manifest_name(pid)),
                         retention.format_manifest(pid, keep & set(stored), now_iso()))
    return collected


__all__ = ["gc", "keep_set", "project_id", "publish_manifest"]
