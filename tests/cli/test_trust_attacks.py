"""Attacks on the shortcuts that trust cached state (session 7's review): each test
fails on the code before its fix. A co-user of a shared cache or remote, a file
swapped behind mlver's back, or a crafted cache file in ``.git/mlver/cache`` must
lead to hashing, a refusal or a slower command, never to unverified bytes or a
traceback."""
from __future__ import annotations

import builtins
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fixtures.objects import BIG, run_big_model
from fixtures.objects import flip_byte as _flip
from fixtures.objects import md5_of as _md5
from fixtures.objects import object_path as _object

from conftest import Project

_big = run_big_model


def test_a_cache_object_replaced_by_a_symlink_is_hashed_on_every_push(project: Project, tmp_path: Path) -> None:
    # The stat cache looked at a cache object with lstat: for a symlink that is the
    # link's own stat, which stays the same while the file it points to changes.
    p = project
    md5 = _big(p)
    obj = _object(p.root / ".dvc" / "cache", md5)
    outside = tmp_path / "outside.bin"
    outside.write_bytes(obj.read_bytes())
    obj.unlink()
    obj.symlink_to(outside)
    p.ok("push")  # hashed through the link: the bytes are the object's
    assert _md5(_object(p.remote, md5)) == md5
    _flip(outside, BIG // 2)  # the file behind the link changes; the link does not
    _object(p.remote, md5).unlink()
    assert "does not hash to its name" in p.fails("push").stderr
    assert not _object(p.remote, md5).exists()
    second = tmp_path / "second"
    p.ok("remote", "add", "second", str(second))
    assert "does not hash to its name" in p.fails("push", "-r", "second").stderr
    assert not _object(second, md5).exists()
    os.unlink(obj)


def _cache_files(p: Project) -> list[Path]:
    """The caches push, pull and verify read: in .git/mlver/cache, and the stat cache in .dvc/tmp (in the tree)."""
    cache = p.root / ".git" / "mlver" / "cache"
    return [cache / "dvc-remotes-2.json", cache / "facts.json", p.root / ".dvc" / "tmp" / "mlver" / "md5s.json"]


def _mlver(p: Project, *args: str) -> subprocess.CompletedProcess[str]:
    # In a process of its own: a command that blocks on a planted FIFO is killed, not the test run.
    return subprocess.run([sys.executable, "-m", "mlver", *args], cwd=p.root, capture_output=True, text=True,
                          timeout=60)


def test_a_planted_fifo_or_symlink_in_place_of_a_cache_is_not_read(trained: Project, tmp_path: Path) -> None:
    p = trained
    p.ok("push")
    p.ok("verify")  # every cache written once
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    files = _cache_files(p)
    assert all(f.is_file() for f in files)
    for file in files[:2]:
        file.unlink()
        os.mkfifo(file)  # (open() of a FIFO waits for a writer)
    files[2].unlink()
    files[2].symlink_to(fifo)  # .dvc/tmp is in the tree: `git add -f` and a checkout bring a symlink
    p.git("add", "-f", ".dvc/tmp/mlver/md5s.json")
    p.commit_all("a symlink where mlver keeps its stat cache")
    for args in (("push",), ("verify",), ("pull", "churn@v0.1.0", "--with-data")):
        try:
            run = _mlver(p, *args)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"mlver {' '.join(args)} blocked on a planted FIFO") from None
        assert run.returncode == 0, run.stderr


def test_a_crafted_cache_is_a_damaged_one_not_a_crash(trained: Project) -> None:
    # Nested too deep, json.loads raises RecursionError, not a ValueError: a traceback (exit 4).
    p = trained
    p.ok("push")
    p.ok("verify")
    deep = "[" * 100_000 + "]" * 100_000
    remotes, facts, known = _cache_files(p)
    for file in (remotes, known):
        file.write_text('{"format": 1, "data": ' + deep + '}')
    stamp, *lines = facts.read_text().rstrip("\n").split("\n")  # (splitlines would cut at the \x1e of a tag's line)
    facts.write_text(stamp + "\n" + "".join("\t".join(line.split("\t")[:2] + [deep]) + "\n" for line in lines))
    p.ok("push")
    p.ok("verify")
    # Plain values that str.isdigit() and isalnum() pass and int() or git refuse.
    facts.write_text(stamp + "\n" + "".join("\t".join(line.split("\t")[:2] + ["\u00b2" if line[0] == "c" else "\u00e9" * 40])
                                           + "\n" for line in lines))
    p.ok("verify")
    p.ok("pull", "churn@v0.1.0", "--with-data")


def test_a_password_in_a_remote_url_is_never_written_to_a_cache(project: Project) -> None:
    p = project
    local = p.root / ".dvc" / "config.local"
    local.write_text(local.read_text() + "['remote \"web\"']\n    url = https://alice:s3cr3t-pw@example.com/store\n"
                     "['remote \"box\"']\n    url = ssh://bob:hunter2@example.com/box\n"
                     "['remote \"s3\"']\n    url = s3://bucket/x\n    endpointurl = https://k:v4lue@s3.example.com\n")
    p.ok("run", "churn")
    for _ in range(2):
        p.ok("push")
    leaks = [f for f in (p.root / ".git").rglob("*") if f.is_file()
             and any(s in f.read_bytes() for s in (b"s3cr3t-pw", b"hunter2", b"v4lue"))]
    assert leaks == []



class _Swapper:
    """Swaps the folder of ``obj`` with ``evil`` (a folder holding other bytes under
    its name) at a command's looks at ``obj`` by name: right after the first look, and
    back right before the next. Real renames; only their timing is arranged, at the
    looks (``os`` function, calling module) a co-user of the folder races for."""

    def __init__(self, obj: Path, evil: Path, spare: Path) -> None:
        self.obj, self.evil, self.spare = obj, evil, spare
        self.swapped, self.swaps = False, 0

    def swap(self) -> None:
        self.swaps += 1
        away, back = (self.evil, self.spare) if self.swapped else (self.spare, self.evil)
        os.rename(self.obj.parent, away)
        os.rename(back, self.obj.parent)
        self.swapped = not self.swapped

    def watch(self, monkeypatch: pytest.MonkeyPatch, looks: dict[str, str]) -> None:
        for name, caller in looks.items():
            monkeypatch.setattr(os, name, self._look(getattr(os, name), caller))

    def watch_open(self, monkeypatch: pytest.MonkeyPatch, module: Any) -> None:
        """The builtin open() as ``module`` calls it (a global of its own shadows the builtin)."""
        monkeypatch.setattr(module, "open", self._look(builtins.open, module.__file__), raising=False)

    def _look(self, real: Callable[..., Any], caller: str) -> Callable[..., Any]:
        def by_name(path: object, *args: object, **kwargs: object) -> Any:
            if os.fspath(path) != str(self.obj) or not sys._getframe(1).f_code.co_filename.endswith(caller):  # type: ignore[call-overload]
                return real(path, *args, **kwargs)
            if self.swapped:  # a later look: the good folder is back first
                self.swap()
                return real(path, *args, **kwargs)
            found = real(path, *args, **kwargs)
            self.swap()  # the first look saw the good folder: now the other one
            return found
        return by_name

    def restore(self) -> None:
        if self.swapped:
            self.swap()


def _evil_twin(obj: Path, tmp_path: Path) -> Path:
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / obj.name).write_bytes(obj.read_bytes())
    _flip(evil / obj.name, BIG // 2)
    return evil


def test_a_remote_folder_swapped_during_a_trusted_copy_is_not_trusted(project: Project, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # The ledger vouches for a remote object by its stat. Renaming a folder changes no
    # stat of the files in it: a folder swapped with one holding other bytes between the
    # stat and the open, and back before the second stat, had its bytes copied unhashed.
    p = project
    md5 = _big(p)
    p.ok("push")
    obj = _object(p.remote, md5)
    swapper = _Swapper(obj, _evil_twin(obj, tmp_path), tmp_path / "good")
    shutil.rmtree(p.root / ".dvc" / "cache")
    (p.root / "models/churn.pkl").unlink()
    with monkeypatch.context() as watched:
        swapper.watch(watched, {"stat": "adapters/storage.py", "open": "adapters/storage.py"})
        run = p.mlver("pull", "churn@HEAD")
    swapper.restore()
    assert swapper.swaps >= 1 and run.exit_code == 0, run.stderr
    assert _md5(p.root / "models/churn.pkl") == md5 == _md5(_object(p.root / ".dvc" / "cache", md5))


def test_a_cache_folder_swapped_during_a_trusted_push_is_not_trusted(project: Project, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # The same in a cache a co-user can write (DVC's shared cache): the stat cache vouched
    # for the object it looked at, and push copied, unhashed, whatever had its name then.
    p = project
    md5 = _big(p)
    obj = _object(p.root / ".dvc" / "cache", md5)
    swapper = _Swapper(obj, _evil_twin(obj, tmp_path), tmp_path / "good")
    with monkeypatch.context() as watched:
        swapper.watch(watched, {"lstat": "adapters/hashcache.py", "open": "api/storage.py"})
        run = p.mlver("push")
    swapper.restore()
    assert swapper.swaps >= 1, run.stderr
    assert not _object(p.remote, md5).exists() or _md5(_object(p.remote, md5)) == md5
    assert run.exit_code == 0, run.stderr


def test_a_cache_folder_swapped_while_a_pull_places_from_it_is_not_trusted(project: Project, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Placing a large cache object the stat cache knows: its stat was read from one open
    # (read_small) and the bytes copied from another, by name.
    from mlver.adapters import storage

    p = project
    md5 = _big(p)
    obj = _object(p.root / ".dvc" / "cache", md5)
    swapper = _Swapper(obj, _evil_twin(obj, tmp_path), tmp_path / "good")
    (p.root / "models/churn.pkl").unlink()
    with monkeypatch.context() as watched:
        swapper.watch(watched, {"open": "api/storage.py"})
        swapper.watch_open(watched, storage)
        run = p.mlver("pull", "churn@HEAD")
    swapper.restore()
    assert swapper.swaps >= 1 and run.exit_code == 0, run.stderr
    assert _md5(p.root / "models/churn.pkl") == md5


def test_a_carriage_return_in_a_pushed_tag_cannot_write_a_fact_for_another_object(trained: Project) -> None:
    # The facts file was read with universal newlines: a "\r" in a tagger's name (git
    # keeps any byte but "\n" there) ended the tag's line, and what followed it became
    # a line of its own, a fact about any object the tag's author chose (here: the
    # record blob of churn@v0.1.0 naming another artifact).
    p = trained
    p.ok("push")
    assert p.ok("verify", "--json").json()["ok"]  # every fact of the honest registry kept
    blob = p.git("rev-parse", "churn@v0.1.0:.mlver/records/churn.json").strip()
    facts = (p.root / ".git" / "mlver" / "cache" / "facts.json").read_text()
    line = next(row for row in facts.split("\n") if row.startswith(f"b\t{blob}\t"))
    artifact = p.ok("show", "churn@v0.1.0", "--json").json()["record"]["doc"]["artifact"]["md5"]
    forged = line.split("\t")[2].replace(artifact, "0" * 32) + '\t{"note": "mlver-"}'  # (a marked line)
    commit = p.git("rev-parse", "churn@v0.1.0^{commit}").strip()
    body = (f"object {commit}\ntype commit\ntag churn@v0.2.0\ntagger Evil\rb <{blob}> 1796194088 +0000\n\n"
            f"a tag anyone who can push can make\n\n{forged}\n")
    tag = subprocess.run(["git", "hash-object", "-t", "tag", "-w", "--literally", "--stdin"], cwd=p.root,
                         input=body.encode(), capture_output=True, check=True).stdout.decode().strip()
    p.git("update-ref", "refs/tags/churn@v0.2.0", tag)
    for _ in range(2):  # the tag's line is written by the first, read back by the second
        problems = [f["problem"] for f in p.mlver("verify", "--json").json()["findings"]]
        assert not any("0" * 32 in problem for problem in problems), problems


def test_a_profile_cache_brought_by_a_checkout_is_not_recorded(project: Project) -> None:
    # Profiles were cached in .dvc/tmp/mlver/profiles by the data's md5: a commit can
    # carry a file there (`git add -f`), and the next run recorded its profile as the
    # data's (the numbers drift and review gates compare).
    p = project
    data_md5 = next(line.split(":", 1)[1].strip() for line in (p.root / "data/train.csv.dvc").read_text().splitlines()
                    if line.strip().startswith("- md5:") or line.strip().startswith("md5:"))
    from mlver.domain.profile_stream import SCHEMA

    forged = {"schema": SCHEMA, "format": "csv", "rows": 7, "columns": []}
    planted = p.write(f".dvc/tmp/mlver/profiles/{data_md5}.v{SCHEMA}.json", json.dumps(forged))
    p.git("add", "-f", str(planted.relative_to(p.root)))
    p.commit_all("a profile where mlver caches them")
    p.ok("run", "churn")
    record = json.loads((p.root / ".mlver/records/churn.json").read_text())
    assert record["data"][0]["profile"]["rows"] == 200


@pytest.mark.parametrize("link", [".dvc/tmp/mlver/place", ".dvc/tmp/mlver"])
def test_a_folder_of_mlvers_brought_by_a_checkout_as_a_symlink_is_not_used(trained: Project, tmp_path: Path,
                                                                          link: str) -> None:
    # Pulls stage in .dvc/tmp/mlver/place, the stat cache is .dvc/tmp/mlver/md5s.json. A
    # commit can carry a symlink there (to a folder a co-user controls): files were staged
    # outside the project, leftovers swept there, and stat-cache entries read from there.
    p = trained
    p.ok("push")
    outside = tmp_path / "outside"
    leftover = outside / ("mlver-999999-theirs" if link.endswith("place") else "place/mlver-999999-theirs")
    leftover.parent.mkdir(parents=True)
    leftover.write_text("not mlver's")  # named as a dead run's leftover
    shutil.rmtree(p.root / link, ignore_errors=True)
    (p.root / link).parent.mkdir(parents=True, exist_ok=True)
    (p.root / link).symlink_to(outside)
    p.git("add", "-f", link)
    p.commit_all("a symlink where mlver stages and caches")
    (p.root / "models/churn.pkl").unlink()
    p.ok("pull", "churn@v0.1.0", "--with-data")
    p.ok("push")
    assert [f.relative_to(outside).as_posix() for f in outside.rglob("*") if f.is_file()] == [
        leftover.relative_to(outside).as_posix()]
    md5 = p.ok("show", "churn@v0.1.0", "--json").json()["record"]["doc"]["artifact"]["md5"]
    assert _md5(p.root / "models/churn.pkl") == md5


def test_the_remote_ledger_is_never_in_place_writable_by_others(project: Project,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # It was renamed into place with open()'s mode and chmod-ed 0600 after: with a umask
    # of 002, its group could open it for writing in between and write entries later
    # (the read checks the mode, not who holds it open).
    from mlver.adapters import atomic, remotestat

    monkeypatch.setattr(atomic, "_UMASK", [0o002])
    ledger = remotestat.store_file()
    assert ledger is not None
    modes: list[int] = []
    real_replace = os.replace

    def replace(src: Any, dst: Any, **kwargs: Any) -> None:
        if os.fspath(dst) == ledger:  # (watched, not changed: the rename itself is the real one)
            modes.append(os.stat(src).st_mode & 0o777)
        real_replace(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    _big(p := project)
    p.ok("push")
    assert modes and set(modes) == {0o600}
    assert os.stat(ledger).st_mode & 0o777 == 0o600


def test_an_s3_object_streaming_more_than_its_size_is_not_read_on(trained: Project) -> None:
    # A remote (one a repository names, too) that says an object has 4 KiB and then
    # streams on: the download was hashed and written to disk to the end of the stream.
    from fixtures.hostile_s3 import STREAMED, buffered_at_most, hostile_s3

    p = trained
    with hostile_s3(claimed=4096, streamed=STREAMED) as server:
        p.ok("remote", "add", "liar", "s3://bucket/team", "--endpoint-url", server.url, "--default")
        (p.root / "models/churn.pkl").unlink()
        shutil.rmtree(p.root / ".dvc" / "cache")
        run = p.mlver("pull", "churn@v0.1.0")
        assert run.exit_code == 2 and "corrupt" in run.stderr, (run.stderr, server.requests)
        assert server.sent < buffered_at_most(server.requests), server.sent
    assert not (p.root / "models/churn.pkl").exists()


def test_a_fifo_in_place_of_a_remote_object_is_no_object(project: Project, tmp_path: Path) -> None:
    # A co-user of a folder remote (or a repository naming a folder remote it prepared)
    # puts a symlink to a FIFO where an object belongs. Held before this session: the
    # store asks is_file() before it opens an object, so nothing waits for a writer.
    p = project
    md5 = _big(p)
    p.ok("push")
    obj = _object(p.remote, md5)
    kept = tmp_path / "kept"
    shutil.move(obj, kept)
    os.mkfifo(tmp_path / "fifo")
    obj.symlink_to(tmp_path / "fifo")
    shutil.rmtree(p.root / ".dvc" / "cache")
    (p.root / "models/churn.pkl").unlink()
    try:
        run = _mlver(p, "pull", "churn@HEAD")
    except subprocess.TimeoutExpired:
        raise AssertionError("pull blocked on a FIFO in the remote") from None
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert not (p.root / "models/churn.pkl").exists()
    obj.unlink()
    shutil.move(kept, obj)
    p.ok("pull", "churn@HEAD")
    assert _md5(p.root / "models/churn.pkl") == md5
