"""Reading a git repository we have no clone of: its tags, and single commits.

``git ls-remote`` lists every tag with the commit it peels to without
transferring an object; ``git fetch --depth=1`` of one tag into a throw-away
bare repository brings exactly one commit (with its tree), not the history.
"""
from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from mlver.adapters import git
from mlver.errors import GitMissing, NotAGitRepository, RepositoryNotAnswering

# Seconds a git server may send nothing before a fetch gives up: git's HTTP
# has no read timeout of its own, so a server that accepts the connection
# and never answers would hold `pull --repo` forever.
STALL = 30


def _git(cwd: Path, *args: str, url: str) -> str:
    from mlver import waiting

    env = git._env({"GIT_ASKPASS": "true"})
    stall = _stall(env)
    try:
        with waiting.waiting(f"git repository {url}"):
            proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, env=env)
    except FileNotFoundError as exc:
        raise GitMissing() from exc
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()]
        if stall and any("Operation too slow" in ln or "timed out" in ln.lower() for ln in lines):
            raise RepositoryNotAnswering(url, stall)
        detail = next((ln for ln in lines if ln.startswith("fatal:")), lines[-1] if lines else f"exit {proc.returncode}")
        raise NotAGitRepository(url, detail.removeprefix("fatal: ").strip())
    return proc.stdout.decode(errors="replace")


def _stall(env: dict[str, str]) -> int:
    """The stall limit in force, set in ``env`` where the user chose none (in
    the environment, or git's http.lowSpeedTime/lowSpeedLimit); 0 when off."""
    configured = _configured_low_speed()
    for key, setting, default in (("GIT_HTTP_LOW_SPEED_TIME", "http.lowspeedtime", STALL),
                                  ("GIT_HTTP_LOW_SPEED_LIMIT", "http.lowspeedlimit", 1)):
        if not env.get(key) and setting not in configured:
            env[key] = str(default)
    chosen = env.get("GIT_HTTP_LOW_SPEED_TIME") or configured.get("http.lowspeedtime", "")
    return int(chosen) if chosen.isdigit() else 0


@functools.cache
def _configured_low_speed() -> dict[str, str]:
    listed = subprocess.run(["git", "config", "--get-regexp", r"^http\.lowspeed"], capture_output=True,
                            env=git._env()).stdout.decode(errors="replace")
    return dict(line.partition(" ")[::2] for line in listed.splitlines() if line.strip())


def ls_remote_tags(cwd: Path, url: str) -> list[tuple[str, str, str]]:
    """(tag name, object, commit it points at) for every tag of ``url``."""
    return git.parse_tag_listing(_git(cwd, "ls-remote", "--tags", "--", url, url=url))


def init_bare(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    git.run(path, "init", "-q", "--bare")


def fetch_tags(bare: Path, url: str, names: list[str]) -> None:
    """Fetch tags (their tag objects and commits, one commit deep) into ``bare``."""
    if not names:
        return
    refspecs = [f"refs/tags/{n}:refs/tags/{n}" for n in dict.fromkeys(names)]
    # A local path would be read with git's local shortcuts, which ignore
    # --depth; file:// goes through the same protocol as a remote server.
    source = url
    if "://" not in url and ":" not in url.split("/", 1)[0] and Path(url).exists():
        source = Path(url).resolve().as_uri()
    _git(bare, "fetch", "-q", "--depth=1", "--no-tags", "--no-write-fetch-head", "--", source, *refspecs, url=url)


def has_commit(bare: Path, commit: str) -> bool:
    return git.ok(bare, "cat-file", "-e", f"{commit}^{{commit}}")


def fetch_default_tip(bare: Path, url: str) -> str | None:
    """Fetch the default branch's tip (one commit deep) into ``bare``; its
    commit, or None when the repository has no default branch to fetch."""
    source = url
    if "://" not in url and ":" not in url.split("/", 1)[0] and Path(url).exists():
        source = Path(url).resolve().as_uri()
    try:
        _git(bare, "fetch", "-q", "--depth=1", "--no-tags", "--no-write-fetch-head", "--", source,
             "+HEAD:refs/mlver/tip", url=url)
    except NotAGitRepository:
        return None  # an empty repository, or HEAD names no branch: there is no tip to ask
    return git.run(bare, "rev-parse", "refs/mlver/tip").strip() or None
