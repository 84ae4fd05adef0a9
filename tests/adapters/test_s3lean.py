"""The lean small-object path of the S3 store, against moto's real server:
taken for small objects, its requests signed as S3 checks them, its keys the
real client's, and any refusal handed back to the real client."""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import S3, moto_server
from mlver.adapters import s3 as s3mod
from mlver.adapters.s3 import S3Store
from mlver.errors import RemoteAccessError


def _object(tmp_path: Path, data: bytes) -> tuple[Path, str]:
    src = tmp_path / f"src-{hashlib.md5(data).hexdigest()}"
    src.write_bytes(data)
    return src, hashlib.md5(data).hexdigest()


@dataclass
class Signed:
    endpoint: str
    bucket: str
    key_id: str
    secret: str


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signed]:
    """A moto server that checks every request's SigV4 signature after its
    first four (a user, its key, its policy, a bucket): a wrongly signed
    request is refused there as S3 refuses it."""
    import boto3

    for url in moto_server(tmp_path_factory.mktemp("moto-signed"), {"INITIAL_NO_AUTH_ACTION_COUNT": "4"}):
        kw: dict[str, Any] = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                                  aws_secret_access_key="testing")
        iam = boto3.client("iam", **kw)
        iam.create_user(UserName="pusher")
        key = iam.create_access_key(UserName="pusher")["AccessKey"]
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="pusher", PolicyName="s3", PolicyDocument=json.dumps(policy))
        boto3.client("s3", **kw).create_bucket(Bucket="signed")
        yield Signed(url, "signed", key["AccessKeyId"], key["SecretAccessKey"])


def test_small_objects_go_the_lean_way_and_land_under_the_clients_keys(s3: S3, tmp_path: Path) -> None:
    # A prefix that needs quoting: a key the lean path spelled differently would be another object.
    store = S3Store("team", s3.url("team data+ü~x"), endpoint_url=s3.endpoint)
    blobs = [os.urandom(n) for n in (0, 1, 4096, s3mod.LEAN_MAX)]
    for data in blobs:
        src, md5 = _object(tmp_path, data)
        store.put(src, md5)
        assert s3.client.get_object(Bucket=s3.bucket, Key=store.key(md5))["Body"].read() == data
    for data in blobs:
        md5 = hashlib.md5(data).hexdigest()
        dst = tmp_path / f"got-{md5}"
        assert store.get(md5, dst) == md5
        assert dst.read_bytes() == data
    lean = store.lean()
    assert lean is not None and lean.sent == 2 * len(blobs)


def test_a_larger_object_streams_through_the_real_client(s3: S3, tmp_path: Path) -> None:
    store = S3Store("team", s3.url(), endpoint_url=s3.endpoint)
    data = os.urandom(s3mod.LEAN_MAX + 1)
    src, md5 = _object(tmp_path, data)
    store.put(src, md5)
    assert store.get(md5, tmp_path / "got") == md5
    assert (tmp_path / "got").read_bytes() == data
    lean = store.lean()
    assert lean is not None and lean.sent == 0


def test_a_tampered_small_object_is_refused_and_nothing_placed(s3: S3, tmp_path: Path) -> None:
    store = S3Store("team", s3.url(), endpoint_url=s3.endpoint)
    src, md5 = _object(tmp_path, b"the real bytes\n")
    store.put(src, md5)
    s3.client.put_object(Bucket=s3.bucket, Key=store.key(md5), Body=b"the real bytez\n")
    dst = tmp_path / "got"
    assert store.get(md5, dst) == hashlib.md5(b"the real bytez\n").hexdigest()
    assert not dst.exists() and list(tmp_path.glob("*tmp*")) == []
    lean = store.lean()
    assert lean is not None and lean.sent == 2


def test_lean_requests_pass_a_server_that_checks_signatures(signed: Signed, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = S3Store("team", f"s3://{signed.bucket}/team", endpoint_url=signed.endpoint,
                    access_key_id=signed.key_id, secret_access_key=signed.secret, region="us-east-1")
    src, md5 = _object(tmp_path, os.urandom(4096))
    store.put(src, md5)
    assert store.get(md5, tmp_path / "got") == md5
    lean = store.lean()
    assert lean is not None and lean.on and lean.sent == 2


def test_a_refused_lean_request_goes_to_the_real_client(signed: Signed, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    good = S3Store("team", f"s3://{signed.bucket}/team", endpoint_url=signed.endpoint,
                   access_key_id=signed.key_id, secret_access_key=signed.secret)
    src, md5 = _object(tmp_path, b"pushed with the right key\n")
    good.put(src, md5)
    bad = S3Store("team", f"s3://{signed.bucket}/team", endpoint_url=signed.endpoint,
                  access_key_id=signed.key_id, secret_access_key="not-the-secret")
    bad._sizes[md5] = src.stat().st_size  # as a listing would have told it: the GET is the first request
    with pytest.raises(RemoteAccessError) as err:
        bad.get(md5, tmp_path / "got")
    assert "SignatureDoesNotMatch" in str(err.value) or "signature" in str(err.value).lower()
    assert not (tmp_path / "got").exists()
    assert bad._lean is not None and bad._lean is not False and not bad._lean.on
    assert bad.lean() is None  # every later request goes to the real client


def _count_lists(store: S3Store) -> list[str]:
    calls: list[str] = []
    store.client.meta.events.register("before-call.s3.ListObjectsV2",
                                      lambda params, **_: calls.append(params.get("ContinuationToken", "") or "first"))
    return calls


@pytest.fixture(scope="module")
def many(moto_endpoint: str) -> Iterator[tuple[str, str, list[str]]]:
    """A bucket of 1,300 objects (more than one page of a listing), their md5s."""
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    import boto3

    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    bucket = f"mlver-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=bucket)
    md5s = sorted(hashlib.md5(str(i).encode()).hexdigest() for i in range(1300))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda m: client.put_object(Bucket=bucket, Key=f"team/files/md5/{m[:2]}/{m[2:]}", Body=b""), md5s))
    yield moto_endpoint, bucket, md5s


@pytest.mark.parametrize("few_pages", [8, 0])
def test_existing_is_exact_whether_it_lists_on_or_folder_by_folder(many: tuple[str, str, list[str]], few_pages: int,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(s3mod, "FEW_PAGES", few_pages)
    endpoint, bucket, md5s = many
    store = S3Store("team", f"s3://{bucket}/team", endpoint_url=endpoint, region="us-east-1")
    calls = _count_lists(store)
    absent = [hashlib.md5(f"absent {i}".encode()).hexdigest() for i in range(2000)]
    # Present ones from the first page's folders and from the last ones, absent ones everywhere
    # (enough of them past the first page that folder listings beat a HEAD each).
    wanted = md5s[:150] + md5s[1000:] + absent
    assert store.existing(wanted) == set(md5s[:150] + md5s[1000:])
    if few_pages:
        assert len(calls) == 2  # the first page, then the rest of the listing
    else:
        first_page_last = md5s[999][:2]
        folders = {m[:2] for m in wanted if m[:2] >= first_page_last}
        assert len(calls) == 1 + len(folders)  # only the folders the first page did not settle


def test_read_small_gives_a_small_objects_bytes_and_leaves_a_large_one_to_get(s3: S3, tmp_path: Path) -> None:
    from mlver.errors import ObjectNotInRemote

    store = S3Store("team", s3.url(), endpoint_url=s3.endpoint)
    small, small_md5 = _object(tmp_path, os.urandom(4096))
    large, large_md5 = _object(tmp_path, os.urandom(s3mod.LEAN_MAX + 1))
    store.put(small, small_md5)
    store.put(large, large_md5)
    assert store.read_small(small_md5) == small.read_bytes()
    assert store.read_small(large_md5) is None
    with pytest.raises(ObjectNotInRemote):
        store.read_small(hashlib.md5(b"never pushed").hexdigest())
    lean = store.lean()
    assert lean is not None and lean.sent == 2  # the small put and the small read


def test_read_small_stays_bounded_when_an_object_is_longer_than_its_listing_said(s3: S3, tmp_path: Path) -> None:
    store = S3Store("team", s3.url(), endpoint_url=s3.endpoint)
    md5 = hashlib.md5(b"a small object").hexdigest()
    s3.client.put_object(Bucket=s3.bucket, Key=store.key(md5), Body=b"y" * (s3mod.LEAN_MAX + 4096))
    store._sizes[md5] = 14  # what a listing said before the object was replaced
    body = store.read_small(md5)
    # The lean path refuses the long answer; the real client's read is cut one byte past the limit.
    assert body is not None and len(body) == s3mod.LEAN_MAX + 1
    assert store.lean() is None


def test_a_corrupt_small_copy_in_one_remote_is_passed_over_for_anothers(s3: S3, tmp_path: Path) -> None:
    from mlver.adapters.storage import LocalStore
    from mlver.api.objects import ObjectRef
    from mlver.api.sources import ChainStore
    from mlver.api.storage import _fetch

    data = b"the intact bytes\n"
    md5 = hashlib.md5(data).hexdigest()
    first = S3Store("first", s3.url("first"), endpoint_url=s3.endpoint)
    second = S3Store("second", s3.url("second"), endpoint_url=s3.endpoint)
    s3.client.put_object(Bucket=s3.bucket, Key=first.key(md5), Body=b"the broken bytes\n")
    s3.client.put_object(Bucket=s3.bucket, Key=second.key(md5), Body=data)
    cache = LocalStore(tmp_path / "cache" / "files" / "md5", "cache")
    chain = ChainStore([("first", first), ("second", second)])
    assert _fetch(cache, chain, chain.name, ObjectRef(md5, "data/x.bin"), None)
    assert cache.path(md5).read_bytes() == data and cache.path(md5).stat().st_mode & 0o777 == 0o444


def test_a_listings_timestamps_skip_dateutil_and_mean_the_same_instants(many: tuple[str, str, list[str]],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    endpoint, bucket, md5s = many
    store = S3Store("team", f"s3://{bucket}/team", endpoint_url=endpoint, region="us-east-1")
    page = store.client.list_objects_v2(Bucket=bucket, Prefix="team/files/md5/")
    # The standard library's parse (dateutil's gives its own tzutc): what made a pull's listing cost.
    assert {item["LastModified"].tzinfo for item in page["Contents"]} == {dt.UTC}
    plain = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    reference = {o["Key"]: o["LastModified"] for o in plain.list_objects_v2(Bucket=bucket, Prefix="team/files/md5/")["Contents"]}
    assert {o["Key"]: o["LastModified"] for o in page["Contents"]} == reference
    found = store.objects()
    assert sorted(found) == md5s and all(isinstance(stamp, float) for _, stamp in found.values())


def test_timestamps_that_are_not_iso_8601_still_go_to_botocores_parser() -> None:
    import datetime as dt

    from botocore.utils import parse_timestamp

    for value in ("2026-12-02T15:57:32.123Z", "2026-12-02T15:57:32+02:00", "Wed, 02 Dec 2026 15:57:32 GMT",
                  "1764691052", 1764691052, "2026-12-02T15:57:32"):
        got, theirs = s3mod._timestamp(value), parse_timestamp(value)
        assert got == theirs and (got.tzinfo is None) == (theirs.tzinfo is None), value
    assert s3mod._timestamp("2026-12-02T15:57:32Z").tzinfo is dt.UTC
