"""Remotes: ``remote add/list/check`` and ``url`` (a presigned HTTPS link to an artifact)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from mlver.adapters import dvc
from mlver.api.objects import remote_store, store_for
from mlver.api.trust import resolve_record_trusted
from mlver.domain import record as rec
from mlver.errors import (
    CredentialsInUrl,
    InvalidRemoteName,
    MalformedUrl,
    ObjectMissing,
    OptionsContradict,
    RecordHasNoArtifact,
    RecordTampered,
    RemoteCannotSign,
    RemoteExists,
    UnreadableValue,
    UrlOfDirectory,
    ValueOutOfRange,
)
from mlver.models import PresignedUrl, RemoteCheck, RemoteInfo
from mlver.models.record import ArtifactRef
from mlver.project import PathLike, Project

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _info(name: str, remote: dvc.Remote, level: str, default: str | None) -> RemoteInfo:
    return RemoteInfo(name, remote.url, level, name == default, remote.options.get("endpointurl"))


def refuse_credentials(name: str, what: str, url: str | None) -> None:
    """CredentialsInUrl for a URL with a secret in its userinfo
    (``user:password@``, or an http(s) token as user): remotes are shared in
    .dvc/config, and credentials belong to one machine. A bare user name
    (``ssh://deploy@host``) is no secret."""
    if url and "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        userinfo = url.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[0]
        if ":" in userinfo or url.lower().startswith(("http://", "https://", "webdav", "webhdfs")):
            raise CredentialsInUrl(name, what)


def check_url(name: str, url: str) -> str:
    """``url`` as it goes into DVC's config (a directory made absolute); a
    RemoteError, before anything is written, for one mlver cannot use."""
    if url.startswith("s3://"):
        from mlver.adapters.s3 import parse_url

        parse_url(url)  # a malformed URL fails here, before anything is written
        return url
    if "://" in url and not url.startswith("file://"):
        from mlver.adapters.dvcfs import check_supported

        check_supported(name, url)  # a type whose DVC plugin is missing says which one
        return url
    return str(Path(url.removeprefix("file://")).expanduser().resolve())


def remote_add(name: str, url: str, endpoint_url: str | None = None, default: bool = False,
               local: bool = False, force: bool = False, repo: PathLike = None, shared: bool = False) -> RemoteInfo:
    """Add a DVC remote. A network remote (s3, ssh, azure, http, ...) goes to
    ``.dvc/config`` (shared through git); a directory goes to
    ``.dvc/config.local`` (it is this machine's path), unless ``shared``
    (a mount every clone has, e.g. NFS). Credentials are never written: they
    come from the environment, ~/.aws or ``dvc remote modify --local``."""
    project = Project.find(repo)
    if not _NAME.fullmatch(name):
        raise InvalidRemoteName(name)
    if shared and local:
        raise OptionsContradict("--shared", "--local",
                                "--shared writes .dvc/config (in git), --local writes .dvc/config.local: pick one")
    for what, value in (("URL", url), ("endpoint URL", endpoint_url)):
        refuse_credentials(name, what, value)  # first, so no later message can repeat the secret
    is_dir = "://" not in url or url.startswith("file://")
    url = check_url(name, url)
    if is_dir and not shared:
        local = True
    if endpoint_url is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", endpoint_url):
        raise MalformedUrl("endpoint URL", endpoint_url, "", "e.g. --endpoint-url https://minio.example.com:9000")
    remotes, _ = dvc.remotes(project.root)
    if name in remotes and not force:
        raise RemoteExists(name, remotes[name].url)
    options = {"endpointurl": endpoint_url} if endpoint_url else None
    level = "local" if local else "repo"
    dvc.set_remote(project.root, name, url, level, default, options)
    remotes, current = dvc.remotes(project.root)
    return _info(name, remotes[name], level, current)


def remote_list(repo: PathLike = None) -> list[RemoteInfo]:
    """Every configured remote, the default first."""
    project = Project.find(repo)
    remotes, default = dvc.remotes(project.root)
    levels = dvc.remote_levels(project.root)
    rows = [_info(n, r, levels.get(n, "repo"), default) for n, r in remotes.items()]
    return sorted(rows, key=lambda r: (not r.default, r.name))


def remote_check(name: str | None = None, repo: PathLike = None) -> RemoteCheck:
    """Prove the remote can be listed, written and read; a RemoteError says why not."""
    project = Project.find(repo)
    name, store = remote_store(project, name)
    remotes, _ = dvc.remotes(project.root)
    if hasattr(store, "check"):
        can = store.check()  # S3 and the DVC-filesystem types prove each step
    else:
        store.check_writable()  # a directory: creating and deleting a probe file proves it
        can = ["list", "write", "read"]
    from mlver.api.objects import is_legacy_shared, shared_storage_note

    note = shared_storage_note(project.root) if is_legacy_shared(remotes[name].url, project.root / ".dvc") else None
    return RemoteCheck(name, remotes[name].url, tuple(can), remotes[name].options.get("endpointurl"),
                       (note,) if note else ())


def parse_expiry(text: str) -> int:
    """``1h``, ``30m``, ``7d``, ``1h30m`` or plain seconds -> seconds (S3 allows up to 7 days)."""
    from mlver.adapters.s3 import MAX_EXPIRY

    text = text.strip().lower()
    if text.isdigit():
        seconds = int(text)
    elif re.fullmatch(r"(\d+[smhd])+", text):
        seconds = sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)([smhd])", text))
    else:
        raise UnreadableValue("the expiry", text, "e.g. 1h, 30m, 7d or a number of seconds")
    if not 1 <= seconds <= MAX_EXPIRY:
        raise ValueOutOfRange("expiry", text, "S3 signs URLs for 1 second to 7 days", "pass e.g. --expires 7d at most")
    return seconds


def url(ref: str, expires: str = "1h", remote: str | None = None, repo: PathLike = None) -> PresignedUrl:
    """A presigned HTTPS GET URL for a version's artifact in an S3 remote."""
    seconds = parse_expiry(expires)
    project = Project.find(repo)
    parsed, record, version = resolve_record_trusted(project, ref)
    artifact = record.typed.artifact or ArtifactRef()
    md5 = artifact.md5
    label = f"{parsed.model}@{version}" if version else str(parsed)
    if not record.intact:
        raise RecordTampered(parsed.model, label, rec.record_path(parsed.model))  # a link is handed on: it must be to what was recorded
    if not md5:
        raise RecordHasNoArtifact(label, parsed.model)
    if md5.endswith(".dir"):
        raise UrlOfDirectory(label, artifact.path)
    if remote is None:
        # The default remote, unless it is a directory and the remote the
        # record was pushed to is S3: only S3 can sign a URL.
        remotes, default = dvc.remotes(project.root)
        s3 = [n for n in (default, artifact.remote) if n in remotes and remotes[n].url.startswith("s3://")]
        remote = s3[0] if s3 else default
    name, store = remote_store(project, remote)
    if not hasattr(store, "presign"):
        kind = f"on {store.kind}://" if hasattr(store, "kind") else "a directory"
        raise RemoteCannotSign(name, kind, label)
    if not store.has(md5):
        raise ObjectMissing(f"{label} {artifact.path}", md5, [f"remote {name}"],
                            f"push it first with `mlver push {label} -r {name}`")
    link = store.presign(md5, seconds, Path(artifact.path or "artifact").name)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return PresignedUrl(str(parsed), parsed.model, version, md5, name, link, seconds,
                        until.strftime("%Y-%m-%dT%H:%M:%SZ"))


__all__ = ["remote_add", "remote_list", "remote_check", "url", "parse_expiry", "store_for"]
