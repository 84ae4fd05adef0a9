"""Which remotes a version can be pulled from, tried in order.

A record names the remote it was pushed to, but that may be a per-machine
remote (``mlver-local``) and the objects may since have gone to team
storage. So a pull asks, in order: ``-r NAME`` alone when given; else the
default remote, the record's remote, the default remote named by
``.dvc/config`` at the version's commit, and the one at the default branch's
tip. The first that holds an object serves it; every object is md5-checked
whatever served it. ``--remote-config key=value`` is merged into the remote's
settings, as ``dvc artifacts get --remote-config`` does.

A ``.dvc/config`` read from history or from another repository is not the
user's own configuration: settings that pick credentials or run commands
(keyfile, password, bearer_token_command, ...) are dropped from it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlver.adapters import dvc, git
from mlver.adapters.storage import Progress
from mlver.adapters.verified import expected
from mlver.errors import (
    NoDefaultRemote,
    NoSharedDefault,
    ObjectNotInRemote,
    RemoteError,
    RemoteNotShared,
    UnknownRemote,
    UnreadableValue,
)
from mlver.models import Record
from mlver.project import Project

if TYPE_CHECKING:
    from mlver.adapters.remotestat import Ledger

# Options of a remote that choose credentials, send secrets or run programs:
# never taken from a config the user did not write.
UNTRUSTED = frozenset({
    "keyfile", "password", "passphrase", "ask_password", "ask_passphrase", "gss_auth", "allow_agent",
    "credentialpath", "configpath", "profile", "access_key_id", "secret_access_key", "session_token",
    "bearer_token_command", "custom_auth_header", "token", "cert_path", "key_path", "connection_string",
    "sas_token", "account_key", "client_secret", "client_id", "tenant_id", "kerb_ticket", "oss_key_id",
    "oss_key_secret", "gdrive_client_secret", "gdrive_service_account_json_file_path", "sse_customer_key",
})
_KEY = re.compile(r"[a-z][a-z0-9_]*")


def parse_overrides(pairs: Iterable[str] | None) -> dict[str, str]:
    """``key=value`` pairs (``--remote-config``) -> options; ConfigError when malformed."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        key = key.strip().lower()
        if not sep or not _KEY.fullmatch(key):
            raise UnreadableValue("--remote-config", pair.split("=", 1)[0],
                                  "KEY=VALUE, e.g. --remote-config endpointurl=https://minio:9000")
        out[key] = value
    return out


def untrusted(remote: dvc.Remote) -> dvc.Remote:
    """``remote`` without the settings a foreign config may not choose."""
    return dvc.Remote(remote.name, remote.url, {k: v for k, v in remote.options.items() if k not in UNTRUSTED})


def with_overrides(remote: dvc.Remote, overrides: dict[str, str]) -> dvc.Remote:
    if not overrides:
        return remote
    options = {**remote.options, **overrides}
    return dvc.Remote(remote.name, str(options.get("url", remote.url)), options)


class ChainStore:
    """Several remotes as one read-only store: each object comes from the
    first that has it. ``name`` lists them, for messages."""

    def __init__(self, stores: list[tuple[str, Any]],
                 more: Callable[[], list[tuple[str, Any]]] | None = None) -> None:
        """``more``: the remotes to try after ``stores``, found (reading
        history) only when an object is in none of them."""
        self._stores = stores
        self._more = more
        self.name = stores[0][0] if len(stores) == 1 else " or ".join(n for n, _ in stores)
        self.label = self.name
        self.jobs = max(getattr(s, "jobs", 1) for _, s in stores)
        self._where: dict[str, Any] = {}
        self.endpoint_url = getattr(stores[0][1], "endpoint_url", None)
        self.anonymous = getattr(stores[0][1], "anonymous", False)

    def _holder(self, md5: str) -> Any | None:
        if md5 not in self._where:
            self._where[md5] = self._first(lambda store: {md5} if store.has(md5) else set(), {md5}).get(md5)
        return self._where[md5]

    def _first(self, ask: Callable[[Any], set[str]], wanted: set[str]) -> dict[str, Any]:
        """md5 -> the first store holding it; a remote that cannot be asked is
        passed over while another may still hold the object, and is the error
        when none does."""
        found: dict[str, Any] = {}
        failed: list[RemoteError] = []
        for i in range(1 << 16):
            if not wanted - set(found) or (i == len(self._stores) and not self._extend()):
                break
            store = self._stores[i][1]
            try:
                there = ask(store)
            except RemoteError as exc:
                failed.append(exc)
                continue
            for md5 in there:
                found.setdefault(md5, store)
        if failed and wanted - set(found):
            raise failed[0]
        return found

    def _extend(self) -> bool:
        more, self._more = self._more, None
        if more is None:
            return False
        extra = more()
        self._stores = self._stores + extra
        return bool(extra)

    def has(self, md5: str) -> bool:
        return self._holder(md5) is not None

    def size(self, md5: str) -> int | None:
        store = self._holder(md5)
        return store.size(md5) if store is not None else None

    def existing(self, md5s: Iterable[str]) -> set[str]:
        wanted = set(md5s)
        found: set[str] = set()

        def ask(store: Any) -> set[str]:
            there: set[str] = store.existing(wanted - found)
            found.update(there)
            return there

        for md5, store in self._first(ask, wanted).items():
            self._where.setdefault(md5, store)
        return found

    tee = True  # get() passes ``also`` on to the stores that can fill it

    def get(self, md5: str, dst: Path, progress: Progress | None = None, also: Path | None = None) -> str:
        """The first intact copy: a corrupt one in one remote is passed over
        for another remote's (the caller checks the md5 of what it gets)."""
        store = self._holder(md5)
        if store is None:
            raise ObjectNotInRemote(md5, f"any of {self.name}")
        got: str = _get(store, md5, dst, progress, also)
        for _name, other in self._stores:
            if got == expected(md5):
                break
            if other is not store and other.has(md5):
                got, self._where[md5] = _get(other, md5, dst, progress, also), other
        return got

    def read_small(self, md5: str) -> bytes | None:
        """A small object's bytes from the first remote holding it, unverified
        (None: read it with ``get``, which passes a corrupt copy over for another's)."""
        store = self._holder(md5)
        if store is None:
            raise ObjectNotInRemote(md5, f"any of {self.name}")
        read = getattr(store, "read_small", None)
        return read(md5) if read is not None else None

    def name_for(self, md5: str) -> str:
        """The remote that served (or holds) ``md5``, for messages."""
        store = self._holder(md5)
        return next((n for n, s in self._stores if s is store), self.name)

    def read(self, md5: str) -> bytes | None:
        store = self._holder(md5)
        return store.read(md5) if store is not None else None

    def md5_of(self, md5: str) -> str | None:
        store = self._holder(md5)
        return store.md5_of(md5) if store is not None else None


def _get(store: Any, md5: str, dst: Path, progress: Progress | None, also: Path | None) -> str:
    if also is None:
        return str(store.get(md5, dst, progress))
    # What a remote tried before wrote there goes first: a store that cannot
    # fill it must leave no file, or another remote's corrupt bytes would be placed.
    also.unlink(missing_ok=True)
    return str(store.get(md5, dst, progress, also) if getattr(store, "tee", False) else store.get(md5, dst, progress))


def _chain(stores: list[tuple[str, Any]],
           more: Callable[[], list[tuple[str, Any]]] | None = None) -> tuple[str, Any]:
    if len(stores) == 1 and more is None:
        return stores[0]
    chain = ChainStore(stores, more)
    return chain.name, chain


def _ordered(candidates: list[tuple[str | None, dict[str, dvc.Remote]]]) -> list[dvc.Remote]:
    """The remotes ``(name, remotes it is looked up in)`` name, in order, once each (by URL)."""
    out: list[dvc.Remote] = []
    seen: set[tuple[str, str]] = set()
    for name, remotes in candidates:
        if not name or name not in remotes:
            continue
        remote = remotes[name]
        key = (remote.url.rstrip("/"), str(remote.options.get("endpointurl") or ""))
        if key not in seen:
            seen.add(key)
            out.append(remote)
    return out


def local_store(project: Project, record: Record, remote: str | None = None,
                overrides: dict[str, str] | None = None, ledger: Ledger | None = None) -> tuple[str, Any]:
    """The store a pull of ``record`` in ``project`` reads (see the module's docstring);
    every folder remote in it holds ``ledger`` (the pull's record of their objects)."""
    from mlver.api.objects import foreign_store, store_for

    overrides = overrides or {}
    remotes, default = dvc.remotes(project.root)
    config_dir = project.root / ".dvc"
    if remote:
        if remote not in remotes:
            raise UnknownRemote(remote, sorted(remotes))
        return remote, store_for(with_overrides(remotes[remote], overrides), config_dir, ledger=ledger)
    primary = _ordered([(default, remotes), ((record.doc.get("artifact") or {}).get("remote"), remotes)])
    if not primary and overrides.get("url"):
        primary = [dvc.Remote("remote-config", overrides["url"], {})]

    def make(chosen: dvc.Remote, foreign: bool = False) -> Any:
        chosen = with_overrides(chosen, overrides)
        if foreign:
            # A remote only history names: its endpoint gets none of the user's credentials.
            return foreign_store(chosen, "this repository's history", False, None, ledger)
        return store_for(chosen, config_dir, ledger=ledger)

    def from_history() -> list[tuple[str, Any]]:
        seen = {(r.url.rstrip("/"), str(r.options.get("endpointurl") or "")) for r in primary}
        out = []
        for found, foreign in _history_defaults(project, record, remotes):
            key = (found.url.rstrip("/"), str(found.options.get("endpointurl") or ""))
            if key not in seen:
                seen.add(key)
                out.append((found.name, make(found, foreign)))
        return out

    stores = [(r.name, make(r)) for r in primary] or from_history()
    if not stores:
        raise NoDefaultRemote("set one with `mlver init` or `mlver remote add NAME URL --default`, or pass -r NAME")
    return _chain(stores, from_history if primary else None)


def _history_defaults(project: Project, record: Record,
                      remotes: dict[str, dvc.Remote]) -> list[tuple[dvc.Remote, bool]]:
    """(remote, foreign) for the default remote ``.dvc/config`` names at the
    record's commit and at the default branch's tip; foreign when this
    machine does not configure it by that name and URL (then only the shared
    settings count, less those that pick credentials)."""
    local = not git.tracked(project.root, ".dvc/config.local")
    found = []
    for rev in dict.fromkeys(r for r in (record.commit, git.default_branch(project.root)) if r):
        text = git.read_blobs(project.root, [f"{rev}:.dvc/config"]).get(f"{rev}:.dvc/config")
        if text is None:
            continue
        shared, name = dvc.remotes_in_text(text.decode(errors="replace"))
        if not name or name not in shared:
            continue
        own = remotes.get(name)
        if own is not None and own.url == shared[name].url:
            # That commit's shared remote, with this machine's settings over it; only while it still
            # goes where the user's does: a commit that kept the name and URL but named its own
            # endpoint (or port) would get the user's credentials there.
            merged, _ = dvc.remotes_over(project.root, text.decode(errors="replace"), local=local)
            if _goes_to(merged[name]) == _goes_to(own):
                found.append((merged[name], False))
                continue
        found.append((untrusted(shared[name]), True))
    return found


def _goes_to(remote: dvc.Remote) -> tuple[str, str, str]:
    """Where a remote's requests (and the credentials they carry) are sent."""
    return (remote.url.rstrip("/"), str(remote.options.get("endpointurl") or "").rstrip("/"),
            str(remote.options.get("port") or ""))


def repo_store(bare: Path, git_url: str, record: Record, label: str, config_text: str, remote: str | None,
               overrides: dict[str, str], make: Callable[[dvc.Remote], Any]) -> tuple[str, Any]:
    """The store a ``pull --repo`` of ``record`` reads: ``make`` builds one
    remote's store (with the endpoint-trust rules of ``pull --repo``)."""
    from mlver.adapters import gitremote

    remotes, default = dvc.remotes_in_text(config_text)
    tip_remotes: dict[str, dvc.Remote] = {}
    tip_default = None
    record_remote = (record.doc.get("artifact") or {}).get("remote")
    needs_tip = (remote and remote not in remotes) or not remote and not (
        record_remote in remotes and default in remotes and record_remote != default) or not remotes
    if needs_tip:
        tip = gitremote.fetch_default_tip(bare, git_url)
        if tip:
            text = git.read_blobs(bare, [f"{tip}:.dvc/config"]).get(f"{tip}:.dvc/config")
            if text is not None:
                tip_remotes, tip_default = dvc.remotes_in_text(text.decode(errors="replace"))
    if remote:
        found = remotes.get(remote) or tip_remotes.get(remote)
        if found is None and not overrides.get("url"):
            shared = sorted(set(remotes) | set(tip_remotes))
            raise RemoteNotShared(git_url, remote, shared)
        ordered = [found or dvc.Remote(remote, overrides["url"], {})]
    else:
        ordered = _ordered([(record_remote, remotes), (default, remotes), (tip_default, tip_remotes)])
    if not ordered and overrides.get("url"):
        ordered = [dvc.Remote("remote-config", overrides["url"], {})]
    if not ordered:
        shared = sorted(set(remotes) | set(tip_remotes))
        raise NoSharedDefault(git_url, label, "the commit" if record.derived else "the record",
                              str(record_remote or default), shared)
    return _chain([(r.name, make(with_overrides(untrusted(r), overrides))) for r in ordered])
