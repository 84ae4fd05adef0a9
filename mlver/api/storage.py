"""``push`` and ``pull``: moving recorded artifacts and data by content hash."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from mlver.adapters import dvc, placement, remotestat, verified
from mlver.adapters.atomic import default_mode
from mlver.adapters.hashcache import Known
from mlver.adapters.storage import (
    SMALL,
    LocalStore,
    Progress,
    copy_checked,
    install,
    pinned,
    read_small,
    readonly,
    write_new,
)
from mlver.api import placing, pushset
from mlver.api.dvcouts import CommitOuts
from mlver.api.objects import (
    ObjectRef,
    Start,
    Store,
    each,
    expand_dirs,
    local_cache,
    locked,
    named,
    remote_store,
)
from mlver.api.pushset import Source
from mlver.domain import record as rec
from mlver.domain import validate
from mlver.domain.refs import Ref
from mlver.errors import (
    CHANGED_HINT,
    PUSH_AGAIN,
    ObjectChanged,
    ObjectCorrupt,
    ObjectMissing,
    ObjectsMissing,
    OptionNeeds,
    OptionsExclusive,
    RecordTampered,
    RemoteWriteFailed,
)
from mlver.models import PullResult, Record, SentObject, TransferResult
from mlver.project import PathLike, Project


def push(refs: list[str] | None = None, remote: str | None = None, start: Start | None = None,
         progress: Progress | None = None, repo: PathLike = None) -> TransferResult:
    """Send every artifact and data object the records reference to the remote."""
    project = Project.find(repo)
    with remotestat.Ledger() as ledger:  # what it writes to a folder remote is recorded: a pull need not hash it
        return _push(project, refs or [], remote, ledger, start, progress)


def _push(project: Project, refs: list[str], remote: str | None, ledger: remotestat.Ledger,
          start: Start | None, progress: Progress | None) -> TransferResult:
    name, store = remote_store(project, remote, ledger)
    cache = local_cache(project)
    store.check_writable()
    records, found = pushset.planned(project, refs, name)
    objects = _objects_to_push(records, cache, store)
    pipeline, notes = _pipeline_objects(found, objects, [cache, store])
    there = _prepare_remote(project, store, objects | pipeline)
    todo, present, lacking = _sort_out(objects | pipeline, there, cache)
    named_here = {o.where for o in lacking if o.md5 in objects}
    left, elsewhere = _kept_elsewhere(project, name, records, [o.where for o in lacking], refs)
    # A record's object missing fails the push; another stage's output is said, not fatal:
    # an old version's intermediate data may be long gone from every cache.
    missing, unsent = [w for w in left if w in named_here], tuple(w for w in left if w not in named_here)
    todo = _whole_dirs(todo, {o.md5 for o in lacking}, cache)
    sizes = {o.md5: cache.size(o.md5) or 0 for o in todo}
    if start:
        start(len(todo), sum(sizes.values()))
    sent_bytes = _send_all(project, cache, name, store, todo, sizes, locked(progress))
    if missing:
        raise ObjectsMissing(len(todo), sorted(missing), name)
    return TransferResult(name, len(objects) + len(pipeline), len(todo), sent_bytes, present, tuple(elsewhere + notes),
                          tuple(SentObject(o.md5, o.where, sizes[o.md5]) for o in todo), len(pipeline), unsent)


def _whole_dirs(todo: list[ObjectRef], lacking: set[str], cache: LocalStore) -> list[ObjectRef]:
    """``todo`` without the directories some of whose files nobody has: a .dir
    object in the remote promises its files (DVC then takes the folder as there)."""
    if not lacking:
        return todo
    out = []
    for obj in todo:
        if obj.md5.endswith(".dir"):
            listed = dvc.parse_dir_manifest(cache.read(obj.md5) or b"[]", f"{obj.where} (manifest {obj.md5})")
            if any(md5 in lacking for _, md5 in listed):
                continue
        out.append(obj)
    return out


def _pipeline_objects(found: CommitOuts, objects: dict[str, ObjectRef],
                      stores: list[Store]) -> tuple[dict[str, ObjectRef], list[str]]:
    """(md5 -> where, notes) of what ``dvc push`` at the records' commits would
    send beyond what the records name (directories' files too), which a clone's
    ``dvc pull`` fetches as well: everything there when no refs were named
    (HEAD and every version: the project), else each named version's pipeline
    (the stages of the dvc.lock that outputs its artifact, and the .dvc files
    feeding them; a model `dvc add`ed has none): ``pushset.planned``."""
    extra: dict[str, ObjectRef] = {}
    for obj in expand_dirs([o for o in found.objects if o.md5 not in objects], stores):
        if obj.md5 not in objects:
            extra.setdefault(obj.md5, obj)
    return extra, list(found.notes)


def _kept_elsewhere(project: Project, name: str, records: list[Source],
                    missing: list[str], refs: list[str]) -> tuple[list[str], list[str]]:
    """(still missing, notes): what a version with no record names and nobody
    here has, where its commit shares another default remote (the tutorial's
    public one of an adopted example-get-started), is that remote's to keep
    (when no ``refs`` were named: a version asked for by name is sent or failed)."""
    from mlver.api.unrecorded import commit_remote, kept_elsewhere

    if refs or not missing:
        return missing, []
    wanted = {where.split(" ", 1)[0] for where in missing}  # (a git read per version only where one is missing)
    shared = {record.label: found for record in records if record.label in wanted
              and record.derived and record.commit and (found := commit_remote(project, record.commit))}
    other = kept_elsewhere(project, name, shared)
    left: dict[tuple[str, str], list[str]] = {}
    still = []
    for where in missing:
        label = where.split(" ", 1)[0]
        if label in other:
            left.setdefault(other[label], []).append(where)
        else:
            still.append(where)
    return still, [f"{', '.join(w)}: not sent, neither here nor in remote {name}; its commit keeps it in remote "
                   f"{r} ({url})" for (r, url), w in left.items()]


def _objects_to_push(records: list[Source], cache: LocalStore, store: Store) -> dict[str, ObjectRef]:
    """md5 -> the first place that names it, of every object the records to push name
    (a directory's files too, from its manifest in the cache or the remote)."""
    objects: dict[str, ObjectRef] = {}
    for record in records:
        for obj in expand_dirs(list(record.objects), [cache, store]):
            objects.setdefault(obj.md5, obj)
    return objects


def _prepare_remote(project: Project, store: Store, objects: dict[str, ObjectRef]) -> set[str]:
    """Which of ``objects`` the remote has, once they are all claimed in this
    project's manifest there and what a killed push left is cleared. The three
    exchanges need nothing of each other, so a store that gains from threads
    has them in flight together (S3: a manifest GET and PUT, a HEAD and an
    uploads listing cost two round trips, not four, before the first byte)."""
    from mlver.api.collection import publish_manifest

    def claim() -> None:
        # Claimed before sent: another project's gc never takes what this push needs.
        publish_manifest(project, store, set(objects))

    def clean() -> None:
        if hasattr(store, "clean_interrupted"):
            store.clean_interrupted()  # what a killed push left in the remote (S3 bills its parts)

    # In this order one after another where threads do not pay; the claim's error is the one told either way.
    results = each(store.jobs, lambda task: task(), [claim, lambda: store.existing(objects), clean])
    there: set[str] = results[1]
    return there


def _sort_out(objects: dict[str, ObjectRef], there: set[str], cache: LocalStore) -> tuple[list[ObjectRef], int, list[ObjectRef]]:
    """(to send, how many the remote has, the objects neither has)."""
    in_cache = cache.existing(o.md5 for o in objects.values() if o.md5 not in there)
    todo, present, missing = [], 0, []
    for obj in objects.values():
        if obj.md5 in there:
            present += 1
        elif obj.md5 in in_cache:
            todo.append(obj)
        else:
            missing.append(obj)
    return todo, present, missing


def _send_all(project: Project, cache: LocalStore, name: str, store: Store, todo: list[ObjectRef],
              sizes: dict[str, int], progress: Progress | None) -> int:
    """Send ``todo`` from the cache (``sizes``: md5 -> bytes), directory manifests
    last: a .dir object in the remote promises its files. Returns the bytes sent."""
    known = placing.known_in(project.root)
    send = _sender(cache, name, store, sizes, known, progress)
    files = [o for o in todo if not o.md5.endswith(".dir")]
    dirs = [o for o in todo if o.md5.endswith(".dir")]
    try:
        return sum(each(store.jobs, send, files)) + sum(each(store.jobs, send, dirs))
    finally:
        if known is not None:
            known.save()


def _sender(cache: LocalStore, name: str, store: Store, sizes: dict[str, int], known: Known | None,
            progress: Progress | None) -> Callable[[ObjectRef], int]:
    """Sends one object to ``store``, returning its size: a large one on the stat
    cache's word where the store trusts it."""
    vouching = known if getattr(store, "trusts_known", False) else None

    def send(obj: ObjectRef) -> int:
        src = cache.path(obj.md5)
        big = sizes[obj.md5] > SMALL  # a small one is hashed as it is read: cheaper than asking the stat cache
        try:
            if vouching is not None and big:
                _put_known(store, vouching, src, obj.md5, progress)
            else:
                store.put(src, obj.md5, progress)
        except OSError as exc:
            raise RemoteWriteFailed(obj.where, name, str(exc.strerror or exc)) from exc
        return sizes[obj.md5]

    return send


def _put_known(store: Store, known: Known, src: Path, md5: str, progress: Progress | None) -> None:
    """Send a large cache object, not hashed again when the stat cache vouches for it
    (mlver hashed it on its way in). The stat looked up, the bytes sent and the stat
    remembered after a hash are all of one open file, which the store reads through
    /proc/self/fd: by name they could be of two (in a shared cache, a co-user can
    rename another file over an object between the look and the copy)."""
    try:
        fd = os.open(src, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        store.put(src, md5, progress)  # (a symlink, or gone: hashed, or refused, as before)
        return
    try:
        st, path = os.fstat(fd), pinned(fd)
        if path is None:
            store.put(src, md5, progress)
            return
        trusted = known.md5(src, st) == md5
        try:
            store.put(Path(path), md5, progress, trusted=trusted)
        except ObjectChanged as exc:
            raise ObjectChanged(str(src), exc.got, exc.expected, CHANGED_HINT) from None
        after = os.fstat(fd)
        if not trusted and (after.st_size, after.st_mtime_ns, after.st_ctime_ns) == (
                st.st_size, st.st_mtime_ns, st.st_ctime_ns):
            known.remember(src, md5, after)  # put hashed it: it matched its name
    finally:
        os.close(fd)


def _fetch(cache: LocalStore, store: Store, remote: str, obj: ObjectRef, progress: Progress | None,
           known: Known | None = None, missing: bool = False, also: Path | None = None) -> bool:
    """Make sure ``obj`` is in the cache and intact; True when it was downloaded.
    The object is hashed on its way in (and a large one's stat remembered), never
    again after. ``missing``: the caller already knows the cache lacks it and the store has it.
    ``also``: a new file (a staged workspace copy) that gets the same bytes in the
    same pass; it exists afterwards only when they were downloaded and matched."""
    expected = verified.expected(obj.md5)
    if not missing and cache.has(obj.md5):
        return False
    if isinstance(store, LocalStore):
        # Straight from the remote's file into the cache's folder, read-only as DVC keeps it.
        with _full_disk_is_clean(cache, obj):
            try:
                got, size, installed = cache.ingest(store.final(obj.md5), obj.md5, progress, mode=0o444, also=also,
                                                    origin=store)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                raise _not_there(obj, remote) from None
        if got != expected:
            raise _corrupt(obj, remote, got, expected)
        if known is not None and size > SMALL and installed is not None:
            # The stat of the file hashed and renamed in (its own descriptor's), not of
            # whatever has its name now: in a shared cache a co-user could have renamed
            # another file over it, and its stat would vouch for bytes never hashed.
            known.remember(cache.path(obj.md5), obj.md5, installed)
        return True
    if not missing and not store.has(obj.md5):
        raise _not_there(obj, remote)
    if also is None and _fetch_small(cache, store, obj, progress):
        return True
    target = cache.path(obj.md5)
    staged = cache.temp_path()
    try:
        with _full_disk_is_clean(cache, obj):
            got = store.get(obj.md5, staged, progress, also) if also is not None else store.get(obj.md5, staged, progress)
        if got != expected:
            if also is not None:
                also.unlink(missing_ok=True)
            remote = store.name_for(obj.md5) if hasattr(store, "name_for") else remote  # which of several remotes
            raise _corrupt(obj, remote, got, expected)
        readonly(staged)
        installed = install(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    if known is not None:
        known.remember(target, obj.md5, installed)  # (its own stat: see above)
    return True


def _fetch_small(cache: LocalStore, store: Store, obj: ObjectRef, progress: Progress | None) -> bool:
    """A small object read whole in one request and written to the cache in one
    create and one rename, read-only as DVC keeps it (not remembered by the stat
    cache: a small file is hashed whenever it is read). False when the store
    reads no such way or the object is large, and when the bytes are not the
    object: then ``get`` reads it again, and passes a corrupt copy over for
    another remote's, or says which one is corrupt."""
    read = getattr(store, "read_small", None)
    data = read(obj.md5) if read is not None else None
    if data is None:
        return False
    with _full_disk_is_clean(cache, obj):
        got = cache.add(data, obj.md5, mode=0o444)
    if got != verified.expected(obj.md5):
        return False
    if progress:
        progress(len(data))
    return True


@contextmanager
def _full_disk_is_clean(cache: LocalStore, obj: ObjectRef) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        full = placement.disk_full(exc, cache.objects_dir, obj.where)
        if full is not None:
            raise full from exc
        raise


def _not_there(obj: ObjectRef, remote: str) -> ObjectMissing:
    return ObjectMissing(obj.where, obj.md5, ["the local cache", f"remote {remote}"],
                         "push it from a machine that has it with `mlver push`")


def _corrupt(obj: ObjectRef, remote: str, got: str, expected: str) -> ObjectCorrupt:
    return ObjectCorrupt(obj.where, f"object in remote {remote}", got, expected, PUSH_AGAIN)


def cache_fill(cache: LocalStore, known: Known | None, teed: dict[str, Path] | None = None) -> placing.Fill:
    """Copies cache objects out: in the kernel when the object's stat says it was
    hashed before (by mlver, on its way in), else hashed while copied, once.
    ``teed``: md5 -> a staged copy the download wrote beside the cache object
    (the same bytes it hashed): renamed into place instead of copied, once."""

    mode = default_mode()

    def fill(md5: str, target: Path, where: str) -> int:
        staged = teed.pop(md5, None) if teed else None
        if staged is not None:
            try:
                os.replace(staged, target)
                return target.stat().st_size
            except OSError:
                staged.unlink(missing_ok=True)  # (another filesystem, or gone): copied as any other
        src = cache.final(md5)
        try:
            data, _ = read_small(src)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectMissing(where, md5, ["the local cache"], "run the pull again") from None
        if data is None:
            return _place_large(cache, known, src, md5, target, where)
        # Small: hashed as it is read (cheaper than a stat lookup and a kernel copy).
        got = hashlib.md5(data).hexdigest()
        if got != md5:
            _refuse_cached(cache, md5, target, where, got)
        write_new(str(target), data, mode)
        return len(data)

    return fill


def _place_large(cache: LocalStore, known: Known | None, src: str, md5: str, target: Path, where: str) -> int:
    """Copy the large cache object ``src`` to ``target``: in the kernel when the stat
    cache vouches for it, else hashed as it is copied (and then remembered). The stat
    looked up, the bytes placed and the stat remembered are all of one open file, read
    again through /proc/self/fd: by name they could be of two (a co-user of a shared
    cache can rename another file over the object meanwhile)."""
    try:
        fd = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        raise ObjectMissing(where, md5, ["the local cache"], "run the pull again") from None
    try:
        st, path = os.fstat(fd), pinned(fd)
        if path is not None and known is not None and known.md5(src, st) == md5:
            return placement.copy_file(Path(path), target)
        got = copy_checked(path or src, target)
        if got != md5:
            _refuse_cached(cache, md5, target, where, got)
        after = os.fstat(fd)
        if path is not None and known is not None and (after.st_size, after.st_mtime_ns, after.st_ctime_ns) == (
                st.st_size, st.st_mtime_ns, st.st_ctime_ns):
            known.remember(src, md5, after)
        return target.stat().st_size
    finally:
        os.close(fd)


def _refuse_cached(cache: LocalStore, md5: str, target: Path, where: str, got: str) -> NoReturn:
    target.unlink(missing_ok=True)
    cache.remove(md5)  # a bad cache entry would poison every later pull
    raise ObjectCorrupt(where, "local cache copy", got, md5, "run the pull again: it will fetch a fresh copy from the remote")


Wanted = tuple[str, str, Path] | tuple[str, str, Path, Path]  # md5, label, destination[, folder it must stay in]


def restore(project: Project, wanted: list[Wanted], remote: str | None = None,
            start: Start | None = None, progress: Progress | None = None,
            within: Path | None = None,
            source: Callable[[remotestat.Ledger], tuple[str, Store]] | None = None,
            force: bool = False) -> tuple[placing.Placed, int]:
    """Put objects (md5, label, destination) in place, fetching what the cache
    lacks; everything is fetched and checked before any destination is written
    (mlver/api/placing.py). Every destination (each file of a directory too),
    with symlinks resolved, must stay inside its folder (the entry's fourth
    item, else ``within``, else the project), or nothing is written.
    ``source`` opens the (name, store) to read from instead of ``remote``, its
    folder remotes holding the ledger it is given: objects of theirs mlver
    hashed before, their stat unchanged, are not hashed again.
    Files of the project it would replace or remove must be held by the cache
    (their work saved) unless ``force``.
    Returns what was placed and how many objects were downloaded."""
    cache = local_cache(project)
    with remotestat.Ledger() as ledger:
        def open_store() -> tuple[str, Store]:
            return source(ledger) if source else remote_store(project, remote, ledger)

        # A remote named with -r is checked even when nothing is fetched: a typo is an error, not a no-op.
        opened = open_store() if remote else None
        return _restore(project, cache, lambda: opened or open_store(), wanted, start, progress, within, force)


def _restore(project: Project, cache: LocalStore, open_store: Callable[[], tuple[str, Store]], wanted: list[Wanted],
             start: Start | None, progress: Progress | None, within: Path | None, force: bool) -> tuple[placing.Placed, int]:
    """``restore`` with the store opened only when the cache lacks an object:
    what the cache holds (a ``dvc add``, a model git holds) needs no remote, as ``dvc checkout``."""
    opened: list[tuple[str, Store]] = []

    def store_now() -> tuple[str, Store]:
        if not opened:
            opened.append(open_store())
        return opened[0]

    known = placing.known_in(project.root)
    # Saved means in the local cache, as for `dvc checkout`: a remote's word that it
    # holds a file's content is not proof (a hostile or broken one says yes to all).
    saved = None if force else cache.existing
    needed, dests = _destinations(project, cache, store_now, wanted, within, known)
    in_cache = cache.existing(needed)
    missing = [o for md5, o in needed.items() if md5 not in in_cache]
    name, store = store_now() if missing or opened else ("the local cache", cache)
    there = store.existing(o.md5 for o in missing)
    if start:
        start(len(missing), sum(store.size(o.md5) or 0 for o in missing if o.md5 in there))
    update = locked(progress)
    with placement.scratch(project.root) as area:
        teed = _teed(project, store, dests, {o.md5 for o in missing if o.md5 in there}, known, area)
        fetched = sum(each(store.jobs, lambda obj: _fetch(cache, store, name, obj, update, known, obj.md5 in there,
                                                          teed.get(obj.md5)), missing))
        placed = placing.place(project.root, dests, cache_fill(cache, known, teed), known=known, area=area, saved=saved)
    return placed, fetched


def _destinations(project: Project, cache: LocalStore, store_now: Callable[[], tuple[str, Store]],
                  wanted: list[Wanted], within: Path | None,
                  known: Known | None) -> tuple[dict[str, ObjectRef], list[placing.Dest]]:
    """(every object the wanted files need, first place each is named; where
    each goes), every path checked inside its destination. A directory's
    manifest is fetched first when the cache lacks it: it names the rest."""
    needed: dict[str, ObjectRef] = {}
    dests: list[placing.Dest] = []
    for md5, where, path, *base in wanted:
        root = base[0] if base else within or project.root
        own = bool(base)  # a place the caller chose (-o), not the workspace's tracked path
        obj = ObjectRef(md5, where)
        needed.setdefault(md5, obj)
        validate.check_inside(root, path, obj.where)
        if not md5.endswith(".dir"):
            dests.append(placing.Dest(md5, where, path))
            continue
        if not cache.has(md5):
            remote_name, remote_store_ = store_now()
            _fetch(cache, remote_store_, remote_name, obj, None, known)
        manifest = cache.read(md5) or b"[]"
        entries = dvc.parse_dir_manifest(manifest, f"{where} (manifest {md5})")
        relpaths = [relpath for relpath, _ in entries]
        # Inside the directory itself, not just the project: a symlink
        # in it must not redirect one of its files elsewhere.
        validate.check_all_inside(path, path, relpaths, where)
        validate.check_all_inside(root, path, relpaths, where)
        for relpath, file_md5 in entries:
            if file_md5 not in needed:
                needed[file_md5] = ObjectRef(file_md5, f"{where}/{relpath}")
        dests.append(placing.Dest(md5, where, path, entries, own_folder=own))
    return needed, dests


def _teed(project: Project, store: Store, dests: list[placing.Dest], fetching: set[str], known: Known | None,
          area: placement.Scratch) -> dict[str, Path]:
    """md5 -> where its download also writes the workspace copy, staged: large
    single files about to be fetched whose destination is not already in place
    (then the copy out of the cache, a second pass over the bytes, is not made)."""
    if not getattr(store, "tee", False):
        return {}
    teed: dict[str, Path] = {}
    for dest in dests:
        if dest.entries is not None or dest.md5 not in fetching or dest.md5 in teed or (store.size(dest.md5) or 0) <= SMALL:
            continue
        if not dest.path.parent.is_dir() or placing.in_place(project.root, dest.path, dest.md5, known):
            continue
        teed[dest.md5] = area.new_path(dest.path)
    return teed


def pull(ref: str, out: str | None = None, with_data: bool = False, remote: str | None = None,
         start: Start | None = None, progress: Progress | None = None, repo: PathLike = None,
         git_url: str | None = None, trust_endpoint: bool = False,
         notice: Callable[[str], None] | None = None, allow_tampered: bool = False,
         remote_config: list[str] | None = None, force: bool = False) -> PullResult:
    """Restore the artifact (and data) of a version, verified against the record.

    With ``git_url``, no project is needed: the version is resolved in that
    repository's tags and the artifact downloaded from the record's remote.
    An S3 endpoint that repository names gets the user's credentials only when
    the user configured it too, or with ``trust_endpoint``; ``notice`` is told
    which endpoint is contacted, and how, before it is. A record whose
    digest fails is refused unless ``allow_tampered`` (the Python API's
    explicit override, e.g. ``mlver.sklearn.load(..., trusted=True)``).
    A file of the project it would replace or remove whose content no cache
    holds is refused (UnsavedFiles) unless ``force``.
    """
    from mlver.api.sources import local_store, parse_overrides

    overrides = parse_overrides(remote_config)
    if git_url:
        if with_data:
            raise OptionsExclusive("--repo", "--with-data",
                                   "--repo pulls a model's artifact, not its data: drop --with-data, "
                                   "or clone the repository and pull there")
        from mlver.api.fetching import pull_from_repo

        return pull_from_repo(ref, git_url, out, start, progress, trust_endpoint, notice, remote, overrides)
    if trust_endpoint:
        raise OptionNeeds("--trust-endpoint", "--repo", "a project's own remotes are the ones you configured",
                          "drop --trust-endpoint, or add --repo GIT_URL")
    project = Project.find(repo, require_config=False)
    parsed, record, version, label = _record_to_pull(project, ref, allow_tampered)
    artifact = record.doc["artifact"]
    wanted = _pull_targets(project, record, label, out, with_data)
    _artifact_from_git(project, record, label)  # then the cache holds it: nothing to fetch for it
    placed, fetched = restore(project, wanted, remote, start, progress,
                              source=lambda ledger: local_store(project, record, remote, overrides, ledger), force=force)
    files = placed.files
    total = sum(f.size for f in files)
    head_record, back = (None, None) if out else _head_differs(project, parsed.model, artifact)
    return PullResult(str(parsed), parsed.model, version, record.commit or "", tuple(files), fetched, total,
                      derived=record.derived, head_record=head_record, back=back,
                      written=placed.written, kept=placed.kept, removed=placed.removed)


def _record_to_pull(project: Project, ref: str, allow_tampered: bool) -> tuple[Ref, Record, str | None, str]:
    """(reference, record, version, label) of ``ref``, resolved as signed-only
    projects require; refused when the record's digest fails (unless
    ``allow_tampered``) or when it names no artifact with a hash to fetch."""
    from mlver.api.trust import resolve_record_trusted

    parsed, record, version = resolve_record_trusted(project, ref)
    label = f"{parsed.model}@{version}" if version else str(parsed)
    if not record.intact and not allow_tampered:
        raise RecordTampered(parsed.model, label, rec.record_path(parsed.model))
    typed = record.typed.artifact
    # Null or absent (the record check lets both through): nothing names what to fetch.
    if not (typed and typed.path and typed.md5):
        from mlver.errors import NoArtifactHash, RecordHasNoArtifact

        if record.derived and typed and typed.path:
            raise NoArtifactHash(label, typed.path, record.commit or "")
        raise RecordHasNoArtifact(label, parsed.model)
    return parsed, record, version, label


def _artifact_from_git(project: Project, record: Record, label: str) -> bool:
    """Put the artifact of a version that git itself holds (``dvc artifacts
    get`` reads those from the commit) into the local cache; whether it was one."""
    from mlver.api.derived import git_artifact_bytes

    if not rec.artifact_in_git(record.doc) or not record.derived:
        return False
    content = git_artifact_bytes(project.root, record)
    md5 = record.doc["artifact"]["md5"]
    if content is None:
        raise ObjectMissing(f"{label} {record.doc['artifact']['path']}", md5, [f"git at {(record.commit or '')[:12]}"],
                            "check out that commit and look at the file: git no longer holds what it held")
    local_cache(project).add(content, md5, mode=0o444)
    return True


def _pull_targets(project: Project, record: Record, label: str, out: str | None, with_data: bool) -> list[Wanted]:
    """Where a pull puts the record's artifact (and, ``with_data``, its data)."""
    artifact = record.doc["artifact"]
    where = f"{label} {artifact['path']}"
    if out:
        # -o is the user's own choice of place: an existing folder takes the
        # file inside it, like cp; a directory artifact becomes that folder.
        dest = Path(out).resolve()
        if dest.is_dir() and not artifact["md5"].endswith(".dir"):
            dest = dest / Path(artifact["path"]).name
        # Checked inside the folder that holds it (a directory's own files are
        # checked inside the directory as well): the place itself is the user's.
        wanted: list[Wanted] = [(artifact["md5"], where, dest, dest.parent)]
    else:
        wanted = [(artifact["md5"], where, project.root / artifact["path"])]
    if with_data:
        wanted += [(e.md5, f"{label} {e.path}", project.root / e.path)
                   for e in named(record.doc, artifact=False) if e.md5 and e.path]  # as push: what has a hash
    return wanted


def _head_differs(project: Project, model: str, artifact: dict) -> tuple[str | None, str | None]:
    """(HEAD's record, the command that puts it back) when the workspace now
    holds another version's artifact than HEAD records; else (None, None)."""
    from mlver.api.pending import head_version, way_back

    current, head_v = head_version(project, model)
    if current is None or (current.doc.get("artifact") or {}).get("md5") == artifact["md5"]:
        return None, None
    return (f"{model}@{head_v}" if head_v else f"HEAD's record of {model}"), way_back(model, artifact["path"], head_v)
