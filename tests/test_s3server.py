"""bench/s3server.py's --dispatch-cache: the benches' S3 server answers the same with it, and scans less.

The option is fair to both tools only if it changes no answer: the same sequence of
requests (put, get, head, list, multipart, errors) goes to two servers, one with it
and one without, and every status, kept header and body must agree once request ids,
dates and upload ids are masked.
"""
from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import free_port

BENCH = Path(__file__).resolve().parents[1] / "bench"
# Headers whose values differ between any two servers (ids, clocks, the server's name).
_VARYING = {"date", "last-modified", "server", "x-amz-request-id", "x-amz-id-2", "x-amzn-requestid", "connection",
            "keep-alive"}
_MASKS = [(re.compile(rb"<RequestId>[^<]*</RequestId>"), b"<RequestId/>"),
          (re.compile(rb"<HostId>[^<]*</HostId>"), b"<HostId/>"),
          (re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), b"TIME")]


def _server(logdir: Path, *extra: str) -> Iterator[str]:
    port = free_port()
    log = open(logdir / f"s3server-{port}.log", "wb")
    proc = subprocess.Popen([sys.executable, str(BENCH / "s3server.py"), "--server", "cheroot", "-p", str(port),
                             "--threads", "4", *extra], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    try:
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"s3server.py {' '.join(extra)} did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    logs = tmp_path_factory.mktemp("s3server")
    for plain in _server(logs):
        for cached in _server(logs, "--dispatch-cache"):
            yield plain, cached


class _Client:
    """Signed requests by hand (as mlver's lean path and any SDK send them); raw answers kept."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.pool = urllib3.PoolManager()
        self.credentials = Credentials("testing", "testing")

    def send(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
             region: str | None = "us-east-1", host: str | None = None) -> tuple[int, dict[str, str], bytes]:
        request = AWSRequest(method=method, url=self.endpoint + path, data=body, headers=dict(headers or {}))
        if host is not None:
            request.headers["Host"] = host
        if region is not None:
            S3SigV4Auth(self.credentials, "s3", region).add_auth(request)
        prepared = request.prepare()
        answer = self.pool.request(method, prepared.url, body=body or None, headers=dict(prepared.headers),
                                   redirect=False, retries=False)
        return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.data


def _steps(client: _Client) -> Iterator[tuple[str, tuple[int, dict[str, str], bytes]]]:
    """The sequence of requests, each answer named; an upload id is taken from the server's own answer."""
    small = b"4 KiB of data " * 300
    md5 = base64.b64encode(hashlib.md5(small).digest()).decode()
    yield "create bucket", client.send("PUT", "/diff")
    yield "create bucket again", client.send("PUT", "/diff")
    yield "put", client.send("PUT", "/diff/files/md5/ab/cdef", small, {"Content-MD5": md5})
    yield "put, wrong md5", client.send("PUT", "/diff/files/md5/ab/bad", small,
                                        {"Content-MD5": base64.b64encode(b"0" * 16).decode()})
    yield "put manifest", client.send("PUT", "/diff/files/md5/12/3456.dir", b'[{"md5": "x", "relpath": "a"}]')
    yield "get", client.send("GET", "/diff/files/md5/ab/cdef")
    yield "get a range", client.send("GET", "/diff/files/md5/ab/cdef", headers={"Range": "bytes=10-99"})
    yield "head", client.send("HEAD", "/diff/files/md5/ab/cdef")
    yield "get missing key", client.send("GET", "/diff/files/md5/00/missing")
    yield "head missing key", client.send("HEAD", "/diff/files/md5/00/missing")
    yield "get missing bucket", client.send("GET", "/nosuchbucket/key")
    yield "list", client.send("GET", "/diff?list-type=2&prefix=files/md5/")
    yield "list a page", client.send("GET", "/diff?list-type=2&max-keys=1")
    yield "list uploads", client.send("GET", "/diff?uploads")
    status, headers, body = client.send("POST", "/diff/big?uploads")
    yield "create multipart", (status, headers, body)
    found = re.search(rb"<UploadId>([^<]+)</UploadId>", body)
    assert found, body
    upload = found.group(1).decode()
    part = b"p" * (5 * 1024 * 1024)
    yield "upload part", client.send("PUT", f"/diff/big?partNumber=1&uploadId={upload}", part)
    yield "upload last part", client.send("PUT", f"/diff/big?partNumber=2&uploadId={upload}", b"tail")
    yield "list parts", client.send("GET", f"/diff/big?uploadId={upload}")
    yield "list uploads, one open", client.send("GET", "/diff?uploads")
    etag = hashlib.md5(part).hexdigest()
    tail = hashlib.md5(b"tail").hexdigest()
    complete = (f'<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"{etag}"</ETag></Part>'
                f'<Part><PartNumber>2</PartNumber><ETag>"{tail}"</ETag></Part></CompleteMultipartUpload>').encode()
    yield "complete multipart", client.send("POST", f"/diff/big?uploadId={upload}", complete)
    yield "head multipart object", client.send("HEAD", "/diff/big")
    yield "complete it again", client.send("POST", f"/diff/big?uploadId={upload}", complete)
    yield "abort missing upload", client.send("DELETE", "/diff/big?uploadId=nosuchupload")
    yield "unsigned get", client.send("GET", "/diff/files/md5/ab/cdef", region=None)
    yield "signed for another region", client.send("GET", "/diff/files/md5/ab/cdef", region="eu-west-1")
    yield "another Host", client.send("GET", "/diff/files/md5/ab/cdef", host="localhost")
    yield "moto's own api", client.send("GET", "/moto-api/", region=None)
    yield "delete", client.send("DELETE", "/diff/files/md5/ab/cdef")
    yield "get deleted", client.send("GET", "/diff/files/md5/ab/cdef")
    yield "list after delete", client.send("GET", "/diff?list-type=2")


def _masked(answer: tuple[int, dict[str, str], bytes], upload_ids: list[bytes]) -> tuple[int, dict[str, str], bytes]:
    status, headers, body = answer
    headers = {k: v for k, v in headers.items() if k not in _VARYING}
    if body and headers.get("content-length") == str(len(body)):
        headers["content-length"] = "the body's"  # (an upload id's length varies; the body is compared masked)
    for pattern, mask in _MASKS:
        body = pattern.sub(mask, body)
    for upload in upload_ids:
        body = body.replace(upload, b"UPLOAD")
    return status, headers, body


def test_the_dispatch_cache_changes_no_answer(servers: tuple[str, str]) -> None:
    plain, cached = (list(_steps(_Client(url))) for url in servers)
    ids = [re.findall(rb"<UploadId>([^<]+)</UploadId>", b"".join(a[2] for _, a in answers))
           for answers in (plain, cached)]
    assert [name for name, _ in plain] == [name for name, _ in cached]
    for (name, a), (_, b) in zip(plain, cached, strict=True):
        assert _masked(a, ids[0]) == _masked(b, ids[1]), name
    # The sequence reaches what the benches' transfers meet: success, S3's errors, moto's own API.
    statuses = {name: a[0] for name, a in plain}
    assert statuses["put"] == statuses["get"] == statuses["complete multipart"] == 200
    assert statuses["get missing key"] == statuses["get missing bucket"] == 404
    assert statuses["head missing key"] == 404 and statuses["abort missing upload"] == 404
    assert b"<Key>files/md5/ab/cdef</Key>" in dict(plain)["list"][2]


def _environ(path: str, auth: str | None) -> dict[str, Any]:
    environ: dict[str, Any] = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "HTTP_HOST": "127.0.0.1:9"}
    if auth:
        environ["HTTP_AUTHORIZATION"] = auth
    return environ


@pytest.mark.parametrize("cache", [False, True])
def test_the_dispatch_cache_scans_motos_packages_once_per_host(cache: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    import moto.backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    sys.path.insert(0, str(BENCH))
    try:
        import s3server
    finally:
        sys.path.remove(str(BENCH))
    scans = []
    real = moto.backends.list_of_moto_modules

    def counted() -> Any:
        scans.append(1)
        return real()

    monkeypatch.setattr(moto.backends, "list_of_moto_modules", counted)
    app = s3server.cached_dispatch(create_backend_app) if cache else DomainDispatcherApplication(create_backend_app)
    signed = "AWS4-HMAC-SHA256 Credential=testing/20261204/{}/s3/aws4_request, SignedHeaders=host, Signature=0"
    apps = [app.get_application(_environ("/b/k", signed.format(region)))  # type: ignore[attr-defined]
            for region in ["us-east-1"] * 10 + ["eu-west-1"] * 5]
    assert len({id(a) for a in apps}) == 1  # S3's one Flask app, whichever region signed
    assert len(scans) == (2 if cache else 15)
