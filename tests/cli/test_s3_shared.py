"""Two machines pushing to one S3 remote at once (moto's real server): a push
never aborts another's upload in progress, of the same object or any other."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

from fixtures import uploads

from conftest import S3, Project


def test_a_push_leaves_another_machines_upload_of_the_same_object_to_complete(trained: Project, s3: S3) -> None:
    p = trained
    p.ok("remote", "add", "storage", s3.url("team"), "--endpoint-url", s3.endpoint, "--default")
    md5 = p.ok("show", "churn@v0.1.0", "--json").json()["record"]["doc"]["artifact"]["md5"]
    key = f"team/files/md5/{md5[:2]}/{md5[2:]}"
    # Another clone on another machine is pushing the same model: its parts are up, its completion not yet.
    upload_id = uploads.begin(s3.client, s3.bucket, key, (p.root / "models/churn.pkl").read_bytes())
    pushed = p.ok("push", "--json").json()
    assert pushed["transferred"] == 2 and key in s3.keys("team/")
    # Its completion still succeeds (an abort would have made it fail with NoSuchUpload), the object whole.
    uploads.complete(s3.client, s3.bucket, key, upload_id)
    got = s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read()
    assert hashlib.md5(got).hexdigest() == md5


def test_two_clones_push_the_same_large_model_at_once_and_both_succeed(project: Project, s3: S3, isolate: Path) -> None:
    from fixtures.s3log import s3_relay

    p = project
    p.write("train.py", "import os\nos.makedirs('models', exist_ok=True)\n"
            "open('metrics.json','w').write('{\"accuracy\": 1}')\n"
            "with open('models/churn.pkl','wb') as f:\n    f.write(os.urandom(1024 * 1024) * 10)\n")  # multipart
    p.commit_all("big model")
    p.ok("run", "churn")
    md5 = p.ok("show", "churn@HEAD", "--json").json()["record"]["doc"]["artifact"]["md5"]
    key = f"team/files/md5/{md5[:2]}/{md5[2:]}"
    other = isolate / "other-machine"
    shutil.copytree(p.root, other, symlinks=True)
    # The first clone's completion of its upload is held 8 s on its way (a slow link): its
    # parts are in, and the second clone's whole push goes by meanwhile. (It starts once a
    # part is in: moto says every upload began in 2010, so one with no part yet passes for
    # a day-old one left behind.)
    def completion(method: str, path: str) -> float:
        return 8.0 if method == "POST" and "uploadId=" in path else 0.0

    with s3_relay(s3.endpoint, delay=completion) as relay:
        _remote(p.root, s3.url("team"), relay.endpoint)
        _remote(other, s3.url("team"), s3.endpoint)
        first = _push(p.root)
        deadline = time.time() + 60
        while time.time() < deadline and not _with_parts(s3, key) and first.poll() is None:
            time.sleep(0.05)
        in_flight = _uploads_of(s3, key)
        second = _push(other)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        still = bool(in_flight) and in_flight <= _uploads_of(s3, key)
        _, err = first.communicate(timeout=120)
        assert first.returncode == 0, err  # its upload was not aborted under it (NoSuchUpload at completion)
        assert still, "the first push's upload ended before the second's did: they never overlapped"
    got = s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read()
    assert hashlib.md5(got).hexdigest() == md5 and _uploads_of(s3, key) == set()


def _remote(root: Path, url: str, endpoint: str) -> None:
    subprocess.run([sys.executable, "-m", "mlver", "remote", "add", "storage", url, "--endpoint-url", endpoint,
                    "--default"], cwd=root, check=True, capture_output=True)


def _push(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "mlver", "push"], cwd=root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _uploads_of(s3: S3, key: str) -> set[str]:
    listed = s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])
    return {u["UploadId"] for u in listed if u["Key"] == key}


def _with_parts(s3: S3, key: str) -> bool:
    return any(s3.client.list_parts(Bucket=s3.bucket, Key=key, UploadId=u).get("Parts") for u in _uploads_of(s3, key))
