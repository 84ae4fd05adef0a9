"""What each part of a large S3 put carries: a CRC32 of its own bytes, which the
server checks, and no SHA-256 of them (botocore hashes every part to sign it over
plain HTTP only; over HTTPS it never does, and that hash was a third of the
client's CPU for a large push)."""
from __future__ import annotations

import base64
import hashlib
import os
import zlib
from pathlib import Path
from typing import Any

import pytest

from conftest import S3
from mlver.adapters import s3 as s3store

SIZE = 20 * 1024 * 1024  # three multipart parts: 8 + 8 + 4 MiB


def _body_of(request: Any) -> bytes:
    body = request.body
    if hasattr(body, "read"):
        start = body.tell()
        data = body.read()
        body.seek(start)
        return data
    return bytes(body)


@pytest.mark.parametrize("trusted", [True, False], ids=["vouched (upload_file)", "hashed as sent (upload_fileobj)"])
def test_each_part_carries_its_crc32_and_is_not_sha256_signed(s3: S3, tmp_path: Path, trusted: bool) -> None:
    path = tmp_path / "object"
    path.write_bytes(os.urandom(SIZE))
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    store = s3store.S3Store("team", s3.url(), endpoint_url=s3.endpoint)
    parts: list[tuple[dict[str, str], bytes]] = []

    def seen(request: Any, **_: Any) -> None:
        parts.append(({k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()},
                      _body_of(request)))

    store.upload_client.meta.events.register("before-send.s3.UploadPart", seen)
    store.put(path, md5, trusted=trusted)
    assert store.counts == {"vouched": int(trusted), "hashed": int(not trusted)}
    assert len(parts) == 3 and sum(len(body) for _, body in parts) == SIZE
    for headers, body in parts:
        assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD", headers
        assert headers["x-amz-checksum-crc32"] == base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
        assert "authorization" in headers  # still signed: the headers, the CRC among them
        assert "x-amz-checksum-crc32" in headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
    got = s3.client.get_object(Bucket=s3.bucket, Key=store.key(md5))["Body"].read()
    assert hashlib.md5(got).hexdigest() == md5
