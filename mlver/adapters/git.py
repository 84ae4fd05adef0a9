"""Everything mlver asks of git, as subprocess calls.

Reads are done in bulk (one ``for-each-ref``, one ``cat-file --batch``) so
that the registry stays fast at tens of thousands of tags; plain subprocess
beats GitPython here on start-up and per-object cost.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mlver.errors import (
    GitError,
    GitFailed,
    GitMissing,
    IndexLocked,
    InputTooLarge,
    NotARepository,
    RegistryBusy,
    TagExists,
)


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    # Never let git open an editor or ask for credentials behind our back.
    env.setdefault("GIT_TERMINAL_PROMPT", "0")
    env["GIT_EDITOR"] = "true"
    # `git status` and friends refresh the real index under index.lock when
    # they may; a kill -9 of mlver in that moment left git's lock behind and
    # every later git command of the user refused to run. mlver's reads never
    # write the index; its writes take the lock itself (_take_index_lock).
    env["GIT_OPTIONAL_LOCKS"] = "0"
    if extra:
        env.update(extra)
    return env


def run(
    root: Path | str,
    *args: str,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> str:
    """Run git in ``root`` and return stdout as text; GitError on failure."""
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=root,
            input=input,
            capture_output=True,
            env=_env(env),
        )
    except FileNotFoundError as exc:
        raise GitMissing() from exc
    if check and proc.returncode != 0:
        raise _failed(root, args[0], proc.returncode, proc.stderr)
    return proc.stdout.decode(errors="replace")


def _failed(root: Path | str, command: str, returncode: int, stderr: bytes) -> GitError:
    text = stderr.decode(errors="replace")
    detail = text.strip().splitlines()
    hint = "see `git status`; run with --traceback for details"
    if "index.lock" in text and "File exists" in text:
        return IndexLocked(os.path.relpath(_index_path(root), root) + ".lock")
    if "tell me who you are" in text or "empty ident" in text:
        hint = 'set your identity: `git config --global user.name "Your Name"` and `git config --global user.email you@example.com`'
    return GitFailed(command, detail[-1] if detail else f"exit {returncode}", hint)


def ok(root: Path | str, *args: str) -> bool:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, env=_env()
    ).returncode == 0


def toplevel(path: Path) -> Path:
    """The work tree's root; every command starts here (Project.find), so it
    also ends the object reads the command before it kept open (_CatFile)."""
    _CatFile.close_open()
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, env=_env()
        )
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise NotARepository(str(path)) from exc
    if proc.returncode != 0:
        raise NotARepository(str(path))
    return Path(proc.stdout.decode().strip())


def init(path: Path) -> None:
    run(path, "init", "-q")


def head(root: Path) -> str | None:
    """The commit HEAD points at, or None on an unborn branch."""
    out = subprocess.run(
        ["git", "rev-parse", "-q", "--verify", "HEAD^{commit}"],
        cwd=root, capture_output=True, env=_env(),
    )
    return out.stdout.decode().strip() or None


def resolve_commit(root: Path, rev: str) -> str | None:
    if rev.startswith("-"):
        return None
    out = subprocess.run(
        ["git", "rev-parse", "-q", "--verify", "--end-of-options", f"{rev}^{{commit}}"],
        cwd=root, capture_output=True, env=_env(),
    )
    return out.stdout.decode().strip() or None


def changed_tracked(root: Path) -> list[str]:
    """Tracked paths with staged or unstaged changes (untracked files ignored)."""
    out = run(root, "status", "--porcelain=v1", "-z", "--untracked-files=no")
    paths = []
    entries = out.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        if not entry:
            i += 1
            continue
        status, path = entry[:2], entry[3:]
        paths.append(path)
        if "R" in status or "C" in status:
            i += 1  # the rename's source path follows
        i += 1
    return paths


def diff_against_head(root: Path) -> bytes:
    """The full binary diff of tracked changes against HEAD (for --allow-dirty)."""
    if head(root) is None:
        return b""
    # Plumbing: porcelain `git diff` refreshes the real index under its lock
    # whatever GIT_OPTIONAL_LOCKS says, and reads the user's diff config.
    proc = subprocess.run(
        ["git", "diff-index", "-p", "--binary", "HEAD"], cwd=root, capture_output=True, env=_env()
    )
    return proc.stdout


def user(root: Path) -> tuple[str, str]:
    found = {"user.name": "", "user.email": ""}
    out = run(root, "config", "-z", "--get-regexp", r"^user\.(name|email)$", check=False)
    for entry in out.split("\0"):
        key, _, value = entry.partition("\n")
        if key in found:
            found[key] = value.strip()  # the last one wins, as with `git config KEY`
    return found["user.name"], found["user.email"]


_LOCK_MARK = "mlver-index-lock"
_LOCK_WAIT_S = 1.0  # an IDE's `git status` holds the lock for milliseconds: wait that out, not a real git


def _index_path(root: Path | str) -> Path:
    """The index file, as ``git rev-parse --git-path index`` says: this
    worktree's git directory holds it unless GIT_INDEX_FILE (or GIT_DIR and
    friends) moves it, and then git says where."""
    dirs = _dirs(Path(root)) if not os.environ.get("GIT_INDEX_FILE") else None
    return dirs[0] / "index" if dirs else Path(root) / run(root, "rev-parse", "--git-path", "index").strip()


def head_ref(root: Path) -> str:
    """The branch HEAD is on (``refs/heads/...``, as ``git symbolic-ref -q
    HEAD`` prints it), or "HEAD" when it is detached. Read from this
    worktree's HEAD file; git is asked when it is anything else (a ref store
    or environment git alone knows, a chain of symbolic refs)."""
    dirs = _dirs(root)
    if dirs is not None and not os.environ.get("GIT_NAMESPACE") and not os.path.lexists(dirs[1] / "reftable"):
        try:
            text = (dirs[0] / "HEAD").read_text(errors="replace")
        except OSError:
            text = ""
        target = text[len("ref: "):].rstrip("\n") if text.startswith("ref: ") else ""
        if _OID.fullmatch(text.rstrip("\n")):
            return "HEAD"
        if (target.startswith("refs/heads/") and text.count("\n") <= 1 and _SAFE_REF.fullmatch(target)
                and not _symbolic(dirs[1] / target)):
            return target
    return run(root, "symbolic-ref", "-q", "HEAD", check=False).strip() or "HEAD"


_SAFE_REF = re.compile(r"refs/heads/[A-Za-z0-9._/-]+")


def _symbolic(loose: Path) -> bool:
    """Whether a loose ref file may be a symbolic ref (git follows those), or is unreadable."""
    try:
        with open(loose, "rb") as file:
            return not _OID.fullmatch(file.read(100).rstrip(b"\n").decode(errors="replace"))
    except (FileNotFoundError, NotADirectoryError):
        return False  # packed, or unborn: git prints the name as HEAD has it
    except OSError:
        return True


def _take_index_lock(index: Path) -> Path:
    """``index.lock`` by git's own protocol (create-exclusive), so no git
    process writes the index while we do. Its content marks it as ours: one
    left by a killed mlver whose process is gone is taken over; any other
    holder is an IndexLocked error."""
    import time

    lock = index.with_name(index.name + ".lock")
    mark = f"{_LOCK_MARK} {_host()} {os.getpid()}\n"
    deadline = time.monotonic() + _LOCK_WAIT_S
    # The mark is written first and linked into place (link, like O_EXCL,
    # fails when the name exists): a kill between creating the lock and
    # writing it would leave an empty lock nobody can tell from git's own.
    for left in lock.parent.glob(f"{lock.name}.mlver-*"):
        if _stale_mlver_lock(left):
            left.unlink(missing_ok=True)
    staged = lock.with_name(f"{lock.name}.mlver-{os.getpid()}")
    staged.write_text(mark)
    try:
        while True:
            try:
                os.link(staged, lock)
            except FileExistsError:
                if _stale_mlver_lock(lock):
                    lock.unlink(missing_ok=True)
                    continue
                if time.monotonic() > deadline:
                    raise IndexLocked(os.path.relpath(lock, index.parent.parent)) from None
                time.sleep(0.05)
                continue
            return lock
    finally:
        staged.unlink(missing_ok=True)


def _host() -> str:
    import socket

    return socket.gethostname()


def _stale_mlver_lock(lock: Path) -> bool:
    try:
        fields = lock.read_text(errors="replace").split()
    except OSError:
        return False
    if len(fields) != 3 or fields[0] != _LOCK_MARK or fields[1] != _host() or not fields[2].isdigit():
        return False
    try:
        os.kill(int(fields[2]), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def check_index_free(root: Path) -> None:
    """Refuse early, before anything is written, when another git holds the index."""
    index = _index_path(root)
    lock = index.with_name(index.name + ".lock")
    if lock.exists() and not _stale_mlver_lock(lock):
        raise IndexLocked(os.path.relpath(lock, root))


def _stage_worktree(root: Path, paths: Sequence[str], env: dict[str, str]) -> None:
    """``paths`` into the index ``env`` names as they are in the work tree
    (hashed through git's filters, with fresh stat data)."""
    present = [p for p in paths if (Path(root) / p).exists()]
    gone = [p for p in paths if not (Path(root) / p).exists()]
    if present:
        run(root, "update-index", "--add", "--", *present, env=env)
    if gone:
        run(root, "update-index", "--force-remove", "--", *gone, env=env)


def _index_copy(index: Path) -> Path:
    import shutil

    staged = index.with_name(f"{index.name}.mlver-{os.getpid()}")
    if index.exists():
        shutil.copyfile(index, staged)
        # The index's own mtime is how git tells a racily clean entry (a file
        # changed within the tick the index was written in, same size) from
        # a clean one: a copy dated now made such a file look clean, and
        # `update-index` kept its old blob in the index the commit's tree left.
        st = index.stat()
        os.utime(staged, ns=(st.st_atime_ns, st.st_mtime_ns))
    return staged


def _sweep_index_copies(index: Path) -> None:
    """Copies of the index left by a killed mlver (pid gone)."""
    for left in index.parent.glob(f"{index.name}.mlver-*"):
        pid = left.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                left.unlink(missing_ok=True)
            except OSError:
                pass


def commit_paths(root: Path, paths: Sequence[str], message: str) -> str:
    """Commit exactly ``paths`` (as they are in the work tree) on top of HEAD.

    The tree is built in a throw-away index, so whatever the user has staged
    stays staged and out of this commit. Then, holding git's ``index.lock``
    the whole time, the branch moves by compare-and-swap (a racing commit is
    never lost) and the real index takes the new entries of ``paths`` by one
    rename: the user's next `git commit` keeps the record instead of
    reverting it. A held lock is an IndexLocked error before the branch moves.
    Returns the new commit.
    """
    import tempfile  # not at the top: `mlver ls` never needs it

    parent = head(root)
    with tempfile.TemporaryDirectory(prefix="mlver-index-") as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        if parent:
            run(root, "read-tree", parent, env=env)
        _stage_worktree(root, paths, env)
        tree = run(root, "write-tree", env=env).strip()
    commit_args = ["commit-tree", tree, "-m", message]
    if parent:
        commit_args[2:2] = ["-p", parent]
    commit = run(root, *commit_args).strip()
    ref = head_ref(root)
    _move_ref(root, ref, commit, parent, paths, f"commit: {message.splitlines()[0]}", from_worktree=True)
    return commit


def _move_ref(root: Path, ref: str, new: str | None, old: str | None, paths: Sequence[str], reason: str,
              from_worktree: bool = False) -> None:
    """``ref`` from ``old`` to ``new`` (None: delete it) by compare-and-swap, and
    the real index's entries of ``paths`` to match (``from_worktree``: as the
    work tree has them, which is what ``new`` was built from; else as ``new``
    has them), under git's index lock. The new index is a copy written beside
    the real one (same filesystem) and takes its place by one rename."""
    index = _index_path(root)
    lock = _take_index_lock(index)
    staged: Path | None = None
    try:
        _sweep_index_copies(index)
        staged = _index_copy(index)
        env = {"GIT_INDEX_FILE": str(staged)}
        if from_worktree:
            _stage_worktree(root, paths, env)
        elif new is not None:
            run(root, "reset", "-q", new, "--", *paths, env=env)
        else:
            run(root, "rm", "-q", "--cached", "--ignore-unmatch", "--", *paths, env=env)
        moving = ["-m", reason, ref, new, old or "0" * 40] if new is not None else ["-d", ref, *([old] if old else [])]
        _switch(root, moving, staged, index)
        staged = None
    finally:
        if staged is not None:
            staged.unlink(missing_ok=True)
        lock.unlink(missing_ok=True)


_GIT_REFUSED = 97  # _switch's exit when git update-ref failed (nothing moved)


def _switch(root: Path, update_ref: list[str], staged: Path, index: Path) -> None:
    """``git update-ref`` and the staged index renamed over the real one, by
    one child process and with SIGINT and SIGTERM held: a kill -9 of mlver
    between the two steps left the index one commit behind HEAD (the user's
    next `git commit` reverted the record). The child outlives such a kill and
    does both; when git refuses (the branch moved meanwhile) it does neither."""
    from mlver.adapters.placement import uninterrupted

    script = f'git update-ref "$@" || exit {_GIT_REFUSED}\nexec mv -f -- "$MLVER_STAGED" "$MLVER_INDEX"'
    with uninterrupted():  # (held in the child too: a terminal's Ctrl-C reaches the whole group)
        try:
            proc = subprocess.run(["sh", "-c", script, "sh", *update_ref], cwd=root, capture_output=True,
                                  env=_env({"MLVER_STAGED": str(staged), "MLVER_INDEX": str(index)}))
        except FileNotFoundError as exc:
            raise GitMissing() from exc
    if proc.returncode == _GIT_REFUSED:
        raise _failed(root, "update-ref", proc.returncode, proc.stderr)
    if proc.returncode != 0:
        raise GitFailed("update-ref", "the new index could not be put in place: "
                        + (proc.stderr.decode(errors="replace").strip() or f"exit {proc.returncode}"),
                        "see `git status`; run `mlver record` again to bring the index in line")


def restore_head(root: Path, previous: str | None, paths: Sequence[str]) -> None:
    """Undo a commit of ours: HEAD back to ``previous``, index entries of ``paths`` too."""
    current = head(root)
    if current == previous:
        return
    ref = head_ref(root)
    _move_ref(root, ref, previous, current, paths, "mlver: undo an interrupted record")


# The tags each registry write in progress made (registry_lock): taken back if Ctrl-C ends it.
_WRITTEN: list[list[tuple[str, str]]] = []


def create_tag(root: Path, name: str, commit: str, message: str, sign: bool = False) -> None:
    """An annotated (or signed) tag; TagExists when another process wrote that name first."""
    written = _WRITTEN[-1] if _WRITTEN else []
    written.append((name, commit))  # before git runs: it may write the tag and then be stopped
    try:
        run(root, "tag", "-s" if sign else "-a", name, "-m", message, commit)
    except GitError:
        written.remove((name, commit))  # not ours: another process wrote that name
        if tag_exists(root, name):
            raise TagExists(name) from None
        raise


def _take_back(root: Path, written: list[tuple[str, str]]) -> None:
    """Delete the tags of an interrupted registry write that point where it put them."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave half of it
    try:
        for name, commit in written:
            if run(root, "rev-parse", "-q", "--verify", f"refs/tags/{name}^{{commit}}", check=False).strip() == commit:
                delete_tag(root, name)
    finally:
        signal.signal(signal.SIGINT, previous)


def delete_tag(root: Path, name: str) -> None:
    run(root, "tag", "-d", name, check=False)


def config_value(root: Path, key: str) -> str | None:
    """A setting from git's own config (system, global, the clone's .git/config):
    never from a file in the tree, so the tree cannot change it."""
    return config_values(root, key)[key]


def config_values(root: Path, *keys: str) -> dict[str, str | None]:
    """``config_value`` of each key, in one git call: as ``git config --get``
    says, the last value set wins, and an empty or valueless setting is None.
    Git prints names with the section and variable lowercased, a subsection
    as written."""
    def canonical(key: str) -> str:
        section, _, rest = key.partition(".")
        middle, _, variable = rest.rpartition(".")
        return f"{section.lower()}.{middle + '.' if middle else ''}{variable.lower()}"

    wanted = {canonical(key): key for key in keys}
    pattern = "^(" + "|".join(re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", k) for k in wanted) + ")$"
    proc = subprocess.run(["git", "config", "-z", "--get-regexp", pattern], cwd=root, capture_output=True, env=_env())
    found: dict[str, str | None] = dict.fromkeys(keys)
    for item in proc.stdout.decode(errors="replace").split("\0") if proc.returncode == 0 else []:
        name, _, value = item.partition("\n")
        if name in wanted:
            found[wanted[name]] = value.strip() or None
    return found


@dataclass(frozen=True)
class TagSignature:
    ok: bool  # a good signature by a key the trust root allows
    principal: str | None  # who the trust root says signed it
    detail: str  # git's reason when not ok


_SSH_GOOD = re.compile(r'Good "git" signature for (.+?) with ')
_GPG_GOOD = re.compile(r"\[GNUPG:\] GOODSIG [0-9A-F]+ (.+)")


def _verify_tag(root: Path, name: str, allowed_signers: str | None) -> TagSignature:
    args = ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers}"] if allowed_signers else []
    proc = subprocess.run(["git", *args, "verify-tag", "--raw", "--", name], cwd=root, capture_output=True, env=_env())
    text = proc.stderr.decode(errors="replace")
    match = _SSH_GOOD.search(text) or _GPG_GOOD.search(text)
    if proc.returncode == 0:
        return TagSignature(True, match.group(1).strip() if match else None, "")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("[GNUPG:]")]
    return TagSignature(False, None, lines[-1] if lines else f"exit {proc.returncode}")


def verify_tags(root: Path, names: Iterable[str], allowed_signers: str | None = None) -> dict[str, TagSignature]:
    """``git verify-tag`` of each tag (about 10 ms each, so four at a time).
    ``allowed_signers`` overrides gpg.ssh.allowedSignersFile for SSH keys;
    GPG signatures are checked against the user's keyring."""
    from concurrent.futures import ThreadPoolExecutor

    names = list(dict.fromkeys(names))
    if not names:
        return {}
    with ThreadPoolExecutor(max_workers=min(4, len(names))) as pool:
        results = pool.map(lambda n: _verify_tag(root, n, allowed_signers), names)
        return dict(zip(names, results, strict=False))


def tag_exists(root: Path, name: str) -> bool:
    return ok(root, "rev-parse", "-q", "--verify", f"refs/tags/{name}")


def tag_refs(root: Path) -> list[tuple[str, str, str]]:
    """(tag name, object, commit it points at) for every tag, in one call."""
    return parse_tag_listing(tag_listing(root))


def tag_listing(root: Path) -> str:
    """Every tag with its object and peeled commit, as ``show-ref -d`` prints
    them: the whole state of the registry's refs (tag objects are immutable),
    so what is derived from it can be cached under it.

    ``show-ref -d`` takes the peeled commit from packed-refs when it is
    there, so no tag object is read: 10,000 tags in ~10 ms. Exit 1 when
    there is no tag at all: an empty listing.
    """
    return _output(root, ["show-ref", "-d", "--tags"])[1].decode(errors="replace")


def _output(root: Path | str, args: list[str], request: bytes = b"") -> tuple[int, bytes]:
    """(exit status, stdout) of git fed ``request``, both through memory
    files (Linux's memfd) where there are: git never waits for us to read
    (110,000 tags are 14 MB: ~220 turns of a 64 KiB pipe, each a wake-up
    on a busy machine), and the answer is read in one call of its size.
    Elsewhere pipes, read in one go: communicate() polls 32 KiB at a time,
    which at 14 MB cost more than git itself."""
    return _output_ahead(root, args, request)()


def _git_into_memfd(root: Path | str, args: list[str], request: bytes) -> tuple[subprocess.Popen[bytes], int] | None:
    """git started now with ``request`` on stdin and its stdout in a memory
    file (never blocked on a reader, as a pipe would block it); None where
    there are no memory files."""
    try:
        out_fd = os.memfd_create("mlver-git-out", getattr(os, "MFD_CLOEXEC", 0))
    except (AttributeError, OSError):
        return None
    try:
        in_fd = _request_fd(request)
        try:
            proc = subprocess.Popen(["git", *args], cwd=root, stdin=in_fd, stdout=out_fd,
                                    stderr=subprocess.DEVNULL, env=_env())
        except FileNotFoundError as exc:
            raise GitMissing() from exc
        finally:
            if in_fd is not None:
                os.close(in_fd)
    except BaseException:
        os.close(out_fd)
        raise
    return proc, out_fd


def _output_ahead(root: Path | str, args: list[str], request: bytes = b"") -> Callable[[], tuple[int, bytes]]:
    """``_output``, started now: git runs on the other core while the caller
    goes on; the returned call waits for it and gives its answer (call it
    once, also when the answer is not wanted: it ends that git)."""
    started = _git_into_memfd(root, args, request)
    if started is None:
        return lambda: _output_piped(root, ["git", *args], request)
    proc, out_fd = started

    def answer() -> tuple[int, bytes]:
        try:
            status = proc.wait()
            size = os.fstat(out_fd).st_size
            return status, os.pread(out_fd, size, 0) if size else b""
        finally:
            os.close(out_fd)

    return answer


def tag_listing_ahead(root: Path) -> Callable[[], str]:
    """``tag_listing``, started now (see ``_output_ahead``)."""
    answer = _output_ahead(root, ["show-ref", "-d", "--tags"])
    return lambda: answer()[1].decode(errors="replace")


def _request_fd(request: bytes) -> int | None:
    if not request:
        return os.open(os.devnull, os.O_RDONLY)
    fd = os.memfd_create("mlver-git-in", getattr(os, "MFD_CLOEXEC", 0))
    view = memoryview(request)
    while view:
        view = view[os.write(fd, view):]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _output_piped(root: Path | str, command: list[str], request: bytes) -> tuple[int, bytes]:
    # The request must be in git's hands before its answer is read: a small
    # one fits the pipe's buffer whole, a big one goes through a file.
    try:
        if len(request) <= _PIPE_BUFFER:
            proc = subprocess.Popen(command, cwd=root, stdin=subprocess.PIPE if request else subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env())
            if proc.stdin is not None:
                try:
                    proc.stdin.write(request)
                    proc.stdin.close()
                except BrokenPipeError:
                    pass  # git stopped early: its exit status says so
        else:
            import tempfile

            with tempfile.TemporaryFile() as file:
                file.write(request)
                file.seek(0)
                proc = subprocess.Popen(command, cwd=root, stdin=file, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=_env())
    except FileNotFoundError as exc:
        raise GitMissing() from exc
    assert proc.stdout is not None
    out = proc.stdout.read()
    return proc.wait(), out


def tag_refs_state(root: Path) -> bytes | None:
    """What the tag refs are stored as, without asking git: the stat (inode,
    size, mtime, ctime) of packed-refs and of every loose file and folder
    under refs/tags. Any tag added, deleted, moved, fetched or packed
    changes one of them: git replaces a ref file or packed-refs by renaming
    a lock file over it (a new inode, the folder's times move), and a file
    written in place gets a new ctime, which no tool can set back.

    None when the refs may be elsewhere (reftable, GIT_DIR, a namespace) or
    something changed in the last 2 s: a second change in the same clock
    tick could leave every stat as it was (git's "racily clean" problem).
    Taken before the refs are read, so a change made meanwhile shows in the
    next state, never hidden under this one."""
    import time

    from mlver.adapters import statcache

    dirs = _dirs(root)
    if dirs is None or os.environ.get("GIT_NAMESPACE"):
        return None
    common = dirs[1]  # a worktree's refs are the main repository's
    if os.path.lexists(common / "reftable"):
        return None
    stats = _RefsStats()
    if not (stats.add_tops(common) and stats.add_loose(common / "refs" / "tags")):
        return None
    if time.time_ns() - stats.newest < statcache.RACY_S * 1_000_000_000:
        return None
    return "\n".join(sorted(stats.parts)).encode(errors="surrogateescape")


class _RefsStats:
    """The stat lines of ``tag_refs_state`` and the newest time among them."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.newest = 0

    def add(self, label: str, st: os.stat_result) -> None:
        self.parts.append(f"{label}\0{st.st_mode} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}")
        self.newest = max(self.newest, st.st_mtime_ns, st.st_ctime_ns)

    def add_tops(self, common: Path) -> bool:
        """packed-refs, refs and refs/tags; False when one cannot be read."""
        for label in ("packed-refs", "refs", "refs/tags"):
            try:
                self.add(label, os.stat(common / label))
            except FileNotFoundError:
                self.parts.append(f"{label}\0-")
            except OSError:
                return False
        return True

    def add_loose(self, tags_dir: Path) -> bool:
        """Every file and folder below ``tags_dir``, links not followed;
        False when a folder cannot be read."""
        folders = [str(tags_dir)]
        while folders:
            folder = folders.pop()
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        self.add(entry.path, entry.stat(follow_symlinks=False))
                        if entry.is_dir(follow_symlinks=False):
                            folders.append(entry.path)
            except FileNotFoundError:
                continue
            except OSError:
                return False
        return True


def model_tag_refs(root: Path, name: str) -> list[tuple[str, str, str]]:
    """``tag_refs`` of one model's tags only (``NAME@...``, ``NAME#...``,
    with the model's name as tags write it), in time proportional to them.

    ``for-each-ref`` with those patterns is fast over packed refs, but git
    reads every loose file in refs/tags/ first (1 s for 110,000 tags). So the
    names come from the two places git keeps tags, the loose folder (entry
    names only) and packed-refs (a text search); a loose ref is its file's
    object id, peeled by the one ``cat-file --batch`` that also reads its tag
    object (kept for ``tag_infos``), and a packed one is answered by
    packed-refs when it holds the peeled ids; anything else git resolves.
    Other ref stores (reftable, a namespace) get the patterns. Callers still
    parse each name: a pattern is a filter, never the proof that a tag
    belongs to the model.
    """
    prefixes = (f"{name}@", f"{name}#")
    common = common_dir(root)
    if (common / "reftable").exists() or os.environ.get("GIT_NAMESPACE"):
        patterns = [f"refs/tags/{p}{tail}" for p in prefixes for tail in ("*", "*/**")]  # '*' stops at '/'
        listed = run(root, "for-each-ref", "--format=%(refname)", *patterns, check=False).split("\n")
        return _resolve_tags(root, [ref[len("refs/tags/"):] for ref in listed if ref.startswith("refs/tags/")])
    tags_dir = common / "refs" / "tags"
    names = _loose_tag_names(tags_dir, name)
    refs, ask = _packed_tags(common / "packed-refs", prefixes, names)
    loose = _loose_tag_ids(tags_dir, names)
    ask = (ask | names) - set(loose)
    return sorted(refs + _peeled(root, loose) + _resolve_tags(root, sorted(ask)))


def _loose_tag_names(tags_dir: Path, name: str) -> set[str]:
    """The loose tags named ``NAME@...`` or ``NAME#...`` (a stage with '/' in
    it is a folder), from entry names only: no DirEntry each, the folder may
    hold every tag of the registry."""
    folder, _, base = name.rpartition("/")
    names: set[str] = set()
    try:
        entries = os.listdir(tags_dir / folder)
    except OSError:
        entries = []
    here = f"{folder}/" if folder else ""
    for entry in [e for e in entries if e.startswith((f"{base}@", f"{base}#"))]:
        path = os.path.join(tags_dir, here + entry)
        if os.path.isdir(path) and not os.path.islink(path):
            for top, _, files in os.walk(path):
                names.update(Path(os.path.relpath(os.path.join(top, f), tags_dir)).as_posix() for f in files)
        else:
            names.add(here + entry)
    return names


def _packed_tags(packed_refs: Path, prefixes: tuple[str, ...], loose: set[str]) -> tuple[list[tuple[str, str, str]], set[str]]:
    """The tags in packed-refs under ``prefixes``: (name, object, peeled) of
    each packed-refs answers as git would, and the names git must settle (a
    loose ref of that name wins over it, or the file does not say "fully-peeled")."""
    try:
        packed = packed_refs.read_bytes()
    except OSError:
        packed = b""
    # With "fully-peeled", packed-refs holds each tag's object and the commit
    # it peels to (a "^" line), so a tag that has no loose file is answered
    # from it as git answers it.
    fully = b" fully-peeled " in packed[:packed.find(b"\n") + 1].replace(b"\n", b" ")
    refs: list[tuple[str, str, str]] = []
    ask: set[str] = set()
    for prefix in prefixes:
        needle = f" refs/tags/{prefix}".encode()
        at = packed.find(needle)
        while at >= 0:
            start = at + len(" refs/tags/")
            end = packed.find(b"\n", start)
            end = len(packed) if end < 0 else end
            tag = packed[start:end].decode(errors="replace").rstrip("\r")
            obj = packed[packed.rfind(b"\n", 0, at) + 1:at].decode(errors="replace")
            after = packed.find(b"\n", end + 1)
            peeled = packed[end + 2:after if after >= 0 else len(packed)] if packed[end + 1:end + 2] == b"^" else b""
            if tag in loose or tag in ask:
                ask.add(tag)  # a loose ref of that name wins (or it is listed twice): git decides
            elif fully and _OID.fullmatch(obj):
                refs.append((tag, obj, peeled.decode(errors="replace").rstrip("\r") or obj))
            else:
                ask.add(tag)
            at = packed.find(needle, end)
    return refs, ask


def _loose_tag_ids(tags_dir: Path, names: set[str]) -> dict[str, str]:
    """The object id in each loose tag file that holds one (git reads it the
    same way); a file that holds anything else (a symbolic ref) or is gone
    meanwhile is left out, for git to resolve."""
    loose: dict[str, str] = {}
    for tag in names:
        try:
            content = (tags_dir / tag).read_bytes().decode(errors="replace").strip()
        except OSError:
            continue
        if _OID.fullmatch(content):
            loose[tag] = content
    return loose


# Tag objects a registry read has already fetched (an object id names its
# content, so this never goes stale), for tag_infos to take instead of asking git again.
_TAG_BODIES: dict[str, bytes] = {}


def tag_ref(root: Path, name: str) -> tuple[str, str, str] | None:
    """``model_tag_refs``' (name, object, peeled commit) of one tag, in one
    ``cat-file --batch`` that also reads its tag object for ``tag_infos``
    (a registry write reads back the tag it made); None when there is none."""
    if not name or name.startswith("-") or "\n" in name:
        return None
    spec = f"refs/tags/{name}"
    ids: dict[str, str] = {}
    read = _batch(root, [spec], ids)[spec]
    if spec not in ids or read[0] == "missing":
        return None
    found = _peeled(root, {name: ids[spec]}, {ids[spec]: read})
    return found[0] if found else None


def _peeled(root: Path, loose: dict[str, str],
            found: dict[str, tuple[str, bytes | None]] | None = None) -> list[tuple[str, str, str]]:
    """(name, object, commit it peels to) of loose tags, from one ``cat-file
    --batch`` of their objects (or what ``found`` already read of them): an
    annotated tag's ``object`` line names its commit; a tag of a tag (or of
    anything else) is peeled by git."""
    if not loose:
        return []
    if found is None:
        found = _batch(root, list(dict.fromkeys(loose.values())))
    if len(_TAG_BODIES) > 100_000:  # bounded for a long-lived process (the Python API)
        _TAG_BODIES.clear()
    refs, deeper = [], {}
    for tag, oid in loose.items():
        otype, body = found.get(oid, ("missing", None))
        if otype == "commit":
            refs.append((tag, oid, oid))
        elif otype == "tag" and body is not None:
            _TAG_BODIES[oid] = body
            head = body[:body.find(b"\n\n") + 1 or len(body)]
            target = _header(head, b"object")
            if _header(head, b"type") == b"commit" and _OID.fullmatch(target.decode(errors="replace")):
                refs.append((tag, oid, target.decode()))
            else:
                deeper[tag] = oid
        elif otype != "missing":
            deeper[tag] = oid
    targets = _objects(root, [f"{oid}^{{}}" for oid in deeper.values()])
    return refs + [(tag, oid, target) for (tag, oid), target in zip(deeper.items(), targets, strict=False) if target]


def _header(head: bytes, key: bytes) -> bytes:
    """The value of a tag object's header line ``key`` (its first one), b"" without it."""
    at = (b"\n" + head).find(b"\n" + key + b" ")
    if at < 0:
        return b""
    end = head.find(b"\n", at)
    return head[at + len(key) + 1:end if end >= 0 else len(head)]


_OID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _resolve_tags(root: Path, names: list[str]) -> list[tuple[str, str, str]]:
    """(name, object, peeled commit) of each tag git resolves; gone ones dropped."""
    names = [n for n in names if n and not n.startswith("-") and "\n" not in n]
    if not names:
        return []
    found = _objects(root, [spec for n in names for spec in (f"refs/tags/{n}", f"refs/tags/{n}^{{}}")])
    return [(name, obj, commit) for name, obj, commit in zip(names, found[::2], found[1::2], strict=False) if obj and commit]


def _objects(root: Path, specs: list[str]) -> list[str | None]:
    """The object id each spec names (None: missing), in one ``cat-file --batch-check``."""
    if not specs:
        return []
    out = run(root, "cat-file", "--batch-check=%(objectname) %(objecttype)",
              input="".join(s + "\n" for s in specs).encode()).split("\n")
    return [line.split(" ", 1)[0] if line and not line.endswith((" missing", " ambiguous")) else None
            for line in out[:len(specs)]]


def non_commits_ahead(root: Path, ids: Iterable[str]) -> Callable[[], dict[str, str]]:
    """Which of ``ids`` (object ids) name a blob or a tree -> which, in one
    ``cat-file --batch-check`` started now (see ``_output_ahead``): an
    annotated tag may point at one, and the tag listing only gives the id it
    peels to. 100,000 ids take git ~0.1 s, where ``for-each-ref``'s
    ``%(*objecttype)`` took 0.7 s (it parses every tag object). A missing
    object (or an id that is none) is not named: reading it fails where it is
    read. Call the result once."""
    # (No object id holds a newline; a string that does is none, and must not become two requests.)
    wanted = [i for i in ids if "\n" not in i]
    if not wanted:
        return dict
    request = "".join(i + "\n" for i in wanted).encode()
    answer = _output_ahead(root, ["cat-file", "--buffer", "--batch-check=%(objecttype)"], request)

    def found() -> dict[str, str]:
        status, out = answer()
        if status != 0:
            raise GitFailed("cat-file", f"exit {status} reading the types of {len(wanted)} tagged objects",
                            "see `git fsck`; run with --traceback for details")
        if b"blob" not in out and b"tree" not in out:  # (nearly always: a missing id's line is hex)
            return {}
        lines = out.decode(errors="replace").split("\n")
        return {oid: kind for oid, kind in zip(wanted, lines, strict=False) if kind in ("blob", "tree")}

    return found


def parse_tag_listing(out: str) -> list[tuple[str, str, str]]:
    """``<sha> refs/tags/<name>[^{}]`` lines (show-ref -d, ls-remote --tags) ->
    (name, object, peeled commit), the object itself for a lightweight tag.

    Both commands print a tag's peeled line right after the tag's own, so
    one pass pairs them (110,000 tags at 100,000 versions: each step
    counts); output that ever breaks that order is read by name instead."""
    if "\t" in out:  # ls-remote's separator (a ref name cannot hold a tab); not a 15 MB copy for show-ref's
        out = out.replace("\t", " ")
    refs: list[tuple[str, str, str]] = []
    add = refs.append
    name = obj = ""
    for line in out.split("\n"):
        sha, _, ref = line.partition(" ")
        if ref[:10] != "refs/tags/":
            continue
        if ref[-3:] == "^{}":
            if ref[10:-3] != name:
                return _tag_listing_by_name(out)
            add((name, obj, sha))
            name = ""
        else:
            if name:
                add((name, obj, obj))
            name, obj = ref[10:], sha
    if name:
        add((name, obj, obj))
    return refs


def _tag_listing_by_name(out: str) -> list[tuple[str, str, str]]:
    lines = [(sha, ref[10:]) for sha, _, ref in (line.partition(" ") for line in out.split("\n"))
             if ref[:10] == "refs/tags/"]
    peeled = {ref[:-3]: sha for sha, ref in lines if ref[-3:] == "^{}"}
    return [(ref, sha, peeled.get(ref, sha)) for sha, ref in lines if ref[-3:] != "^{}"]


@dataclass(frozen=True, slots=True)  # one per tag: 100,000 at a time
class TagInfo:
    tagger: str
    email: str
    timestamp: int
    message: str


_INFO_SLOTS = tuple(getattr(TagInfo, name).__set__ for name in ("tagger", "email", "timestamp", "message"))


def tag_info(tagger: str, email: str, timestamp: int, message: str) -> TagInfo:
    """``TagInfo(tagger, email, timestamp, message)`` at half its cost (a first
    verify makes 220,000): its slots set as its frozen ``__init__`` sets them,
    without the four calls through ``object.__setattr__``."""
    info = object.__new__(TagInfo)
    set_tagger, set_email, set_time, set_message = _INFO_SLOTS
    set_tagger(info, tagger)
    set_email(info, email)
    set_time(info, timestamp)
    set_message(info, message)
    return info


def tag_infos(root: Path, objects: Iterable[str]) -> dict[str, TagInfo]:
    """Tagger, time and message of tag objects (a lightweight tag: its commit's)."""
    objects = list(dict.fromkeys(objects))
    if not objects:
        return {}
    known = _TAG_BODIES
    blobs: dict[str, tuple[str, bytes | None]] = {o: ("tag", known[o]) for o in objects if o in known}
    blobs.update(_batch(root, [o for o in objects if o not in blobs]) if len(blobs) < len(objects) else {})
    return _infos(blobs)


def tag_infos_ahead(root: Path, objects: list[str]) -> Callable[[list[str]], dict[str, TagInfo]]:
    """``tag_infos`` of ``objects``, started now: git reads them on the other
    core while the caller goes on (a cold ``ls`` parses 110,000 tag names
    meanwhile). Returns the reader to call when they are needed; objects it
    is asked for that were not read ahead come from ``tag_infos``."""
    objects = list(dict.fromkeys(objects))
    # (Parsed from the memory file, as git wrote it: a long message is read past, never copied whole.)
    answer = _growing_output(root, ["cat-file", "--batch"], "".join(o + "\n" for o in objects).encode()) if objects else None
    read: dict[str, TagInfo] = {}

    def reader(wanted: list[str]) -> dict[str, TagInfo]:
        nonlocal answer
        if answer is not None:
            grown, answer = answer, None
            try:
                for obj, otype, body in _iter_batch_growing(grown, objects, None):
                    if body is not None:
                        read[obj] = _info(otype, body)
            except GitFailed:
                pass  # every object not read is asked again, and git's failure is raised there
        found = {o: read[o] for o in wanted if o in read}
        missing = [o for o in wanted if o not in read]
        return {**found, **tag_infos(root, missing)} if missing else found

    return reader


def tag_infos_streamed_ahead(root: Path, objects: list[str], then: Callable[[], None] | None = None
                             ) -> Callable[[], Iterator[tuple[str, TagInfo]]]:
    """``tag_infos`` of ``objects`` from one ``cat-file --batch`` started now
    (see ``_output_ahead``): the call gives (object, info) one at a time, in
    the order asked, as git writes them (parsing 110,000 tag objects took
    longer than git's read of them, and waiting for git's last one first left
    Python idle ~0.5 s), so no second copy of them is built. ``then`` is
    called once, as soon as the parse sees git has exited (the next git to
    start). Missing ones are left out; GitFailed when git failed (after the
    objects it gave)."""
    if not objects:
        return lambda: iter(())
    grown = _growing_output(root, ["cat-file", "--batch"], "".join(o + "\n" for o in objects).encode())

    def infos() -> Iterator[tuple[str, TagInfo]]:
        for obj, otype, body in _iter_batch_growing(grown, objects, then):
            if body is not None:
                yield obj, _info(otype, body)

    return infos


class _Growing:
    """git's output in a memory file it writes at its own pace (never blocked
    on us, as a pipe would block it), read while it is still being written."""

    _CHUNK = 1 << 22
    _POLL_S = 0.002  # git writes faster than its output is parsed: a wait is rare and short

    def __init__(self, proc: subprocess.Popen[bytes], fd: int) -> None:
        self.proc, self.fd, self.read_to = proc, fd, 0
        self.status: int | None = None

    def exited(self) -> bool:
        if self.status is None:
            self.status = self.proc.poll()
        return self.status is not None

    def more(self) -> bytes:
        """The next bytes git wrote (waiting for them); b"" once git has exited and all is read."""
        while True:
            done = self.exited()  # (asked before the size: what git wrote before exiting is all there)
            size = os.fstat(self.fd).st_size
            if size > self.read_to:
                chunk = os.pread(self.fd, min(size - self.read_to, self._CHUNK), self.read_to)
                self.read_to += len(chunk)
                return chunk
            if done:
                return b""
            time.sleep(self._POLL_S)

    def close(self) -> int:
        """git's exit status (ending it if it still runs)."""
        try:
            status = self.status
            if status is None:
                self.proc.kill()
                status = self.status = self.proc.wait()
            return status
        finally:
            os.close(self.fd)


def _growing_output(root: Path | str, args: list[str], request: bytes) -> _Growing | Callable[[], tuple[int, bytes]]:
    """git started now into a memory file (``_Growing``), or, where there are
    none, ``_output_ahead``'s answer to read whole."""
    started = _git_into_memfd(root, args, request)
    if started is None:
        return _output_ahead(root, args, request)
    return _Growing(*started)


def _iter_batch_growing(grown: _Growing | Callable[[], tuple[int, bytes]], specs: list[str],
                        then: Callable[[], None] | None) -> Iterator[tuple[str, str, bytes | None]]:
    """``_iter_batch`` of output git is still writing; ``then`` once git has exited."""
    if not isinstance(grown, _Growing):
        yield from _iter_batch_whole(grown, specs, then)
        return
    buf, pos = b"", 0
    told = then is None
    try:
        for count, spec in enumerate(specs):
            if not told and not count & 1023 and grown.exited():
                told = True
                then()  # type: ignore[misc]
            header, buf, pos = _batch_header(grown, buf, pos)
            if header.endswith(" missing") or header.endswith(" ambiguous"):
                yield spec, "missing", None
                continue
            _, otype, size_s = header.rsplit(" ", 2)
            body, buf, pos = _batch_body(grown, buf, pos, int(size_s))
            yield spec, otype, body
        while grown.more():
            pass  # (git's exit, which says whether all it wrote can be trusted)
    finally:
        status = grown.close()
        if not told:
            then()  # type: ignore[misc]
    if status != 0:
        raise GitFailed("cat-file", f"exit {status}", "check the repository with `git fsck`")


def _iter_batch_whole(run: Callable[[], tuple[int, bytes]], specs: list[str],
                      then: Callable[[], None] | None) -> Iterator[tuple[str, str, bytes | None]]:
    """``_iter_batch`` of git's output read whole (``_output_ahead``'s, where there are no memory files)."""
    status, out = run()
    if then is not None:
        then()
    if status != 0:
        raise GitFailed("cat-file", "", "check the repository with `git fsck`")
    yield from _iter_batch(out, specs)


def _batch_header(grown: _Growing, buf: bytes, pos: int) -> tuple[str, bytes, int]:
    """The header line at ``pos`` of ``buf``, waiting for git to write it; and
    the buffer and the position after it (the buffer keeps only what is unread)."""
    nl = buf.find(b"\n", pos)
    while nl < 0:
        buf, pos = buf[pos:] + _more(grown), 0
        nl = buf.find(b"\n")
    return buf[pos:nl].decode(errors="replace"), buf, nl + 1


def _batch_body(grown: _Growing, buf: bytes, pos: int, size: int) -> tuple[bytes, bytes, int]:
    """The content of ``size`` bytes at ``pos`` (of one past MAX_TAG_BYTES,
    its first MAX_TAG_BYTES: ``_skip_growing``), and the buffer and the
    position past the newline after it."""
    if size > MAX_TAG_BYTES:
        body, buf = _skip_growing(grown, buf[pos:], size)
        return body, buf, 0
    end = pos + size
    while len(buf) <= end:  # (the body and the newline after it)
        buf, end, pos = buf[pos:] + _more(grown), end - pos, 0
    return buf[pos:end], buf, end + 1


def _skip_growing(grown: _Growing, buf: bytes, size: int) -> tuple[bytes, bytes]:
    """(the first MAX_TAG_BYTES of an object of ``size`` whose content starts
    ``buf``, what git wrote after it): the rest is read past, never kept."""
    while len(buf) < MAX_TAG_BYTES:
        buf += _more(grown)
    body, left = buf[:MAX_TAG_BYTES], size + 1 - len(buf)  # (its content and its newline)
    if left <= 0:
        return body, buf[size + 1:]
    while True:
        chunk = _more(grown)
        if len(chunk) >= left:
            return body, chunk[left:]
        left -= len(chunk)


def _more(grown: _Growing) -> bytes:
    chunk = grown.more()
    if not chunk:
        raise GitFailed("cat-file", "it stopped early", "check the repository with `git fsck`")
    return chunk


def _infos(blobs: Mapping[str, tuple[str, bytes | None]]) -> dict[str, TagInfo]:
    return {obj: _info(otype, body) for obj, (otype, body) in blobs.items() if body is not None}


def _info(otype: str, body: bytes) -> TagInfo:
    head, _, message = body.partition(b"\n\n")
    # The first header line of that key (a continuation line starts with a space).
    key = b"\ntagger " if otype == "tag" else b"\ncommitter "
    head = b"\n" + head
    at = head.find(key)
    end = head.find(b"\n", at + 1)
    who = b"" if at < 0 else head[at + len(key):end if end >= 0 else None]
    name, _, rest = who.partition(b" <")
    email, _, when = rest.partition(b"> ")
    stamp = when.split(b" ")[0] if when else b"0"
    return tag_info(name.decode(errors="replace"), email.decode(errors="replace"), int(stamp or 0),
                    message.decode(errors="replace").rstrip("\n"))


_PIPE_BUFFER = 16 * 1024  # the smallest pipe capacity of the systems git runs on (macOS; Linux: 64 KiB)


# What mlver keeps of a tag object: its header and the start of its message (GTO's
# and mlver's are a few lines, a signature a few KB); a longer message is read past.
MAX_TAG_BYTES = 1024 * 1024
# What mlver reads of a blob from git at most, as of a record (domain/validate.py):
# a larger one in history (a record, a .dvc/config, a dvc.lock) is refused unread.
MAX_BLOB_BYTES = 64 * 1024 * 1024


class Oversized(Exception):
    """An object larger than its reader takes: its size, never its content
    (``refused``: the error for a command that needs it). Raised by a
    session, it carries what that session ``answered`` before it."""

    def __init__(self, spec: str, oid: str, otype: str, size: int) -> None:
        super().__init__(spec, oid, otype, size)
        self.spec, self.oid, self.otype, self.size = spec, oid, otype, size
        self.answered: dict[str, tuple[str, bytes | None]] = {}

    def refused(self, limit: int) -> InputTooLarge:
        rev, _, path = self.spec.partition(":")
        where = f"{path} at {rev[:12]}" if path else f"git object {self.oid}"
        return InputTooLarge("size", f"{self.size:,} bytes", where, f"mlver reads at most {limit:,} bytes of it",
                             "it was committed by hand or crafted: inspect it (`git log --stat`) before trusting it")


def _batch(root: Path, specs: list[str], ids: dict[str, str] | None = None) -> dict[str, tuple[str, bytes | None]]:
    """``git cat-file --batch`` for many objects: spec -> (type, content);
    ``ids`` gets spec -> object id of each one found. A small request goes
    to the ``cat-file`` this command already runs, if any."""
    if len(specs) <= _CatFile.MAX_SPECS and not any("\n" in s for s in specs):
        found = _CatFile.ask(root, specs, ids, truncate=MAX_TAG_BYTES)
        if found is not None:
            return found
    status, out = _output(root, ["cat-file", "--batch"], "".join(s + "\n" for s in specs).encode())
    if status != 0:
        raise GitFailed("cat-file", "", "check the repository with `git fsck`")
    return _parse_batch(out, specs, ids)


def _parse_batch(out: bytes, specs: list[str], ids: dict[str, str] | None) -> dict[str, tuple[str, bytes | None]]:
    """``cat-file --batch``'s answer to ``specs``: spec -> (type, content); GitFailed when it stops short."""
    result: dict[str, tuple[str, bytes | None]] = {}
    for spec, found, body in _iter_batch(out, specs, ids):
        result[spec] = (found, body)
    return result


def _iter_batch(out: bytes, specs: list[str], ids: dict[str, str] | None = None) -> Iterator[tuple[str, str, bytes | None]]:
    """``_parse_batch`` one object at a time: (spec, type or "missing", content)."""
    pos = 0
    for spec in specs:
        nl = out.find(b"\n", pos)
        if nl < 0:
            raise GitFailed("cat-file", "it stopped early", "check the repository with `git fsck`")
        header = out[pos:nl].decode(errors="replace")
        pos = nl + 1
        if header.endswith(" missing") or header.endswith(" ambiguous"):
            yield spec, "missing", None
            continue
        oid, otype, size = header.rsplit(" ", 2)
        if ids is not None:
            ids[spec] = oid
        size_i = int(size)
        yield spec, otype, out[pos:pos + min(size_i, MAX_TAG_BYTES)]
        pos += size_i + 1


class _CatFile:
    """One ``git cat-file --batch`` kept running for the small object reads
    of a command (a one-model command made three or four, each a process
    waiting for a core on a busy machine). It answers as a new one would:
    git reads refs and looks objects up afresh for every request (checked by
    a test: a commit, a moved packed tag, a repack in between). One at a
    time, for one command (the next one's ``toplevel`` closes it), one
    repository and environment, for a few seconds at most; closed when the
    process exits."""

    _open: _CatFile | None = None
    _lock = threading.Lock()
    _closing_at_exit = False
    REUSE_S = 5.0
    MAX_SPECS = 4096  # more at once (a cold ls's 10,000 stage tags) are read faster by one git into memory

    def __init__(self, root: Path, key: tuple[str, int]) -> None:
        import time

        self.key = key
        self.pid = os.getpid()
        self.proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=root, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env())
        self.used = time.monotonic()

    @classmethod
    def ask(cls, root: Path, specs: list[str], ids: dict[str, str] | None,
            limit: int | None = None, truncate: int | None = None) -> dict[str, tuple[str, bytes | None]] | None:
        """``_batch``'s answer, or None when no session can give it (then git runs once);
        ``limit``: an object larger is refused (Oversized) before its content is read."""
        import time

        key = (str(Path(root).absolute()), hash(frozenset(os.environ.items())))
        with cls._lock:
            session = cls._open
            if session is not None and session.pid != os.getpid():
                session = cls._open = None  # a forked child's copy: the parent's process, not ours to use or stop
            if session is not None and (session.key != key or time.monotonic() - session.used > cls.REUSE_S):
                session.close()
                session = None
            if session is None:
                try:
                    session = cls._open = cls(root, key)
                except OSError:
                    return None
                if not cls._closing_at_exit:
                    import atexit

                    atexit.register(cls.close_open)
                    cls._closing_at_exit = True
            try:
                found = session.read(specs, ids, limit, truncate)
            except (OSError, ValueError):
                found = None
            except Oversized:
                session.close()  # git is writing that object's content, which is never read
                raise
            if found is None:
                session.close()
            else:
                session.used = time.monotonic()
            return found

    def read(self, specs: list[str], ids: dict[str, str] | None,
             limit: int | None = None, truncate: int | None = None) -> dict[str, tuple[str, bytes | None]] | None:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        result: dict[str, tuple[str, bytes | None]] = {}
        lines = [(s + "\n").encode() for s in specs]
        start = size = 0
        for i, line in enumerate(lines):
            size += len(line)
            if i + 1 < len(lines) and size + len(lines[i + 1]) <= _PIPE_BUFFER:
                continue
            # A part fits the pipe's buffer, and its answers are read before the next
            # is written: neither side ever waits for the other to read.
            stdin.write(b"".join(lines[start:i + 1]))
            stdin.flush()
            try:
                if not self._answers(specs[start:i + 1], result, ids, limit, truncate):
                    return None
            except Oversized as big:
                big.answered = result
                raise
            start, size = i + 1, 0
        return result

    def _answers(self, specs: list[str], result: dict[str, tuple[str, bytes | None]], ids: dict[str, str] | None,
                 limit: int | None = None, truncate: int | None = None) -> bool:
        stdout = self.proc.stdout
        assert stdout is not None
        for spec in specs:
            header = stdout.readline().decode(errors="replace").rstrip("\n")
            if not header:
                return False  # git stopped
            if header.endswith(" missing") or header.endswith(" ambiguous"):
                result[spec] = ("missing", None)
                continue
            oid, otype, size = header.rsplit(" ", 2)
            if limit is not None and int(size) > limit:
                raise Oversized(spec, oid, otype, int(size))
            body = _read_upto(stdout, int(size) + 1, truncate)
            if body is None:
                return False
            if ids is not None:
                ids[spec] = oid
            result[spec] = (otype, body)
        return True

    def close(self) -> None:
        if _CatFile._open is self:
            _CatFile._open = None
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        self.proc.kill()
        self.proc.wait()

    @classmethod
    def close_open(cls) -> None:
        if cls._open is not None:
            cls._open.close()


def _read_upto(stream: IO[bytes], n: int, keep: int | None) -> bytes | None:
    """The ``n`` bytes of an object's content and its newline, the first ``keep``
    of them kept (None: all) and the rest read past; None when the stream ends first."""
    if keep is None or n - 1 <= keep:
        body = stream.read(n)
        return body[:-1] if len(body) == n else None
    body, left = stream.read(keep), n - keep
    while left > 0 and (chunk := stream.read(min(left, 1 << 20))):
        left -= len(chunk)
    return body if len(body) == keep and left == 0 else None


def stream_blobs(root: Path, specs: Sequence[str], limit: int | None = None
                 ) -> Iterator[tuple[str, str | None, bytes | Oversized | None]]:
    """``git cat-file --batch`` of ``specs`` (``rev:path``), one object at a
    time: (spec, blob id, content), (spec, None, None) when missing. Nothing
    is held but the object being read, so 100,000 records stay in bounded
    memory; ask newest first (git's delta cache then hits: ~8x faster than
    in name order, 1.5x than oldest first).
    A blob larger than ``limit`` comes as Oversized, its content never read."""
    for spec, oid, otype, body in stream_objects(root, specs, limit):
        yield (spec, oid, body) if otype == "blob" else (spec, None, None)


def stream_objects(root: Path, specs: Sequence[str], limit: int | None = None
                   ) -> Iterator[tuple[str, str | None, str, bytes | Oversized | None]]:
    """(spec, object id, type, content) of each spec, one at a time
    (type "missing" and no content for one that is not there). An object
    larger than ``limit`` comes as Oversized: that git is ended before it
    writes more of it than a pipe holds (a 10 GB blob in history is neither
    read into memory nor waited for), and a new one asked for the rest."""
    done = 0
    while done < len(specs):
        for answer in _stream_until_oversized(root, specs[done:], limit):
            done += 1
            yield answer


def _stream_until_oversized(root: Path, specs: Sequence[str], limit: int | None
                            ) -> Iterator[tuple[str, str | None, str, bytes | Oversized | None]]:
    """``stream_objects`` of ``specs`` by one git, which stops after the first oversized object."""
    if not specs:
        return
    import tempfile

    with tempfile.TemporaryFile() as request:
        request.write("".join(s + "\n" for s in specs).encode())
        request.seek(0)
        proc = subprocess.Popen(
            ["git", "cat-file", "--batch"], cwd=root, stdin=request,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env(), bufsize=1 << 20,
        )
        assert proc.stdout is not None
        out = proc.stdout
        try:
            import fcntl  # a 1 MiB pipe: git writes ahead instead of waiting on every 64 KiB

            fcntl.fcntl(out.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
        except (ImportError, OSError):
            pass
        try:
            for spec in specs:
                header = out.readline().decode(errors="replace").rstrip("\n")
                if not header:
                    raise GitFailed("cat-file", "it stopped early", "check the repository with `git fsck`")
                if header.endswith(" missing") or header.endswith(" ambiguous"):
                    yield spec, None, "missing", None
                    continue
                oid, otype, size_s = header.rsplit(" ", 2)
                size = int(size_s)
                if limit is not None and size > limit:
                    yield spec, oid, otype, Oversized(spec, oid, otype, size)
                    return
                yield spec, oid, otype, out.read(size + 1)[:-1]
        finally:
            out.close()
            proc.kill()
            proc.wait()


def history_context(root: Path) -> str:
    """What, besides object ids, decides what a commit's history is: the
    shallow boundary, grafts and replace refs (where git keeps them, and
    whether it follows them). A cache of facts derived from history (not
    from one object) is only valid under the same context."""
    import hashlib

    digest = hashlib.sha256()
    names = ("shallow", "info/grafts")
    dirs = None if any(os.environ.get(v) for v in ("GIT_GRAFT_FILE", "GIT_REPLACE_REF_BASE", "GIT_NAMESPACE")) \
        else _dirs(root)
    if dirs is not None:  # both are the common directory's, as `git rev-parse --git-path` puts them
        paths = [str(dirs[1] / name) for name in names]
    else:
        paths = run(root, "rev-parse", *(a for n in names for a in ("--git-path", n))).splitlines()
    for name, file in zip(names, paths, strict=False):
        try:
            digest.update(name.encode() + b"\0" + (Path(root) / file).read_bytes() + b"\0")
        except OSError:
            pass
    base = os.environ.get("GIT_REPLACE_REF_BASE") or "refs/replace/"
    if dirs is None or _may_have_replace_refs(dirs[1]):
        listed = run(root, "for-each-ref", "--format=%(refname) %(objectname)", base, check=False)
        digest.update(listed.encode())
        if listed:  # whether git follows them: `core.useReplaceRefs false` leaves them in place, unused
            digest.update(b"\0use " + run(root, "config", "--type=bool", "--get", "core.useReplaceRefs",
                                          check=False).strip().encode())
    digest.update(f"\0{base}\0{os.environ.get('GIT_NO_REPLACE_OBJECTS', '')}".encode())
    return digest.hexdigest()


def _may_have_replace_refs(common: Path) -> bool:
    """False only when git would list no replace ref: no file under
    refs/replace/ and no such line in packed-refs (a git call each time
    otherwise, in every command that reads history)."""
    if os.path.lexists(common / "reftable"):
        return True
    for _, _, files in os.walk(common / "refs" / "replace"):
        if files:
            return True
    try:
        return b" refs/replace/" in (common / "packed-refs").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True


def commit_times(root: Path, commits: Iterable[str]) -> dict[str, int]:
    """Committer time of each commit that exists, in one cat-file process
    (streamed: 100,000 commits never sit in memory at once)."""
    commits = list(dict.fromkeys(commits))
    times = {}
    for commit, _, otype, body in stream_objects(root, commits):
        if otype != "commit" or not isinstance(body, bytes):
            continue
        for line in body.split(b"\n\n", 1)[0].split(b"\n"):
            if line.startswith(b"committer "):
                parts = line.rsplit(b" ", 2)
                if len(parts) == 3 and parts[1].isdigit():
                    times[commit] = int(parts[1])
    return times


def object_ids(root: Path, specs: Iterable[str]) -> dict[str, str | None]:
    """``rev:path`` -> the object id there (None: missing), in one ``cat-file --batch-check``."""
    return {spec: found[0] if found else None for spec, found in blob_ids_sized(root, specs).items()}


def blob_ids_sized(root: Path, specs: Iterable[str]) -> dict[str, tuple[str, int] | None]:
    """``rev:path`` -> (blob id, size) there (None: no blob), in one ``cat-file --batch-check``."""
    specs = list(dict.fromkeys(specs))
    if not specs:
        return {}
    out = run(root, "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)",
              input="".join(s + "\n" for s in specs).encode())
    ids: dict[str, tuple[str, int] | None] = {}
    for spec, line in zip(specs, out.splitlines(), strict=False):
        oid, kind, size = (line.split(" ") + ["", ""])[:3]
        ids[spec] = (oid, int(size)) if kind == "blob" and size.isdigit() else None
    return ids


def blobs_on_branches(root: Path, path: str) -> dict[tuple[str, str], int]:
    """Every version of the files under ``path`` any local or remote branch
    ever held: (file, blob id) -> committer time of the first commit that
    wrote it. Tags are left out: a commit only a tag reaches was made for it."""
    out = run(root, "log", "--branches", "--remotes", "--reverse", "--format=%x1e%ct", "--raw", "--no-abbrev",
              "--no-renames", "--", path, check=False)
    first: dict[tuple[str, str], int] = {}
    for chunk in out.split("\x1e"):
        lines = chunk.strip("\n").splitlines()
        if not lines or not lines[0].isdigit():
            continue
        when = int(lines[0])
        for line in lines[1:]:
            meta, _, name = line.partition("\t")
            fields = meta.split()
            if line.startswith(":") and len(fields) >= 4 and name:
                first.setdefault((name, fields[3]), when)
    return first


def branch_tips(root: Path) -> list[str]:
    """The commits every local and remote branch points at."""
    return run(root, "for-each-ref", "--format=%(objectname)", "refs/heads/", "refs/remotes/", check=False).split()


def on_branches(root: Path) -> set[str]:
    """Every commit some local or remote branch reaches (10,000 in ~50 ms)."""
    return set(run(root, "rev-list", "--branches", "--remotes", check=False).split())


def branch_commit_times_ahead(root: Path) -> Callable[[], dict[str, int]]:
    """Every commit some local or remote branch reaches, with its committer
    time, from one ``rev-list --timestamp`` started now (see ``_output_ahead``):
    what ``on_branches`` and ``commit_times`` answer for those commits, in
    one walk and without reading each commit as an object (100,000 commits:
    ~0.5 s of git, against ~1.1 s for both). A commit git dates 0 (no date it
    can read) is listed with 0: it is reached, but its time is not known."""
    answer = _output_ahead(root, ["rev-list", "--branches", "--remotes", "--timestamp"])

    def times() -> dict[str, int]:
        found: dict[str, int] = {}
        for line in answer()[1].decode(errors="replace").splitlines():  # (as on_branches: what git listed)
            when, _, commit = line.partition(" ")
            if when.isdigit() and len(commit) in (40, 64):
                found[commit] = int(when)
        return found

    return times


@dataclass(frozen=True)
class BranchWalk:
    times: dict[str, int]  # as branch_commit_times_ahead gives them, where ``odd_dates`` is False
    path_log: list[str] | None  # log_path(tip, path)'s commits, newest first; None: a merge in tip's history
    odd_dates: bool = False  # a committer date git's log could not read: ask rev-list for the times


def branch_walk_ahead(root: Path, path: str, tip: str | None) -> Callable[[], BranchWalk | None]:
    """``branch_commit_times_ahead`` and, where ``tip``'s history has no
    merge, the commits of ``log_path(root, path, tip)``, from one walk
    started now: every commit a local or remote branch reaches, its time, its
    parents and whether it changed ``path`` against its parent (a root:
    against nothing). On a history with no merge that is what ``log TIP --
    PATH`` selects, in that order; git's simplification of merges is not
    replayed (``path_log`` None: ask ``log_path``). 100,000 commits: ~0.95 s
    of git, against ~1.4 s for both walks. The answer is kept (call it as
    often as needed); None when git failed. Times are the committer dates
    git's log shows, rev-list's for a well-formed commit; where log reads
    none (a commit written by hand: "-5", "+77", no zone) ``odd_dates``
    says so, and rev-list's reading is the one to take. One with two '>'
    before its date is still read as log reads it (the last number)."""
    answer = _output_ahead(root, ["log", "--branches", "--remotes", "--full-history", "--sparse", "--root",
                                  "--no-renames", "--raw", "--no-abbrev", "--format=%x1e%ct %H %P", "--", path])
    kept: list[BranchWalk | None] = []

    def walk() -> BranchWalk | None:
        if not kept:
            status, out = answer()
            text, out = out.decode(errors="replace"), b""  # (10 MB at 100,000 commits: not held while it is read)
            kept.append(_branch_walk(text, tip) if status == 0 else None)
        return kept[0]

    return walk


_MAX_TIME = (1 << 64) - 1


def _branch_walk(out: str, tip: str | None) -> BranchWalk:
    """Read as git lists it, one commit at a time (no table of 100,000 parents:
    verify's peak memory is here): a commit of ``tip``'s history comes after
    its child, unless another branch reached it first with a later date;
    then its log is git's to answer, as after a merge."""
    times: dict[str, int] = {}
    odd = False
    found: list[str] | None = [] if tip else None
    expected = tip or ""  # the next commit of tip's history
    at = out.find("\x1e")
    while at >= 0:
        end = out.find("\x1e", at + 1)
        chunk = out[at + 1:end] if end >= 0 else out[at + 1:]
        at = end
        head, _, raw = chunk.partition("\n")
        when, _, rest = head.partition(" ")
        commit, _, above = rest.partition(" ")
        if len(commit) not in (40, 64):
            continue
        if when.isascii() and when.isdigit():
            times[commit] = min(int(when), _MAX_TIME)  # (past 64 bits: rev-list's cap)
        else:
            times[commit], odd = 0, True  # (reached all the same)
        if commit == expected and found is not None:
            if " " in above:
                found = None  # a merge: git's simplification decides
            else:
                if raw.strip():
                    found.append(commit)
                expected = above  # ("" past the root)
    return BranchWalk(times, None if expected else found, odd)


def log_commits(root: Path, commits: Sequence[str]) -> list[RawCommit]:
    """``log_path``'s answer for exactly these commits, in this order."""
    if not commits:
        return []
    out = run(root, "log", "--no-walk=unsorted", "--stdin", _LOG_FORMAT, input="".join(c + "\n" for c in commits).encode())
    return _log_commits(out)


def is_shallow(root: Path) -> bool:
    return run(root, "rev-parse", "--is-shallow-repository", check=False).strip() == "true"


_GIT_DIR_ENV = ("GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE")


def _dirs(root: Path) -> tuple[Path, Path] | None:
    """(this worktree's git directory, the common one) read from ``.git``
    and its ``commondir`` file, as git finds them, without running git:
    a one-model command asked git for them three times (a process each).
    None where the environment may point git elsewhere."""
    if any(os.environ.get(v) for v in _GIT_DIR_ENV):
        return None
    from mlver.adapters import statcache

    gitdir = statcache.git_dir(root)
    if gitdir is None:
        return None
    try:
        common = gitdir / (gitdir / "commondir").read_text().strip()
    except OSError:
        common = gitdir
    return gitdir, common


def common_dir(root: Path) -> Path:
    """Where the refs, objects and packed-refs of ``root``'s repository are."""
    dirs = _dirs(root)
    return dirs[1] if dirs else Path(root) / run(root, "rev-parse", "--git-common-dir").strip()


def private_path(root: Path, name: str) -> Path:
    """A file inside this clone's .git (never part of the tree, never pushed).
    mlver's own files (``mlver/...``) are this worktree's, as ``git rev-parse
    --git-path`` puts them; anything else is git's to place."""
    dirs = _dirs(root) if name.startswith("mlver/") else None
    return dirs[0] / name if dirs else Path(root) / run(root, "rev-parse", "--git-path", name).strip()


@contextmanager
def registry_lock(root: Path, wait_s: float = 30.0) -> Iterator[None]:
    """One registry write at a time in this clone: each reads the tags, decides
    (the next version, the next counter) and tags under it, so two racing
    releases cannot both pick one commit or one version. An OS lock
    (flock): a killed holder releases it with its last breath. A write that
    Ctrl-C ends takes back the tags it made: an interrupted write tags nothing."""
    import time

    path = private_path(root, "mlver/registry.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    written: list[tuple[str, str]] = []
    _WRITTEN.append(written)
    try:
        deadline = time.monotonic() + wait_s
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                raise RegistryBusy(os.path.relpath(path, root))
            time.sleep(0.05)
        yield
    except KeyboardInterrupt:
        _take_back(root, written)
        raise
    finally:
        _WRITTEN.remove(written)
        os.close(fd)  # closing the descriptor releases the lock


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # no fcntl there (the check type checkers understand)
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def read_blobs(root: Path, specs: Iterable[str], limit: int | None = MAX_BLOB_BYTES) -> dict[str, bytes | None]:
    """``rev:path`` -> content (None when missing), in one cat-file process.
    A blob larger than ``limit`` (None: no bound) is refused with
    InputTooLarge before its content is read."""
    found = read_blobs_bounded(root, specs, limit)
    for body in found.values():
        if isinstance(body, Oversized):
            raise body.refused(limit or 0)
    return {spec: body for spec, body in found.items() if not isinstance(body, Oversized)}


def read_blobs_bounded(root: Path, specs: Iterable[str], limit: int | None = MAX_BLOB_BYTES
                       ) -> dict[str, bytes | Oversized | None]:
    """``read_blobs``, a blob larger than ``limit`` given as Oversized (its
    content never read), for a reader that skips what it cannot read."""
    specs = list(dict.fromkeys(specs))
    found: dict[str, tuple[str, bytes | Oversized | None]] = {}
    rest = specs
    if specs and len(specs) <= _CatFile.MAX_SPECS and not any("\n" in s for s in specs):
        try:
            answer = _CatFile.ask(root, specs, None, limit)
        except Oversized as big:  # (the session is ended: the rest is asked of one git)
            found.update(big.answered)
            found[big.spec] = (big.otype, big)
            rest = specs[specs.index(big.spec) + 1:]
        else:
            if answer is not None:
                found.update(answer)
                rest = []
    for spec, _, otype, body in stream_objects(root, rest, limit):
        found[spec] = (otype, body)
    return {spec: found[spec][1] if found[spec][0] == "blob" else None for spec in specs}


def read_blob(root: Path, rev: str, path: str, limit: int | None = MAX_BLOB_BYTES) -> bytes | None:
    return read_blobs(root, [f"{rev}:{path}"], limit)[f"{rev}:{path}"]


def read_blob_bounded(root: Path, rev: str, path: str, limit: int | None = MAX_BLOB_BYTES) -> bytes | Oversized | None:
    """``read_blob``, one larger than ``limit`` given as Oversized (its reader says what it is)."""
    return read_blobs_bounded(root, [f"{rev}:{path}"], limit)[f"{rev}:{path}"]


_OID = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


def blob_md5(root: Path, oid: str) -> tuple[str, int] | None:
    """(md5, size) of the content blob ``oid`` names, read in chunks (a model
    of gigabytes is never whole in memory); None when it is not a blob here.
    Replace refs are not followed: the answer is the id's own content, so it
    can be kept under the id (mlver/adapters/gitcache.py)."""
    import hashlib

    if not _OID.fullmatch(oid):
        return None
    try:
        proc = subprocess.Popen(["git", "--no-replace-objects", "cat-file", "blob", oid], cwd=root,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env())
    except FileNotFoundError as exc:
        raise GitMissing() from exc
    digest, size = hashlib.md5(), 0
    with proc:
        out = proc.stdout
        while out is not None and (chunk := out.read(1 << 20)):
            digest.update(chunk)
            size += len(chunk)
    return (digest.hexdigest(), size) if proc.returncode == 0 else None


@dataclass(frozen=True)
class RawCommit:
    commit: str
    author: str
    email: str
    timestamp: int
    subject: str


def log_path(root: Path, path: str, rev: str = "HEAD", max_count: int | None = None) -> list[RawCommit]:
    """Commits that changed ``path``, newest first (``max_count``: only the
    newest ones; git stops walking there). ``rev`` may be a range (A..B)."""
    if rev == "HEAD" and head(root) is None:  # a commit or range the caller resolved needs no look
        return []
    limit = [f"--max-count={max_count}"] if max_count is not None else []
    return _log_commits(run(root, "log", *limit, _LOG_FORMAT, rev, "--", path))


_LOG_FORMAT = "--format=%H%x1f%an%x1f%ae%x1f%at%x1f%s%x1e"


def log_path_ahead(root: Path, path: str, rev: str) -> Callable[[], list[RawCommit]]:
    """``log_path(root, path, rev)`` of a resolved ``rev``, started now (see
    ``_output_ahead``); GitFailed from the call when git failed."""
    answer = _output_ahead(root, ["log", _LOG_FORMAT, rev, "--", path])

    def commits() -> list[RawCommit]:
        status, out = answer()
        if status != 0:
            raise GitFailed("log", f"exit {status}", "see `git status`; run with --traceback for details")
        return _log_commits(out.decode(errors="replace"))

    return commits


def _log_commits(out: str) -> list[RawCommit]:
    commits = []
    for chunk in out.split("\x1e"):
        chunk = chunk.strip("\n")
        if chunk:
            sha, name, email, ts, subject = chunk.split("\x1f", 4)
            commits.append(RawCommit(sha, name, email, int(ts), subject))
    return commits


def linear_since(root: Path, old: str, new: str) -> list[str] | None:
    """The commits from ``new`` back to ``old`` (excluded), newest first, when
    ``new`` extends ``old`` by commits of one parent each; None otherwise
    (a merge on the way, or ``old`` not an ancestor). Walks only those commits."""
    out = run(root, "rev-list", "--parents", new, f"^{old}", "--", check=False) if old != new else ""
    chain = []
    expected = new
    for line in out.splitlines():
        ids = line.split()
        if len(ids) != 2 or ids[0] != expected:
            return None
        chain.append(ids[0])
        expected = ids[1]
    return chain if expected == old else None


def numstat(root: Path, old: str, new: str) -> list[tuple[str, int | None, int | None]]:
    """Files changed between two commits with lines added/removed (None: binary)."""
    out = run(root, "diff", "--numstat", "-z", "--no-renames", old, new)
    rows = []
    for entry in out.split("\0"):
        if not entry:
            continue
        added, removed, path = entry.split("\t", 2)
        rows.append((path, None if added == "-" else int(added), None if removed == "-" else int(removed)))
    return rows


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    return ok(root, "merge-base", "--is-ancestor", ancestor, descendant)


def tracked(root: Path, path: str) -> bool:
    return ok(root, "ls-files", "--error-unmatch", "--", path)


def files_under(root: Path, folders: Sequence[str]) -> list[str]:
    """The files of ``folders`` a commit of them takes: those git tracks (gone
    ones too) and new ones no .gitignore excludes."""
    if not folders:
        return []
    out = run(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *folders)
    return list(dict.fromkeys(p for p in out.split("\0") if p))


def ignored(root: Path, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` .gitignore matches, tracked or not (``--no-index``:
    a file committed by mistake is still one git should not take again)."""
    if not paths:
        return set()
    proc = subprocess.run(["git", "check-ignore", "--no-index", "-z", "--stdin"], cwd=root,
                          input="\0".join(paths).encode() + b"\0", capture_output=True, env=_env())
    if proc.returncode not in (0, 1):  # 1: none of them is ignored
        raise GitFailed("check-ignore", proc.stderr.decode(errors="replace").strip(), "see `git status`")
    return {p for p in proc.stdout.decode(errors="replace").split("\0") if p}


def worktree_add(root: Path, path: Path, commit: str) -> None:
    run(root, "worktree", "add", "--detach", "--quiet", str(path), commit)


def worktree_remove(root: Path, path: Path) -> None:
    run(root, "worktree", "remove", "--force", str(path), check=False)
    run(root, "worktree", "prune", check=False)


def tracked_at(root: Path, commit: str, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` are files in git at ``commit``."""
    if not paths:
        return set()
    out = run(root, "ls-tree", "-r", "--name-only", "-z", commit, "--", *paths, check=False)
    return {p for p in out.split("\0") if p}


def _default_branch_from_files(common: Path) -> str | None:
    """``default_branch`` read from the ref files as git reads them (a
    symbolic ref is never packed; a branch is a loose file or a packed-refs
    line); "" for none, None when only git can settle it (a loose ref that
    is not an object id, a short name another ref could also mean)."""
    try:
        packed = (common / "packed-refs").read_text(errors="replace")
    except FileNotFoundError:
        packed = ""
    except OSError:
        return None

    def exists(ref: str) -> bool | None:
        try:
            loose = (common / ref).read_text(errors="replace").strip()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return f" {ref}\n" in packed
        except OSError:
            return None
        return True if _OID.fullmatch(loose) else None

    try:
        head = (common / "refs/remotes/origin/HEAD").read_text(errors="replace").strip()
    except FileNotFoundError:
        head = ""
    except OSError:
        return None
    if head:
        target = head.removeprefix("ref: ").strip()
        short = target.removeprefix("refs/remotes/")
        if not head.startswith("ref: ") or short == target:
            return None
        # `symbolic-ref --short` says "origin/main" unless another ref is also "origin/main".
        if any(exists(ref) is not False for ref in (short, f"refs/{short}", f"refs/tags/{short}", f"refs/heads/{short}")):
            return None
        return short
    for name in ("main", "master"):
        found = exists(f"refs/heads/{name}")
        if found is None:
            return None
        if found:
            return name
    return ""


def merge_base(root: Path, a: str, b: str) -> str | None:
    """The best common ancestor of two commits (what a pull request is compared with)."""
    out = subprocess.run(["git", "merge-base", a, b], cwd=root, capture_output=True, env=_env())
    return out.stdout.decode().strip() or None


def default_branch(root: Path) -> str | None:
    """The branch pull requests go into: origin's HEAD when a clone knows it,
    else a local main or master."""
    dirs = _dirs(root)
    if dirs is not None and not os.environ.get("GIT_NAMESPACE") and not os.path.lexists(dirs[1] / "reftable"):
        found = _default_branch_from_files(dirs[1])
        if found is not None:
            return found or None
    out = subprocess.run(
        ["git", "symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"],
        cwd=root, capture_output=True, env=_env(),
    )
    remote_head = out.stdout.decode().strip()
    if remote_head:
        return remote_head  # "origin/main": it exists even where no local main does (CI clones)
    for name in ("main", "master"):
        if ok(root, "rev-parse", "-q", "--verify", f"refs/heads/{name}"):
            return name
    return None


MAX_TREE_DEPTH = 32  # folders deeper than this are not looked into (a crafted history can nest without end)


def files_at(root: Path, commits: Iterable[str], wanted: Callable[[str], bool],
             skip: frozenset[str] = frozenset()) -> dict[str, dict[str, str]]:
    """commit -> {path: blob id} of the files whose name ``wanted`` accepts, at
    each of ``commits``; a commit git lacks is left out. Trees are read with
    one ``cat-file --batch`` per folder depth and each one once, however many
    commits share it (a release commit changes a few folders, not all), so
    100,000 versions cost their distinct trees, not a ``ls-tree`` each.
    ``skip``: top-level folders not looked into."""
    commits = list(dict.fromkeys(commits))
    ids: dict[str, str] = {}
    found = _batch(root, [f"{c}^{{tree}}" for c in commits], ids) if commits else {}
    top = {c: ids[f"{c}^{{tree}}"] for c in commits if found.get(f"{c}^{{tree}}", ("missing", None))[0] == "tree"}
    trees: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}  # oid -> (files, folders)
    level, depth = set(top.values()), 0
    width = len(next(iter(level), "")) // 2  # bytes per id in a tree: 20 (sha1) or 32 (sha256)
    while level and depth <= MAX_TREE_DEPTH:
        bodies = _batch(root, sorted(level))
        following: set[str] = set()
        for oid, (otype, body) in bodies.items():
            files, folders = _tree_entries(body or b"", wanted, width) if otype == "tree" else ([], [])
            if depth == 0:
                folders = [(name, sub) for name, sub in folders if name not in skip]
            trees[oid] = (files, folders)
            following.update(sub for _, sub in folders if sub not in trees)
        level, depth = following - trees.keys(), depth + 1
    memo: dict[str, list[tuple[str, str]]] = {}
    return {c: dict(_tree_files(tree, trees, memo, 0)) for c, tree in top.items()}


def _tree_entries(body: bytes, wanted: Callable[[str], bool],
                  width: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(wanted files, folders) of a raw tree object, each (name, object id)."""
    files, folders = [], []
    pos = 0
    while pos < len(body):
        space, nul = body.find(b" ", pos), body.find(b"\0", pos)
        if space < 0 or nul < 0:
            break
        mode, name = body[pos:space], body[space + 1:nul].decode(errors="surrogateescape")
        oid = body[nul + 1:nul + 1 + width].hex()
        pos = nul + 1 + width
        if mode == b"40000":
            folders.append((name, oid))
        elif mode in (b"100644", b"100755") and wanted(name):
            files.append((name, oid))
    return files, folders


def _tree_files(oid: str, trees: Mapping[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]],
                memo: dict[str, list[tuple[str, str]]], depth: int) -> list[tuple[str, str]]:
    if oid in memo:
        return memo[oid]
    files, folders = trees.get(oid, ([], []))
    out = list(files)
    if depth < MAX_TREE_DEPTH:
        for name, sub in folders:
            out += [(f"{name}/{path}", blob) for path, blob in _tree_files(sub, trees, memo, depth + 1)]
    memo[oid] = out
    return out
