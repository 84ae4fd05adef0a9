"""A remote that answers as no honest S3 does (session 9's attack pass): a listing
that never ends must end in a refusal, never in a command that runs for ever.
Each test fails on the code before its fix; the hostile servers end every listing
after a few thousand pages, so a regression fails instead of hanging the run."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fixtures.hostile_s3 import Hostile, Looping, looping_s3

from conftest import Project, Run


def _many_files(p: Project, n: int = 300) -> None:
    # Over 256 objects: the push and status ask the remote for a listing instead of a HEAD each.
    for i in range(n):
        p.write(f"images/{i:03d}.txt", f"image {i}\n")
    p.ok("data", "add", "images")
    p.ok("model", "add", "vision", "--path", "models/vision.bin", "--data", "images")
    p.commit_all("declare vision")
    p.write("models/vision.bin", b"\x00weights")
    p.ok("record", "vision")


def _use(p: Project, server: Looping) -> None:
    p.ok("remote", "add", "liar", "s3://bucket/team", "--endpoint-url", server.url, "--default")


@pytest.mark.parametrize("mode", ["repeat", "no-token", "endless"])
def test_an_object_listing_that_never_ends_fails_the_push(project: Project, mode: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Each folder's listing followed NextContinuationToken while IsTruncated: the same token
    # again was asked for again, for ever; "more" without a token ended it as if complete.
    from mlver.adapters import s3

    monkeypatch.setattr(s3, "MAX_PAGES", 20)  # (the real bound is a million pages: hours of them)
    p = project
    _many_files(p)
    with looping_s3(mode, listings=("objects",)) as server:
        _use(p, server)
        run = p.fails("push")
        assert "liar" in run.stderr and "its listing does not end" in run.stderr, run.stderr
        assert server.pages < server.cap, server.pages
        assert not [k for k in server.objects if "/files/md5/" in k]  # refused before anything was sent


def test_an_object_listing_that_never_ends_is_a_note_in_status(project: Project) -> None:
    p = project
    _many_files(p)
    with looping_s3("repeat", listings=("objects",)) as server:
        _use(p, server)
        run = p.mlver("status", "--json")
        assert run.exit_code == 1 and run.json()["remote"] is None  # (not clean: the objects are unchecked)
        assert "its listing does not end" in run.stdout, run.stdout
        assert server.pages < server.cap, server.pages


@pytest.mark.parametrize("mode", ["cycle", "endless"])
def test_an_upload_listing_that_never_ends_fails_the_push(trained: Project, mode: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # A push looks for the multipart uploads an interrupted push left, with botocore's
    # paginator: it refuses a token given twice in a row, not two tokens in turn, nor new ones.
    from mlver.adapters import s3

    monkeypatch.setattr(s3, "MAX_PAGES", 20)
    p = trained
    with looping_s3(mode, listings=("uploads",)) as server:
        _use(p, server)
        run = p.fails("push")
        assert "liar" in run.stderr and "its listing does not end" in run.stderr, run.stderr
        assert server.pages < server.cap, server.pages


def test_a_listing_in_a_cycle_fails_gc_of_the_remote(trained: Project) -> None:
    # gc lists the remote's manifests and objects with botocore's paginator, which
    # does not notice two tokens given in turn; it must not delete on a partial answer either.
    p = trained
    with looping_s3("cycle", listings=("objects",), cap=400) as server:  # (botocore's pages are slow)
        _use(p, server)
        run = p.fails("gc", "--cloud", "--force", "--min-age", "0")
        assert "liar" in run.stderr and "its listing does not end" in run.stderr, run.stderr
        assert server.pages < server.cap, server.pages


def test_a_symlink_planted_at_a_predictable_cache_temp_name_is_not_written_through(project: Project,
                                                                                   tmp_path: Path) -> None:
    # `data add DIR` wrote each small object to `.<rest>.<pid>.mlver-tmp` beside it, opened with
    # O_CREAT|O_TRUNC: a co-user of a shared cache who planted a symlink at that name had the
    # object's bytes written into any file the link names that the adding user can write.
    import hashlib
    import os

    p = project
    p.write("images/a.txt", "image a\n")
    md5 = hashlib.md5(b"image a\n").hexdigest()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    folder = p.root / ".dvc" / "cache" / "files" / "md5" / md5[:2]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f".{md5[2:]}.{os.getpid()}.mlver-tmp").symlink_to(victim)  # (the command runs in this process)
    p.ok("data", "add", "images")
    assert victim.read_text() == "precious\n"
    assert (folder / md5[2:]).read_bytes() == b"image a\n" and not (folder / md5[2:]).is_symlink()


@pytest.fixture(params=["folder", "s3"])
def pushed_then_gone(project: Project, tmp_path: Path, request: pytest.FixtureRequest
                     ) -> tuple[Project, str, Path, Path]:
    """A big model pushed to a remote (a folder, or S3), then gone from the cache and the
    workspace (the next pull downloads it): the project, its md5, its cache object's
    path, and a co-user's file of other bytes of the same size to swap in."""
    import os

    from fixtures.objects import flip_byte, object_path, run_big_model

    p = project
    if request.param == "s3":
        s3 = request.getfixturevalue("s3")
        p.ok("remote", "add", "storage", s3.url(), "--endpoint-url", s3.endpoint, "--default")
    md5 = run_big_model(p)
    p.ok("push")
    obj = object_path(p.root / ".dvc" / "cache", md5)
    evil = tmp_path / "evil"
    evil.write_bytes(obj.read_bytes())
    flip_byte(evil, 12345)
    os.chmod(obj, 0o644)
    obj.unlink()
    (p.root / "models/churn.pkl").unlink()
    return p, md5, obj, evil


def test_an_object_swapped_as_a_pull_puts_it_in_a_shared_cache_is_not_vouched_for(
        pushed_then_gone: tuple[Project, str, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A pull hashed a download, renamed it into the cache's object folder and then
    # remembered the stat of whatever had its name: a co-user of a shared cache who
    # renamed other bytes over it in between had the stat cache vouch for them, and
    # the workspace copy (and later pushes) took them unhashed.
    import os

    from fixtures.objects import md5_of, object_path

    p, md5, obj, evil = pushed_then_gone
    real_replace = os.replace
    swaps = []

    def replace(src: object, dst: object, **kwargs: object) -> None:
        real_replace(src, dst, **kwargs)  # type: ignore[arg-type]
        if os.fspath(dst) == str(obj) and not swaps:  # (type: ignore: os.PathLike)
            real_replace(evil, obj)  # the co-user, right after the object is in place
            swaps.append(dst)

    monkeypatch.setattr(os, "replace", replace)
    run = p.mlver("pull", "churn@HEAD")
    monkeypatch.undo()
    assert swaps, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    placed = p.root / "models/churn.pkl"
    assert not placed.exists() or md5_of(placed) == md5, "the swapped bytes were placed unhashed"
    # The cache now holds the co-user's bytes under the object's name: the next push hashes them.
    second = tmp_path / "second"
    p.ok("remote", "add", "second", str(second))
    pushed = p.mlver("push", "-r", "second")
    sent = object_path(second, md5)
    assert not sent.exists() or md5_of(sent) == md5, "the stat cache vouched for bytes never hashed"
    assert pushed.exit_code == 2 and "does not hash to its name" in pushed.stderr, pushed.stderr


def test_a_download_staged_in_a_shared_cache_cannot_be_swapped_by_a_co_user(
        pushed_then_gone: tuple[Project, str, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # Downloads were staged in the cache's mlver-tmp, which the users of a shared cache
    # (DVC's `shared = group`: folders 2775) all write: between the hash and the rename
    # into place a co-user could rename other bytes over the staged file, and they became
    # the object, vouched for. The co-user here renames wherever the group may write.
    import os
    import stat

    from fixtures.objects import md5_of

    p, md5, obj, evil = pushed_then_gone
    cache = p.root / ".dvc" / "cache"
    (cache / "mlver-tmp").mkdir(exist_ok=True)
    os.chmod(cache / "mlver-tmp", 0o2775)
    real_chmod = os.chmod
    swaps, looks = [], []

    def chmod(path: object, mode: int, **kwargs: object) -> None:
        real_chmod(path, mode, **kwargs)  # type: ignore[arg-type]
        folder = os.path.dirname(os.path.realpath(os.fspath(path)))  # type: ignore[call-overload]
        if mode == 0o444 and folder.startswith(str(cache / "mlver-tmp")):
            looks.append(folder)  # the staged object, about to be renamed into place
            if os.stat(folder).st_mode & stat.S_IWGRP and not swaps:
                os.replace(evil, path)  # type: ignore[call-overload]
                swaps.append(folder)

    monkeypatch.setattr(os, "chmod", chmod)
    run = p.mlver("pull", "churn@HEAD")
    monkeypatch.undo()
    assert looks and not swaps, (looks, swaps, run.stderr)  # staged where the group cannot write
    assert run.exit_code == 0, run.stderr
    assert md5_of(obj) == md5 == md5_of(p.root / "models/churn.pkl")
    assert oct(os.stat(looks[0]).st_mode & 0o777) == oct(0o700)


@pytest.mark.parametrize("planted_as", ["someone else's folder", "a link to a folder of ours"])
def test_a_staging_folder_planted_under_this_users_name_is_not_used(trained: Project, tmp_path: Path,
                                                                     planted_as: str) -> None:
    # Another user of a shared cache makes mlver-tmp/user-<uid> first: theirs and open to all,
    # or a link to a private folder of ours elsewhere (which they could swap at will). Staging
    # falls back to a folder of this run's own (a guard for the check above).
    import os

    p = trained
    p.ok("push")
    shared = p.root / ".dvc" / "cache" / "mlver-tmp"
    planted = shared / f"user-{os.geteuid()}"
    shutil.rmtree(planted, ignore_errors=True)  # (the training staged there)
    if planted_as == "someone else's folder":
        planted.mkdir(parents=True)
        os.chmod(planted, 0o777)
        if os.geteuid() == 0:
            os.chown(planted, 65534, 65534)  # nobody's (not root: the mode alone gives it away)
        target = planted
    else:
        target = tmp_path / "elsewhere"
        target.mkdir(mode=0o700)
        planted.symlink_to(target)
    shutil.rmtree(p.root / ".dvc" / "cache" / "files")
    (p.root / "models/churn.pkl").unlink()
    p.ok("pull", "churn@v0.1.0")
    assert list(target.iterdir()) == []
    # (Staged files are gone once placed: the run's own folder, left for a later sweep, tells.)
    own = [d for d in shared.iterdir() if d.name.startswith("mlver-") and not d.is_symlink()]
    assert len(own) == 1 and own[0].stat().st_mode & 0o777 == 0o700, list(shared.iterdir())
    assert (p.root / "models/churn.pkl").is_file()


def test_listed_keys_that_climb_out_of_the_objects_are_never_deleted_by_gc(trained: Project) -> None:
    # A remote whose listing names keys with '..' or of no object's shape under files/md5:
    # gc takes only what is an object's name to delete (held before this session; a guard).
    p = trained
    planted = ("team/files/md5/00/../../../victim", "team/files/md5/../../etc/passwd",
               "team/files/md5/ab/" + "c" * 29 + "/..", "team/files/md5/AB/" + "C" * 30)
    with looping_s3("none", extra_keys=planted) as server:
        _use(p, server)
        p.ok("push")
        run = p.ok("gc", "--cloud", "--force", "--min-age", "0", "--json")
        assert not set(server.deleted) & set(planted), (server.deleted, run.stdout)
        assert all("/files/md5/" in k and ".." not in k for k in server.deleted), server.deleted


def test_listing_entries_missing_their_fields_are_passed_over(trained: Project) -> None:
    # A listing entry with no Key, no Size or no LastModified (no S3 sends one; a hostile
    # server may) crashed push, status and gc with a KeyError: exit 4, a bug, for the server's word.
    p = trained
    broken = ("<Contents><Size>4</Size></Contents>"
              "<Contents><Key>team/files/md5/ab/" + "c" * 30 + "</Key></Contents>"
              "<Contents><Key>team/files/md5/cd/" + "e" * 30 + "</Key><Size>4</Size></Contents>")
    with looping_s3("none", extra_xml=broken) as server:
        _use(p, server)
        p.ok("push")
        p.ok("status")
        p.ok("gc", "--cloud", "--force", "--min-age", "0")


def _record_a_directory_only_the_remote_has(p: Project) -> None:
    """churn's record names a data directory, ``images``, whose .dir manifest (0…0.dir)
    nowhere but the remote can give: a pull --with-data asks the remote for it."""
    import json

    from mlver.domain import record as rec

    path = p.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    doc["data"][0] = {"path": "images", "md5": "0" * 32 + ".dir", "size": None, "nfiles": 2}
    doc["digest"] = rec.compute_digest(doc)
    path.write_text(rec.dumps(doc))
    p.commit_all("data from a directory")


def test_a_directory_manifest_that_streams_on_from_an_http_remote_is_not_read_on(
        trained: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    # A remote reached through DVC's filesystems (http, ssh, azure, ...) had a .dir manifest
    # read whole, however long: a server (one a repository names) that streams on filled memory.
    from fixtures.hostile_s3 import endless_http

    from mlver.adapters import dvcfs

    monkeypatch.setattr(dvcfs, "MAX_READ", 1024 * 1024)  # (the real bound: 256 MiB, a manifest of ~3M files)
    p = trained
    _record_a_directory_only_the_remote_has(p)
    with endless_http(cap=256 * 1024 * 1024) as server:
        p.ok("remote", "add", "web", f"{server.url}/store", "--default")
        run = p.mlver("pull", "churn@HEAD", "--with-data")
        assert run.exit_code == 2 and "Traceback" not in run.stderr, run.stderr
        assert server.sent < 32 * 1024 * 1024, (server.sent, server.requests)
    assert not (p.root / "images").exists()


def test_a_deep_verify_of_an_s3_object_streaming_past_its_size_is_not_read_on(trained: Project) -> None:
    # verify --deep hashed an object's whole body, however long it streamed past the size
    # the bucket gave (a pull already stopped one byte past it).
    from fixtures.hostile_s3 import STREAMED, buffered_at_most, hostile_s3

    p = trained
    size = (p.root / "models/churn.pkl").stat().st_size  # (the size the record says: else no hash is asked for)
    with hostile_s3(claimed=size, streamed=STREAMED) as server:
        p.ok("remote", "add", "liar", "s3://bucket/team", "--endpoint-url", server.url, "--default")
        run = p.mlver("verify", "churn@v0.1.0", "--deep")
        assert run.exit_code == 1 and "does not hash to its name" in run.stdout, (run.stdout, run.stderr)
        assert any(r.startswith("GET ") for r in server.requests), server.requests
        assert server.sent < buffered_at_most(server.requests), server.sent


@pytest.mark.parametrize("status", [301, 302, 307])
def test_an_s3_endpoint_redirecting_elsewhere_is_not_followed(trained: Project, status: int) -> None:
    # An endpoint (one a repository names, too) that redirects every request to another
    # host: the request, signed with the user's keys, must not go there (held before this
    # session: botocore and the lean path follow no redirect; a guard).
    from fixtures.hostile_s3 import redirecting_s3

    p = trained
    with redirecting_s3(status) as (endpoint, elsewhere):
        p.ok("remote", "add", "odd", "s3://bucket/team", "--endpoint-url", endpoint.url, "--default")
        pushed = p.mlver("push")
        (p.root / "models/churn.pkl").unlink()
        shutil.rmtree(p.root / ".dvc" / "cache")
        pulled = p.mlver("pull", "churn@v0.1.0")
        assert endpoint.requests and elsewhere.requests == [], elsewhere.requests
    for run in (pushed, pulled):
        assert run.exit_code == 2 and "Traceback" not in run.stderr and "remote odd" in run.stderr, run.stderr


def test_the_sweep_of_a_shared_store_removes_only_this_users_provably_abandoned_files(trained: Project) -> None:
    # A push swept the remote's mlver-tmp (a folder remote or cache its users share) of every
    # `mlver-<pid>-...` whose pid was not alive here, and each object folder of every
    # `.NAME.*.mlver-tmp`, whoever wrote it and however new: this user's run on another host
    # (a network filesystem; its pid means nothing here), a co-user's `data add` between its
    # write and its rename.
    import hashlib
    import os
    import time

    from mlver.adapters.placement import run_tag

    p = trained
    md5 = hashlib.md5((p.root / "models/churn.pkl").read_bytes()).hexdigest()
    store = p.remote
    staging = store / "mlver-tmp" / f"user-{os.geteuid()}"
    folder = store / "files" / "md5" / md5[:2]
    dead = 4194999  # (past any pid_max: never alive)
    old = time.time() - 2 * 24 * 3600

    def plant(path: Path, age: float | None = None, owner: int | None = None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700 if path.parent == staging else 0o775)
        path.write_bytes(b"half")
        if owner is not None:
            os.chown(path, owner, owner)
        if age is not None:
            os.utime(path, (age, age))
        return path

    kept = [
        plant(staging / f"mlver-{dead}-0123456789abcdef-0"),  # this user's run elsewhere, writing
        plant(store / "mlver-tmp" / f"mlver-{dead}-89abcdef-x1y2" / "1"),  # an older mlver's folder, in use
        plant(folder / f".{md5[2:]}.5a5a5a5a.mlver-tmp"),  # a `data add` between its write and its rename
    ]
    gone = [
        plant(staging / f"mlver-{dead}-{run_tag()}deadbeef-0"),  # a killed run of this machine
        plant(staging / f"mlver-{dead}-0123456789abcdef-1", age=old),  # untouched for two days
        plant(folder / f".{md5[2:]}.6b6b6b6b.mlver-tmp", age=old),
    ]
    if os.geteuid() == 0:  # (only root can make a file someone else's)
        kept.append(plant(folder / f".{md5[2:]}.7c7c7c7c.mlver-tmp", age=old, owner=65534))
        kept.append(plant(staging.parent / f"mlver-{dead}-{run_tag()}deadbeef-0", owner=65534))
    p.ok("push")
    assert hashlib.md5((folder / md5[2:]).read_bytes()).hexdigest() == md5
    assert [k for k in kept if not k.exists()] == [], "a file still being written was swept"
    assert [g for g in gone if g.exists()] == [], "an abandoned file of this user's was left"


def _fails_with_one_error(p: Project, *args: str) -> tuple[list[str], float]:
    """stderr's lines and the seconds taken by ``mlver ARGS``, which must fail as a user error would."""
    import time

    started = time.monotonic()
    run = p.mlver(*args)
    took = time.monotonic() - started
    assert run.exit_code == 2 and "Traceback" not in run.stderr, run.stderr
    return run.stderr.strip().splitlines(), took


@pytest.mark.parametrize("big", [False, True], ids=["small object (lean GET)", "large object (streamed)"])
def test_a_download_that_trickles_is_given_up_with_one_clear_line(trained: Project, big: bool,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # An endpoint (one a repository may name) that sends a byte every 0.2 s never trips
    # the 15 s read timeout: a pull of a 3 MiB object waited a week. With the least
    # average rate set low for the test (1,000 bytes a second after a 1 s grace), the
    # pull gives up in seconds, says why and what to set, and leaves nothing behind.

    from fixtures.hostile_s3 import trickling_s3
    from fixtures.objects import run_big_model

    p = trained
    if big:
        run_big_model(p)
    monkeypatch.setenv("MLVER_MIN_RATE", "1000")
    monkeypatch.setenv("MLVER_RATE_GRACE", "1")
    size = (p.root / "models/churn.pkl").stat().st_size
    with trickling_s3(size, every=0.2) as server:
        p.ok("remote", "add", "slow", "s3://bucket/team", "--endpoint-url", server.url, "--default")
        shutil.rmtree(p.root / ".dvc" / "cache")
        (p.root / "models/churn.pkl").unlink()
        said, took = _fails_with_one_error(p, "pull", "churn@HEAD")
    assert said[-2].startswith("error: remote slow (s3://bucket/team): gave up trying to read "), said
    assert "under the least average rate of 1,000 bytes a second" in said[-2], said
    assert said[-1].startswith("hint: ") and "MLVER_MIN_RATE" in said[-1], said
    assert took < 15 and 0 < server.sent < 100, (took, server.sent)
    assert any(r.startswith("GET ") for r in server.requests), server.requests
    assert not (p.root / "models/churn.pkl").exists()
    assert not [q for q in (p.root / ".dvc").rglob("*") if q.is_file() and "mlver-tmp" in str(q)]


def _from_a_trickling_web_remote(p: Project, monkeypatch: pytest.MonkeyPatch, size: int, *args: str
                                 ) -> tuple[Run, float, Hostile]:
    """`mlver ARGS` with the default remote an HTTP server that trickles ``size`` bytes (one
    every 0.2 s) and a least rate of 1,000 bytes a second after a second's grace: the run,
    how long it took, and the server (what it sent)."""
    import time

    from fixtures.hostile_s3 import trickling_s3

    monkeypatch.setenv("MLVER_MIN_RATE", "1000")
    monkeypatch.setenv("MLVER_RATE_GRACE", "1")
    with trickling_s3(size, every=0.2) as server:
        p.ok("remote", "add", "web", f"{server.url}/store", "--default")
        started = time.monotonic()
        run = p.mlver(*args)
        return run, time.monotonic() - started, server


def test_a_download_that_trickles_from_an_http_remote_is_given_up(trained: Project,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # The same through DVC's filesystems: fsspec's HTTP file read a whole 5 MiB block
    # in one wait, so no bound between reads could see the trickle.
    from fixtures.objects import run_big_model

    p = trained
    run_big_model(p)
    size = (p.root / "models/churn.pkl").stat().st_size
    shutil.rmtree(p.root / ".dvc" / "cache")
    (p.root / "models/churn.pkl").unlink()
    run, took, server = _from_a_trickling_web_remote(p, monkeypatch, size, "pull", "churn@HEAD")
    assert run.exit_code == 2 and "Traceback" not in run.stderr, run.stderr
    said = run.stderr.strip().splitlines()
    assert said[-2].startswith(f"error: remote web ({server.url}/store): gave up trying to read "), said
    assert took < 15 and 0 < server.sent < 100, (took, server.sent)
    assert not (p.root / "models/churn.pkl").exists()


def test_a_directory_manifest_that_trickles_from_an_http_remote_is_given_up(trained: Project,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # A .dir manifest is read whole (store.read): fsspec's HTTP file read it in one wait.
    p = trained
    _record_a_directory_only_the_remote_has(p)
    run, took, _ = _from_a_trickling_web_remote(p, monkeypatch, 100_000, "pull", "churn@HEAD", "--with-data")
    assert run.exit_code == 2 and "Traceback" not in run.stderr, run.stderr
    assert "gave up trying to read 00000000000000000000000000000000.dir" in run.stderr, run.stderr
    assert took < 15, took
    assert not (p.root / "images").exists()


def test_a_deep_verify_against_an_http_remote_that_trickles_is_given_up(trained: Project,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # verify --deep hashes each object as the remote has it (md5_of): one block read per wait.
    p = trained
    size = (p.root / "models/churn.pkl").stat().st_size
    run, took, _ = _from_a_trickling_web_remote(p, monkeypatch, size, "verify", "churn@v0.1.0", "--deep")
    assert run.exit_code == 2 and "Traceback" not in run.stderr, (run.stdout, run.stderr)
    assert "gave up trying to read" in run.stderr, run.stderr
    assert took < 15, took


def test_a_least_download_rate_that_is_no_number_is_one_clear_line(trained: Project,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from fixtures.hostile_s3 import trickling_s3

    p = trained
    monkeypatch.setenv("MLVER_MIN_RATE", "fast")
    with trickling_s3(10, every=0.01) as server:
        p.ok("remote", "add", "slow", "s3://bucket/team", "--endpoint-url", server.url, "--default")
        shutil.rmtree(p.root / ".dvc" / "cache")
        (p.root / "models/churn.pkl").unlink()
        run = p.fails("pull", "churn@HEAD")
    assert "error: cannot read $MLVER_MIN_RATE 'fast'" in run.stderr, run.stderr


@pytest.mark.parametrize("verb", ["push", "pull"])
def test_an_answer_whose_headers_trickle_is_given_up_with_one_clear_line(trained: Project, verb: str) -> None:
    # A byte of the status line and headers every 0.2 s never trips a 1 s read timeout,
    # and the body's least rate (pace.py) never starts: without a bound on the whole
    # header block each request (and each retry) waited as long as the server liked.
    # With twice the read timeout for the headers, three tries end in seconds.
    import subprocess

    from fixtures.hostile_s3 import trickling_headers_s3

    p = trained
    with trickling_headers_s3(every=0.2) as server:
        p.ok("remote", "add", "slow", "s3://bucket/team", "--endpoint-url", server.url, "--default")
        subprocess.run(["dvc", "remote", "modify", "slow", "read_timeout", "1"], cwd=p.root, check=True)
        if verb == "pull":
            shutil.rmtree(p.root / ".dvc" / "cache")
            (p.root / "models/churn.pkl").unlink()
        said, took = _fails_with_one_error(p, verb, *(["churn@HEAD"] if verb == "pull" else []))
    assert said[-2].startswith("error: remote slow (s3://bucket/team): "), said
    assert "its answer's headers took over 2 s, 3 tries" in said[-2], said
    assert said[-1].startswith("hint: ") and "read_timeout" in said[-1], said
    assert took < 20, took
    assert len(server.requests) == 3, server.requests  # the three tries the message names, no fourth
    assert 0 < server.sent < 20 * 6 * len(server.requests), (server.sent, server.requests)
