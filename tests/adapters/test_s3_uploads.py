"""Which unfinished multipart uploads a push aborts (against moto's real server):
only those this clone's killed pushes started, and any a day old; another
machine's upload in progress, or one of a push of this clone still running,
completes afterwards."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from fixtures import uploads

from conftest import S3
from mlver.adapters import s3 as s3store
from mlver.adapters.s3uploads import Uploads

SIZE = 9 * 1024 * 1024  # just over the multipart threshold: two parts


def _store(s3: S3, folder: Path) -> s3store.S3Store:
    return s3store.S3Store("team", s3.url(), endpoint_url=s3.endpoint, uploads=folder)


def _begin(s3: S3, key: str, body: bytes) -> str:
    return uploads.begin(s3.client, s3.bucket, key, body)


def _complete(s3: S3, key: str, upload_id: str) -> None:
    uploads.complete(s3.client, s3.bucket, key, upload_id)


def _in_progress(s3: S3) -> set[str]:
    return {u["UploadId"] for u in s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])}


def _note_from_a_process_now_gone(folder: Path, s3: S3, key: str, upload_id: str) -> None:
    uploads.noted_by_a_gone_process(folder, s3.endpoint, s3.bucket, key, upload_id)


def test_a_put_notes_its_upload_while_in_flight_and_forgets_it_once_completed(s3: S3, tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    src = tmp_path / "object"
    src.write_bytes(os.urandom(SIZE))
    md5 = hashlib.md5(src.read_bytes()).hexdigest()
    store = _store(s3, folder)
    noted: list[dict] = []

    def look(**_: object) -> None:  # while the parts go up: the note is already there
        noted.extend(json.loads(p.read_text()) for p in folder.glob("*.json"))

    store.upload_client.meta.events.register("before-call.s3.UploadPart", look)
    store.put(src, md5)
    assert noted and {(n["key"], n["pid"], n["bucket"]) for n in noted} == {(store.key(md5), os.getpid(), s3.bucket)}
    assert list(folder.iterdir()) == []  # completed: forgotten


def test_only_a_gone_process_of_this_clone_has_its_upload_aborted(s3: S3, tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    store = _store(s3, folder)
    key = store.key("ab" * 16)
    body = b"same bytes, whoever sends them"
    elsewhere = _begin(s3, key, body)  # another machine's: in no note of ours
    running = _begin(s3, key, body)  # a push of this clone still at work: this process
    Uploads(folder, s3.endpoint, s3.bucket).started((key, running))
    killed = _begin(s3, key, body)  # a push of this clone that was killed
    _note_from_a_process_now_gone(folder, s3, key, killed)
    other_boot = _begin(s3, key, body)  # noted on another boot or machine: its pid means nothing here
    _note_from_a_process_now_gone(folder, s3, key, other_boot)
    note = next(p for p in folder.glob("*.json") if json.loads(p.read_text())["upload_id"] == other_boot)
    note.write_text(json.dumps({**json.loads(note.read_text()), "tag": "0" * 8}))
    other_bucket = Uploads(folder, s3.endpoint, "another-bucket")  # the same id noted for another bucket
    other_bucket.started((key, elsewhere))
    assert store.clean_interrupted() == 1
    assert _in_progress(s3) == {elsewhere, running, other_boot}
    assert len(list(folder.glob("*.json"))) == 3  # the aborted one's note is gone, the others kept
    for upload_id in (elsewhere, running, other_boot):
        _complete(s3, key, upload_id)  # each still completes
    assert s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read() == body


def _killed_push(s3: S3, folder: Path) -> tuple[s3store.S3Store, str, str]:
    """(a store noting in ``folder``, key, upload id) of an upload a killed push of this clone left."""
    store = _store(s3, folder)
    key = store.key("cd" * 16)
    upload_id = _begin(s3, key, b"x")
    _note_from_a_process_now_gone(folder, s3, key, upload_id)
    return store, key, upload_id


def test_a_note_of_an_upload_that_ended_elsewhere_is_forgotten(s3: S3, tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    store, key, upload_id = _killed_push(s3, folder)
    _complete(s3, key, upload_id)  # e.g. its completion reached S3 and the answer did not reach us
    assert store.clean_interrupted() == 0
    assert list(folder.iterdir()) == []


def test_a_damaged_or_planted_note_aborts_nothing(s3: S3, tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    store, _, upload_id = _killed_push(s3, folder)
    (note,) = folder.glob("*.json")
    doc = json.loads(note.read_text())
    note.rename(folder / ("0" * 32 + ".json"))  # a note under a name that is not its own
    (folder / "junk.json").write_text("{not json")
    (folder / "pid.json").write_text(json.dumps({**doc, "pid": True}))
    assert store.clean_interrupted() == 0
    assert _in_progress(s3) == {upload_id}


def test_an_upload_a_day_old_with_no_part_since_is_aborted_whoever_began_it(s3: S3, tmp_path: Path) -> None:
    store = _store(s3, tmp_path / "uploads")
    key = store.key("12" * 16)
    # moto says every upload began in 2010: its parts' dates tell one at work from one left.
    s3.client.create_multipart_upload(Bucket=s3.bucket, Key=key)
    at_work = _begin(s3, key, b"a part sent just now")
    assert s3.client.list_multipart_uploads(Bucket=s3.bucket)["Uploads"][0]["Initiated"].year < 2020
    assert store.clean_interrupted() == 1
    assert _in_progress(s3) == {at_work}
