"""Two machines pushing to one S3 remote at once (moto's real server): a push
never aborts another's upload in progress, of the same object or any other."""
from __future__ import annotations

import hashlib

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
