"""A DVC-layout object store in an S3 bucket: the only importer of boto3.

Objects live at ``<prefix>/files/md5/ab/cdef...`` (DVC 3's remote layout),
so ``dvc pull`` reads what we write. We talk to S3 through boto3's transfer
manager, which DVC (through s3fs) does not use: parallel multipart parts
for large files, one request for small ones. An S3 PUT is atomic (an
interrupted upload leaves no object), so a re-run only sends what is absent.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from mlver.adapters import s3headers, s3lean, s3uploads, verified
from mlver.adapters.atomic import temp_beside
from mlver.adapters.pace import Pace, read_paced
from mlver.adapters.s3lean import LEAN_MAX
from mlver.adapters.storage import MAX_READ, Tee, object_relpath
from mlver.adapters.verified import settle
from mlver.errors import (
    CHANGED_HINT,
    ListingNeverEnds,
    MalformedUrl,
    MlverError,
    ObjectChanged,
    ObjectNotInRemote,
    RemoteAccessError,
    RemoteAltersData,
    RemoteError,
    StorageError,
)

Progress = Callable[[int], None]
# Above this an object goes up in parallel parts; below it in one request.
MULTIPART = 8 * 1024 * 1024  # boto3's default part size
PART = 8 * 1024 * 1024  # boto3's default part size
CHUNK = 1024 * 1024
# The workspace copy of a download (Tee) follows it in kernel copies of this many bytes,
# so at most this much is left to copy once the last byte has arrived (32 MiB slices
# left ~35 ms of copying after it; 8 MiB ~8 ms, measured on 512 MiB from moto).
TEE_STEP = 8 * 1024 * 1024
MAX_EXPIRY = 7 * 24 * 3600  # S3's limit for a presigned URL (SigV4)
# Seconds to connect, and to wait for each answer, unless the remote sets
# connect_timeout/read_timeout (DVC's options): an endpoint that accepts the
# connection and never answers fails in ATTEMPTS x READ_TIMEOUT, not minutes.
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 15
ATTEMPTS = 3
# The answer to a multipart upload's completion waits for the whole object to be assembled (DVC's read_timeout: 60).
COMPLETE_TIMEOUT = 60
# A multipart upload begun this long ago and sent no part since under our objects is an interrupted push's, whoever made it.
STALE_UPLOAD = 24 * 3600
# A listing of the whole remote this many pages long, one after another, beats a listing per folder.
FEW_PAGES = 8
HEX2 = re.compile(r"[0-9a-f]{2}")
# A listing past this many pages is a server that never ends one: S3 pages up to 1,000
# keys, so this is a billion objects (the largest DVC remotes hold millions), or 100
# million from a server that pages a tenth as many; at S3's ~20 ms a page it would
# take 6 hours to list. Its tokens' digests (16 bytes each) stay under 100 MB.
MAX_PAGES = 1_000_000
# What a page of each listing gives to continue it -> what the next request asks with.
_CONTINUATIONS = {
    "list_objects_v2": (("ContinuationToken",), ("NextContinuationToken",)),
    "list_multipart_uploads": (("KeyMarker", "UploadIdMarker"), ("NextKeyMarker", "NextUploadIdMarker")),
    "list_parts": (("PartNumberMarker",), ("NextPartNumberMarker",)),
}


def _entries(page: dict[str, Any], root: str) -> Iterator[tuple[str, int, dt.datetime | None]]:
    """(key below ``root``, size, last modified) of a listing page's entries. The
    listing is the server's word: an entry without a key under ``root`` or a size
    is passed over, not a KeyError."""
    for item in page.get("Contents") or ():
        key, size, modified = item.get("Key"), item.get("Size"), item.get("LastModified")
        if isinstance(key, str) and key.startswith(root) and isinstance(size, int) and size >= 0:
            yield key[len(root):], size, modified if isinstance(modified, dt.datetime) else None


def _uploads_of(page: dict[str, Any], root: str) -> Iterator[tuple[str, str, dt.datetime | None]]:
    """(key, upload id, when it began) of a page of uploads in progress under
    ``root``; the server's word, so an entry without them is passed over."""
    for item in page.get("Uploads") or ():
        key, upload_id, started = item.get("Key"), item.get("UploadId"), item.get("Initiated")
        if isinstance(key, str) and key.startswith(root) and isinstance(upload_id, str) and upload_id:
            yield key, upload_id, started if isinstance(started, dt.datetime) else None


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (bucket, prefix); RemoteError when malformed."""
    import re

    if not url.startswith("s3://"):
        raise MalformedUrl("S3 URL", url, "it does not start with s3://", "s3://BUCKET[/PREFIX]")
    bucket, _, prefix = url[len("s3://"):].partition("/")
    # S3's bucket naming rules: 3-63 of lowercase letters, digits, '.', '-'.
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket) or ".." in bucket:
        raise MalformedUrl("S3 URL", url, f"{bucket!r} is not a valid bucket name",
                           "s3://BUCKET[/PREFIX] with a bucket of 3-63 lowercase letters, digits, '.' or '-'")
    return bucket, prefix.strip("/")


def _why(exc: BaseException) -> tuple[str, str]:
    """(kind, detail) of a botocore failure; kind is a key of RemoteAccessError.KINDS."""
    from botocore import exceptions as bx

    # The transfer manager wraps what went wrong (S3UploadFailedError, or a
    # bare exception from a part's thread); the botocore error underneath says why.
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, (bx.BotoCoreError, bx.ClientError)):
        cause = cause.__cause__ or cause.__context__
    if cause is not None and cause is not exc:
        return _why(cause)
    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return "no-credentials", str(exc)
    if isinstance(exc, bx.ReadTimeoutError):
        return "timeout", str(exc)
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ConnectionClosedError)):
        return "unreachable", str(exc)
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        detail = f"{code}: {err.get('Message') or status}"
        if code in ("NoSuchBucket",):
            return "no-bucket", detail
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"):
            return "bad-credentials", detail
        if code in ("AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException") \
                or status == 301:
            return "wrong-region", detail
        if code in ("AccessDenied", "AllAccessDisabled", "Forbidden") or status == 403:
            return "access-denied", detail
        if status == 404 and code in ("404", "NotFound"):
            return "no-bucket", detail  # HEAD of a missing bucket has no body, only 404
        return "other", detail
    if isinstance(exc, bx.BotoCoreError):
        return "other", str(exc)
    return "other", f"{type(exc).__name__}: {exc}"


class S3Store:
    """The same interface as ``LocalStore``: has, size, put, get, read, check_writable."""

    def __init__(self, name: str, url: str, endpoint_url: str | None = None, region: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 session_token: str | None = None, profile: str | None = None, anonymous: bool = False,
                 connect_timeout: float | None = None, read_timeout: float | None = None,
                 uploads: Path | None = None) -> None:
        """``uploads``: the folder where the multipart uploads this clone starts
        are noted (s3uploads), so its next push can abort them if this one is killed."""
        self.name = name
        self.url = url
        self.bucket, self.prefix = parse_url(url)
        self.endpoint_url = endpoint_url
        self.label = f"{name} ({url})"
        self.jobs = min(32, 4 * (os.cpu_count() or 1))  # DVC's default for cloud remotes
        self._session_args = {k: v for k, v in (
            ("aws_access_key_id", access_key_id), ("aws_secret_access_key", secret_access_key),
            ("aws_session_token", session_token), ("profile_name", profile), ("region_name", region),
        ) if v}
        # Unsigned requests: nothing of the user's credentials reaches an endpoint they did not choose.
        self.anonymous = anonymous
        self.connect_timeout = float(connect_timeout or CONNECT_TIMEOUT)
        self.read_timeout = float(read_timeout or READ_TIMEOUT)
        self._client: Any = None
        self._upload_client: Any = None
        self._boto_session: Any = None
        self._lean: s3lean.Lean | None = None  # built with the client, where its layout allows one
        self._lock = threading.Lock()
        self._sizes: dict[str, int] = {}
        self._bucket_seen = False  # the bucket was listed: a 404 is the object's
        # Large puts sent on the stat cache's word / hashed as sent: what the tests see of the shortcut.
        self.counts = {"vouched": 0, "hashed": 0}
        self._guards: dict[str, Callable[[], None]] = {}  # key -> what must hold before its upload completes
        self._uploads = s3uploads.Uploads(uploads, endpoint_url, self.bucket) if uploads is not None else None

    # -- plumbing ---------------------------------------------------------

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                # Single-request puts carry the md5 we computed anyway as
                # Content-MD5 (the server checks it), so no CRC on top.
                self._client = self._make_client(self.read_timeout, request_checksum="when_required")
                credentials = None if self.anonymous else self._session().get_credentials()
                # No credentials found: no lean path; the real client's request fails with its own clear error.
                if self.anonymous or credentials is not None:
                    self._lean = s3lean.lean(self._client, credentials, self.bucket,
                                             f"remote {self.name} at {self.endpoint_url or self.url}")
            return self._client

    @property
    def upload_client(self) -> Any:
        """The client for multipart uploads: completing one makes the server
        assemble the whole object before it answers (minutes on a slow endpoint,
        where real S3 keeps the connection alive with whitespace). With the short
        read timeout the completion was retried while the first one was still
        at work, and the retry failed for an upload already completed."""
        with self._lock:
            if self._upload_client is None:
                # Each part carries a CRC32 the server checks (botocore's default). Over plain
                # HTTP botocore also SHA-256-hashed every part to sign it (0.9 ms a MiB, a third of
                # the client's CPU for a large push; over HTTPS it never does): what the signature
                # adds is protection from a tamperer on the path, which is TLS's job, and an
                # object altered on the way is refused by its md5 wherever it is read.
                client = self._make_client(max(self.read_timeout, COMPLETE_TIMEOUT), sign_payload=False)
                # Before the parameters of a completion are built (so before any
                # other hook of that call): the last word on whether it may happen.
                client.meta.events.register("before-parameter-build.s3.CompleteMultipartUpload", self._may_complete)
                # (A file that shrank below the threshold meanwhile would go up in one request.)
                client.meta.events.register("before-parameter-build.s3.PutObject", self._may_complete)
                if self._uploads is not None:
                    s3uploads.track(client, self._uploads)
                self._upload_client = client
            return self._upload_client

    def _may_complete(self, params: dict[str, Any], **_: Any) -> None:
        check = self._guards.get(params.get("Key", ""))
        if check is not None:
            check()  # raises _Mismatch: the transfer manager aborts the upload

    def _make_client(self, read_timeout: float, request_checksum: str = "when_supported",
                     sign_payload: bool | None = None) -> Any:
        from botocore import UNSIGNED
        from botocore.config import Config

        config = Config(
            max_pool_connections=max(self.jobs, 10) + 10,
            connect_timeout=self.connect_timeout, read_timeout=read_timeout,
            # (botocore's max_attempts counts retries only: 3 gave 4 tries where messages say 3.)
            retries={"total_max_attempts": ATTEMPTS, "mode": "standard"},
            # Every byte we read from the remote is md5-hashed and compared to
            # the object's name (get/settle), a stronger check than a CRC over
            # the same bytes: no second checksum on responses.
            response_checksum_validation="when_required",
            request_checksum_calculation=request_checksum,
            **({} if sign_payload is None else {"s3": {"payload_signing_enabled": sign_payload}}),
            **({"signature_version": UNSIGNED} if self.anonymous else {}),
        )
        client = self._session().client("s3", endpoint_url=self.endpoint_url, config=config)
        s3headers.bound(client)
        _watch_calls(client, f"remote {self.name} at {self.endpoint_url or self.url}")
        return client

    def _session(self) -> Any:
        """One boto3 session for both clients (called under the lock): the
        second client reuses the service model and endpoint data the first
        one loaded (~0.15 s each)."""
        if self._boto_session is None:
            import boto3
            import botocore.session

            core = botocore.session.Session()
            # A listing's every LastModified went through dateutil's generic parser: 3,000
            # objects cost the pull ~0.2-0.5 s of CPU before its first GET.
            core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=_timestamp)
            self._boto_session = boto3.session.Session(botocore_session=core, **self._session_args)
        return self._boto_session

    def lean(self) -> s3lean.Lean | None:
        """The small-object path (s3lean) while it serves, else None."""
        self.client  # noqa: B018 -- the lean path is built with the client
        return self._lean if self._lean is not None and self._lean.on else None

    def key(self, md5: str) -> str:
        return self._root() + object_relpath(md5)

    def _root(self) -> str:
        return f"{self.prefix}/files/md5/" if self.prefix else "files/md5/"

    def _fail(self, exc: BaseException, action: str) -> RemoteError:
        kind, detail = _why(exc)
        slow = s3headers.too_slow(exc)
        if slow is not None:
            kind, detail = "timeout", f"its answer's headers took over {slow.seconds:g} s, {ATTEMPTS} tries"
        elif kind == "timeout":
            detail = f"no answer in {self.read_timeout:g} s, {ATTEMPTS} tries"
        return RemoteAccessError(self.name, self.url, kind, action, detail, self.endpoint_url)

    # -- the store interface ---------------------------------------------

    def size(self, md5: str) -> int | None:
        if md5 in self._sizes:
            return self._sizes[md5]
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key(md5))
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404 and exc.response.get("Error", {}).get("Code") in ("404", "NotFound", "NoSuchKey"):
                self._bucket_exists()
                return None
            raise self._fail(exc, f"look up {md5}") from exc
        except Exception as exc:
            raise self._fail(exc, f"look up {md5}") from exc
        self._sizes[md5] = head["ContentLength"]
        return head["ContentLength"]

    def has(self, md5: str) -> bool:
        return self.size(md5) is not None

    def existing(self, md5s: Iterable[str]) -> set[str]:
        """Which of ``md5s`` are in the bucket: a HEAD each when there are few,
        else a listing of just the two-hex-digit folders they fall in; both in
        parallel (one listing paged request after request waits on every page)."""
        md5s = list(md5s)
        wanted = set(md5s) - set(self._sizes)
        if len(wanted) > 256:
            # One page first: an empty or small remote (a first push) is answered
            # by it, where 256 folder listings would each cost the server a request.
            root = self._root()
            pages = self._pages("list_objects_v2", "list the remote", Prefix=root)
            first = next(pages)
            self._note(first, root)
            if not first.get("IsTruncated"):
                wanted.clear()
            else:
                # Keys come in order: the folders the page reached tell how many
                # pages the rest would take. A few, one after another, cost less
                # than a listing of each folder still wanted.
                contents = first.get("Contents") or [{}]
                last = str(contents[-1].get("Key", ""))[len(root):len(root) + 2]
                reached = int(last, 16) if HEX2.fullmatch(last) else -1
                if reached >= 0 and 256 / (reached + 1) <= FEW_PAGES:
                    for page in pages:
                        self._note(page, root)
                    wanted.clear()
                else:
                    wanted = {m for m in wanted if m[:2] >= last}
        if len(wanted) > 256:
            self._parallel(self._list_folder, sorted({m[:2] for m in wanted}))
        elif wanted:
            self._parallel(self.size, wanted)
        return {m for m in md5s if m in self._sizes}

    def _pages(self, operation: str, action: str, **params: Any) -> Iterator[dict[str, Any]]:
        """The pages of a listing (``list_objects_v2`` or ``list_multipart_uploads``)
        one after another, each continued from the last. The server decides when a
        listing ends, so one that never does is refused: a continuation already
        given (botocore's paginator only compares a token with the one before, so
        A, B, A, B went round for ever), "more" with nothing to continue from, or
        more pages than any remote holds."""
        asks, gives = _CONTINUATIONS[operation]
        seen: set[bytes] = set()
        call = getattr(self.client, operation)
        for count in itertools.count(1):
            try:
                page: dict[str, Any] = call(Bucket=self.bucket, **params)
            except Exception as exc:
                raise self._fail(exc, action) from exc
            yield page
            if not page.get("IsTruncated"):
                return
            token = tuple(page.get(name) for name in gives)
            if all(t is None or t == "" for t in token):
                raise ListingNeverEnds(self.name, self.url, f"page {count} says there is more and gives no "
                                                            "continuation token")
            # (Digests, not the tokens, are kept: a server picks how long its tokens are.)
            seen_as = hashlib.blake2b(repr(token).encode("utf-8", "backslashreplace"), digest_size=16).digest()
            if seen_as in seen:
                raise ListingNeverEnds(self.name, self.url, f"page {count} repeats a continuation token it gave "
                                                            "before")
            if count >= MAX_PAGES:
                raise ListingNeverEnds(self.name, self.url, f"it has gone on for {count:,} pages")
            seen.add(seen_as)
            params.update({name: value for name, value in zip(asks, token, strict=True) if value is not None})

    def _list(self, prefix: str) -> None:
        """Note every object under ``prefix``, page after page."""
        root = self._root()
        for page in self._pages("list_objects_v2", "list the remote", Prefix=prefix):
            self._note(page, root)

    def _note(self, page: dict[str, Any], root: str) -> None:
        for rel, size, _ in _entries(page, root):
            if len(rel) > 3 and rel[2] == "/":
                self._sizes[rel[:2] + rel[3:]] = size

    def _list_folder(self, folder: str) -> None:
        self._list(f"{self._root()}{folder}/")

    def _parallel(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self.jobs) as pool:
            for _ in pool.map(fn, items):
                pass

    def check_writable(self) -> None:
        # Listing proves the bucket, the credentials and the region in one
        # request with an error body (a HEAD's 403 cannot tell them apart).
        try:
            self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)
        except Exception as exc:
            raise self._fail(exc, "reach the bucket") from exc
        self._bucket_seen = True

    def _bucket_exists(self) -> None:
        """After a HEAD's 404, which has no body to say whether the object or the
        whole bucket is missing: NoSuchBucket from one listing, asked once (a
        pull from a misspelt bucket said "push it from a machine that has it").
        Any other failure of the listing (a public bucket that lets GET but not
        List) leaves the 404 to mean the object."""
        if self._bucket_seen:
            return
        try:
            self.check_writable()
        except RemoteAccessError as exc:
            if exc.kind == "no-bucket":
                raise
        self._bucket_seen = True

    def clean_interrupted(self) -> int:
        """Abort the multipart uploads interrupted pushes left under our objects
        (S3 keeps, and bills, their parts until then): those this clone's killed
        pushes started (s3uploads), and any a day old, whoever made them.
        Any other may be another machine's push at work on the same object: an
        abort would fail its completion (NoSuchUpload), so it is left. Left
        alone, it is harmless even to an object this push sends: objects are
        named by their md5, so what it completes is the same bytes. Returns how
        many were aborted; a failure to list them is no reason to fail the push."""
        from botocore.exceptions import BotoCoreError, ClientError

        root = self._root()
        mine = self._uploads.abandoned(root) if self._uploads is not None else set()
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=STALE_UPLOAD)
        aborted: set[tuple[str, str]] = set()
        kept: set[tuple[str, str]] = set()
        try:
            for page in self._pages("list_multipart_uploads", "list interrupted uploads", Prefix=root):
                for key, upload_id, started in _uploads_of(page, root):
                    upload = (key, upload_id)
                    try:
                        if upload in mine or self._idle(key, upload_id, started, cutoff):
                            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
                            aborted.add(upload)
                            continue
                    except (BotoCoreError, ClientError, RemoteAccessError):
                        pass  # (ended meanwhile, or not ours to abort: the next push looks again)
                    kept.add(upload)
        except (BotoCoreError, ClientError, RemoteAccessError):
            return len(aborted)  # e.g. no s3:ListBucketMultipartUploads permission: the push itself may still work
        if self._uploads is not None:
            for upload in mine - kept:  # aborted now, or ended since (completed, or aborted as a day old)
                self._uploads.ended(upload)
        return len(aborted)

    def _idle(self, key: str, upload_id: str, started: dt.datetime | None, cutoff: dt.datetime) -> bool:
        """Whether an upload was begun before ``cutoff`` and has had no part since
        (a slow upload of a huge file can take longer than a day and is at work).
        Its parts are only listed for an upload that old (moto says every upload
        began in 2010). One that ended meanwhile (NoSuchUpload) is not idle."""
        if started is None or started >= cutoff:
            return False
        newest = None
        for page in self._pages("list_parts", "list an upload's parts", Key=key, UploadId=upload_id):
            for part in page.get("Parts") or ():
                when = part.get("LastModified")
                if isinstance(when, dt.datetime) and (newest is None or when > newest):
                    newest = when
        return newest is None or newest < cutoff

    def _transfer_config(self) -> Any:
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(multipart_threshold=MULTIPART, multipart_chunksize=PART,
                              max_concurrency=10, use_threads=True)

    trusts_known = True  # put(trusted=True): a cache object the stat cache vouches for is not hashed

    def put(self, src: Path, md5: str, progress: Progress | None = None, trusted: bool = False) -> None:
        """Upload ``src`` as object ``md5``, hashing the very bytes sent: an
        object whose content is not its name never stays in the bucket.
        ``trusted``: ``src`` is a cache object whose md5 the stat cache vouches
        for (mlver hashed it, and its stat has not changed since); a large one
        then goes up as boto3's ``upload_file`` sends a file, parts read in
        parallel and not hashed, and is completed only if its stat is still
        the same after the last part (else it is sent again, hashed)."""
        key = self.key(md5)
        try:
            if src.stat().st_size < MULTIPART:
                size = self._put_small(src, key, md5, progress)
            else:
                sent = self._put_vouched(src, key, progress) if trusted else None
                size = sent if sent is not None else self._put_hashed(src, key, md5, progress)
        except MlverError:
            raise
        except OSError as exc:
            if not _is_botocore(exc):
                raise
            raise self._fail(exc, f"write {md5}") from exc
        except Exception as exc:
            raise self._fail(exc, f"write {md5}") from exc
        self._sizes[md5] = size

    def _put_small(self, src: Path, key: str, md5: str, progress: Progress | None) -> int:
        # One request; the transfer manager's thread hand-off would cost more than the upload.
        body = src.read_bytes()
        digest = hashlib.md5(body)
        if digest.hexdigest() != verified.expected(md5):
            raise _changed(src, digest.hexdigest(), md5)
        content_md5 = base64.b64encode(digest.digest()).decode("ascii")
        lean = self.lean() if len(body) <= LEAN_MAX else None
        if lean is None or not lean.put(key, body, content_md5):
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentMD5=content_md5)
        if progress:
            progress(len(body))
        return len(body)

    def _put_vouched(self, src: Path, key: str, progress: Progress | None) -> int | None:
        """Send a cache object whose md5 is known from its stat; its size, or
        None (nothing kept) when the stat changed before the upload could be completed."""
        before = _stat_key(os.stat(src))

        def unchanged() -> None:
            if _stat_key(os.stat(src)) != before:
                raise _Mismatch()

        sent = 0

        def told(n: int) -> None:
            nonlocal sent
            sent += n
            if progress:
                progress(n)

        with self._lock:
            self._guards[key] = unchanged
        try:
            self.upload_client.upload_file(str(src), self.bucket, key, Config=self._transfer_config(), Callback=told)
        except _Mismatch:
            if progress and sent:
                progress(-sent)  # sent again below, hashed this time
            return None
        finally:
            with self._lock:
                self._guards.pop(key, None)
        self.counts["vouched"] += 1
        return before[2]

    def _put_hashed(self, src: Path, key: str, md5: str, progress: Progress | None) -> int:
        self.counts["hashed"] += 1
        expected = verified.expected(md5)
        # A stream without seek makes the transfer manager read it in
        # order (parts still go up in parallel), so it can be hashed as sent.
        with open(src, "rb") as fh:
            stream = _HashingReader(fh, expected)
            try:
                self.upload_client.upload_fileobj(stream, self.bucket, key, Config=self._transfer_config(),
                                                  Callback=progress)
            except _Mismatch:
                # Raised by the last read, before the upload was completed: the
                # transfer manager aborted it and no object ever had that name.
                raise _changed(src, stream.digest.hexdigest(), md5) from None
        if stream.digest.hexdigest() != expected:  # (a stream that ended without a short read)
            self.client.delete_object(Bucket=self.bucket, Key=key)
            raise _changed(src, stream.digest.hexdigest(), md5)
        return stream.size

    tee = True  # get() can fill a second file in the same pass

    def get(self, md5: str, dst: Path, progress: Progress | None = None, also: Path | None = None) -> str:
        """Download an object to ``dst`` atomically; returns the md5 of what was
        written. ``also``: a new file that gets the same bytes as they arrive
        (a pull's staged workspace copy: written while the next bytes are on
        the wire instead of copied after); the caller removes it on a mismatch."""
        size = self.size(md5)
        if size is None:
            raise ObjectNotInRemote(md5, self.label)
        fd, tmp = temp_beside(dst)
        try:
            # One streaming GET, hashed as it arrives: measured against moto, the
            # transfer manager's parallel ranged GETs took 88 s for 1 GiB where
            # one stream took 19 s (DVC's way), and it needs a second pass to hash.
            written = 0
            with os.fdopen(fd, "wb", buffering=0) as out:
                tee = Tee(tmp, also) if also is not None else None
                # A large one is hashed on a second core while the next block arrives.
                digest: Any = verified.Md5Beside() if size > LEAN_MAX else hashlib.md5()
                try:
                    for chunk in self._chunks(md5, size):
                        digest.update(chunk)
                        view = memoryview(chunk)
                        while view:
                            view = view[out.write(view):]
                        written += len(chunk)
                        if tee is not None:
                            tee.upto(written, TEE_STEP)
                        if progress:
                            progress(len(chunk))
                    if tee is not None:
                        tee.finish(written)
                finally:
                    if isinstance(digest, verified.Md5Beside):
                        digest.close()  # (after a failure: its thread ends with the download)
                    if tee is not None:
                        tee.close()
            got = settle(tmp, dst, digest.hexdigest(), md5)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if also is not None:
                also.unlink(missing_ok=True)
            if isinstance(exc, Exception) and not isinstance(exc, (StorageError, RemoteError)) \
                    and (_is_botocore(exc) or not isinstance(exc, OSError)):
                raise self._fail(exc, f"read {md5}") from exc
            raise
        return got

    def _chunks(self, md5: str, size: int) -> Iterator[bytes]:
        """The object's bytes as they arrive: a small one in one request."""
        if size <= LEAN_MAX:
            body = self._small_body(md5)
            if body:
                yield body
            return
        pace = self._pace(f"read {md5}")
        stream = self.client.get_object(Bucket=self.bucket, Key=self.key(md5))["Body"]
        # At most one byte past the size the bucket gave: a body that streams on is
        # refused by its md5, not read (and written to disk) to its end.
        left = size + 1
        read = _read1(stream)
        try:
            while left > 0:
                chunk = read(min(CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                pace.moved(len(chunk))
                yield chunk
        finally:
            stream.close()

    def _pace(self, action: str) -> Pace:
        return Pace(self.name, self.url, action)

    def _small_body(self, md5: str) -> bytes:
        """At most LEAN_MAX + 1 bytes of a small object, in one request: lean where it
        serves, else through the real client (an object longer than its listing said
        is cut there, and fails its hash: memory stays bounded)."""
        lean = self.lean()
        body = lean.get(self.key(md5), pace=self._pace(f"read {md5}")) if lean is not None else None
        if body is None:
            pace = self._pace(f"read {md5}")
            # Closed once read: a body that streams on past the bound stops there, not when collected.
            with self.client.get_object(Bucket=self.bucket, Key=self.key(md5))["Body"] as stream:
                body = read_paced(stream, LEAN_MAX + 1, pace)
        return body

    def read_small(self, md5: str) -> bytes | None:
        """The bytes of a small object (at most LEAN_MAX), not yet verified: the
        caller hashes them before they are used. None for a larger one (``get``
        streams it to a file)."""
        size = self.size(md5)
        if size is None:
            raise ObjectNotInRemote(md5, self.label)
        if size > LEAN_MAX:
            return None
        try:
            return self._small_body(md5)
        except MlverError:
            raise
        except Exception as exc:
            raise self._fail(exc, f"read {md5}") from exc

    def read(self, md5: str) -> bytes | None:
        if not self.has(md5):
            return None
        try:
            # (A directory manifest, read whole: bounded, a longer one is refused by its md5.)
            pace = self._pace(f"read {md5}")
            with self.client.get_object(Bucket=self.bucket, Key=self.key(md5))["Body"] as body:
                return read_paced(body, MAX_READ + 1, pace)
        except MlverError:
            raise
        except Exception as exc:
            raise self._fail(exc, f"read {md5}") from exc

    def remove(self, md5: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key(md5))
        except Exception as exc:
            raise self._fail(exc, f"delete {md5}") from exc
        self._sizes.pop(md5, None)

    def objects(self) -> dict[str, tuple[int, float]]:
        """Every object in the bucket -> (size, last modified); other keys are left out."""
        from mlver.domain.validate import MD5

        root, found = self._root(), {}
        for page in self._pages("list_objects_v2", "list the remote", Prefix=root):
            for rel, size, modified in _entries(page, root):
                name = rel[:2] + rel[3:]
                if rel[2:3] == "/" and MD5.fullmatch(name) and modified is not None:
                    found[name] = (size, modified.timestamp())
        return found

    # mlver's own small files beside the objects (gc manifests), outside files/md5 so DVC leaves them be.

    def _meta(self, relpath: str) -> str:
        from mlver.adapters.storage import check_meta_path

        return (f"{self.prefix}/" if self.prefix else "") + check_meta_path(relpath)

    def meta_names(self, folder: str) -> list[str]:
        root = self._meta(folder) + "/"
        pages = self._pages("list_objects_v2", f"list {folder}", Prefix=root, Delimiter="/")
        return sorted(rel for page in pages for rel, _, _ in _entries(page, root))

    def meta_read(self, relpath: str, limit: int) -> bytes | None:
        """At most ``limit`` + 1 bytes of the file (the caller refuses a longer one)."""
        from botocore.exceptions import ClientError

        try:
            pace = self._pace(f"read {relpath}")
            return read_paced(self.client.get_object(Bucket=self.bucket, Key=self._meta(relpath))["Body"], limit + 1, pace)
        except MlverError:
            raise
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise self._fail(exc, f"read {relpath}") from exc
        except Exception as exc:
            raise self._fail(exc, f"read {relpath}") from exc

    def meta_write(self, relpath: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._meta(relpath), Body=data)
        except Exception as exc:
            raise self._fail(exc, f"write {relpath}") from exc

    def md5_of(self, md5: str) -> str | None:
        """The md5 of the object's content as stored (a deep check), None when absent."""
        size = self.size(md5)
        if size is None:
            return None
        digest = hashlib.md5()
        try:
            for chunk in self._chunks(md5, size):  # (bounded as get reads: a body that streams on fails its hash)
                digest.update(chunk)
        except MlverError:
            raise
        except Exception as exc:
            raise self._fail(exc, f"read {md5}") from exc
        return digest.hexdigest()

    # -- beyond the store interface ---------------------------------------

    def check(self) -> list[str]:
        """Prove access step by step: list, write, read (and clean up). Returns what worked."""
        done = []
        self.check_writable()
        done.append("list")
        probe = (f"{self.prefix}/" if self.prefix else "") + f".mlver-check-{uuid.uuid4().hex}"
        payload = b"mlver remote check\n"
        try:
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=payload)
        except Exception as exc:
            raise self._fail(exc, "write a test object") from exc
        done.append("write")
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=probe)["Body"].read()
        except Exception as exc:
            raise self._fail(exc, "read the test object back") from exc
        finally:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=probe)
            except Exception:
                pass  # a leftover probe is harmless; the check's verdict matters more
        if got != payload:
            raise RemoteAltersData(self.name, "check the endpoint: a proxy or gateway may be rewriting objects")
        done.append("read")
        return done

    def presign(self, md5: str, seconds: int, filename: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key(md5)}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        try:
            return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)
        except Exception as exc:
            raise self._fail(exc, "sign a URL") from exc


def _watch_calls(client: Any, endpoint: str) -> None:
    """Each request, its retries included, is a call the user hears of when
    it waits long (mlver/waiting.py); botocore's own events bracket it."""
    from mlver import waiting

    def before(context: dict[str, Any], **_: Any) -> None:
        context["mlver.wait"] = waiting.begin(endpoint)

    def after(context: dict[str, Any], **_: Any) -> None:
        waiting.end(context.pop("mlver.wait", None))

    client.meta.events.register("before-call.s3", before)
    client.meta.events.register("after-call.s3", after)
    client.meta.events.register("after-call-error.s3", after)


class _Mismatch(Exception):
    """What was read does not hash to the object's name."""


class _HashingReader:
    """A read-only, unseekable view of a file that hashes what is read through
    it; the read that reaches the end raises ``_Mismatch`` when the whole does
    not hash to ``expected``, so the transfer manager never completes the
    multipart upload (the last part is read before anything is completed)."""

    def __init__(self, fh: Any, expected: str) -> None:
        self._fh = fh
        self._expected = expected
        self.digest = hashlib.md5()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        chunk = self._fh.read(n)
        self.digest.update(chunk)
        self.size += len(chunk)
        if (n is None or n < 0 or len(chunk) < n) and self.digest.hexdigest() != self._expected:
            raise _Mismatch()
        return chunk


def _read1(stream: Any) -> Callable[[int], bytes]:
    """At most n bytes of a botocore body in one socket read (``pace.read1_of``),
    its failures the ones botocore's own ``read`` raises (so ``_why`` reads them)."""
    from botocore import exceptions as bx
    from urllib3 import exceptions as ux

    from mlver.adapters.pace import read1_of

    read = read1_of(stream)

    def read1(n: int) -> bytes:
        try:
            return read(n)
        except ux.ReadTimeoutError as exc:
            raise bx.ReadTimeoutError(endpoint_url=exc.url, error=exc) from exc
        except ux.ProtocolError as exc:
            raise bx.ResponseStreamingError(error=exc) from exc

    return read1


def _stat_key(st: os.stat_result) -> tuple[int, ...]:
    """What any write to a file changes (the ctime, which no user can set back, included)."""
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _changed(src: Path, got: str, md5: str) -> ObjectChanged:
    return ObjectChanged(str(src), got, md5, CHANGED_HINT)


def _timestamp(value: Any) -> Any:
    """A timestamp of an S3 answer: the ISO 8601 form S3 writes in XML bodies
    parsed by the standard library, anything else (a header's RFC 822 date,
    epoch seconds, one without a zone) by botocore's own parser."""
    if isinstance(value, str) and value[10:11] == "T":
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    from botocore.utils import parse_timestamp

    return parse_timestamp(value)


def _is_botocore(exc: BaseException) -> bool:
    return type(exc).__module__.startswith(("botocore", "boto3", "s3transfer", "urllib3"))

