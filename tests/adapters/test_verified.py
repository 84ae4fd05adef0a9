"""Every transport's download ends in adapters/verified.settle: an object whose
bytes are not its name never lands at the destination (and leaves no temporary
file beside it), one that is lands whole with open()'s mode. Real stores: a
local folder (small and large objects), moto's S3, DVC's HTTP filesystem."""
from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fixtures.servers import HttpServer, WebDav

from conftest import S3
from mlver.adapters import atomic, verified
from mlver.adapters.s3lean import LEAN_MAX
from mlver.adapters.storage import SMALL, LocalStore, object_relpath
from mlver.errors import ObjectChanged

GOOD = b"the object as it was pushed\n"
LARGE = b"x" * (SMALL + 4096)  # past read_small: the streaming path
assert len(LARGE) > LEAN_MAX  # and past S3's lean GET: streamed in blocks, hashed on a thread of its own


def _check(store: Any, put: Callable[[str, bytes], None], dst_dir: Path, contents: list[bytes]) -> None:
    dst_dir.mkdir()
    for content in contents:
        md5 = hashlib.md5(content).hexdigest()
        put(md5, content)
        dst = dst_dir / f"good-{md5[:6]}"
        assert store.get(md5, dst) == md5
        assert dst.read_bytes() == content
        assert dst.stat().st_mode & 0o777 == atomic.default_mode()  # not mkstemp's 0600

        # The same name with other bytes in the store (bit rot, a bad upload, a hostile remote).
        name = hashlib.md5(content + b"!").hexdigest()
        put(name, content)
        kept = dst_dir / f"kept-{md5[:6]}"
        kept.write_bytes(b"what was there before")
        received: list[int] = []
        assert store.get(name, kept, received.append) == md5  # what arrived, for the caller's message
        assert kept.read_bytes() == b"what was there before"
        assert store.get(name, dst_dir / "absent") == md5 and not (dst_dir / "absent").exists()
    left = sorted(p.name for p in dst_dir.iterdir())
    assert all(n.startswith(("good-", "kept-")) for n in left), left  # no temporary file left behind


def test_a_local_store_never_places_a_corrupt_object(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "remote" / "files" / "md5", "remote")

    def put(md5: str, content: bytes) -> None:
        path = store.path(md5)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

    _check(store, put, tmp_path / "out", [GOOD, LARGE])


def test_an_s3_store_never_places_a_corrupt_object(s3: S3, tmp_path: Path) -> None:
    from mlver.adapters.s3 import S3Store

    store = S3Store("s3", s3.url(), endpoint_url=s3.endpoint, region="us-east-1")
    _check(store, lambda md5, content: s3.client.put_object(Bucket=s3.bucket, Key=store.key(md5), Body=content),
           tmp_path / "out", [GOOD, LARGE])
    assert not _hashing_threads()


def _hashing_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "mlver-md5"]


def test_md5_beside_is_the_md5_of_the_blocks_in_order() -> None:
    blocks = [os.urandom(n) for n in (0, 1, 2047, 2048, 1 << 20, 3, (1 << 20) + 17)] * 3
    beside = verified.Md5Beside()
    for block in blocks:
        beside.update(block)
    assert beside.hexdigest() == hashlib.md5(b"".join(blocks)).hexdigest()
    assert beside.hexdigest() == hashlib.md5(b"".join(blocks)).hexdigest()  # asked again: the same answer
    assert not _hashing_threads()


def test_an_s3_download_cut_short_leaves_no_file_and_no_thread(s3: S3, tmp_path: Path) -> None:
    from mlver.adapters.s3 import S3Store

    store = S3Store("s3", s3.url(), endpoint_url=s3.endpoint, region="us-east-1")
    content = os.urandom(3 * LEAN_MAX + 5)  # several blocks
    md5 = hashlib.md5(content).hexdigest()
    s3.client.put_object(Bucket=s3.bucket, Key=store.key(md5), Body=content)
    out = tmp_path / "out"
    out.mkdir()

    def interrupted(n: int) -> None:  # Ctrl-C after the first block arrived
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.get(md5, out / "model.pkl", interrupted, also=out / "workspace.pkl")
    assert list(out.iterdir()) == [] and not _hashing_threads()
    with pytest.raises(FileNotFoundError):  # the second file cannot even be made
        store.get(md5, out / "model.pkl", also=tmp_path / "absent" / "workspace.pkl")
    assert list(out.iterdir()) == [] and not _hashing_threads()
    assert store.get(md5, out / "model.pkl", also=out / "workspace.pkl") == md5
    assert (out / "model.pkl").read_bytes() == (out / "workspace.pkl").read_bytes() == content
    assert not _hashing_threads()


def test_a_dvc_filesystem_store_never_places_a_corrupt_object(http_server: HttpServer, tmp_path: Path) -> None:
    from mlver.adapters.dvcfs import DvcFsStore

    prefix = uuid.uuid4().hex[:8]
    store = DvcFsStore("web", f"{http_server.url}/{prefix}", {})

    def put(md5: str, content: bytes) -> None:
        path = http_server.root / prefix / "files" / "md5" / object_relpath(md5)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

    _check(store, put, tmp_path / "out", [GOOD])


def test_a_dvc_filesystem_upload_keeps_only_what_hashes_to_its_name(webdav: WebDav, tmp_path: Path) -> None:
    from mlver.adapters.dvcfs import DvcFsStore

    name = uuid.uuid4().hex[:8]
    store = DvcFsStore("dav", webdav.url(name), {"user": webdav.user, "password": webdav.password})
    served = webdav.root / name
    src = tmp_path / "model.pkl"
    src.write_bytes(GOOD)
    md5 = hashlib.md5(GOOD).hexdigest()
    other = hashlib.md5(b"what the record said").hexdigest()
    store.check_writable()  # as push does first: it makes the remote's folder
    with pytest.raises(ObjectChanged):  # the file changed after it was hashed: nothing is kept
        store.put(src, other)
    assert not (served / "files" / "md5" / object_relpath(other)).exists()
    store.put(src, md5)
    assert (served / "files" / "md5" / object_relpath(md5)).read_bytes() == GOOD
    store.meta_write("mlver/projects/p1", b"manifest")
    assert (served / "mlver" / "projects" / "p1").read_bytes() == b"manifest"
    assert list((served / ".mlver-tmp").iterdir()) == []  # no upload left half-way
    assert store.get(md5, tmp_path / "back") == md5 and (tmp_path / "back").read_bytes() == GOOD
