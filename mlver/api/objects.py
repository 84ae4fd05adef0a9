"""Where a project's objects are and how a record names them: the stores of
its remotes and cache, the objects a record lists (directories expanded),
and the threads and progress callbacks transfers share. push, pull, gc,
status, url and pull --repo build on it; it imports none of them."""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlver.adapters import dvc
from mlver.adapters.storage import LocalStore, Progress
from mlver.adapters.verified import expected
from mlver.api import placing
from mlver.domain import record as rec
from mlver.errors import PUSH_AGAIN, MlverError, NoDefaultRemote, ObjectCorrupt, RemoteOutsideProject, UnknownRemote
from mlver.models import Record
from mlver.project import Project

if TYPE_CHECKING:
    from mlver.adapters.remotestat import Ledger

# Called once before a transfer with (objects, bytes) to move, then with each chunk's size.
Start = Callable[[int, int], None]
Store = Any  # LocalStore or mlver.adapters.s3.S3Store (boto3 loads only for S3)


def locked(progress: Progress | None) -> Progress | None:
    """Progress callbacks arrive from transfer threads; serialise them."""
    if progress is None:
        return None
    lock = threading.Lock()

    def update(n: int) -> None:
        with lock:
            progress(n)

    return update


def each(jobs: int, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """``fn`` over ``items``, on ``jobs`` threads when the store gains from it
    (S3: many requests in flight); the first error stops the rest."""
    if jobs <= 1 or len(items) <= 1:
        return [fn(i) for i in items]
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(min(jobs, len(items)))
    try:
        results = list(pool.map(fn, items))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results


@dataclass(frozen=True)
class ObjectRef:
    md5: str
    where: str  # "churn@v0.1.0 models/churn.pkl": what a user can act on


def store_for(remote: dvc.Remote, config_dir: Path | None, anonymous: bool = False,
              ledger: Ledger | None = None, uploads: Path | None = None, foreign: bool = False,
              guarded: bool = False) -> Store:
    """An object store for a DVC remote's settings (``config_dir``: where
    relative paths start, as DVC resolves them against the config file;
    ``anonymous``: requests go with none of the user's credentials (S3
    unsigned, ssh without keys or agent); ``foreign``: a repository, not the
    user, named this remote (adapters/dvcfs.py); ``guarded``: the user
    did not vouch for its host (adapters/dvcfs.py); ``ledger``: the command's
    record of folder remotes' objects, which a folder remote's store holds:
    adapters/remotestat.py; ``uploads``: where an S3 remote's store notes the
    uploads it starts, adapters/s3uploads.py)."""
    url = remote.url
    if url.startswith("s3://"):
        from mlver.adapters.s3 import S3Store

        opts = remote.options
        return S3Store(remote.name, url, endpoint_url=opts.get("endpointurl"), region=opts.get("region"),
                       access_key_id=opts.get("access_key_id"), secret_access_key=opts.get("secret_access_key"),
                       session_token=opts.get("session_token"), profile=opts.get("profile"), anonymous=anonymous,
                       connect_timeout=opts.get("connect_timeout"), read_timeout=opts.get("read_timeout"),
                       uploads=uploads)
    if "://" in url and not url.startswith("file://"):
        # Every other type DVC knows (ssh, azure, http, ...) through DVC's own filesystems.
        from mlver.adapters.dvcfs import DvcFsStore

        return DvcFsStore(remote.name, url, remote.options, foreign=foreign, anonymous=anonymous,
                          guarded=guarded)
    path = Path(url.removeprefix("file://")).expanduser()
    if not path.is_absolute():
        if config_dir is None:
            raise RemoteOutsideProject(remote.name, url)
        path = (config_dir / path).resolve()
    return LocalStore(path / "files" / "md5", f"{remote.name} ({path})", ledger)


def remote_store(project: Project, name: str | None = None, ledger: Ledger | None = None) -> tuple[str, Store]:
    """The named (or default) remote as an object store (``ledger``: see ``store_for``)."""
    remotes, default = dvc.remotes(project.root)
    return store_among(project, remotes, default, name, ledger)


def store_among(project: Project, remotes: dict[str, dvc.Remote], default: str | None,
                name: str | None = None, ledger: Ledger | None = None) -> tuple[str, Store]:
    """The named (or default) one of ``remotes`` as an object store."""
    name = name or default
    if not name:
        raise NoDefaultRemote("set one with `mlver init` or `mlver remote add NAME URL --default`")
    if name not in remotes:
        raise UnknownRemote(name, sorted(remotes))
    return name, store_for(remotes[name], project.root / ".dvc", ledger=ledger, uploads=_uploads_dir(project))


def _uploads_dir(project: Project) -> Path | None:
    """The clone's own note of the S3 uploads its pushes start (adapters/s3uploads.py)."""
    from mlver.adapters.s3uploads import UPLOADS_DIR
    from mlver.adapters.statcache import git_dir

    base = git_dir(project.root)
    return base / UPLOADS_DIR if base is not None else None


def local_cache(project: Project) -> LocalStore:
    return LocalStore(dvc.cache_dir(project.root), "the local cache")


@dataclass(frozen=True)
class Named:
    """One object a record names: its artifact or one of its data files."""
    kind: str  # "artifact" or "data"
    path: str | None
    md5: str | None
    size: int | None


def named(doc: Any, artifact: bool = True, data: bool = True) -> list[Named]:
    """The objects a record document (or derived lineage) names, its artifact
    first, then its data, in the record's order: the one walk over a record's
    object lists (tests/test_layers.py keeps it so). Read leniently, as gc
    reads a record other checks refuse: an entry that is not a mapping is
    skipped, a field of the wrong type is None."""
    if not isinstance(doc, Mapping):
        return []
    entries: list[tuple[str, Any]] = [("artifact", doc.get("artifact"))] if artifact and not rec.artifact_in_git(doc) else []
    listed = doc.get("data") if data else None
    entries += [("data", e) for e in listed] if isinstance(listed, list) else []
    out = []
    for kind, entry in entries:
        if isinstance(entry, Mapping):
            out.append(Named(kind, *_fields(entry)))
    return out


def named_rows(doc: Any, plain: bool = False) -> list[tuple[str | None, str | None, int | None]]:
    """``named(doc)`` as (path, md5, size) tuples: what verify keeps of each
    of 100,000 records, without an object per entry. ``plain``: a record
    validate.check_record passed at a glance, whose entries are objects
    with fields of their exact types (taken as they are)."""
    if plain:
        artifact, listed = doc.get("artifact"), doc.get("data")
        rows = [(artifact["path"], artifact.get("md5"), artifact.get("size"))] if artifact is not None \
            and not rec.artifact_in_git(doc) else []
        return rows + [(entry["path"], entry.get("md5"), entry.get("size")) for entry in listed] if listed else rows
    if not isinstance(doc, Mapping):
        return []
    artifact, listed = doc.get("artifact"), doc.get("data")
    rows = [_fields(artifact)] if isinstance(artifact, Mapping) and not rec.artifact_in_git(doc) else []
    if isinstance(listed, list):
        rows += [_fields(entry) for entry in listed if isinstance(entry, Mapping)]
    return rows


def _fields(entry: Mapping[str, Any]) -> tuple[str | None, str | None, int | None]:
    path, md5, size = entry.get("path"), entry.get("md5"), entry.get("size")
    return (path if isinstance(path, str) else None, md5 if isinstance(md5, str) else None,
            size if isinstance(size, int) and not isinstance(size, bool) else None)


def record_objects(record: Record, label: str, with_data: bool = True) -> list[ObjectRef]:
    """The objects a record names that have a hash, labelled for the user ("churn@v1 models/churn.pkl")."""
    return [ObjectRef(o.md5, f"{label} {o.path or ''}") for o in named(record.doc, data=with_data) if o.md5]


def expand_dirs(objects: list[ObjectRef], stores: list[LocalStore]) -> list[ObjectRef]:
    """Add the files listed in each ``.dir`` manifest."""
    expanded = []
    for obj in objects:
        expanded.append(obj)
        if obj.md5.endswith(".dir"):
            manifest = next((c for c in (s.read(obj.md5) for s in stores) if c is not None), None)
            if manifest is not None:
                for relpath, md5 in dvc.parse_dir_manifest(manifest):
                    expanded.append(ObjectRef(md5, f"{obj.where}/{relpath}"))
    return expanded


def store_fill(store: Store, progress: Progress | None) -> placing.Fill:
    """Downloads objects of a remote straight to their staged place, md5-checked
    (a store's ``get`` places only bytes that are the object: ``verified.settle``)."""

    def fill(md5: str, target: Path, where: str) -> int:
        got = store.get(md5, target, progress)
        if got != expected(md5):
            raise ObjectCorrupt(where, "object in the remote", got, md5, PUSH_AGAIN)
        return target.stat().st_size

    return fill


def foreign_store(remote: dvc.Remote, git_url: str, trust_endpoint: bool, notice: Callable[[str], None] | None,
                  ledger: Ledger | None = None) -> Any:
    """The store of a remote named by a repository we do not control.

    Its ``.dvc/config`` chooses the host: the user's credentials (their AWS
    keys and choice of profile, their Google token, their SSH keys and agent)
    go to an endpoint it names only when the user configured that endpoint
    themselves or passed ``trust_endpoint``; otherwise requests go without
    them, which is enough for storage that allows public reads. An ssh-agent
    is never forwarded there (whoever holds it signs as the user elsewhere),
    nor ~/.netrc's login read for an http one; an ssh server must show the
    host key the user's known_hosts lists for it unless ``trust_endpoint``."""
    options = {k: v for k, v in remote.options.items() if k != "profile"}  # a profile picks one of the user's keys
    kind = remote.url.split("://", 1)[0].lower() if "://" in remote.url else ""
    endpoint = ((str(options.get("endpointurl") or "").rstrip("/") or None) if kind in ("s3", "gs")
                else dvc.ssh_endpoint(remote.url, options.get("port")))
    # Else DVC and adlfs ask Azure for a token of the user's (DefaultAzureCredential) for the account
    # it names; forced, as the repository's config may say allow_anonymous_login = false.
    anonymous = kind == "azure" and not trust_endpoint
    if anonymous:
        options["allow_anonymous_login"] = True
    if endpoint:
        trusted = trust_endpoint or endpoint in dvc.own_endpoints(_project_root())
        anonymous = not trusted
        if anonymous and kind == "gs":
            options["allow_anonymous_login"] = True  # gcsfs would send the user's Google token to that endpoint
        if notice:
            what = _CREDENTIALS[kind]
            how = (f"with your {what} (--trust-endpoint)" if trust_endpoint else
                   f"with your {what} (you configured this endpoint)" if trusted else
                   f"without your {what}: pass --trust-endpoint to send them")
            notice(f"{git_url} keeps its artifacts at {endpoint} (remote {remote.name}); contacting it {how}")
    elif notice and "://" in remote.url and kind not in ("s3", "file"):
        netrc = " or your ~/.netrc unless --trust-endpoint" if kind in ("http", "https") and not trust_endpoint else ""
        notice(f"{git_url} keeps its artifacts at {remote.url} (remote {remote.name}); contacting it with no "
               f"credentials from that repository's config{netrc} (pass yours with --remote-config)")
    return store_for(dvc.Remote(remote.name, remote.url, options), None, anonymous=anonymous, ledger=ledger,
                     foreign=True, guarded=not trust_endpoint)


# What the user's own credentials for each kind of endpoint are called, for the notice.
_CREDENTIALS = {"s3": "AWS credentials", "gs": "Google credentials", "ssh": "SSH keys"}


def _project_root() -> Path | None:
    try:
        return Project.find(require_config=False).root
    except MlverError:
        return None


# -- the storage folder earlier mlver versions shared between projects ------


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share"))


def legacy_storage_dir() -> Path:
    """The one folder earlier mlver versions gave every project of a user: a
    `dvc gc -c` in any of them deleted the others' objects."""
    return data_home() / "mlver" / "storage"


def is_legacy_shared(url: str, base: Path | None = None) -> bool:
    """Whether a remote's URL (relative ones start at ``base``) is the old shared folder."""
    if "://" in url and not url.startswith("file://"):
        return False
    path = Path(url.removeprefix("file://")).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return path.resolve() == legacy_storage_dir().resolve()


def shared_storage_note(root: Path) -> str | None:
    """What to tell a project whose default remote is the old shared folder
    (read from the config files themselves: no dvc import, status stays cheap)."""
    name = dvc.default_remote_name(root)
    for level in ("config.local", "config"):
        path = root / ".dvc" / level
        found = dvc.remotes_in_text(path.read_text())[0] if name and path.is_file() else {}
        if name in found:
            if not is_legacy_shared(found[name].url, root / ".dvc"):
                return None
            return (f"the default remote {name} ({found[name].url}) is the folder earlier mlver versions "
                    "shared between all your projects: `dvc gc -c` in any of them deletes the others' objects; "
                    "give this project its own with `mlver init --own-storage`")
    return None
