"""How the running mlver was installed, as the one pip line that installs
exactly it again (``mlver ci`` puts it in the workflow it prints).

Never a bare ``pip install mlver``: that installs whatever a package index
calls mlver today, or whoever registers the name, in a job that holds a
write token. The facts come from the installed distribution (PEP 610's
``direct_url.json`` says whether pip got it from a URL, a folder or a VCS;
none means an index) and, for a source checkout, from git.
"""
from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

NAME = "mlver"


@dataclass(frozen=True)
class Checkout:
    """A git checkout that holds the running mlver's source."""

    root: str  # the folder with pyproject.toml
    commit: str
    remote: str | None  # origin's URL, if there is one
    subdirectory: str = ""  # the folder inside the repository, "" at its top
    dirty: bool = False  # tracked files differ from the commit
    pushed: bool = True  # some remote-tracking branch contains the commit


@dataclass(frozen=True)
class Install:
    command: str  # the pip line, quoted for a POSIX shell
    source: str  # index | vcs | archive | checkout | path
    note: str = ""  # what still has to hold for a CI job to run it (a commit pushed, a path it can reach)


def public_url(url: str) -> str:
    """``url`` without credentials: a token in https userinfo never reaches a
    workflow file (an ssh user such as ``git@`` stays: it is not a secret)."""
    parts = urlsplit(url)
    if not parts.netloc or "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    keep = f"{user}@" if parts.scheme.startswith("ssh") or parts.scheme == "git+ssh" else ""
    return urlunsplit(parts._replace(netloc=keep + host))


def git_url(remote: str) -> str:
    """A git remote as pip's ``git+`` URL (scp-like ``git@host:org/repo`` too)."""
    if "://" not in remote and ":" in remote and not remote.startswith("/"):
        host, _, path = remote.partition(":")
        remote = f"ssh://{host}/{path}"
    if remote.startswith("/"):
        remote = "file://" + remote
    return "git+" + public_url(remote)


def _pip(requirement: str) -> str:
    return f"pip install {shlex.quote(requirement)}"


def install_line(version: str, direct_url: dict[str, Any] | None, checkout: Checkout | None,
                 folder: str | None) -> Install:
    """The pip line for these facts: ``direct_url`` of the distribution that
    runs (None: installed from an index, or not installed at all when
    ``folder`` is the source folder it runs from), ``checkout`` the git
    state of that folder."""
    if direct_url is None and folder is None:
        return Install(_pip(f"{NAME}=={version}"), "index")
    if direct_url is not None:
        url = str(direct_url.get("url") or "")
        vcs = direct_url.get("vcs_info")
        if isinstance(vcs, dict) and vcs.get("vcs") == "git" and vcs.get("commit_id"):
            sub = direct_url.get("subdirectory")
            target = f"{git_url(url)}@{vcs['commit_id']}" + (f"#subdirectory={sub}" if sub else "")
            return Install(_pip(f"{NAME} @ {target}"), "vcs")
        archive = direct_url.get("archive_info")
        if isinstance(archive, dict) and not url.startswith("file:"):
            digest = archive.get("hash") or ""
            if not digest and isinstance(archive.get("hashes"), dict) and archive["hashes"].get("sha256"):
                digest = "sha256=" + archive["hashes"]["sha256"]
            return Install(_pip(f"{NAME} @ {public_url(url)}" + (f"#{digest}" if digest else "")), "archive")
        if url.startswith("file:") and folder is None:
            path = unquote(urlsplit(url).path)
            return Install(_pip(path), "path", f"{path} is a file on this machine: a CI job cannot reach it; "
                                               "publish it, or pass --install with a line CI can run")
    if checkout is not None and checkout.remote:
        target = f"{git_url(checkout.remote)}@{checkout.commit}"
        if checkout.subdirectory:
            target += f"#subdirectory={checkout.subdirectory}"
        notes = []
        if checkout.dirty:
            notes.append(f"the checkout has changes commit {checkout.commit[:12]} does not")
        if not checkout.pushed:
            notes.append(f"push {checkout.commit[:12]} first: no remote branch has it")
        return Install(_pip(f"{NAME} @ {target}"), "checkout", "; ".join(notes))
    path = checkout.root if checkout is not None else str(folder)
    return Install(_pip(path), "path", f"{path} is a folder on this machine: a CI job cannot reach it; "
                                       "pass --install with a line CI can run (a package index version or a git URL)")


def _direct_url(dist: Any) -> dict[str, Any] | None:
    try:
        text = dist.read_text("direct_url.json")
        doc = json.loads(text) if text else None
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _folder_of(direct_url: dict[str, Any] | None) -> Path | None:
    url = str((direct_url or {}).get("url") or "")
    if "dir_info" not in (direct_url or {}) or not url.startswith("file:"):
        return None
    return Path(unquote(urlsplit(url).path)).resolve()


def _checkout(folder: Path) -> Checkout | None:
    from mlver.adapters import git
    from mlver.errors import MlverError

    try:
        top = git.toplevel(folder)
        commit = git.run(top, "rev-parse", "--verify", "HEAD").strip()
    except MlverError:
        return None
    remote = git.run(top, "remote", "get-url", "origin", check=False).strip() or None
    dirty = bool(git.run(top, "status", "--porcelain", "--untracked-files=no", "--", str(folder), check=False).strip())
    pushed = bool(git.run(top, "branch", "-r", "--contains", commit, check=False).strip())
    sub = folder.relative_to(top.resolve()).as_posix() if folder != top.resolve() else ""
    return Checkout(str(folder), commit, remote, sub, dirty, pushed)


def current() -> Install:
    """The pip line that installs the mlver that is running now."""
    import importlib.metadata as metadata

    import mlver

    package = Path(mlver.__file__).resolve().parent
    source = package.parent
    for dist in metadata.distributions(name=NAME):
        direct = _direct_url(dist)
        folder = _folder_of(direct)
        located = Path(str(dist.locate_file(f"{NAME}/__init__.py"))).resolve().parent
        # The install that runs: an editable one names this folder; any other
        # has its RECORD beside the package it put there (an .egg-info in a
        # source folder is setuptools' note, not an install).
        if folder == source or (located == package and dist.read_text("RECORD") is not None):
            return install_line(dist.version, direct, _checkout(folder) if folder else None,
                                str(folder) if folder else None)
    return install_line(mlver.__version__, None, _checkout(source), str(source))
