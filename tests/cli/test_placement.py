"""Where pulled files land: exact directories, one switch, no temporary file left
in a tracked folder, files already in place kept only when their stat proves it,
a full disk a clean error."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Project

TRAIN_IMGS = """\
import hashlib, json, os
h = hashlib.md5()
for top, _, names in sorted(os.walk("data/images")):
    for n in sorted(names):
        h.update(n.encode() + open(os.path.join(top, n), "rb").read())
os.makedirs("models", exist_ok=True)
open("models/imgs.bin", "wb").write(h.digest() * 4096)
json.dump({"n": 1}, open("metrics_imgs.json", "w"))
"""


def _tree(folder: Path) -> dict[str, str]:
    """relpath -> md5 of every file below ``folder`` (hidden ones too)."""
    return {p.relative_to(folder).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() or p.is_symlink()}


def _version(p: Project, files: dict[str, bytes], message: str) -> dict[str, str]:
    images = p.root / "data/images"
    shutil.rmtree(images, ignore_errors=True)
    for rel, content in files.items():
        p.write(f"data/images/{rel}", content)
    p.ok("data", "add", "data/images")
    p.commit_all(message)
    p.ok("run", "imgs")
    p.ok("release", "imgs")
    return _tree(images)


@pytest.fixture
def imgs(project: Project) -> tuple[Project, dict[str, str], dict[str, str]]:
    """A model trained on a data directory, released twice: v0.1.0 and v0.2.0
    differ by a changed, an added and a removed file; both pushed."""
    p = project
    p.write("train_imgs.py", TRAIN_IMGS)
    v1 = {"a.txt": b"alpha\n", "sub/b.txt": b"bravo\n", "sub/deep/c.txt": b"charlie\n", "gone.txt": b"old\n"}
    p.write("data/images/a.txt", b"alpha\n")
    p.ok("data", "add", "data/images")
    p.ok("model", "add", "imgs", "--path", "models/imgs.bin", "--data", "data/images", "--params", "params.yaml",
         "--metrics", "metrics_imgs.json", "--command", "python train_imgs.py")
    p.commit_all("declare imgs")
    t1 = _version(p, v1, "v1 data")
    v2 = {"a.txt": b"ALPHA\n", "sub/b.txt": b"bravo\n", "sub/deep/c.txt": b"charlie\n", "new/d.txt": b"delta\n"}
    t2 = _version(p, v2, "v2 data")
    p.ok("push")
    return p, t1, t2


def test_files_that_merely_look_like_a_dead_runs_are_never_removed_by_a_pull(imgs) -> None:
    # A pull removed, beside each destination, every `.NAME.*.mlver-tmp` and `.NAME.mlver-old`
    # whoever made it and however new, and every `.NAME.mlver-<pid>-...` whose pid was not
    # alive here (a file too, a run's on another host); inside a pulled folder, any dot file
    # with ".mlver-" in its name was taken for a temporary and deleted without --force.
    from mlver.adapters.placement import run_tag

    p, _, _ = imgs
    old, dead, tag = time.time() - 2 * 24 * 3600, 4194999, run_tag()
    draft = p.write("data/images/.notes.mlver-draft", b"mine")  # in a folder the pull replaces: the user's work
    refused = p.fails("pull", "imgs@v0.1.0", "--with-data")
    assert ".notes.mlver-draft" in refused.stderr and draft.read_bytes() == b"mine", refused.stderr

    def plant(rel: str, age: float | None = None) -> Path:
        path = p.write(rel, b"the user's")
        for q in (path, path.parent):
            if age is not None:
                os.utime(q, (age, age))
        return path

    kept = [
        plant("models/.imgs.bin.notes.mlver-tmp"),  # fresh: a run of an older mlver may be writing it
        plant("models/.imgs.bin.mlver-old"),
        plant(f"models/.imgs.bin.mlver-{dead}-{tag}feedf00d", age=old),  # a file: no scratch folder is one
        plant(f"models/.imgs.bin.mlver-{dead}-0123456789abcdef/1"),  # another machine's run, at work
        plant(f"models/.imgs.bin.mlver-{os.getpid()}-{tag}00000000/1", age=old),  # a live run's
        plant("models/.imgs.bin.mlver-backup", age=old),  # the user's, named their way
        plant("data/.images.mlver-old-copy/1", age=old),
    ]
    gone = [
        plant(f"models/.imgs.bin.mlver-{dead}-{tag}deadbeef/1"),  # a killed run of this machine
        plant(f"models/.imgs.bin.mlver-{dead + 1}-0123456789abcdef/1", age=old),  # elsewhere, a day untouched
        plant("models/.imgs.bin.x1y2.mlver-tmp", age=old),
        plant("data/.images.mlver-old/f", age=old),
    ]
    if os.geteuid() == 0:  # (only root can make a file someone else's)
        kept.append(plant("models/.imgs.bin.k9k9.mlver-tmp", age=old))
        os.chown(kept[-1], 65534, 65534)
    p.ok("pull", "imgs@v0.1.0", "--with-data", "--force")
    assert [k for k in kept if not k.exists()] == [], "a file that is not a dead run's was removed"
    assert [g.parent for g in gone if g.parent.exists() and g.parent.name != "models" and g.parent.name != "data"] \
        + [g for g in gone if g.exists()] == [], "a dead run's leftover was kept"


def test_directory_pull_is_exact_sweeps_leftovers_and_skips_what_is_in_place(imgs) -> None:
    p, t1, t2 = imgs
    images = p.root / "data/images"
    # What an older mlver killed mid-pull left behind, next to and inside the destinations,
    # and the scratch folder of a run killed now (its pid is long gone).
    (images / ".a.txt.x1y2.mlver-tmp").write_bytes(b"half")
    (p.root / "models/.imgs.bin.k9z8.mlver-tmp").write_bytes(b"")
    (p.root / "data/.images.mlver-old").mkdir()
    old = time.time() - 2 * 24 * 3600  # (they carry no pid: only one untouched for a day is a leftover)
    for left in (images / ".a.txt.x1y2.mlver-tmp", p.root / "models/.imgs.bin.k9z8.mlver-tmp", p.root / "data/.images.mlver-old"):
        os.utime(left, (old, old))
    dead = p.root / ".dvc/tmp/mlver/place/mlver-4194999-deadbeef"
    (dead / "1-images/sub").mkdir(parents=True)
    (dead / "1-images/sub/b.txt").write_bytes(b"half")
    (images / "mine.txt").write_bytes(b"a file v0.1.0 never had")

    out = p.ok("pull", "imgs@v0.1.0", "--with-data", "--force")  # mine.txt is unsaved work: removed when asked
    assert _tree(images) == t1  # exact: added and stray files gone, changed one restored
    assert "removed" in out.stdout and "md5" not in out.stdout.replace("md5 verified", "")  # a summary, not a list
    assert not list((p.root / "models").glob("*mlver*")) and not (p.root / "data/.images.mlver-old").exists()
    assert not dead.exists() and not list((p.root / ".dvc/tmp/mlver/place").iterdir())
    assert not [q for q in p.root.rglob("*") if "mlver-tmp" in q.name and ".dvc/cache" not in str(q)]
    assert p.git("status", "--porcelain") == ""

    # Pulled again: everything already in place, nothing written, byte-identical.
    again = p.ok("pull", "imgs@v0.1.0", "--with-data", "--json").json()
    assert again["written"] == 0 and again["kept"] == len(t1) + 1 and again["removed"] == 0
    assert _tree(images) == t1
    listed = p.ok("pull", "imgs@v0.1.0", "-v").stdout
    assert f"{p.root / 'models/imgs.bin'}  md5 " in listed

    # An edit that keeps the size, the mtime (set back) and the inode is still seen (ctime),
    # and so is a file replaced by a copy with the same mtime (inode).
    edited = images / "sub/b.txt"
    st = edited.stat()
    with open(edited, "r+b") as fh:
        fh.write(b"BRAVO\n")
    os.utime(edited, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert edited.stat().st_size == st.st_size and edited.stat().st_mtime_ns == st.st_mtime_ns
    copy = images / "a.txt"
    cst = copy.stat()
    shutil.copy2(copy, images / "tmp")
    os.replace(images / "tmp", copy)
    assert copy.stat().st_mtime_ns == cst.st_mtime_ns
    # The edit is unsaved work (the copy is not: its bytes are a.txt's, in the cache): refused, then replaced on request.
    refused = p.fails("pull", "imgs@v0.1.0", "--with-data", outputs=("data/",)).stderr
    assert "data/images/sub/b.txt holds changes" in refused and "and 1 more" not in refused
    fixed = p.ok("pull", "imgs@v0.1.0", "--with-data", "--force", "--json").json()
    assert fixed["written"] == 2 and _tree(images) == t1
    # The rewritten folder's files (kept ones relinked, so their ctime moved) are known again.
    assert p.ok("pull", "imgs@v0.1.0", "--with-data", "--json").json()["written"] == 0

    # The other version, then back: each time exactly that tree.
    p.ok("pull", "imgs@v0.2.0", "--with-data")
    assert _tree(images) == t2
    p.ok("pull", "imgs@v0.1.0", "--with-data")
    assert _tree(images) == t1
    # Back at HEAD's version, nothing a pull left makes the data look changed to DVC.
    p.ok("pull", "imgs@v0.2.0", "--with-data")
    dvc_status = subprocess.run([sys.executable, "-m", "dvc", "status", "data/images.dvc"], cwd=p.root,
                                capture_output=True, text=True, check=True).stdout
    assert "changed" not in dvc_status and "modified" not in dvc_status, dvc_status


def test_killed_directory_pull_leaves_before_or_after_and_next_pull_recovers(imgs) -> None:
    p, t1, _ = imgs
    images = p.root / "data/images"
    # A big file keeps the pull staging long enough to stop it there, whatever the load.
    t3 = _version(p, {"a.txt": b"ALPHA\n", "big.bin": os.urandom(48 * 1024 * 1024)}, "v3 data")
    p.ok("push")
    p.ok("pull", "imgs@v0.1.0", "--with-data")
    scratch = p.root / ".dvc/tmp/mlver/place"
    for sig in (signal.SIGKILL, signal.SIGINT):
        proc = subprocess.Popen([sys.executable, "-m", "mlver", "pull", "imgs@v0.3.0", "--with-data"], cwd=p.root,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None and not any(scratch.glob(f"mlver-{proc.pid}-*/*/*big.bin*")):
            time.sleep(0.001)
        assert proc.poll() is None, "the pull ended before it was seen staging"
        # Stopped the moment the staged copy appears, then killed: mid-staging however loaded the machine is.
        os.killpg(proc.pid, signal.SIGSTOP)
        os.killpg(proc.pid, sig)
        os.killpg(proc.pid, signal.SIGCONT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == (-9 if sig == signal.SIGKILL else 130), (err, _)
        assert _tree(images) == t1, "the directory changed although the pull was stopped while staging"
        assert not [q for q in (p.root / "data").rglob("*") if "mlver" in q.name]
        assert not [q for q in (p.root / "models").rglob("*") if "mlver" in q.name]
        left = list(scratch.iterdir())
        # kill -9 leaves its scratch folder (outside every tracked folder); Ctrl-C cleans its own,
        # and that run swept what the killed one left.
        assert len(left) == (1 if sig == signal.SIGKILL else 0), left
    p.ok("pull", "imgs@v0.3.0", "--with-data")
    assert _tree(images) == t3
    # (The cache's mlver-tmp keeps this user's empty staging folder.)
    assert not list(scratch.iterdir()) and not [q for q in (p.root / ".dvc/cache/mlver-tmp").rglob("*") if q.is_file()]


def _tmpfs(where: Path, size: str) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"this test mounts a small tmpfs and needs root for it: {done.stderr}"
    return where


def _umount(where: Path) -> None:
    subprocess.run(["umount", str(where)], check=True)


def test_full_disk_under_destination_or_cache_is_a_clean_error(imgs) -> None:
    p, t1, _ = imgs  # the model is 64 KiB: more than either small disk holds
    small = _tmpfs(p.root.parent / "small", "32k")
    try:
        (small / "keep.txt").write_text("mine")
        (small / "imgs.bin").write_text("the old one")
        run = p.fails("pull", "imgs@v0.1.0", "-o", str(small / "imgs.bin"))
        assert "No space left on device" in run.stderr and "nothing was replaced" in run.stderr
        assert sorted(q.name for q in small.iterdir()) == ["imgs.bin", "keep.txt"]
        assert (small / "imgs.bin").read_text() == "the old one"
    finally:
        _umount(small)
    shutil.rmtree(p.root / ".dvc/cache")
    cache = _tmpfs(p.root / ".dvc/cache", "32k")
    try:
        run = p.fails("pull", "imgs@v0.1.0", "--with-data")
        assert "No space left on device" in run.stderr
        # Whatever fitted is a whole object (the manifest); nothing partial, no temporary file.
        kept = {q.relative_to(cache / "files/md5").as_posix().replace("/", "").removesuffix(".dir"): md5
                for q, md5 in ((q, hashlib.md5(q.read_bytes()).hexdigest()) for q in cache.rglob("*") if q.is_file())}
        assert all(name == md5 for name, md5 in kept.items()), kept
    finally:
        _umount(cache)
    # The cache was wiped, so the workspace's model (another version's, in the remote only) counts
    # as unsaved, as for `dvc checkout`; with --force and space again, the pull works.
    assert "holds changes" in p.fails("pull", "imgs@v0.1.0", "--with-data").stderr
    p.ok("pull", "imgs@v0.1.0", "--with-data", "--force")
    assert _tree(p.root / "data/images") == t1


def test_a_directory_pulled_into_a_folder_the_user_named_never_deletes_their_files(project: Project, tmp_path: Path) -> None:
    p = project
    p.ok("model", "add", "vision", "--path", "models/vision")
    p.commit_all("declare vision")
    for i in range(3):
        p.write(f"models/vision/part-{i}.bin", f"weights {i}\n")
    p.ok("record", "vision")
    p.ok("release", "vision")
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file")
    run = p.fails("pull", "vision@v0.1.0", "-o", str(out))
    assert "holds 1 file(s) this version does not have (e.g. notes.txt); nothing was changed" in run.stderr
    assert sorted(x.name for x in out.iterdir()) == ["notes.txt"]
    (out / "notes.txt").unlink()
    p.ok("pull", "vision@v0.1.0", "-o", str(out))
    assert sorted(x.name for x in out.iterdir()) == [f"part-{i}.bin" for i in range(3)]
    # The workspace's own tracked folder is the version's exact tree.
    p.write("models/vision/stray.bin", "not in the version")
    assert "models/vision/stray.bin holds changes" in p.fails("pull", "vision@v0.1.0", outputs=("models/",)).stderr
    p.ok("pull", "vision@v0.1.0", "--force")
    assert sorted(x.name for x in (p.root / "models/vision").iterdir()) == [f"part-{i}.bin" for i in range(3)]
