"""gc: what it keeps, what it frees, and that a shared remote never loses another project's objects."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import S3, Project, make_csv


def _artifact(p: Project, ref: str = "churn") -> str:
    return p.ok("show", ref, "--json").json()["record"]["doc"]["artifact"]["md5"]


def _train(p: Project, lr: float) -> str:
    """Commit params with ``lr``, train and record; the new artifact's md5."""
    p.set_params(lr=lr)
    p.commit_all(f"lr {lr}")
    p.ok("run", "churn")
    return _artifact(p, "churn@HEAD")


def _objects(folder: Path) -> set[str]:
    root = folder / "files" / "md5" if (folder / "files").exists() else folder
    return {d.name + f.name for d in root.iterdir() if len(d.name) == 2 for f in d.iterdir()} if root.exists() else set()


def _cache(p: Project) -> set[str]:
    return _objects(p.root / ".dvc" / "cache")


def _dvc(p: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=p.root, capture_output=True, text=True, check=False)


def _second_project(template: Path, isolate: Path, remote: str, name: str = "other") -> Project:
    """Another project (its own root commit) from the same files, on ``remote``."""
    root = isolate / name
    shutil.copytree(template, root, symlinks=True)
    other = Project(root)
    other.git("commit", "-q", "--amend", "-m", f"the {name} project")
    (root / ".dvc" / "config.local").write_text(
        f"[core]\n    remote = mlver-local\n['remote \"mlver-local\"']\n    url = {remote}\n")
    return other


def _pushed_runs(a: Project) -> tuple[str, str]:
    """Three more trainings of A (lr 0.2, 0.25, 0.3), each pushed: the artifacts of the first two."""
    a.ok("push")
    first = _train(a, 0.2)
    a.ok("push")
    second = _train(a, 0.25)
    a.ok("push")
    _train(a, 0.3)
    a.ok("push")
    return first, second


def _gc(p: Project, *args: str) -> dict:
    return p.ok("gc", "--min-age", "0", "--json", *args).json()


def _store(result: dict, name: str) -> dict:
    return next(s for s in result["stores"] if s["name"] == name)


def test_gc_keeps_releases_stages_branches_and_gto_versions(trained: Project) -> None:
    p = trained
    v1 = _artifact(p, "churn@v0.1.0")
    staged = _train(p, 0.2)
    staged_commit = p.git("rev-parse", "HEAD").strip()
    garbage = _train(p, 0.25)
    p.git("checkout", "-q", "-b", "exp")
    branch = _train(p, 0.35)
    p.git("checkout", "-q", "main")
    head = _train(p, 0.3)
    # A stage once assigned to a bare commit, then taken away: still a rollback target.
    p.git("tag", "-a", "churn#staging#1", "-m", "assign", staged_commit)
    p.git("tag", "-a", "churn#staging!#2", "-m", "unassign", staged_commit)
    # A version GTO made: no record, the artifact's hash only in the commit's .dvc file.
    p.write("models/churn.pkl", b"registered by gto" * 100)
    assert _dvc(p, "add", "-q", "models/churn.pkl").returncode == 0
    p.git("rm", "-q", ".mlver/records/churn.json")
    gto_commit = p.commit_all("a model registered by hand")
    gto_md5 = hashlib.md5(b"registered by gto" * 100).hexdigest()
    p.git("tag", "-a", "churn@v0.9.0", "-m", "Registering artifact churn version v0.9.0", gto_commit)
    p.git("reset", "-q", "--hard", "HEAD~1")
    assert _dvc(p, "checkout", "-q").returncode == 0
    # Data versioned and replaced before anything recorded it: no model ever named it.
    p.write("data/extra.csv", make_csv(10))
    p.ok("data", "add", "data/extra.csv")
    p.write("data/extra.csv", make_csv(12))
    p.ok("data", "add", "data/extra.csv")
    p.commit_all("extra data")
    unrecorded = hashlib.md5(make_csv(10).encode()).hexdigest()
    kept = {v1, staged, branch, head, gto_md5, hashlib.md5(make_csv(12).encode()).hexdigest()}
    before = _cache(p)
    assert kept | {garbage, unrecorded} <= before

    # Within the grace period nothing goes; a dry run deletes nothing.
    young = p.ok("gc", "--json").json()
    assert young["dry_run"] and _store(young, "cache")["freed_objects"] == 0 and _store(young, "cache")["young"] >= 2
    dry = _gc(p)
    cache = _store(dry, "cache")
    assert cache["freed_objects"] == 2 and {f["model"]: f["objects"] for f in cache["freed"]} == {"churn": 1, None: 1}
    assert cache["freed_bytes"] == (p.root / ".dvc/cache/files/md5" / garbage[:2] / garbage[2:]).stat().st_size + \
        len(make_csv(10))
    assert "churn@v0.1.0" in dry["kept_refs"] and "exp: churn" in dry["kept_refs"]
    assert any(r.startswith("churn#staging") for r in dry["kept_refs"]) and "churn@v0.9.0" in dry["kept_refs"]
    assert _cache(p) == before
    human = p.ok("gc", "--min-age", "0").stdout
    assert "would free 2 of" in human and "churn: 1 objects" in human and "--force" in human

    # --keep-last N: each model's last N records on every branch, released or not.
    assert _store(_gc(p, "--keep-last", "2"), "cache")["freed_objects"] == 1  # main's last two: head, garbage
    assert _store(_gc(p, "--keep-last", "1"), "cache")["freed_objects"] == 2

    done = _gc(p, "--force")
    assert not done["dry_run"] and _store(done, "cache")["freed_objects"] == 2
    assert _cache(p) == before - {garbage, unrecorded}
    # What is kept still restores, and DVC still sees every file it tracks.
    p.ok("pull", "churn@v0.1.0", "-o", str(p.root.parent / "v1.pkl"))
    p.ok("pull", "churn@v0.9.0", "-o", str(p.root.parent / "gto.pkl"))
    status = _dvc(p, "status")
    assert status.returncode == 0 and "missing" not in status.stdout, status.stdout
    assert "would free 0" in p.ok("gc", "--min-age", "0").stdout


def test_two_projects_on_one_remote(trained: Project, template: Path, isolate: Path) -> None:
    a = trained
    remote = a.remote
    shared, garbage = _pushed_runs(a)
    b = _second_project(template, isolate, str(remote))
    b.set_params(lr=0.2)  # trains the very model A threw away: one object, two projects
    b.commit_all("lr 0.2")
    b.ok("run", "churn")
    b.ok("release", "churn")
    b.ok("push")
    assert _artifact(b) == shared
    manifests = sorted((remote / "mlver" / "manifests").iterdir())
    assert len(manifests) == 2
    b_needs = set(json.loads(next(m for m in manifests if m.stem == b.git("rev-list", "--max-parents=0", "HEAD").strip())
                             .read_text())["objects"])
    assert shared in b_needs and garbage not in b_needs

    # A third project pushes with plain `dvc push`: no manifest, and nothing of it is A's to judge.
    c = _second_project(template, isolate, str(remote), "third")
    c.write("notes.txt", "the third project's own file\n")
    assert _dvc(c, "add", "-q", "notes.txt").returncode == 0
    c.commit_all("notes")
    assert _dvc(c, "push", "-q").returncode == 0
    c_object = hashlib.md5(b"the third project's own file\n").hexdigest()
    dry = _gc(a, "--cloud")
    there = _store(dry, "mlver-local")
    assert there["freed_objects"] == 1 and there["protected"] >= 1 and there["freed"][0]["model"] == "churn"
    assert there["foreign"] == 1 and "never pushed or recorded" in a.ok("gc", "--cloud", "--min-age", "0").stdout
    assert _objects(remote) >= {shared, garbage}
    a.ok("gc", "--cloud", "--force", "--min-age", "0")
    assert garbage not in _objects(remote) and b_needs | {c_object} <= _objects(remote)
    # A's own manifest now says what A keeps, and no more.
    own = json.loads((remote / "mlver" / "manifests" / f"{a.git('rev-list', '--max-parents=0', 'HEAD').strip()}.json").read_text())
    assert garbage not in own["objects"] and shared not in own["objects"] and _artifact(a, "churn@v0.1.0") in own["objects"]

    # Both projects still pull, with mlver and with DVC, from nothing but the remote: no cache and
    # no workspace copy (a workspace file no local cache holds is unsaved work pull must not replace).
    for p, ref in ((a, "churn@v0.1.0"), (a, "churn"), (b, "churn@v0.1.0")):
        shutil.rmtree(p.root / ".dvc" / "cache", ignore_errors=True)
        (p.root / "models/churn.pkl").unlink(missing_ok=True)
        p.ok("pull", ref, "--with-data")
        assert hashlib.md5((p.root / "models/churn.pkl").read_bytes()).hexdigest() == _artifact(p, ref)
    for p in (a, b):
        shutil.rmtree(p.root / ".dvc" / "cache")
        (p.root / "models/churn.pkl").unlink()
        pulled = _dvc(p, "pull", "-q")
        assert pulled.returncode == 0, pulled.stderr
        assert hashlib.md5((p.root / "models/churn.pkl").read_bytes()).hexdigest() == _artifact(p, "churn@HEAD")


def test_crafted_manifests_cannot_steer_gc(trained: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    p = trained
    p.ok("push")
    garbage = _train(p, 0.2)
    p.ok("push")
    _train(p, 0.3)
    p.ok("push")
    folder = p.remote / "mlver" / "manifests"
    own_id = p.git("rev-list", "--max-parents=0", "HEAD").strip()
    other = "b" * 40

    def manifest(name: str, objects: object, project: str | None = None) -> Path:
        path = folder / name
        path.write_text(json.dumps({"schema": 1, "project": project or name.split(".")[0], "objects": objects}))
        return path

    before = _objects(p.remote)
    crafted = [
        (lambda: manifest(f"{other}.json", ["../../../etc/passwd"]), "not an object hash"),
        (lambda: manifest(f"{other}.json", [garbage], project="c" * 40), "not the one its file name says"),
        (lambda: manifest("evil.json", [garbage]), "file name"),
        (lambda: manifest(f"{other}.json", {"a": garbage}), "not a list"),
        (lambda: folder.joinpath(f"{other}.json").write_bytes(b"\x00garbage") and folder / f"{other}.json", "not JSON"),
    ]
    for write, why in crafted:
        path = write()
        run = p.fails("gc", "--cloud", "--force", "--min-age", "0")
        assert why in run.stderr and "deletes nothing" in run.stderr, run.stderr
        assert _objects(p.remote) == before
        path.unlink()
    with monkeypatch.context() as patch:
        patch.setattr("mlver.domain.retention.MAX_MANIFEST_BYTES", 100)
        manifest(f"{other}.json", [garbage] * 10)
        assert "at most 100 bytes" in p.fails("gc", "--cloud", "--min-age", "0").stderr
    (folder / f"{other}.json").unlink()
    # A manifest under this project's own id protects nothing: gc writes it anew from the keep set.
    manifest(f"{own_id}.json", [garbage])
    freed = _gc(p, "--cloud", "--force")
    assert _store(freed, "mlver-local")["freed_objects"] == 1 and garbage not in _objects(p.remote)
    assert garbage not in json.loads((folder / f"{own_id}.json").read_text())["objects"]
    # A valid manifest of another project keeps exactly what it names.
    _train(p, 0.4)
    p.ok("push")
    kept_for_other = _train(p, 0.5)
    p.ok("push")
    _train(p, 0.6)
    manifest(f"{other}.json", [kept_for_other, "0" * 32])
    result = _store(_gc(p, "--cloud", "--force"), "mlver-local")
    assert result["protected"] == 1 and result["freed_objects"] == 2 and kept_for_other in _objects(p.remote)  # lr 0.3, 0.4


def test_default_storage_is_per_project_and_dvc_gc_stays_in_it(isolate: Path) -> None:
    projects = []
    for name in ("alpha", "beta"):
        root = isolate / name
        root.mkdir()
        p = Project(root)
        info = p.ok("init", "--json").json()
        p.write("data.csv", f"{name}\n" * 100)
        p.ok("data", "add", "data.csv")
        p.commit_all("data")
        assert _dvc(p, "push", "-q").returncode == 0
        projects.append((p, Path(info["remote_url"])))
    (a, a_store), (_, b_store) = projects
    assert a_store != b_store and not a_store.is_relative_to(b_store) and not b_store.is_relative_to(a_store)
    b_objects = _objects(b_store)
    assert len(b_objects) == 1
    a.write("data.csv", "changed\n")
    a.ok("data", "add", "data.csv")
    a.commit_all("new data")
    assert _dvc(a, "push", "-q").returncode == 0
    dvc_gc = _dvc(a, "gc", "-w", "-c", "-f")
    assert dvc_gc.returncode == 0, dvc_gc.stderr
    assert len(_objects(a_store)) == 1 and _objects(b_store) == b_objects


def test_storage_shared_by_older_mlver_is_named_and_can_be_left(trained: Project) -> None:
    p = trained
    legacy = Path(os.environ["XDG_DATA_HOME"]) / "mlver" / "storage"
    (p.root / ".dvc" / "config.local").write_text(
        f"[core]\n    remote = mlver-local\n['remote \"mlver-local\"']\n    url = {legacy}\n")
    p.ok("push")
    v1 = _artifact(p, "churn@v0.1.0")
    for args in (("status",), ("remote", "check"), ("init",)):
        run = p.mlver(*args)
        assert "shared between all your projects" in run.stderr + run.stdout and "mlver init --own-storage" in run.stderr + run.stdout
    assert "earlier mlver versions gave every project" in p.fails("gc", "--cloud").stderr
    moved = p.ok("init", "--own-storage", "--json").json()
    own = Path(moved["remote_url"])
    assert own.parent.name == "projects" and moved["notes"] == []
    assert v1 in _objects(own) and v1 in _objects(legacy)  # the old folder keeps what other projects may need
    shutil.rmtree(p.root / ".dvc" / "cache")
    p.ok("pull", "churn@v0.1.0", "--with-data")
    assert "shared between" not in p.ok("status").stderr


def test_gc_on_s3_keeps_the_other_projects_objects(trained: Project, template: Path, isolate: Path, s3: S3) -> None:
    a = trained
    a.ok("remote", "add", "storage", s3.url(), "--endpoint-url", s3.endpoint, "--default")
    a.commit_all("team storage")
    shared, garbage = _pushed_runs(a)
    b = _second_project(template, isolate, "unused")
    b.ok("remote", "add", "storage", s3.url(), "--endpoint-url", s3.endpoint, "--default")
    b.commit_all("team storage")
    b.set_params(lr=0.2)
    b.commit_all("lr 0.2")
    b.ok("run", "churn")
    b.ok("push")
    def keys() -> set[str]:
        return {k.rsplit("/", 2)[-2] + k.rsplit("/", 1)[-1] for k in s3.keys("team/files/md5/")}

    assert {shared, garbage} <= keys() and len(s3.keys("team/mlver/manifests/")) == 2
    dry = _store(_gc(a, "--cloud"), "storage")
    assert dry["freed_objects"] == 1 and dry["protected"] >= 1 and garbage in keys()
    _gc(a, "--cloud", "--force")
    assert garbage not in keys() and shared in keys()
    shutil.rmtree(b.root / ".dvc" / "cache")
    b.ok("pull", "churn", "--with-data")
    assert hashlib.md5((b.root / "models/churn.pkl").read_bytes()).hexdigest() == shared


def test_gc_cloud_waits_for_what_origin_has_and_this_clone_lacks(trained: Project, isolate: Path) -> None:
    p = trained
    origin = isolate / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(p.root), str(origin)], check=True)
    elsewhere = isolate / "elsewhere"
    subprocess.run(["git", "clone", "-q", str(origin), str(elsewhere)], check=True)
    other = Project(elsewhere)
    other.write("notes.txt", "a release made on another machine\n")
    other.commit_all("elsewhere")
    other.git("tag", "-a", "churn@v0.5.0", "-m", "Registering artifact churn version v0.5.0")
    other.git("push", "-q", "origin", "main", "churn@v0.5.0")
    p.git("remote", "add", "origin", str(origin))
    run = p.fails("gc", "--cloud", "--force", "--min-age", "0")
    assert "refs/tags/churn@v0.5.0" in run.stderr and "git fetch origin --tags" in run.stderr
    p.git("fetch", "-q", "origin", "--tags")
    assert _gc(p, "--cloud")["dry_run"]


def test_gc_keeps_the_files_of_kept_directories(project: Project) -> None:
    p = project

    def version(files: dict[str, str]) -> set[str]:
        shutil.rmtree(p.root / "images", ignore_errors=True)
        for name, text in files.items():
            p.write(f"images/{name}", text)
        p.ok("data", "add", "images")
        p.commit_all("images")
        assert _dvc(p, "push", "-q").returncode == 0
        return {hashlib.md5(t.encode()).hexdigest() for t in files.values()}

    old = version({"a.txt": "shared\n", "b.txt": "only in the old version\n"})
    new = version({"a.txt": "shared\n", "c.txt": "only in the new version\n"})
    gone = old - new
    remote_before = _objects(p.remote)
    assert new <= remote_before and gone <= remote_before
    result = _gc(p, "--cloud", "--force")
    for store in ("cache", "mlver-local"):  # the old .dir manifest and its own file; the shared file stays
        assert _store(result, store)["freed_objects"] == 2, result
    assert new <= _cache(p) and new <= _objects(p.remote) and not gone & _objects(p.remote)
    shutil.rmtree(p.root / ".dvc" / "cache")
    shutil.rmtree(p.root / "images")
    pulled = _dvc(p, "pull", "-q")
    assert pulled.returncode == 0, pulled.stderr
    assert sorted(f.name for f in (p.root / "images").iterdir()) == ["a.txt", "c.txt"]


def test_gc_of_a_folder_a_cloned_config_names_deletes_nothing_its_history_alone_names(
        trained: Project, tmp_path: Path) -> None:
    # A cloned repository's .dvc/config can point its default remote at any folder (another
    # project's storage beside it), and its commits name objects there it never sent: gc
    # --cloud deleted every one of them that no manifest there claimed.
    victim = tmp_path / "other-storage"
    content = b"another project's model\n"
    md5 = hashlib.md5(content).hexdigest()
    obj = victim / "files" / "md5" / md5[:2] / md5[2:]
    obj.parent.mkdir(parents=True)
    obj.write_bytes(content)
    old = 1_600_000_000
    os.utime(obj, (old, old))
    config = trained.root / ".dvc/config"
    config.write_text(config.read_text() + f"[core]\n    remote = theirs\n['remote \"theirs\"']\n    url = {victim}\n")
    (trained.root / "x.dvc").write_text(f"outs:\n- md5: {md5}\n  size: {len(content)}\n  hash: md5\n  path: x\n")
    trained.commit_all("name their object")
    (trained.root / "x.dvc").unlink()
    trained.commit_all("and forget it")
    subprocess.run(["git", "clone", "-q", str(trained.root), str(tmp_path / "clone")], check=True)
    clone = Project(tmp_path / "clone")
    for _ in range(2):  # (nor does a first gc leave a manifest that would make the second one delete)
        run = clone.ok("gc", "--cloud", "--force", "--min-age", "0")
        assert "holds no manifest of this project" in run.stderr and "mlver push -r theirs" in run.stderr
        assert obj.exists() and not (victim / "mlver").exists()
    # The project that did send them (a push writes its manifest there): its history's word counts.
    trained.ok("push", "-r", "theirs")
    assert (victim / "mlver" / "manifests").is_dir()
    run = trained.ok("gc", "-r", "theirs", "--force", "--min-age", "0")
    assert not obj.exists() and "holds no manifest" not in run.stderr
