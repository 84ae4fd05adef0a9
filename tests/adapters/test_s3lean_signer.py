"""The lean path's own SigV4 signer: the very headers botocore's S3SigV4Auth sends, for
every layout and credential kind the lean path meets, and botocore's signer wherever not."""
from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from botocore.credentials import Credentials

from conftest import S3
from mlver.adapters import s3lean
from mlver.adapters.s3 import S3Store

_BASES = ["http://127.0.0.1:5000/bucket/", "http://localhost:80/b/team/", "https://bucket.s3.amazonaws.com/",
          "https://s3.eu-west-1.amazonaws.com:443/dotted.bucket/p%20q/", "http://[::1]:9000/b/", "https://[fe80::1]/b/",
          "http://EXAMPLE.com:8080/b/"]
_KEYS = ["files/md5/ab/cdef0123456789", "files/md5/12/3456.dir", "a b/c+d/ü~x"]


@pytest.mark.parametrize("base", _BASES)
@pytest.mark.parametrize("token", [None, "FQoG//token+with/odd  spaces="])
def test_the_signer_sends_what_botocore_would(base: str, token: str | None) -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    signer = s3lean.Signer(credentials, "eu-west-1", s3lean._host(base))
    for key in _KEYS:
        path = urlsplit(base).path + s3lean._quote(key)
        for body in (b"", b"\0" * 4096, os.urandom(100)):
            md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
            for method, data, headers in (("GET", b"", {}), ("PUT", body, {"Content-MD5": md5,
                                                                          "Content-Length": str(len(body))})):
                theirs = s3lean.botocore_headers(credentials, "eu-west-1", method, base + s3lean._quote(key), data,
                                                 headers)
                ours = signer.headers(method, path, data, headers, amz_date=theirs["X-Amz-Date"])
                assert list(ours.items()) == list(theirs.items()), (method, base, key)


def test_the_signing_key_of_one_day_is_not_reused_on_the_next() -> None:
    credentials = Credentials("AKIDEXAMPLE", "secret")
    signer = s3lean.Signer(credentials, "us-east-1", "127.0.0.1:9")
    for day in ("20261204T235959Z", "20261205T000000Z", "20261204T000001Z"):
        assert signer.headers("GET", "/b/k", b"", {}, amz_date=day)["Authorization"] == _botocores(credentials, day)


def _botocores(credentials: Credentials, day: str) -> str:
    # botocore's Authorization for the same GET at ``day``: its own steps, the timestamp set in its request context.
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="GET", url="http://127.0.0.1:9/b/k", data=b"", headers={})
    auth = S3SigV4Auth(credentials.get_frozen_credentials(), "s3", "us-east-1")
    request.context["timestamp"] = day
    auth._modify_request_before_signing(request)
    signature = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    auth._inject_signature_to_request(request, signature)
    return str(request.headers["Authorization"])


def test_a_store_on_moto_signs_with_its_own_signer_and_is_accepted(s3: S3, tmp_path: Path) -> None:
    store = S3Store("team", s3.url("team"), endpoint_url=s3.endpoint)
    lean = store.lean()
    assert lean is not None and lean._signer is not None  # it agreed with botocore on the probe
    src = tmp_path / "obj"
    src.write_bytes(b"signed by hand\n")
    md5 = hashlib.md5(src.read_bytes()).hexdigest()
    store.put(src, md5)
    assert store.get(md5, tmp_path / "got") == md5 and lean.sent == 2


def test_a_signer_that_disagrees_with_botocore_is_not_used(s3: S3) -> None:
    store = S3Store("team", s3.url("team"), endpoint_url=s3.endpoint)
    lean = store.lean()
    assert lean is not None and lean._credentials is not None
    wrong = s3lean.Signer(lean._credentials, "eu-central-1", s3lean._host(lean._base))  # another region's scope
    assert not lean._signs_as_botocore(wrong)
    assert lean._signs_as_botocore(s3lean.Signer(lean._credentials, lean._region, s3lean._host(lean._base)))
