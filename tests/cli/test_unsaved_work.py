"""A pull never replaces or removes work that exists nowhere else: a file of
the project whose content no cache holds (a model retrained and not yet
recorded, a data file edited, a new file in a tracked folder) is refused,
as `dvc pull` and `dvc checkout` refuse "unsaved files"; --force replaces it."""
from __future__ import annotations

import hashlib
import json

from conftest import Project


def _md5(p: Project, rel: str) -> str:
    return hashlib.md5((p.root / rel).read_bytes()).hexdigest()


def test_a_retrained_model_and_an_edited_data_file_are_kept(trained: Project) -> None:
    p = trained
    recorded = p.ok("show", "churn@v0.1.0", "--json").json()["record"]["doc"]
    (p.root / "models/churn.pkl").write_bytes(b"retrained, not recorded yet")
    run = p.fails("pull", "churn@v0.1.0", outputs=("models/",))
    assert "models/churn.pkl holds changes no cache or record has" in run.stderr and "--force" in run.stderr
    assert (p.root / "models/churn.pkl").read_bytes() == b"retrained, not recorded yet"
    error = json.loads(p.fails("pull", "churn@v0.1.0", "--json", outputs=("models/",)).stdout)["error"]
    assert (error["class"], error["family"], error["fields"]) == ("UnsavedFiles", "conflict", {"paths": ["models/churn.pkl"]})

    p.ok("pull", "churn@v0.1.0", "-o", str(p.root.parent / "copy.pkl"))  # elsewhere: the caller's own place
    p.ok("pull", "churn@v0.1.0", "--force")
    assert _md5(p, "models/churn.pkl") == recorded["artifact"]["md5"]
    p.ok("pull", "churn@v0.1.0")  # what it holds now is saved: no refusal

    with open(p.root / "data/train.csv", "a") as fh:
        fh.write("99,999,a,1\n")
    assert "data/train.csv holds changes" in p.mlver("pull", "churn", "--with-data").stderr
    p.ok("pull", "churn", "--with-data", "-f")
    assert _md5(p, "data/train.csv") == recorded["data"][0]["md5"]


def test_a_tracked_folder_keeps_new_and_changed_files(project: Project) -> None:
    p = project
    p.write("data/images/a.txt", "a")
    p.write("data/images/b.txt", "b")
    p.ok("data", "add", "data/images")
    p.ok("model", "add", "imgs", "--path", "models/churn.pkl", "--data", "data/images", "--command", "python train.py")
    p.commit_all("images")
    p.ok("run", "imgs")
    p.ok("release", "imgs")
    (p.root / "data/images/b.txt").unlink()  # gone from the workspace: nothing of the user's is lost
    p.write("data/images/c.txt", "a new file, not added yet")
    run = p.mlver("pull", "imgs", "--with-data")
    assert run.exit_code == 2 and "data/images/c.txt holds changes" in run.stderr, run.stderr
    assert (p.root / "data/images/c.txt").exists()
    p.write("data/images/c.txt", "a")  # the same bytes as a.txt: the cache holds them, so removing it loses nothing
    p.ok("pull", "imgs", "--with-data")
    assert sorted(f.name for f in (p.root / "data/images").iterdir()) == ["a.txt", "b.txt"]


def test_a_remote_that_says_it_holds_the_users_file_does_not_make_it_saved(trained: Project) -> None:
    """Saved means in the local cache, as for `dvc checkout`: the remote is
    untrusted, and one that answers "I have it" for the md5 of the user's
    unsaved model (a hostile server says so for everything) must not get it
    overwritten without --force."""
    p = trained
    p.ok("push", "churn@v0.1.0")
    unsaved = b"retrained, exists nowhere else"
    (p.root / "models/churn.pkl").write_bytes(unsaved)
    md5 = hashlib.md5(unsaved).hexdigest()
    planted = p.remote / "files" / "md5" / md5[:2] / md5[2:]
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_bytes(b"not the user's bytes")  # the remote's claim, and a false one
    run = p.fails("pull", "churn@v0.1.0", outputs=("models/",))
    assert "models/churn.pkl holds changes" in run.stderr, run.stderr
    assert (p.root / "models/churn.pkl").read_bytes() == unsaved
