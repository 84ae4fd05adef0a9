"""A DVC-layout object store on any remote DVC can reach (ssh, azure, gs,
http(s), webdav, hdfs, ...), through DVC's own filesystem layer
(``dvc.fs.get_cloud_fs`` and the dvc-ssh, dvc-azure, ... plugins).

mlver moves objects to local directories and S3 itself (storage.py, s3.py);
every other type goes through here, so the remote's settings (user, port,
keyfile, connection string, ...) mean exactly what they mean to ``dvc push``,
credentials from ``.dvc/config.local`` included. Nothing here prints or
reports an option's value: only the URL (with its userinfo masked upstream).

An upload goes to a temporary name beside the object, hashed as it is sent,
and is moved to the object's name only when its md5 is the name: an
interrupted push leaves no object that lies, and the next push sends what is
still absent.
"""
from __future__ import annotations

import hashlib
import itertools
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

from mlver.adapters import placement
from mlver.adapters.pace import Pace
from mlver.adapters.storage import MAX_READ, object_relpath, stream_hashing
from mlver.adapters.verified import expected
from mlver.errors import (
    CHANGED_HINT,
    HostKeyNotTrusted,
    MlverError,
    ObjectChanged,
    ObjectNotInRemote,
    RemoteAltersData,
    RemoteCannotList,
    RemoteError,
    RemoteFsError,
    RemotePluginMissing,
    RemoteSettingInvalid,
    UnsupportedRemote,
)

Progress = Callable[[int], None]
T = TypeVar("T")
CHUNK = 1024 * 1024
# Connect/read timeouts (seconds) when the remote's config sets none: a host
# that accepts connections and never answers fails in about this, not minutes.
TIMEOUT = 30
TMP_DIR = ".mlver-tmp"  # beside files/, where uploads are written before their md5 is checked
# An upload there untouched this long, by a run of another machine, is a killed push's (as placement.STALE_S).
STALE_UPLOAD = 24 * 3600
# How _write_through names an upload: "<md5 or meta>.<run token>-<n>"; an older mlver's: "<...>.<12 hex>".
_UPLOAD = re.compile(r"(?:[0-9a-f]{32}(?:\.dir)?|meta)\.(?:(mlver-[0-9]+-[0-9a-f]{16})-[0-9]+|[0-9a-f]{12})")
_PLUGINS = {"ssh": "dvc-ssh", "azure": "dvc-azure", "gs": "dvc-gs", "gdrive": "dvc-gdrive", "oss": "dvc-oss",
            "hdfs": "dvc-hdfs", "webhdfs": "dvc-webhdfs", "webdav": "dvc-webdav", "webdavs": "dvc-webdav",
            "http": "dvc-http", "https": "dvc-http"}
# The timeout options of each type in DVC's config schema.
_TIMEOUTS = {"http": ("connect_timeout", "read_timeout"), "https": ("connect_timeout", "read_timeout"),
             "webdav": ("timeout",), "webdavs": ("timeout",), "ssh": ("timeout",),
             "azure": ("connection_timeout", "read_timeout")}


def scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def check_supported(name: str, url: str) -> None:
    """RemotePluginMissing when no installed DVC plugin handles ``url``'s scheme."""
    _fs_class(name, {"url": url})


def _fs_class(name: str, options: dict[str, Any]) -> Any:
    from dvc_objects.fs import get_fs_cls, known_implementations
    from dvc_objects.fs.errors import RemoteMissingDepsError

    kind = scheme(str(options.get("url", "")))
    if kind not in known_implementations or kind in ("local", "memory", "s3"):
        # DVC reads an unknown scheme as a local path; mlver says what it is.
        raise UnsupportedRemote(str(options.get("url")), kind)
    try:
        cls = get_fs_cls(options)
        missing = cls.get_missing_deps()
    except (ValueError, KeyError, ImportError, RemoteMissingDepsError):
        cls, missing = None, ["?"]
    if cls is None or missing:
        raise RemotePluginMissing(name, kind, _PLUGINS.get(kind, f"dvc-{kind}"))
    return cls


def _restraints(kind: str, anonymous: bool) -> dict[str, Any]:
    """Connection settings, over what DVC's config makes of the remote's, for
    a host a repository chose. dvc-ssh offers the default keys and the agent,
    and prompts for any password or answer the server asks for (its
    interactive client): none of that for a host the user did not choose, but
    the keys and agent when they trust it (the agent is forwarded to no host:
    ``_open``). adlfs takes the user's Azure identity
    (DefaultAzureCredential) whenever it is not told ``anon``, whatever DVC's
    allow_anonymous_login says."""
    if kind == "ssh":
        if not anonymous:
            return {}
        from asyncssh import SSHClient

        return {"client_keys": None, "agent_path": None, "client_factory": SSHClient,
                "password": None, "passphrase": None}
    if kind == "azure" and anonymous:
        return {"anon": True}
    return {}


def _no_netrc(url: str) -> dict[str, Any]:
    """aiohttp session settings for an http(s) host a repository chose: DVC
    opens every http remote with ``trust_env``, which also sends the user's
    ~/.netrc login for that host (or netrc's ``default`` login, for any host)
    as Basic auth. Off, with the proxy the environment gives for that URL kept
    (a proxy is the user's own, its login goes to it alone)."""
    from aiohttp.helpers import get_env_proxy_for_url
    from yarl import URL

    settings: dict[str, Any] = {"trust_env": False}
    try:
        settings["proxy"], login = get_env_proxy_for_url(URL(url))
    except (LookupError, ValueError):
        return settings
    if login is not None:  # (the proxy's login, from its URL or ~/.netrc: aiohttp's session takes no proxy_headers)
        settings["proxy_auth"] = login
    return settings


def _watched(method: Callable[..., T]) -> Callable[..., T]:
    """The method talks to the remote: a long wait for it is reported (mlver/waiting.py)."""
    import functools

    @functools.wraps(method)
    def call(self: DvcFsStore, *args: Any, **kwargs: Any) -> T:
        from mlver import waiting

        with waiting.waiting(f"remote {self.name} at {self.url}"):
            return method(self, *args, **kwargs)

    return call


class DvcFsStore:
    """The same interface as ``LocalStore`` and ``S3Store``, over a DVC filesystem."""

    def __init__(self, name: str, url: str, options: dict[str, Any], foreign: bool = False,
                 anonymous: bool = False, guarded: bool = False) -> None:
        """``foreign``: a repository the user does not control named this remote
        (``pull --repo``, a commit's config); ``anonymous``: an ssh connection to
        it offers none of the user's keys, agent or a password prompt; ``guarded``: the user did not vouch for the host (--trust-endpoint):
        an ssh server must show the host key the user's known_hosts lists for it
        (DVC checks none), an http one gets no ~/.netrc login."""
        self.name = name
        self.url = url
        self.kind = scheme(url)
        self.label = f"{name} ({url})"
        self.endpoint_url: str | None = None
        self.foreign, self.anonymous, self.guarded = foreign, anonymous, guarded
        self._options = dict(options, url=url)
        self._fs: Any = None
        self._lock = threading.Lock()
        self._base = self._root = self._tmp = ""
        self.jobs = min(16, 4 * (os.cpu_count() or 1))
        self._token = placement.shared_token()  # names this run's uploads: a sweep here can ask its pid
        self._count = itertools.count()

    # -- plumbing ---------------------------------------------------------

    @property
    def fs(self) -> Any:
        with self._lock:  # transfer threads ask for it at once: one connection pool, not one each
            return self._fs if self._fs is not None else self._connect()

    @_watched
    def _connect(self) -> Any:
        if self._fs is None:
            from dvc.config import ConfigError as DvcConfigError

            _fs_class(self.name, self._options)
            try:
                self._fs, path = self._open(self._options)
            except DvcConfigError as exc:
                raise RemoteSettingInvalid(self.name, self.url, _first_line(exc)) from exc
            except Exception as exc:
                raise self._fail(exc, "connect") from exc
            self._base = path
            self._root = self._fs.join(path, "files", "md5") if path else "files/md5"
            self._tmp = self._fs.join(path, TMP_DIR) if path else TMP_DIR
            self.jobs = min(self.jobs, getattr(self._fs, "jobs", self.jobs) or self.jobs)
        return self._fs

    def _open(self, settings: dict[str, Any]) -> tuple[Any, str]:
        """A DVC filesystem for ``settings`` (the timeouts set where the remote sets none), and its root path."""
        from dvc.fs import get_cloud_fs

        options = dict(settings)
        for key in _TIMEOUTS.get(self.kind, ()):
            options.setdefault(key, TIMEOUT)
        options.pop("name", None)
        if self.foreign:  # a prompt for a password to a host the repository chose
            options.pop("ask_password", None)
            options.pop("ask_passphrase", None)
        cls, config, path = get_cloud_fs({}, **options)
        fs = cls(**config)
        if self.kind == "ssh":
            # dvc-ssh forwards the user's ssh-agent to every host: whoever holds the
            # forwarded socket signs as the user elsewhere while the pull runs. SFTP
            # never needs it, and the host may be one a cloned .dvc/config chose.
            fs.fs_args["agent_forwarding"] = False
        if self.foreign:
            fs.fs_args.update(_restraints(self.kind, self.anonymous))
        if self.guarded and self.kind in ("http", "https"):
            fs.fs_args["client_kwargs"].update(_no_netrc(settings["url"]))
        if self.guarded and self.kind == "ssh":
            # sshfs passes known_hosts=None (no check) unless told; asyncssh's default, (),
            # reads ~/.ssh/known_hosts (or ~/.ssh/config's UserKnownHostsFile) as ssh does.
            fs.fs_args["known_hosts"] = ()
        return fs, path

    def _makedirs(self, path: str) -> None:
        fs = self.fs
        try:
            fs.makedirs(path, exist_ok=True)
        except FileNotFoundError:
            if self.kind not in ("webdav", "webdavs"):
                raise
            # DVC's WebDAV filesystem is rooted at the URL's folder and cannot
            # create that folder itself (`dvc push` fails there too): make it
            # from the server's root, with the same settings, then go on.
            from urllib.parse import urlsplit

            parts = urlsplit(self.url)
            top, _ = self._open(dict(self._options, url=f"{parts.scheme}://{parts.netloc}"))
            top.makedirs(parts.path.strip("/"), exist_ok=True)
            fs.makedirs(path, exist_ok=True)

    def _rename(self, tmp: str, final: str) -> None:
        if self.kind == "gs":
            # An object store renames by copying: gcsfs first tries GCS's newer
            # moveTo call and retries it for ~30 s where a server lacks it (its
            # emulators do); copy-then-delete is its own fallback, done directly.
            self.fs.copy(tmp, final)
            _quietly(self.fs.rm_file, tmp)
        else:
            self.fs.mv(tmp, final)

    def path(self, md5: str) -> str:
        fs = self.fs
        rel = object_relpath(md5)
        return str(fs.join(self._root, *rel.split("/")))

    def _fail(self, exc: BaseException, action: str) -> RemoteError:
        if self.kind == "ssh" and _kind(exc) == "host-key":
            from urllib.parse import urlsplit

            parts = urlsplit(self.url)
            try:
                port = parts.port or int(self._options.get("port") or 22)
            except ValueError:
                port = 22
            return HostKeyNotTrusted(self.name, self.url, parts.hostname or "", port)
        return RemoteFsError(self.name, self.url, self.kind, action, _kind(exc), _first_line(exc))

    # -- the store interface ---------------------------------------------

    @_watched
    def size(self, md5: str) -> int | None:
        path = self.path(md5)
        try:
            info = self.fs.info(path)
        except FileNotFoundError as exc:
            if exc.__cause__ is not None and _kind(exc.__cause__) in ("timeout", "unreachable"):
                raise self._fail(exc.__cause__, f"look up {md5}") from exc  # fsspec's HTTP says "not found" for any failure
            return None
        except Exception as exc:
            raise self._fail(exc, f"look up {md5}") from exc
        if info.get("type") == "directory":
            return None
        size = info.get("size")
        return int(size) if size is not None else 0

    def has(self, md5: str) -> bool:
        return self.size(md5) is not None

    def existing(self, md5s: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(md5s))
        if len(wanted) <= 1:
            return {m for m in wanted if self.has(m)}
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(self.jobs, len(wanted))) as pool:
            found = list(pool.map(self.has, wanted))
        return {m for m, ok in zip(wanted, found, strict=False) if ok}

    @_watched
    def check_writable(self) -> None:
        try:
            self.fs  # noqa: B018 -- connects, which sets _root
            self._makedirs(self._root)
        except Exception as exc:
            raise self._fail(exc, "create its folder") from exc

    @_watched
    def put(self, src: Path, md5: str, progress: Progress | None = None) -> None:
        """Upload ``src`` as object ``md5`` through a temporary name, hashing
        the very bytes sent; only an object whose content is its name is kept."""

        def upload(tmp: str) -> None:
            with open(src, "rb") as fh:
                stream = _HashingReader(fh, progress)
                self.fs.upload_fobj(stream, tmp, size=src.stat().st_size)
            if stream.digest.hexdigest() != expected(md5):
                raise ObjectChanged(str(src), stream.digest.hexdigest(), md5, CHANGED_HINT)

        self._write_through(self.path(md5), md5, upload, f"write {md5}")

    def _write_through(self, final: str, name: str, write: Callable[[str], None], action: str) -> None:
        """Fill ``final`` through a new name in the upload folder (``write``
        fills it, and may refuse it with an MlverError) and one rename. One
        folder for every upload in flight, outside DVC's files/: a killed
        push's leftovers are found there (clean_interrupted), and no listing
        of files/md5 ever sees a half-written object."""
        fs = self.fs
        tmp = fs.join(self._tmp, f"{name}.{self._token}-{next(self._count)}")
        try:
            fs.makedirs(self._tmp, exist_ok=True)
            fs.makedirs(fs.parent(final), exist_ok=True)
            write(tmp)
            self._rename(tmp, final)
        except BaseException as exc:
            _quietly(fs.rm_file, tmp)
            if isinstance(exc, Exception) and not isinstance(exc, MlverError):
                raise self._fail(exc, action) from exc
            raise

    @_watched
    def get(self, md5: str, dst: Path, progress: Progress | None = None) -> str:
        """Download an object to ``dst`` atomically, only if its bytes are that
        object; returns the md5 of what arrived."""
        path = self.path(md5)
        try:
            # At most one byte past the size the remote gives (a manifest: past what is ever
            # read of one): a body that streams on is refused by its md5, not written to disk
            # to its end (to a full disk for a server that never stops).
            opened, size = self._open_object(path)
            with opened as body:
                capped = cast(BinaryIO, _capped(body, MAX_READ if md5.endswith(".dir") else size,
                                                Pace(self.name, self.url, f"read {md5}")))  # (reads as one)
                return stream_hashing(capped, dst, progress, md5=md5)
        except BaseException as exc:
            if isinstance(exc, FileNotFoundError) and not Path(dst).parent.is_dir():
                raise
            if isinstance(exc, FileNotFoundError):
                raise ObjectNotInRemote(md5, self.label) from exc
            if isinstance(exc, Exception) and not isinstance(exc, MlverError) \
                    and not _local_os_error(exc):
                raise self._fail(exc, f"read {md5}") from exc
            raise

    def _open_object(self, path: str) -> tuple[Any, int | None]:
        """The object's file to read in order, and its size (None: not given). Over
        http(s) a stream: fsspec's random-access file waits for a whole block in one
        read, so a server that trickles was never seen between reads (``Pace``)."""
        if self.kind not in ("http", "https"):
            return self.fs.open(path, "rb"), None
        size = self.fs.info(path).get("size")  # (FileNotFoundError when absent, as open's)
        return self.fs.open(path, "rb", block_size=0), size if isinstance(size, int) and size > 0 else None

    @_watched
    def read(self, md5: str) -> bytes | None:
        # (A directory manifest, read whole: bounded, a longer one is refused by its md5;
        # a server that streams on would have filled memory.)
        return self._read_upto(lambda: self.path(md5), MAX_READ, f"read {md5}")

    def _read_upto(self, locate: Callable[[], str], limit: int, action: str) -> bytes | None:
        """At most ``limit`` + 1 bytes of the file ``locate()`` names (inside the
        error wrapping, as is the opening); None when there is none."""
        try:
            opened, _ = self._open_object(locate())
            with opened as body:
                reader = _capped(body, limit, Pace(self.name, self.url, action))
                return b"".join(iter(lambda: reader.read(CHUNK), b""))
        except FileNotFoundError:
            return None
        except MlverError:
            raise
        except Exception as exc:
            raise self._fail(exc, action) from exc

    @_watched
    def md5_of(self, md5: str) -> str | None:
        from mlver import waiting

        digest = hashlib.md5()
        try:
            opened, size = self._open_object(self.path(md5))
            with opened as body:
                reader = _capped(body, size, Pace(self.name, self.url, f"read {md5}"))  # (as get reads)
                while chunk := reader.read(CHUNK):
                    digest.update(chunk)
                    waiting.moved()
        except FileNotFoundError:
            return None
        except MlverError:
            raise
        except Exception as exc:
            raise self._fail(exc, f"read {md5}") from exc
        return digest.hexdigest()

    @_watched
    def remove(self, md5: str) -> None:
        try:
            self.fs.rm_file(self.path(md5))
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise self._fail(exc, f"delete {md5}") from exc

    @_watched
    def objects(self) -> dict[str, tuple[int, float]]:
        """Every object stored -> (size, mtime); anything else is left out."""
        from mlver.domain.validate import MD5

        fs = self.fs
        found: dict[str, tuple[int, float]] = {}
        try:
            listing = fs.fs.find(self._root, detail=True)  # fsspec's own: sizes and times in one walk
        except FileNotFoundError:
            return found
        except NotImplementedError as exc:
            raise RemoteCannotList(self.label, self.kind) from exc
        except Exception as exc:
            raise self._fail(exc, "list the remote") from exc
        for path, entry in listing.items():
            parts = str(path).rstrip("/").rsplit("/", 2)
            name = "".join(parts[-2:]) if len(parts) == 3 else ""
            if len(parts[-2]) == 2 and MD5.fullmatch(name) and entry.get("type") != "directory":
                found[name] = (int(entry.get("size") or 0), _mtime(entry))
        return found

    # mlver's own small files beside the objects (gc manifests), outside files/md5 so DVC leaves them be.

    def _meta(self, relpath: str) -> str:
        from mlver.adapters.storage import check_meta_path

        fs = self.fs
        return str(fs.join(self._base, *check_meta_path(relpath).split("/")) if self._base
                   else check_meta_path(relpath))

    @_watched
    def meta_names(self, folder: str) -> list[str]:
        fs = self.fs
        try:
            entries = fs.ls(self._meta(folder), detail=True)
        except FileNotFoundError:
            return []
        except Exception as exc:
            raise self._fail(exc, f"list {folder}") from exc
        names = (str(e["name"]).rstrip("/").rsplit("/", 1)[-1] for e in entries if e.get("type") != "directory")
        return sorted(n for n in names if not n.startswith("."))

    @_watched
    def meta_read(self, relpath: str, limit: int) -> bytes | None:
        """At most ``limit`` + 1 bytes of the file (the caller refuses a longer one)."""
        return self._read_upto(lambda: self._meta(relpath), limit, f"read {relpath}")

    @_watched
    def meta_write(self, relpath: str, data: bytes) -> None:
        """Write through the upload folder and one rename, so a reader never sees half a file."""
        self._write_through(self._meta(relpath), "meta", lambda tmp: self.fs.pipe_file(tmp, data), f"write {relpath}")

    @_watched
    def clean_interrupted(self) -> int:
        """Delete what killed pushes left in the upload folder (``_abandoned``).
        Returns how many; a remote that cannot list (plain HTTP) or a
        failure to clean is no reason to fail the push."""
        fs = self.fs
        try:
            entries = fs.ls(self._tmp, detail=True)
        except (FileNotFoundError, NotImplementedError):
            return 0
        except Exception:
            return 0  # the push itself will say what is wrong with the remote
        removed = 0
        for entry in entries:
            if isinstance(entry, dict) and self._abandoned(entry):
                _quietly(fs.rm_file, entry["name"])
                removed += 1
        return removed

    def _abandoned(self, entry: dict[str, Any]) -> bool:
        """Whether a listed entry of the upload folder is a killed push's: a
        file in that very folder (the server names what it lists: a name
        elsewhere is not taken), named as mlver names an upload, and made by
        a run of this machine whose pid is gone, or else untouched for
        STALE_UPLOAD (another client's push may be writing it). Whatever else
        is there was not made by mlver, or may still be in use: it stays."""
        import time

        name = entry.get("name")
        if not isinstance(name, str) or entry.get("type") == "directory":
            return False
        folder, _, base = name.rstrip("/").rpartition("/")
        ours = _UPLOAD.fullmatch(base)
        if ours is None or folder.strip("/") != self._tmp.strip("/"):
            return False
        token = ours.group(1)
        if token is not None and token.split("-")[2][:8] == placement.run_tag():
            return not placement.alive(int(token.split("-")[1]))
        return time.time() - _mtime(entry) > STALE_UPLOAD

    # -- beyond the store interface ---------------------------------------

    @_watched
    def check(self) -> list[str]:
        """Prove access step by step: list, write, read back (and clean up).
        An http(s) remote is read over plain HTTP: listing proves it, and a
        server that refuses the upload is reported read-only, not broken."""
        fs = self.fs
        base = fs.parent(self._root)
        try:
            try:
                if fs.exists(base):
                    fs.ls(base)
                done = ["list"]
            except NotImplementedError:  # plain HTTP has no listing: reaching the server is what it proves
                done = ["reach"]
        except Exception as exc:
            raise self._fail(exc, "list the remote") from exc
        probe = fs.join(base, f".mlver-check-{uuid.uuid4().hex}")
        payload = b"mlver remote check\n"
        try:
            self._makedirs(base)
            fs.pipe_file(probe, payload)
        except Exception as exc:
            if self.kind in ("http", "https"):
                return done + ["read-only (the server refused a write)"]
            raise self._fail(exc, "write a test object") from exc
        done.append("write")
        try:
            got = fs.cat_file(probe)
        except Exception as exc:
            raise self._fail(exc, "read the test object back") from exc
        finally:
            _quietly(fs.rm_file, probe)
        if got != payload:
            raise RemoteAltersData(self.name, "check the server: something between mlver and it rewrites files")
        done.append("read")
        return done


def _capped(body: Any, limit: int | None = None, pace: Pace | None = None) -> Any:
    """``body`` read to at most one byte past ``limit``, or past the size the
    remote gives for it (no bound when it gives none), each read told to ``pace``."""
    if limit is None:
        size = getattr(body, "size", None)
        limit = size if isinstance(size, int) and size >= 0 else None
    return _Capped(body, limit + 1 if limit is not None else None, pace)


class _Capped:
    """A read-only view of a file that ends after ``left`` bytes (None: where the file does)."""

    def __init__(self, fh: Any, left: int | None, pace: Pace | None = None) -> None:
        self._fh, self._left, self._pace = fh, left, pace

    def read(self, n: int = -1) -> bytes:
        if self._left is not None and self._left <= 0:
            return b""
        want = -1 if n is None or n < 0 else n
        if self._left is not None:
            want = self._left if want < 0 else min(want, self._left)
        chunk: bytes = self._fh.read(want)
        if self._left is not None:
            self._left -= len(chunk)
        if self._pace is not None:
            self._pace.moved(len(chunk))
        return chunk


class _HashingReader:
    """A read-only view of a file that hashes (and reports) what is read through it."""

    def __init__(self, fh: Any, progress: Progress | None) -> None:
        self._fh = fh
        self._progress = progress
        self.digest = hashlib.md5()

    def read(self, n: int = -1) -> bytes:
        from mlver import waiting

        chunk: bytes = self._fh.read(n)
        self.digest.update(chunk)
        waiting.moved()  # the upload flows, whether or not anyone watches its progress
        if chunk and self._progress:
            self._progress(len(chunk))
        return chunk


def _mtime(entry: dict[str, Any]) -> float:
    """A listing entry's modification time (seconds since the epoch), or now when it has none."""
    import datetime as dt
    import time

    value = entry.get("mtime", entry.get("last_modified", entry.get("modified", entry.get("created"))))
    if isinstance(value, dt.datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=dt.UTC).timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return time.time()  # unknown: never old enough to delete


def _quietly(fn: Callable[[str], Any], path: str) -> None:
    try:
        fn(path)
    except Exception:
        pass  # cleanup of a temporary name: the error that led here matters more


def _local_os_error(exc: BaseException) -> bool:
    # A full disk or a missing folder on this machine is not the remote's fault.
    return isinstance(exc, OSError) and exc.errno is not None and type(exc).__module__ == "builtins" \
        and not isinstance(exc, (ConnectionError, TimeoutError))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _kind(exc: BaseException) -> str:
    """What went wrong, as a key of RemoteFsError.KINDS (the class names of
    asyncssh, aiohttp and azure are read by name: they may not be installed)."""
    import asyncio

    seen: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in seen:
        seen.append(cause)
        cause = cause.__cause__ or cause.__context__
    names = {c.__name__ for e in seen for c in type(e).__mro__}
    if any(isinstance(e, (asyncio.TimeoutError, TimeoutError)) for e in seen) or \
            names & {"ServerTimeoutError", "ConnectionTimeoutError", "SocketTimeoutError", "ServiceResponseTimeoutError"}:
        return "timeout"
    # An HTTP status on the exception: webdav4's and azure's status_code, aiohttp's status.
    statuses = {getattr(e, "status_code", None) or getattr(e, "status", None) for e in seen}
    if "HostKeyNotVerifiable" in names:
        return "host-key"
    if names & {"PermissionDenied", "ClientAuthenticationError", "AuthError"} or \
            401 in statuses:
        return "credentials"
    if any(isinstance(e, PermissionError) for e in seen) or 403 in statuses:
        return "access-denied"
    if any(isinstance(e, (ConnectionError, OSError)) and getattr(e, "errno", None) in (111, 113, 101, 99)
           for e in seen) or names & {"ClientConnectorError", "ServiceRequestError", "ConnectionLost",
                                      "DisconnectError", "ServerDisconnectedError", "gaierror"}:
        return "unreachable"
    if names & {"ResourceNotFoundError"}:
        return "not-found"
    return "other"
