"""Small-object GETs and PUTs without botocore's per-call machinery.

A pull or push of many small files is bound by CPU, not by the network:
measured against moto on 127.0.0.1, ``get_object`` costs the client ~2 ms
per 4 KiB object (parameter validation, event hooks, endpoint rules, the
user-agent string, response parsing) and the extra headers cost the server
~0.6 ms more. Here one request is built by hand, signed by botocore's own
``S3SigV4Auth`` and sent on the client's own connection pool: ~0.7 ms.

The URL layout is taken once from a presigned URL the real client builds
(so virtual-host or path style and custom endpoints are botocore's decision,
not ours) and checked against our own quoting of the key; when they do not
line up, there is no lean path. Requests are signed for the client's region.
Anything but a plain 200 is not interpreted here: the caller repeats the
request through the real client, which retries, follows redirects and
explains errors, and the lean path is switched off for the store.
"""
from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote, urlsplit

from mlver import waiting
from mlver.adapters.pace import Pace, read_paced
from mlver.errors import TransferTooSlow

# Bytes a lean GET reads into memory at most; larger objects stream through the client.
LEAN_MAX = 1024 * 1024
_PROBE = "files/md5/00/mlver-lean-probe"


def _quote(key: str) -> str:
    # botocore's percent-encoding of a key in the path: everything but unreserved characters and "/".
    return quote(key, safe="/~")


class Lean:
    """Signed GET/PUT of one object by key; ``None``/``False`` means "ask the real client".
    ``credentials`` None: unsigned requests (an anonymous remote)."""

    def __init__(self, client: Any, credentials: Any, bucket: str, endpoint: str) -> None:
        self._session = client._endpoint.http_session
        self._credentials = credentials
        self._endpoint = endpoint
        self.on = True
        self.sent = 0  # requests answered on the lean path (tests look at it)
        self._lock = threading.Lock()
        probe = _PROBE
        url = urlsplit(client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": probe},
                                                     ExpiresIn=60))
        quoted = _quote(probe)
        if not url.path.endswith("/" + quoted) or url.scheme not in ("http", "https"):
            raise ValueError(f"unexpected presigned URL layout: {url.path}")
        self._base = f"{url.scheme}://{url.netloc}{url.path[:-len(quoted)]}"
        # The client's region; a bucket elsewhere answers with a redirect, which turns this path off.
        self._region = client.meta.region_name or "us-east-1"

    def get(self, key: str, limit: int = LEAN_MAX, pace: Pace | None = None) -> bytes | None:
        """The object's bytes, or None when this path cannot answer (then nothing was
        learnt). ``pace``: the download's (a server that trickles is given up on)."""
        response = self._send("GET", key, b"", {})
        body = None
        if response is not None:
            try:
                if response.status_code == 200:
                    body = read_paced(response.raw, limit + 1, pace) if pace else response.raw.read(limit + 1)
            except TransferTooSlow:
                raise  # (not a reason to turn this path off: the server is slow, whoever asks)
            except Exception:
                body = None
            finally:
                _done(response.raw)
        if body is None or len(body) > limit:
            self._off()
            return None
        with self._lock:
            self.sent += 1
        return bytes(body)

    def put(self, key: str, body: bytes, content_md5: str) -> bool:
        """True when the server took the object (it checked ``content_md5`` against the bytes)."""
        response = self._send("PUT", key, body, {"Content-MD5": content_md5, "Content-Length": str(len(body))})
        if response is None:
            self._off()
            return False
        try:
            ok = response.status_code == 200
            response.raw.read(64 * 1024)  # the (empty) answer, so the connection can serve the next request
        except Exception:
            ok = False
        finally:
            _done(response.raw)
        if not ok:
            self._off()
            return False
        with self._lock:
            self.sent += 1
        return True

    def _off(self) -> None:
        # One refusal (a redirect to another region, an expired token, a proxy) and the
        # real client takes every later request too: it knows what to do with them.
        self.on = False

    def _send(self, method: str, key: str, body: bytes, headers: dict[str, str]) -> Any:
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method=method, url=self._base + _quote(key), data=body, headers=headers)
        request.stream_output = True  # else the session reads the whole answer, however long
        token = waiting.begin(self._endpoint)
        try:
            if self._credentials is not None:
                S3SigV4Auth(self._credentials.get_frozen_credentials(), "s3", self._region).add_auth(request)
            response = self._session.send(request.prepare())
        except Exception:
            return None  # the real client's retries and messages take it from here
        finally:
            waiting.end(token)
        return response


def _done(raw: Any) -> None:
    """Give a fully read connection back to the pool; close one with bytes left unread."""
    try:
        if raw.length_remaining == 0:
            raw.release_conn()
        else:
            raw.close()
    except Exception:
        pass  # a connection that cannot even be closed is the pool's to drop


def lean(client: Any, credentials: Any, bucket: str, endpoint: str) -> Lean | None:
    """A lean path for ``client``'s bucket, or None where its layout is not the plain one."""
    try:
        return Lean(client, credentials, bucket, endpoint)
    except (AttributeError, ValueError, TypeError):
        return None
