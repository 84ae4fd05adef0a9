"""Small-object GETs and PUTs without botocore's per-call machinery.

A pull or push of many small files is bound by CPU, not by the network:
measured against moto on 127.0.0.1, ``get_object`` costs the client ~2 ms
per 4 KiB object (parameter validation, event hooks, endpoint rules, the
user-agent string, response parsing) and the extra headers cost the server
~0.6 ms more. Here one request is built by hand, signed by botocore's own
``S3SigV4Auth`` and sent on the client's own connection pool: ~0.7 ms.

The signature is SigV4 as botocore's ``S3SigV4Auth`` computes it for these
two shapes of request (no query, the payload's SHA-256 signed), built from
plain strings: botocore's signer goes through its email-based header class
for every header and was ~30% of a lean request's client CPU. The two are
compared once per store on a probe GET and PUT (same clock reading); where
they differ in any header, every request is signed by botocore's.

The URL layout is taken once from a presigned URL the real client builds
(so virtual-host or path style and custom endpoints are botocore's decision,
not ours) and checked against our own quoting of the key; when they do not
line up, there is no lean path. Requests are signed for the client's region.
Anything but a plain 200 is not interpreted here: the caller repeats the
request through the real client, which retries, follows redirects and
explains errors, and the lean path is switched off for the store.
"""
from __future__ import annotations

import hashlib
import hmac
import threading
import time
from typing import Any
from urllib.parse import quote, urlsplit

from mlver import waiting
from mlver.adapters.pace import Pace, read_paced
from mlver.errors import TransferTooSlow

# Bytes a lean GET reads into memory at most; larger objects stream through the client.
LEAN_MAX = 1024 * 1024
_PROBE = "files/md5/00/mlver-lean-probe"


_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _quote(key: str) -> str:
    # botocore's percent-encoding of a key in the path: everything but unreserved characters and "/".
    return quote(key, safe="/~")


def _host(url: str) -> str:
    """The Host a request to ``url`` is signed for: no default port, IPv6 in brackets."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != {"http": 80, "https": 443}.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


class Signer:
    """SigV4 headers for a lean GET or PUT of one key (path already quoted, no query)."""

    def __init__(self, credentials: Any, region: str, host: str) -> None:
        self._credentials = credentials
        self._region = region
        self._host = host
        self._keys: dict[tuple[str, str], bytes] = {}  # (secret, day) -> signing key

    def _key(self, secret: str, day: str) -> bytes:
        key = self._keys.get((secret, day))
        if key is None:
            key = f"AWS4{secret}".encode()
            for part in (day, self._region, "s3", "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._keys[(secret, day)] = key  # (a race stores the same bytes twice)
        return key

    def headers(self, method: str, path: str, body: bytes, headers: dict[str, str],
                amz_date: str | None = None) -> dict[str, str]:
        """``headers`` with the date, token, payload hash and Authorization added, in botocore's order."""
        frozen = self._credentials.get_frozen_credentials()
        amz_date = amz_date or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        out = dict(headers)
        out["X-Amz-Date"] = amz_date
        if frozen.token:
            out["X-Amz-Security-Token"] = frozen.token
        payload = hashlib.sha256(body).hexdigest() if body else _EMPTY_SHA256
        out["X-Amz-Content-SHA256"] = payload
        signed = {name.lower(): " ".join(value.split()) for name, value in out.items()}
        signed.setdefault("host", self._host)
        names = sorted(signed)
        canonical = "\n".join([method, path, "", *(f"{n}:{signed[n]}" for n in names), "", ";".join(names), payload])
        day = amz_date[:8]
        scope = f"{day}/{self._region}/s3/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._key(frozen.secret_key, day), to_sign.encode(), hashlib.sha256).hexdigest()
        out["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={frozen.access_key}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={signature}")
        return out


def botocore_headers(credentials: Any, region: str, method: str, url: str, body: bytes,
                     headers: dict[str, str]) -> dict[str, str]:
    """The headers botocore's ``S3SigV4Auth`` sends for the same request (what ``Signer`` must match)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    S3SigV4Auth(credentials.get_frozen_credentials(), "s3", region).add_auth(request)
    return dict(request.headers.items())


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
        self._prefix = url.path[:-len(quoted)]
        # The client's region; a bucket elsewhere answers with a redirect, which turns this path off.
        self._region = client.meta.region_name or "us-east-1"
        self._signer = Signer(credentials, self._region, _host(self._base)) if credentials is not None else None
        if self._signer is not None and not self._signs_as_botocore(self._signer):
            self._signer = None

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

    def _signs_as_botocore(self, signer: Signer) -> bool:
        probe = _quote(_PROBE)
        body = b"probe"
        put = {"Content-MD5": "TwxUFXmwsEdyiT2a2fPHuA==", "Content-Length": str(len(body))}
        for method, data, headers in (("GET", b"", {}), ("PUT", body, put)):
            theirs = botocore_headers(self._credentials, self._region, method, self._base + probe, data, headers)
            ours = signer.headers(method, self._prefix + probe, data, headers, amz_date=theirs.get("X-Amz-Date"))
            if list(ours.items()) != list(theirs.items()):
                return False
        return True

    def _off(self) -> None:
        # One refusal (a redirect to another region, an expired token, a proxy) and the
        # real client takes every later request too: it knows what to do with them.
        self.on = False

    def _send(self, method: str, key: str, body: bytes, headers: dict[str, str]) -> Any:
        from botocore.awsrequest import AWSPreparedRequest

        quoted = _quote(key)
        url = self._base + quoted
        token = waiting.begin(self._endpoint)
        try:
            if self._signer is not None:
                headers = self._signer.headers(method, self._prefix + quoted, body, headers)
            elif self._credentials is not None:
                headers = botocore_headers(self._credentials, self._region, method, url, body, headers)
            # stream_output: else the session reads the whole answer, however long.
            request = AWSPreparedRequest(method, url, headers, body or None, stream_output=True)
            response = self._session.send(request)
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
