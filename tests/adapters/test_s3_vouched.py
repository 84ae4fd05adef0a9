"""A large S3 put on the stat cache's word (``trusted``) sends the file as
boto3's ``upload_file`` does, unhashed, and completes it only while the
file's stat is the one that was vouched for: a file that changes while it is
sent is sent again, hashed, and refused if its bytes are no longer its name."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from fixtures.objects import flip_byte

from conftest import S3
from mlver.adapters import s3 as s3store
from mlver.errors import ObjectChanged

SIZE = 20 * 1024 * 1024  # three multipart parts


def _file(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "object"
    path.write_bytes(os.urandom(SIZE))
    return path, hashlib.md5(path.read_bytes()).hexdigest()


def _store(s3: S3) -> s3store.S3Store:
    s3.client.put_bucket_versioning(Bucket=s3.bucket, VersioningConfiguration={"Status": "Enabled"})
    return s3store.S3Store("team", s3.url(), endpoint_url=s3.endpoint)


def _versions(s3: S3, store: s3store.S3Store, md5: str) -> list:
    listed = s3.client.list_object_versions(Bucket=s3.bucket, Prefix=store.key(md5))
    return listed.get("Versions", []) + listed.get("DeleteMarkers", [])


def _counts(store: s3store.S3Store) -> dict[str, int]:
    return dict(store.counts)


def _delta(store: s3store.S3Store, before: dict[str, int]) -> dict[str, int]:
    return {k: store.counts[k] - before[k] for k in before}


def test_vouched_put_sends_the_file_unhashed(s3: S3, tmp_path: Path) -> None:
    path, md5 = _file(tmp_path)
    store = _store(s3)
    before = _counts(store)
    store.put(path, md5, trusted=True)
    assert _delta(store, before) == {"vouched": 1, "hashed": 0}
    body = s3.client.get_object(Bucket=s3.bucket, Key=store.key(md5))["Body"].read()
    assert hashlib.md5(body).hexdigest() == md5 and len(body) == SIZE
    assert store.size(md5) == SIZE


@pytest.mark.parametrize("change", ["content", "stat only"])
def test_a_file_changed_while_sent_on_trust_is_never_completed_unhashed(s3: S3, tmp_path: Path, change: str) -> None:
    path, md5 = _file(tmp_path)
    store = _store(s3)
    changed = []

    def progress(n: int) -> None:
        if not changed:  # the first part is on its way: the rest is read later, or was read already
            changed.append(n)
            if change == "content":
                flip_byte(path, SIZE - 1)  # keeps size, inode and mtime: only the ctime tells
            else:
                os.chmod(path, 0o400)

    before = _counts(store)
    if change == "content":
        with pytest.raises(ObjectChanged):
            store.put(path, md5, progress, trusted=True)
        assert _versions(s3, store, md5) == []  # never completed, not: completed then deleted
    else:
        store.put(path, md5, progress, trusted=True)  # the same bytes: sent again, hashed, kept
        body = s3.client.get_object(Bucket=s3.bucket, Key=store.key(md5))["Body"].read()
        assert hashlib.md5(body).hexdigest() == md5
        assert len(_versions(s3, store, md5)) == 1  # only the hashed upload was completed
    assert changed
    assert _delta(store, before) == {"vouched": 0, "hashed": 1}
    assert not s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads")  # the first one aborted
