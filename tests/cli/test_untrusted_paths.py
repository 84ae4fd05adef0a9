"""Nothing a record, a manifest or a remote says can write, delete or upload outside its place.

Each attack is crafted the way an attacker with push access would: the
record edited and re-sealed with mlver's own digest function (so the digest
check passes), ``.dir`` manifests stored under their true md5 (so the
integrity check passes), symlinks committed in the repository.
"""
from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import S3, Project
from mlver.domain import record as rec

RECORD = ".mlver/records/churn.json"


def _doc(p: Project) -> dict[str, Any]:
    return json.loads((p.root / RECORD).read_text())


def _reseal(p: Project, change: Callable[[dict[str, Any]], None], message: str = "crafted") -> dict[str, Any]:
    """Edit the record at HEAD and seal it again: its digest stays valid."""
    doc = _doc(p)
    change(doc)
    doc["digest"] = rec.compute_digest(doc)
    (p.root / RECORD).write_text(rec.dumps(doc))
    p.commit_all(message)
    return doc


def _put(store: Path, content: bytes, suffix: str = "") -> str:
    """An object in a DVC-layout directory under its true md5."""
    md5 = hashlib.md5(content).hexdigest()
    target = store / "files" / "md5" / md5[:2] / (md5[2:] + suffix)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return md5 + suffix


def _manifest(entries: list[tuple[str, str]]) -> bytes:
    return json.dumps([{"md5": m, "relpath": r} for r, m in entries]).encode()


def _tree(path: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``path`` with its size and mtime: what must not change."""
    out = {}
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            st_ = p.stat()
            out[str(p)] = (st_.st_size, st_.st_mtime_ns)
    return out


@pytest.fixture
def outside(trained: Project) -> Path:
    """A folder beside the project with a file an attacker would like to replace."""
    folder = trained.root.parent / "outside"
    folder.mkdir()
    (folder / ".bashrc").write_text("the victim's own\n")
    return folder


def _refused(p: Project, *args: str, what: str) -> str:
    run = p.fails(*args)
    assert "is refused" in run.stderr and what in run.stderr, run.stderr
    return run.stderr


def _verify_finds(p: Project, text: str) -> list[dict[str, Any]]:
    run = p.mlver("verify", "--json")
    assert run.exit_code == 1, run.stdout + run.stderr
    findings = run.json()["findings"]
    assert any(text in f["problem"] for f in findings), findings
    return findings


# -- blocker 1: a record's paths ---------------------------------------------


@pytest.mark.parametrize("path, why", [
    ("../outside/.bashrc", "climbs out of its folder"),
    ("{outside}/.bashrc", "it is absolute"),
    ("models\\..\\..\\outside\\.bashrc", "backslash"),
    ("C:/Users/victim/.bashrc", "names a drive"),
    (".git/hooks/pre-commit", ".git folder"),
    (".dvc/config.local", "belongs to git, DVC or mlver"),
])
def test_record_artifact_path_outside_the_project_is_refused(trained: Project, outside: Path, path: str, why: str) -> None:
    trained.ok("push")
    before = _tree(outside)
    _reseal(trained, lambda d: d["artifact"].update(path=path.format(outside=outside)))
    err = _refused(trained, "pull", "churn@HEAD", what="artifact.path")
    assert why in err and "hint: " in err
    _refused(trained, "pull", "churn@HEAD", "--with-data", what="artifact.path")
    assert _tree(outside) == before
    assert not (trained.root / ".git/hooks/pre-commit").exists()
    findings = _verify_finds(trained, "artifact.path")
    assert [f["ref"] for f in findings] == ["churn (HEAD)"]
    # The registry still reads, and a new training replaces the crafted record.
    trained.ok("log", "churn")
    trained.ok("show", "churn@v0.1.0")
    trained.ok("run", "churn")
    assert _doc(trained)["artifact"]["path"] == "models/churn.pkl" and _doc(trained)["parent"] is None
    trained.ok("verify")


def test_record_data_path_outside_the_project_is_refused(trained: Project, outside: Path) -> None:
    trained.ok("push")
    before = _tree(outside)
    _reseal(trained, lambda d: d["data"][0].update(path="data/../../outside/.bashrc"))
    _refused(trained, "pull", "churn@HEAD", "--with-data", what="data[0].path")
    assert _tree(outside) == before
    _verify_finds(trained, "data[0].path")


def test_symlink_committed_in_the_repository_is_not_followed(trained: Project, outside: Path) -> None:
    trained.ok("push")
    before = _tree(outside)
    # The record is untouched (its digest is the real one); the folder it names is now a link out.
    shutil.rmtree(trained.root / "models")
    os.symlink(outside, trained.root / "models")
    trained.git("add", "-f", "models")
    trained.git("commit", "-q", "-m", "models is a link")
    err = _refused(trained, "pull", "churn@HEAD", what="destination")
    assert "through '..' or a symlink" in err
    assert _tree(outside) == before and not (outside / "churn.pkl").exists()
    findings = _verify_finds(trained, "goes through a symlink")
    assert findings[0]["ref"] == "churn (HEAD) models/churn.pkl"
    # -o is the user's own choice: it is honoured, and writes only there.
    out = trained.root.parent / "mine.pkl"
    trained.ok("pull", "churn@HEAD", "-o", str(out))
    assert _tree(outside) == before and out.is_file()


def test_data_folder_symlink_out_of_the_project_is_refused(trained: Project, outside: Path) -> None:
    trained.ok("push")
    shutil.rmtree(trained.root / "data")
    os.symlink(outside, trained.root / "data")
    trained.git("add", "-A")
    trained.git("commit", "-q", "-m", "data is a link")
    before = _tree(outside)
    _refused(trained, "pull", "churn@HEAD", "--with-data", what="destination")
    assert _tree(outside) == before
    assert (trained.root / "models/churn.pkl").is_file()  # nothing half-done either way


# -- blocker 2: .dir manifests ------------------------------------------------


def _dir_data(p: Project, entries: list[tuple[str, bytes]], store: Path) -> str:
    """Make the record's data input a directory whose manifest (in ``store``) lists ``entries``."""
    manifest = _manifest([(relpath, _put(store, content)) for relpath, content in entries])
    md5 = _put(store, manifest, ".dir")
    _reseal(p, lambda d: d["data"].__setitem__(0, {"path": "images", "md5": md5, "size": None, "nfiles": len(entries)}))
    return md5


@pytest.mark.parametrize("relpath, why", [
    ("../../outside/.bashrc", "climbs out"),
    ("{outside}/.bashrc", "absolute"),
    ("sub\\..\\..\\..\\outside\\.bashrc", "backslash"),
    ("x/.git/config", ".git folder"),
])
def test_dir_manifest_entry_escaping_the_folder_is_refused(trained: Project, outside: Path, relpath: str, why: str) -> None:
    trained.ok("push")
    before = _tree(outside)
    _dir_data(trained, [("ok.txt", b"fine\n"), (relpath.format(outside=outside), b"pwned\n")], trained.remote)
    err = _refused(trained, "pull", "churn@HEAD", "--with-data", what="relpath")
    assert why in err and "manifest" in err
    assert _tree(outside) == before and not (trained.root / "images").exists()
    findings = _verify_finds(trained, "relpath")
    assert findings[0]["ref"] == "churn (HEAD) images" and why in findings[0]["problem"]


def test_dir_manifest_duplicates_and_file_folder_clashes_are_refused(trained: Project) -> None:
    trained.ok("push")
    _dir_data(trained, [("a", b"1"), ("a", b"2")], trained.remote)
    assert "listed twice" in _refused(trained, "pull", "churn@HEAD", "--with-data", what="relpath")
    _dir_data(trained, [("a", b"1"), ("a/b", b"2")], trained.remote)
    assert "both as a file and as a folder" in _refused(trained, "pull", "churn@HEAD", "--with-data", what="relpath")
    assert not (trained.root / "images").exists()


def test_dir_manifest_through_a_symlink_inside_the_folder_is_refused(trained: Project, outside: Path) -> None:
    trained.ok("push")
    (trained.root / "images").mkdir()
    os.symlink(outside, trained.root / "images" / "sub")
    trained.git("add", "-A")
    trained.git("commit", "-q", "-m", "a link inside")
    before = _tree(outside)
    _dir_data(trained, [("sub/.bashrc", b"pwned\n")], trained.remote)
    _refused(trained, "pull", "churn@HEAD", "--with-data", what="destination")
    assert _tree(outside) == before


def test_dir_manifest_escaping_in_s3_is_refused_by_pull_and_pull_repo(project: Project, s3: S3, tmp_path: Path) -> None:
    project.ok("remote", "add", "storage", s3.url(), "--endpoint-url", s3.endpoint, "--default")
    project.ok("model", "add", "vision", "--path", "models/vision")
    project.commit_all("declare vision")
    project.write("models/vision/w.bin", b"weights\n")
    project.ok("record", "vision")
    project.ok("push")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("mine\n")
    before = _tree(victim)
    # The attacker's manifest and file go into the bucket under their true md5s.
    staging = tmp_path / "crafted"
    entries = [("w.bin", _put(staging, b"weights\n")), ("../../victim/keep", _put(staging, b"pwned\n"))]
    md5 = _put(staging, _manifest(entries), ".dir")
    for obj in (staging / "files").rglob("*"):
        if obj.is_file():
            s3.client.put_object(Bucket=s3.bucket, Key=f"team/{obj.relative_to(staging)}", Body=obj.read_bytes())
    vision = ".mlver/records/vision.json"
    doc = json.loads((project.root / vision).read_text())
    doc["artifact"]["md5"] = md5
    doc["digest"] = rec.compute_digest(doc)
    (project.root / vision).write_text(rec.dumps(doc))
    project.commit_all("crafted vision")
    project.ok("release", "vision")
    shutil.rmtree(project.root / ".dvc" / "cache")
    shutil.rmtree(project.root / "models" / "vision")
    _refused(project, "pull", "vision@HEAD", what="relpath")
    assert not (project.root / "models" / "vision").exists()
    out = tmp_path / "serving" / "vision"
    run = project.fails("pull", "vision", "--repo", project.root.as_uri(), "-o", str(out))
    assert "is refused" in run.stderr and "relpath" in run.stderr
    assert _tree(victim) == before and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crafted", "env", "project", "victim"]  # no leftovers


# -- blocker 3: md5s used as paths ---------------------------------------------


def test_md5_naming_an_absolute_path_cannot_delete_it(trained: Project, outside: Path) -> None:
    # files/md5/<md5[:2]>/<md5[2:]> with "//" + path: the join would start over at "/".
    target = outside / ".bashrc"
    _reseal(trained, lambda d: d["artifact"].update(md5="//" + str(target).lstrip("/")))
    _refused(trained, "pull", "churn@HEAD", what="artifact.md5")
    assert target.read_text() == "the victim's own\n"
    findings = _verify_finds(trained, "artifact.md5")
    assert not any(str(target.stat().st_size) in json.dumps(f) for f in findings if "bytes" in f["problem"])


def test_md5_naming_config_local_cannot_upload_it(trained: Project, s3: S3) -> None:
    trained.ok("remote", "add", "storage", s3.url(), "--endpoint-url", s3.endpoint, "--default")
    (trained.root / ".dvc/config.local").write_text(
        (trained.root / ".dvc/config.local").read_text() + "['remote \"storage\"']\n    access_key_id = testing\n    secret_access_key = testing\n")
    _reseal(trained, lambda d: d["artifact"].update(md5="..//../../config.local"))
    _refused(trained, "push", what="artifact.md5")
    assert s3.keys() == []
    run = trained.mlver("verify", "--json")
    assert run.exit_code == 1 and "artifact.md5" in run.stdout
    assert str((trained.root / ".dvc/config.local").stat().st_size) not in run.stdout.replace(".dvc", "")


def test_md5_in_a_dvc_file_is_checked_too(trained: Project) -> None:
    dvcfile = trained.root / "data/train.csv.dvc"
    dvcfile.write_text(dvcfile.read_text().replace("md5: ", "md5: ../../", 1))
    trained.commit_all("crafted .dvc")
    run = trained.fails("run", "churn")
    assert "data/train.csv.dvc" in run.stderr and "is refused" in run.stderr


@pytest.mark.parametrize("content, why", [
    ("- 1\n", "DVC's files are mappings"),
    ("outs: 5\n", "a list of mappings"),
    ("outs:\n- train.csv\n", "a list of mappings"),
    ("outs:\n- md5: d41d8cd98f00b204e9800998ecf8427e\n  size: lots\n  path: train.csv\n", "a size or a count is a whole number"),
    ("outs:\n- md5: d41d8cd98f00b204e9800998ecf8427e\n  path: ../../x\n", "climbs out"),
])
def test_a_dvc_file_of_another_shape_is_refused_never_a_crash(trained: Project, content: str, why: str) -> None:
    """A hand-edited or crafted .dvc file (a list, outs that are not mappings,
    a size that is not a number, an out outside the project, where DVC itself
    fails an assertion): every command that reads it says so, exit 2."""
    (trained.root / "data/train.csv.dvc").write_text(content)
    trained.commit_all("crafted .dvc")
    for args in (("run", "churn"), ("record", "churn"), ("status",)):
        run = trained.fails(*args)
        assert "data/train.csv.dvc" in run.stderr and why in run.stderr, run.stderr
    added = trained.mlver("data", "add", "data/train.csv")  # DVC's own add decides: rewrite it, or refuse it
    assert (added.exit_code == 0 or (added.exit_code == 2 and "data/train.csv.dvc" in added.stderr)), added.stderr


# -- minors ---------------------------------------------------------------------


def test_record_nested_100000_deep_is_a_clear_error(trained: Project) -> None:
    (trained.root / RECORD).write_text('{"schema": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    trained.commit_all("deep")
    for args in (("show", "churn@HEAD"), ("pull", "churn@HEAD")):
        run = trained.fails(*args)
        assert "nested" in run.stderr and "internal error" not in run.stderr
    assert "nested" in trained.mlver("verify").stdout
    trained.ok("record", "churn")  # replaces it, linked to nothing: no command reads the one it replaces
    assert json.loads((trained.root / RECORD).read_text())["parent"] is None


def test_record_nested_100000_deep_in_the_history_is_a_clear_error(trained: Project, tmp_path: Path) -> None:
    # Not at HEAD: a parent verify follows (it was exit 4); review --plots of the branch must not crash either.
    base = trained.git("rev-parse", "HEAD").strip()
    good = _doc(trained)
    (trained.root / RECORD).write_text('{"schema": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    trained.commit_all("deep")
    deep = trained.git("rev-parse", "HEAD").strip()
    (trained.root / RECORD).write_text(rec.dumps(good))
    trained.commit_all("back")
    _reseal(trained, lambda d: d.update(parent={"commit": deep, "digest": "sha256:" + "0" * 64}), "a deep parent")
    run = trained.mlver("verify", "--offline", "--json")
    assert run.exit_code == 1, run.stderr
    assert any("parent record" in f["problem"] for f in run.json()["findings"])
    run = trained.mlver("review", "--base", base, "--plots", str(tmp_path / "plots"))
    assert run.exit_code in (0, 1) and "internal error" not in run.stderr, run.stderr


def test_model_name_of_300_characters_is_a_clear_error(project: Project) -> None:
    name = "a" * 300
    for args in (("model", "add", name, "--path", "models/x.pkl"), ("show", name), ("pull", f"{name}@v0.1.0")):
        run = project.fails(*args)
        assert "at most 100 are allowed" in run.stderr and "too long" not in run.stderr


def test_pull_into_an_existing_folder_works_like_cp(trained: Project, tmp_path: Path) -> None:
    folder = tmp_path / "serving"
    folder.mkdir()
    pulled = trained.ok("pull", "churn@v0.1.0", "-o", str(folder), "--json").json()
    assert pulled["files"][0]["path"] == str(folder / "churn.pkl")
    assert (folder / "churn.pkl").read_bytes() == (trained.root / "models/churn.pkl").read_bytes()
    # A folder where the record puts a file is an error naming it, not a crash.
    (trained.root / "models/churn.pkl").unlink()
    (trained.root / "models/churn.pkl").mkdir()
    assert "is a folder" in trained.fails("pull", "churn@v0.1.0").stderr


def test_pull_and_url_refuse_a_record_whose_digest_fails(trained: Project) -> None:
    doc = _doc(trained)
    doc["metrics"]["accuracy"] = 0.99  # edited by hand, not re-sealed
    (trained.root / RECORD).write_text(rec.dumps(doc))
    trained.commit_all("better numbers")
    for args in (("pull", "churn@HEAD"), ("url", "churn@HEAD")):
        err = trained.fails(*args).stderr
        assert "does not match its digest" in err and "churn@HEAD" in err and "git checkout" in err


def test_s3_put_verifies_the_bytes_it_sends(trained: Project, s3: S3) -> None:
    trained.ok("remote", "add", "storage", s3.url(), "--endpoint-url", s3.endpoint, "--default")
    md5 = _doc(trained)["artifact"]["md5"]
    cached = trained.root / ".dvc/cache/files/md5" / md5[:2] / md5[2:]
    os.chmod(cached, 0o644)
    cached.write_bytes(b"rotten" * 10)
    err = trained.fails("push").stderr
    assert "does not hash to its name" in err
    assert f"team/files/md5/{md5[:2]}/{md5[2:]}" not in s3.keys()
    # Above the multipart threshold the bytes are hashed as they stream out.
    cached.write_bytes(os.urandom(9 * 1024 * 1024))
    assert "does not hash to its name" in trained.fails("push").stderr
    assert f"team/files/md5/{md5[:2]}/{md5[2:]}" not in s3.keys()


class _Recorder(http.server.BaseHTTPRequestHandler):
    """An S3 endpoint named by someone else's repository: it records what it is sent and denies all."""

    seen: list[str] = []

    def _deny(self) -> None:
        type(self).seen.append(str(self.headers))
        body = b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>"
        self.send_response(403)
        self.send_header("Content-Length", str(len(body) if self.command != "HEAD" else 0))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_PUT = _deny

    def log_message(self, *args: Any) -> None:
        pass


def test_pull_repo_sends_no_credentials_to_an_endpoint_the_repository_names(trained: Project, tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    try:
        config = trained.root / ".dvc/config"
        config.write_text(f"[core]\n    remote = evil\n['remote \"evil\"']\n    url = s3://bucket/x\n"
                          f"    endpointurl = {endpoint}\n    profile = production\n")
        _reseal(trained, lambda d: d["artifact"].update(remote="evil"))
        trained.ok("release", "churn")
        elsewhere = Project(tmp_path / "elsewhere")  # a machine with no project, and the user's AWS keys in env
        elsewhere.root.mkdir()
        out = tmp_path / "model.pkl"
        run = elsewhere.fails("pull", "churn", "--repo", trained.root.as_uri(), "-o", str(out))
        lines = run.stderr.splitlines()
        assert endpoint in lines[0] and "without your AWS credentials" in lines[0]  # named before contact
        assert "--trust-endpoint" in lines[-1] and "access denied" in run.stderr
        assert _Recorder.seen and not any("Authorization" in h or "testing" in h for h in _Recorder.seen)
        _Recorder.seen.clear()
        run = elsewhere.fails("pull", "churn", "--repo", trained.root.as_uri(), "-o", str(out), "--trust-endpoint")
        assert "with your AWS credentials (--trust-endpoint)" in run.stderr
        assert any("Credential=testing/" in h for h in _Recorder.seen)
        # An endpoint the user configured themselves (here in their global DVC config) is trusted as it is.
        _Recorder.seen.clear()
        global_config = Path(os.environ["DVC_GLOBAL_CONFIG_DIR"]) / "config"
        global_config.parent.mkdir(parents=True, exist_ok=True)
        global_config.write_text(f"['remote \"mine\"']\n    url = s3://mine/x\n    endpointurl = {endpoint}/\n")
        run = elsewhere.fails("pull", "churn", "--repo", trained.root.as_uri(), "-o", str(out))
        assert "with your AWS credentials (you configured this endpoint)" in run.stderr
        assert any("Credential=testing/" in h for h in _Recorder.seen)
        assert not out.exists()
        assert "--trust-endpoint is for --repo" in trained.fails("pull", "churn", "--trust-endpoint").stderr
    finally:
        server.shutdown()


# -- the property: nothing is ever written outside the destination ----------------

# Mostly segments that are fine on their own (so whole paths often pass the
# lexical checks and reach the file system), with the link out of the project
# common, and now and then one that must be refused.
_GOOD = st.one_of(st.sampled_from(["link", "link", "a", "b", "ü", "日本", "models", "images"]),
                  st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6))
_BAD = st.sampled_from(["..", ".", "", "C:", "x\\..\\..", ".git", "/tmp"])
_PATHS = st.builds(lambda prefix, parts: prefix + "/".join(parts),
                   st.sampled_from(["", "", "link/", "link/", "images/link/", "a/", "/", "../"]),
                   st.lists(st.one_of(_GOOD, _GOOD, _GOOD, _BAD), min_size=1, max_size=3))


def test_no_path_from_a_record_or_manifest_is_written_outside_the_project(trained: Project, outside: Path) -> None:
    root = trained.root
    trained.ok("push")
    os.symlink(outside, root / "link")
    trained.git("add", "link")
    trained.git("commit", "-q", "-m", "a link out")
    sandbox = root.parent
    content = b"attacker bytes\n"
    obj = _put(trained.remote, content)
    base = _doc(trained)
    outcomes: list[int] = []

    def links_out() -> None:
        """Symlinks out of the project, at its root and inside the data folder."""
        for link in (root / "link", root / "images" / "link"):
            if link.is_symlink() and os.readlink(link) == str(outside):
                continue
            for taken in (link.parent, link):
                if taken.is_symlink() or taken.is_file():
                    taken.unlink()
            if link.is_dir():
                shutil.rmtree(link)
            link.parent.mkdir(exist_ok=True)
            os.symlink(outside, link)

    @settings(max_examples=50, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(in_artifact=st.booleans(), path=_PATHS, others=st.lists(_PATHS, max_size=2))
    # Both sides of the line on every run, whatever the generated examples are.
    @example(in_artifact=True, path="models/ok.pkl", others=[])
    @example(in_artifact=False, path="a/b.txt", others=["c.txt"])
    @example(in_artifact=False, path="deep/er/x.bin", others=[])
    @example(in_artifact=True, path="link/x", others=[])
    @example(in_artifact=False, path="../x", others=[])
    def attack(in_artifact: bool, path: str, others: list[str]) -> None:
        links_out()  # a pull before may have replaced one with a file (a rename does that, and may)
        # The path under test is either the artifact's or one entry of a data directory's manifest.
        relpaths = ["ok.txt"] if in_artifact else [path, *others]
        manifest = _put(trained.remote, _manifest([(r, obj) for r in dict.fromkeys(relpaths)]), ".dir")
        doc = json.loads(json.dumps(base))
        doc["artifact"].update(path=path if in_artifact else "models/churn.pkl", md5=obj)
        doc["data"] = [{"path": "images", "md5": manifest}]
        doc["digest"] = rec.compute_digest(doc)
        (root / RECORD).write_text(rec.dumps(doc))
        trained.git("add", RECORD)
        trained.git("commit", "-q", "--allow-empty", "-m", "attempt")
        before = {k: v for k, v in _tree(sandbox).items() if not k.startswith(str(root) + os.sep)}
        run = trained.mlver("pull", "churn@HEAD", "--with-data", "--json")
        assert run.exit_code in (0, 2), run.stderr
        outcomes.append(run.exit_code)
        after = {k: v for k, v in _tree(sandbox).items() if not k.startswith(str(root) + os.sep)}
        assert after == before, run.stderr
        if run.exit_code == 0:
            real = os.path.realpath(root)
            for f in run.json()["files"]:
                written = os.path.join(os.path.realpath(os.path.dirname(f["path"])), os.path.basename(f["path"]))
                assert written.startswith(real + os.sep) and ".git" not in written[len(real):].split(os.sep)

    attack()
    assert (outside / ".bashrc").read_text() == "the victim's own\n"
    assert outcomes.count(0) >= 5 and outcomes.count(2) >= 5  # both sides of the line were exercised


@pytest.mark.parametrize("path", [".git/hooks/pre-commit", "../outside/.bashrc", "{outside}/.bashrc",
                                  "data/../../outside/.bashrc"])
def test_a_dvc_file_naming_a_path_out_of_the_project_writes_and_deletes_nothing_there(
        trained: Project, outside: Path, path: str, tmp_path: Path) -> None:
    """A cloned repository's own .dvc file (no model's) whose out is a git hook or a file
    beside the project, its object in the cache and the remote: no command writes or
    deletes there, none crashes (DVC itself refuses such an out)."""
    trained.ok("push")
    hook = b"#!/bin/sh\necho run > ../outside/ran\n"
    md5 = _put(trained.remote, hook)
    _put(trained.root / ".dvc" / "cache", hook)
    out = path.replace("{outside}", str(outside))
    (trained.root / "evil.dvc").write_text(f"outs:\n- md5: {md5}\n  size: {len(hook)}\n  hash: md5\n  path: {out}\n")
    base = trained.git("rev-parse", "HEAD").strip()
    trained.commit_all("a .dvc file of ours")
    before, hooks = _tree(outside), sorted(p.name for p in (trained.root / ".git/hooks").iterdir())
    for args in (("pull", "churn", "--with-data"), ("push",), ("status",), ("verify",), ("gc", "--cloud"),
                 ("gc", "--cloud", "--force", "--min-age", "0"), ("review", "--base", base),
                 ("site", "-o", str(tmp_path / "site")), ("card", "churn"), ("release", "churn"),
                 ("pull", "churn@v0.2.0", "--with-data", "--force")):
        run = trained.mlver(*args)
        assert run.exit_code in (0, 1, 2) and "Traceback" not in run.stderr, (args, run.stderr)
    assert _tree(outside) == before and not (outside / "ran").exists()
    assert sorted(p.name for p in (trained.root / ".git/hooks").iterdir()) == hooks
    assert (trained.remote / "files/md5" / md5[:2] / md5[2:]).exists()  # named by HEAD's .dvc file: kept
