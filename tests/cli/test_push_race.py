"""Two pushes of the same new objects to one folder remote at the same moment
(two processes, two clones): both succeed, each object lands whole, and
neither leaves a staged file behind."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import Project

MIB = 48  # long enough to copy that the two pushes overlap


def test_two_clones_push_the_same_new_model_to_one_folder_at_once(project: Project, isolate: Path) -> None:
    p = project
    p.write("train.py", "import os\nos.makedirs('models', exist_ok=True)\n"
            "open('metrics.json','w').write('{\"accuracy\": 1}')\n"
            f"with open('models/churn.pkl','wb') as f:\n    f.write(os.urandom(1024 * 1024) * {MIB})\n")
    p.commit_all("big model")
    p.ok("run", "churn")
    md5 = p.ok("show", "churn@HEAD", "--json").json()["record"]["doc"]["artifact"]["md5"]
    clone = isolate / "clone"
    shutil.copytree(p.root, clone, symlinks=True)  # the same commits and cache, another working copy
    raced = 0
    for rounds in range(3):
        remote = isolate / f"team-{rounds}"
        for root in (p.root, clone):
            subprocess.run([sys.executable, "-m", "mlver", "remote", "add", "team", str(remote), "--shared",
                            "--default", "--force"], cwd=root, check=True, capture_output=True)
        procs = [subprocess.Popen([sys.executable, "-m", "mlver", "push", "--json"], cwd=root,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for root in (p.root, clone)]
        ran = [proc.communicate(timeout=300) for proc in procs]
        for proc, (_, err) in zip(procs, ran, strict=True):
            assert proc.returncode == 0, err
        raced += all(json.loads(out)["transferred"] == 2 for out, _ in ran)  # each found the model absent, sent it
        obj = remote / "files" / "md5" / md5[:2] / md5[2:]
        assert hashlib.md5(obj.read_bytes()).hexdigest() == md5
        objects = sorted(f.relative_to(remote).as_posix() for f in remote.rglob("*") if f.is_file())
        assert [f for f in objects if not f.startswith(("files/md5/", "mlver/manifests/"))] == [], objects
        assert len([f for f in objects if f.startswith("files/md5/")]) == 2  # the model and its data
    assert raced, "the two pushes never overlapped: nothing was tested"
