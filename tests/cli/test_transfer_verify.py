"""Every shortcut of push and pull still proves the bytes: an object is named in the
remote or the cache only once what landed there hashes to its name, whether it was
read whole (small files), copied in the kernel and read back (large ones), or taken
as known from the stat cache (a large cache object mlver hashed on its way in)."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from fixtures.objects import flip_byte as _flip
from fixtures.objects import md5_of as _md5
from fixtures.objects import object_path as _object

from conftest import S3, Project

SIZE = 40 * 1024 * 1024  # past the small-file path and over one 32 MiB slice of the kernel copy


def _train_big(p: Project) -> None:
    p.write("train.py", "import os, json\nos.makedirs('models', exist_ok=True)\n"
            "json.dump({'accuracy': 1}, open('metrics.json', 'w'))\n"
            f"open('models/churn.pkl', 'wb').write(bytes(range(256)) * {SIZE // 256})\n")
    p.commit_all("a 40 MiB model")
    p.ok("run", "churn")


def _replace(src: Path, dst: Path) -> None:
    dst.unlink()
    shutil.copy(src, dst)


def _leftovers(store: Path) -> list[Path]:
    return [p for p in store.rglob("*") if "mlver" in p.name and p.is_file()]


def test_push_and_pull_name_nothing_that_does_not_hash_to_its_name(project: Project) -> None:
    p = project
    _train_big(p)
    doc = p.ok("show", "churn@HEAD", "--json").json()["record"]["doc"]
    big, small = doc["artifact"]["md5"], doc["data"][0]["md5"]
    cache, remote = p.root / ".dvc" / "cache", p.remote

    # A large cache object edited behind mlver's back (its stat no longer what mlver
    # recorded: the ctime moved) is hashed as it is copied, and refused; so is a small one.
    _flip(_object(cache, big), SIZE - 5)  # in the second slice
    run = p.fails("push")
    assert "does not hash to its name" in run.stderr
    assert not _object(remote, big).exists() and not _leftovers(remote)
    _replace(p.root / "models/churn.pkl", _object(cache, big))  # repaired (a new inode mlver never saw)
    _flip(_object(cache, small), 10)
    assert "does not hash to its name" in p.fails("push").stderr
    assert not _object(remote, small).exists() and not _leftovers(remote)
    _replace(p.root / "data/train.csv", _object(cache, small))
    p.ok("push")
    assert _md5(_object(remote, big)) == big and _md5(_object(remote, small)) == small

    # Pull: a corrupt object in the remote never becomes a cache object, large or small,
    # nor a workspace file (a large one's workspace copy is written in the same pass).
    for md5, offset in ((big, SIZE // 2), (small, 0)):
        _flip(_object(remote, md5), offset)
    shutil.rmtree(cache)
    (p.root / "models/churn.pkl").unlink()
    run = p.fails("pull", "churn@HEAD", "--with-data")
    assert "the object in remote mlver-local is corrupt" in run.stderr
    assert not [q for q in cache.rglob("*") if q.is_file() and "files/md5" in q.as_posix()]
    assert not (p.root / "models/churn.pkl").exists() and not list((p.root / ".dvc/tmp/mlver/place").iterdir())
    for md5, offset in ((big, SIZE // 2), (small, 0)):
        _flip(_object(remote, md5), offset)  # flipped back: intact again
    (p.root / "data/train.csv").unlink()
    pulled = p.ok("pull", "churn@HEAD", "--with-data", "--json").json()
    assert pulled["fetched"] == 2 and pulled["written"] == 2
    assert _md5(p.root / "models/churn.pkl") == big and _md5(p.root / "data/train.csv") == small
    assert oct(_object(cache, small).stat().st_mode & 0o777) == "0o444"  # read-only, as DVC keeps its cache

    # A cache object corrupted after it was fetched: the copy into the workspace hashes
    # what it reads (small) or what landed (large, its stat no longer known), and refuses.
    for md5, path, offset in ((big, "models/churn.pkl", SIZE - 1), (small, "data/train.csv", 3)):
        _flip(_object(cache, md5), offset)
        (p.root / path).unlink()
        run = p.fails("pull", "churn@HEAD", "--with-data")
        assert "the local cache copy is corrupt" in run.stderr
        assert not (p.root / path).exists() and not _object(cache, md5).exists()  # the bad entry is gone
        assert p.ok("pull", "churn@HEAD", "--with-data", "--json").json()["fetched"] == 1
        assert _md5(p.root / path) == md5
    assert not list((p.root / ".dvc/tmp/mlver/place").iterdir())

    # Two remotes: the default's copy is corrupt, the record's own remote holds it intact.
    # The staged workspace copy the first download filled is cleared before the second fills it.
    team = p.root.parent / "team"
    p.ok("remote", "add", "team", str(team), "--default")
    p.ok("push", "-r", "team")
    _flip(_object(team, big), SIZE // 3)
    shutil.rmtree(cache)
    (p.root / "models/churn.pkl").unlink()
    assert p.ok("pull", "churn@HEAD", "--json").json()["fetched"] == 1
    assert _md5(p.root / "models/churn.pkl") == big and _md5(_object(cache, big)) == big
    assert not list((p.root / ".dvc/tmp/mlver/place").iterdir())


def test_s3_push_never_completes_an_upload_whose_bytes_do_not_hash_to_its_name(project: Project, s3: S3) -> None:
    p = project
    _train_big(p)
    p.ok("remote", "add", "storage", s3.url(), "--endpoint-url", s3.endpoint, "--default")
    doc = p.ok("show", "churn@HEAD", "--json").json()["record"]["doc"]
    big, small = doc["artifact"]["md5"], doc["data"][0]["md5"]
    cache = p.root / ".dvc" / "cache"
    # Versioning keeps every object ever completed, even one deleted right after.
    s3.client.put_bucket_versioning(Bucket=s3.bucket, VersioningConfiguration={"Status": "Enabled"})

    def versions(md5: str) -> list:
        listed = s3.client.list_object_versions(Bucket=s3.bucket, Prefix=f"team/files/md5/{md5[:2]}/{md5[2:]}")
        return listed.get("Versions", []) + listed.get("DeleteMarkers", [])

    _flip(_object(cache, big), SIZE - 1)  # the very last byte: only the last part's read can tell
    _flip(_object(cache, small), 1)
    assert "does not hash to its name" in p.fails("push").stderr  # both sent at once, on the push's threads
    assert versions(big) == [] and versions(small) == []  # never completed (not: completed, then deleted)
    assert not s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads")  # aborted
    _replace(p.root / "models/churn.pkl", _object(cache, big))
    _replace(p.root / "data/train.csv", _object(cache, small))
    p.ok("push")
    key = f"team/files/md5/{big[:2]}/{big[2:]}"
    body = s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read()
    assert hashlib.md5(body).hexdigest() == big

    # Pull: the large object is streamed into the cache and the staged workspace copy
    # at once; a corrupt one leaves neither, an intact one lands byte for byte.
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=body[:-1] + bytes([body[-1] ^ 1]))
    shutil.rmtree(cache)
    (p.root / "models/churn.pkl").unlink()
    assert "the object in remote storage is corrupt" in p.fails("pull", "churn@HEAD").stderr
    assert not (p.root / "models/churn.pkl").exists() and not _object(cache, big).exists()
    assert not list((p.root / ".dvc/tmp/mlver/place").iterdir())
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=body)
    assert p.ok("pull", "churn@HEAD", "--json").json()["fetched"] == 1
    assert (p.root / "models/churn.pkl").read_bytes() == body and _md5(_object(cache, big)) == big


def test_s3_push_of_a_cache_object_mlver_hashed_is_sent_unhashed_and_dvc_reads_it(project: Project, s3: S3,
                                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    from mlver.adapters import s3 as s3store

    p = project
    _train_big(p)  # the model went into the cache hashed: the stat cache vouches for it
    p.ok("remote", "add", "storage", s3.url(), "--endpoint-url", s3.endpoint, "--default")
    big = p.ok("show", "churn@HEAD", "--json").json()["record"]["doc"]["artifact"]["md5"]
    cache = p.root / ".dvc" / "cache"

    # The stores the commands open, each with its own counts; nothing else about them is changed.
    made: list[s3store.S3Store] = []
    opened = s3store.S3Store.__init__

    def opening(self: s3store.S3Store, *args: object, **kwargs: object) -> None:
        opened(self, *args, **kwargs)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(s3store.S3Store, "__init__", opening)

    def pushed(*args: str) -> dict[str, int]:
        made.clear()
        p.ok("push", *args)
        assert made, "push opened no S3 store"
        return {k: sum(store.counts[k] for store in made) for k in ("vouched", "hashed")}

    def stored(prefix: str) -> str:
        key = f"{prefix}/files/md5/{big[:2]}/{big[2:]}"
        return hashlib.md5(s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read()).hexdigest()

    assert pushed() == {"vouched": 1, "hashed": 0}
    assert stored("team") == big
    (p.root / "models/churn.pkl").unlink()
    shutil.rmtree(cache)
    subprocess.run([sys.executable, "-m", "dvc", "pull"], cwd=p.root, check=True, capture_output=True)
    assert _md5(p.root / "models/churn.pkl") == big

    # An object the stat cache does not know (dvc pull wrote it) is hashed as sent;
    # having matched its name, it is known from then on.
    p.ok("remote", "add", "second", s3.url("second"), "--endpoint-url", s3.endpoint)
    assert pushed("-r", "second") == {"vouched": 0, "hashed": 1}
    p.ok("remote", "add", "third", s3.url("third"), "--endpoint-url", s3.endpoint)
    assert pushed("-r", "third") == {"vouched": 1, "hashed": 0}
    assert stored("second") == stored("third") == big
