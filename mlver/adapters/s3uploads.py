"""The multipart uploads this clone's pushes started, so a later push can tell
its own killed ones from someone else's upload in progress.

S3 says nothing of who started an upload that two clones can tell apart (its
Initiator is the credentials, which a team often shares), and an upload
aborted under another machine's push makes that push fail. So each upload
mlver starts is noted in a small file under ``.git/mlver/uploads/`` the moment
S3 names it (before its first part goes up), with the process that started
it, and forgotten once it is completed or aborted. A note whose process is
gone is an interrupted push's upload: it may be aborted. A note from another
boot or machine (a clone on a shared filesystem) is left to the day-old rule.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlver.adapters import placement
from mlver.adapters.atomic import write_bytes
from mlver.adapters.statcache import read_bytes

FORMAT = 1
UPLOADS_DIR = "mlver/uploads"  # under the git directory
# (A note is ~300 bytes; a folder that holds more than this many is not ours to trust whole.)
MAX_NOTES = 10_000
Upload = tuple[str, str]  # (key, upload id)


class Uploads:
    """The uploads this clone started on one bucket of one endpoint."""

    def __init__(self, folder: Path, endpoint: str | None, bucket: str) -> None:
        self.folder = folder
        self.endpoint = endpoint or ""
        self.bucket = bucket

    def _note(self, upload: Upload) -> Path:
        name = "\0".join((self.endpoint, self.bucket, *upload)).encode("utf-8", "surrogatepass")
        return self.folder / f"{hashlib.blake2b(name, digest_size=16).hexdigest()}.json"

    def started(self, upload: Upload) -> None:
        doc = {"format": FORMAT, "endpoint": self.endpoint, "bucket": self.bucket, "key": upload[0],
               "upload_id": upload[1], "pid": os.getpid(), "tag": placement.run_tag()}
        try:
            write_bytes(self._note(upload), json.dumps(doc, sort_keys=True).encode())
        except OSError:
            pass  # unnoted, the upload is left to the day-old rule if this push is killed: no reason to fail it

    def ended(self, upload: Upload) -> None:
        try:
            self._note(upload).unlink(missing_ok=True)
        except OSError:
            pass

    def abandoned(self, root: str) -> set[Upload]:
        """The uploads under ``root`` (a key prefix) that a process of this
        machine started and that process is gone: a killed push's."""
        found = set()
        tag = placement.run_tag()
        for doc in self._notes():
            if doc["key"].startswith(root) and doc["tag"] == tag and not placement.alive(doc["pid"]):
                found.add((doc["key"], doc["upload_id"]))
        return found

    def _notes(self) -> Iterator[dict[str, Any]]:
        """This bucket's notes, each as written; any other file, or a note
        damaged or about another bucket, is passed over."""
        try:
            names = sorted(os.listdir(self.folder))[:MAX_NOTES]
        except OSError:
            return
        for name in names:
            if not name.endswith(".json"):
                continue
            doc = _parse(read_bytes(self.folder / name))
            if doc is not None and (doc["endpoint"], doc["bucket"]) == (self.endpoint, self.bucket) \
                    and self._note((doc["key"], doc["upload_id"])).name == name:
                yield doc


def _parse(raw: bytes | None) -> dict[str, Any] | None:
    try:
        doc = json.loads(raw) if raw is not None else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return None
    texts = all(isinstance(doc.get(k), str) for k in ("endpoint", "bucket", "key", "upload_id", "tag"))
    pid = doc.get("pid")
    return doc if texts and isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None


def track(client: Any, uploads: Uploads) -> None:
    """Note each upload ``client`` starts, and forget it once it is completed
    or aborted (or S3 says it no longer exists)."""

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["mlver.upload_key"] = params.get("Key")
        context["mlver.upload_id"] = params.get("UploadId")

    def created(http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        key, upload_id = context.get("mlver.upload_key"), parsed.get("UploadId")
        if http_response.status_code < 300 and isinstance(key, str) and isinstance(upload_id, str) and upload_id:
            uploads.started((key, upload_id))

    def finished(http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        key, upload_id = context.get("mlver.upload_key"), context.get("mlver.upload_id")
        gone = http_response.status_code < 300 or parsed.get("Error", {}).get("Code") == "NoSuchUpload"
        if gone and isinstance(key, str) and isinstance(upload_id, str):
            uploads.ended((key, upload_id))

    events = client.meta.events
    for operation in ("CreateMultipartUpload", "CompleteMultipartUpload", "AbortMultipartUpload"):
        events.register(f"before-parameter-build.s3.{operation}", remember)
    events.register("after-call.s3.CreateMultipartUpload", created)
    events.register("after-call.s3.CompleteMultipartUpload", finished)
    events.register("after-call.s3.AbortMultipartUpload", finished)
