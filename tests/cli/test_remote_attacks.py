"""A remote that answers as no honest S3 does (session 9's attack pass): a listing
that never ends must end in a refusal, never in a command that runs for ever.
Each test fails on the code before its fix; the hostile servers end every listing
after a few thousand pages, so a regression fails instead of hanging the run."""
from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.hostile_s3 import Looping, looping_s3

from conftest import Project


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
