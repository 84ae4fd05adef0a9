"""The lean small-object path under bucket names and prefixes that change the URL
layout (session 7's review; held): a dotted bucket (path style: no virtual host
for it) and prefixes with characters that need quoting or look like dot
segments. Against moto's real server."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from conftest import S3
from mlver.adapters.s3 import S3Store


@pytest.mark.parametrize("prefix", ["team", "a b/c+d%20e/ü~/x=y&z", "..dots/./odd"])
def test_a_dotted_bucket_and_odd_prefixes_land_under_the_real_clients_keys(s3: S3, tmp_path: Path, prefix: str) -> None:
    bucket = f"dots.{s3.bucket}"
    s3.client.create_bucket(Bucket=bucket)
    store = S3Store("team", f"s3://{bucket}/{prefix}", endpoint_url=s3.endpoint)
    data = os.urandom(4096)
    md5 = hashlib.md5(data).hexdigest()
    (tmp_path / "src").write_bytes(data)
    store.put(tmp_path / "src", md5)
    assert s3.client.get_object(Bucket=bucket, Key=store.key(md5))["Body"].read() == data  # the key the client names
    assert store.get(md5, tmp_path / "got") == md5 and (tmp_path / "got").read_bytes() == data
    lean = store.lean()
    assert lean is not None and lean.sent == 2  # both went the lean way, to that key
