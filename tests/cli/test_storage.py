"""push and pull against the default local-directory remote."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from conftest import Project, make_csv


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _drop_local_copies(p: Project) -> None:
    shutil.rmtree(p.root / ".dvc" / "cache")
    (p.root / "models/churn.pkl").unlink()
    (p.root / "data/train.csv").unlink()


def test_push_then_pull_restores_exact_versions(trained: Project) -> None:
    v1 = trained.ok("show", "churn@v0.1.0", "--json").json()["record"]["doc"]
    trained.set_params(lr=0.2)
    trained.new_data(make_csv(300, shift=5))
    trained.ok("run", "churn")
    trained.ok("release", "churn")

    pushed = trained.ok("push", "--json").json()
    assert pushed["transferred"] == 4 and pushed["present"] == 0  # 2 models + 2 data versions
    again = trained.ok("push", "--json").json()
    assert again["transferred"] == 0 and again["present"] == 4

    _drop_local_copies(trained)
    pulled = trained.ok("pull", "churn@v0.1.0", "--with-data", "--json").json()
    assert pulled["version"] == "v0.1.0" and pulled["fetched"] == 2
    assert _md5(trained.root / "models/churn.pkl") == v1["artifact"]["md5"]
    assert _md5(trained.root / "data/train.csv") == v1["data"][0]["md5"]
    assert (trained.root / "data/train.csv").read_text() == make_csv(200)

    out = trained.root.parent / "elsewhere" / "model.bin"
    pulled = trained.ok("pull", "churn", "-o", str(out), "--json").json()
    assert pulled["version"] == "v0.2.0"
    latest = trained.ok("show", "churn", "--json").json()["record"]["doc"]
    assert _md5(out) == latest["artifact"]["md5"]
    assert not list(out.parent.glob("*.mlver-tmp"))


def test_pull_bad_input(trained: Project) -> None:
    trained.ok("push")
    assert "churn has no version v3.0.0" in trained.fails("pull", "churn@v3.0.0").stderr
    assert "unknown model 'nope'" in trained.fails("pull", "nope@v0.1.0").stderr


def test_pull_detects_corrupt_remote_object(trained: Project) -> None:
    trained.ok("push")
    md5 = trained.ok("show", "churn@v0.1.0", "--json").json()["record"]["doc"]["artifact"]["md5"]
    obj = trained.remote / "files" / "md5" / md5[:2] / md5[2:]
    os.chmod(obj, 0o644)
    obj.write_bytes(b"bit rot")
    good = (trained.root / "models/churn.pkl").read_bytes()
    shutil.rmtree(trained.root / ".dvc" / "cache")
    run = trained.mlver("pull", "churn@v0.1.0")
    assert run.exit_code == 2
    assert "churn@v0.1.0 models/churn.pkl: the object in remote mlver-local is corrupt" in run.stderr
    # The good copy in the workspace was not overwritten.
    assert (trained.root / "models/churn.pkl").read_bytes() == good


def test_pull_missing_everywhere(trained: Project) -> None:
    shutil.rmtree(trained.root / ".dvc" / "cache")
    run = trained.fails("pull", "churn@v0.1.0")
    assert "neither in the local cache nor in remote mlver-local" in run.stderr
    assert "mlver push" in run.stderr


def test_push_to_unwritable_or_missing_remote(trained: Project) -> None:
    if os.geteuid() == 0:
        blocker = trained.root.parent / "a-file"
        blocker.write_text("not a directory")
        target = blocker / "storage"  # root ignores permissions, but not a file in the path
    else:
        target = trained.root.parent / "ro"
        target.mkdir()
        os.chmod(target, stat.S_IRUSR | stat.S_IXUSR)
    (trained.root / ".dvc/config.local").write_text(
        f"[core]\n    remote = mlver-local\n['remote \"mlver-local\"']\n    url = {target}\n")
    run = trained.fails("push")
    assert "remote mlver-local" in run.stderr and "is not writable" in run.stderr
    (trained.root / ".dvc/config.local").write_text("")
    run = trained.fails("push")
    assert "no default remote is configured" in run.stderr
    run = trained.fails("push", "--remote", "elsewhere")
    assert "unknown remote 'elsewhere'" in run.stderr


def test_interrupted_push_leaves_no_partial_object_and_resumes(project: Project) -> None:
    size = 300 * 1024 * 1024  # long enough to interrupt mid-copy
    project.write("train.py", f"import os\nos.makedirs('models', exist_ok=True)\n"
                  f"open('metrics.json','w').write('{{\"accuracy\": 1}}')\n"
                  f"with open('models/churn.pkl','wb') as f:\n    f.write(os.urandom(1) * {size})\n")
    project.commit_all("big model")
    project.ok("run", "churn")
    proc = subprocess.Popen([sys.executable, "-m", "mlver", "push"], cwd=project.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    objects = project.remote / "files" / "md5"
    deadline = time.time() + 20
    # Objects are written in the remote's own temporary folder, then renamed into files/md5.
    while time.time() < deadline and not any((project.remote / "mlver-tmp").glob("user-*/mlver-*")):
        time.sleep(0.01)
    # Stopped the moment the temporary object appears, the push gets its SIGINT
    # as it resumes: mid-copy however loaded the machine is (no race, no skip).
    os.killpg(proc.pid, signal.SIGSTOP)
    os.killpg(proc.pid, signal.SIGINT)
    os.killpg(proc.pid, signal.SIGCONT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert not [q for q in (project.remote / "mlver-tmp").rglob("*") if q.is_file()], \
        "the interrupted push left its temporary object"
    assert not [p for p in objects.rglob("*") if "mlver" in p.name]
    result = project.ok("push", "--json").json()
    assert result["transferred"] >= 1
    md5 = project.ok("show", "churn@HEAD", "--json").json()["record"]["doc"]["artifact"]["md5"]
    assert _md5(objects / md5[:2] / md5[2:]) == md5
