"""No cache of mlver gives an answer its inputs no longer give: each test
attacks one cache through the CLI on a real repository and compares the
warm answer with what the same command answers with no cache at all."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Project

PROFILES = Path(".git/mlver/cache/profiles")


def _profile(p: Project, ref: str, path: str) -> dict:
    data = p.ok("show", ref, "--json").json()["record"]["doc"]["data"]
    return next(d["profile"] for d in data if d["path"] == path)


def test_the_same_bytes_as_tsv_and_as_csv_get_each_their_own_profile(project: Project) -> None:
    """The profile cache is keyed by the bytes' md5 and by how they are parsed:
    a tab-separated file copied to a .csv is one column to the CSV reader."""
    p = project
    p.write("data/a.tsv", "x\ty\n" + "".join(f"{i}\t{2 * i}\n" for i in range(50)))
    p.ok("data", "add", "data/a.tsv")  # profiled (and cached) as TSV: two columns
    (p.root / "data/b.csv").write_bytes((p.root / "data/a.tsv").read_bytes())
    p.ok("data", "add", "data/b.csv")
    p.ok("model", "add", "m2", "--path", "models/churn.pkl", "--data", "data/b.csv",
         "--params", "params.yaml", "--metrics", "metrics.json", "--command", "python train.py")
    p.commit_all("m2 on the csv")
    p.ok("run", "m2")
    warm = _profile(p, "m2", "data/b.csv")
    assert [c["name"] for c in warm["columns"]] == ["x\ty"]
    # What the same run records with no cache.
    p.git("reset", "-q", "--hard", "HEAD~1")
    for cached in (p.root / PROFILES).iterdir():
        cached.unlink()
    p.ok("run", "m2")
    assert _profile(p, "m2", "data/b.csv") == warm


def _deep(levels: int) -> object:
    doc: object = 1
    for _ in range(levels):
        doc = [doc]
    return {"rows": 200, "columns": [], "extra": doc}


@pytest.mark.parametrize("content", [
    json.dumps({"rows": "lots", "columns": 7}),
    json.dumps({"rows": 200, "columns": [{"name": 3}]}),
    json.dumps(_deep(40)),
    "[]",
    "{\"rows\": 2",
], ids=["wrong-types", "wrong-column", "too-deep", "not-an-object", "truncated"])
def test_a_damaged_profile_cache_is_computed_again(project: Project, content: str) -> None:
    """A crafted or damaged cached profile is never recorded, nor does it make
    the run fail: it is computed again from the data."""
    p = project
    cached = [f for f in (p.root / PROFILES).iterdir() if f.is_file()]
    assert cached, "data add caches the profile"
    for f in cached:
        f.write_text(content)
    p.ok("run", "churn")
    profile = _profile(p, "churn", "data/train.csv")
    assert profile["rows"] == 200 and [c["name"] for c in profile["columns"]] == ["age", "income", "plan", "churned"]


def _rewrite_tips(p: Project, change: Callable[[dict], dict]) -> None:
    files = list((p.root / ".git/mlver/cache/log").glob("*.json"))
    assert files, "log keeps each file's history"
    for f in files:
        doc = json.loads(f.read_text())
        doc["tables"]["tips"] = change(doc["tables"]["tips"])  # (its stamp kept: only the rows are damaged)
        f.write_text(json.dumps(doc))


def _first_row(edit: Callable[[list], list]) -> Callable[[dict], dict]:
    return lambda tips: {tip: [edit(list(rows[0])), *rows[1:]] for tip, rows in tips.items()}


@pytest.mark.parametrize("change", [
    _first_row(lambda row: row[:4]),
    _first_row(lambda row: [*row[:3], str(row[3]), row[4]]),
    _first_row(lambda row: ["--output=/tmp/x", *row[1:]]),
    _first_row(lambda row: [row[0], None, *row[2:]]),
    _first_row(lambda row: [*row[:3], 10**30, row[4]]),
    lambda tips: {tip: "rows" for tip in tips},
    lambda tips: {f"--output=/tmp/{i}": rows for i, rows in enumerate(tips.values())},
], ids=["short-row", "time-as-text", "not-a-commit", "no-author", "time-past-any-date", "not-a-list",
        "tip-not-a-commit"])
def test_a_damaged_file_history_cache_is_read_from_git_again(released_twice: Project,
                                                              change: Callable[[dict], dict]) -> None:
    """``log`` keeps each file's commits per tip (api/pathlog.py): a kept row
    this code did not write is not shown (nor a bug, exit 4): git is asked again."""
    p = released_twice
    cold = p.ok("log", "churn", "--json").stdout
    assert p.ok("log", "churn", "--json").stdout == cold  # warm: from the cache
    _rewrite_tips(p, change)
    assert p.ok("log", "churn", "--json").stdout == cold
    assert p.ok("log", "churn", "--json").stdout == cold  # and what it kept again is sound


def _entry(p: Project, path: str) -> list | None:
    cache = p.root / ".dvc/tmp/mlver/md5s.json"
    return json.loads(cache.read_text()).get(path) if cache.is_file() else None


def test_new_bytes_under_an_old_mtime_are_not_cached_until_their_ctime_is_old(trained: Project) -> None:
    """``status`` hashes the workspace's data through the stat cache
    (adapters/hashcache.py). New bytes of the same size under the old mtime
    (``cp -p``) were cached at once, by their mtime's age: a second such
    write within the same ctime tick would have kept the whole stat, and the
    stale md5. Their ctime is as young as the write: not cached until it is old."""
    p = trained
    data = p.root / "data/train.csv"
    assert "data/train.csv was modified" not in p.mlver("status", "--json").stdout
    old = data.stat()
    text = data.read_text()
    data.write_text(text.replace("20,", "21,", 1))  # same size, other bytes
    os.utime(data, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert data.stat().st_size == old.st_size and data.stat().st_mtime_ns == old.st_mtime_ns
    status = p.mlver("status", "--json")
    assert status.exit_code == 1 and "data/train.csv was modified" in status.stdout
    assert _entry(p, "data/train.csv") is None  # hashed, not kept: its ctime is this second's
    time.sleep(2.2)
    assert p.mlver("status", "--json").exit_code == 1
    entry = _entry(p, "data/train.csv")
    assert entry is not None and entry[3] == data.stat().st_ctime_ns  # now kept (a later write moves the ctime)


def test_a_profile_an_older_mlver_cached_is_computed_again(project: Project, tmp_path: Path) -> None:
    """An upgrade that profiles differently (here: two most frequent values kept
    per column, not ten) records what a clone without the cache records, not
    the profile the old code cached for the same bytes."""
    env = _upgraded(tmp_path, "domain/profile.py", "\nTOP = 10\n", "\nTOP = 2\n")

    def run_upgraded() -> dict:
        subprocess.run([sys.executable, "-m", "mlver", "run", "churn"], cwd=p.root, env=env, check=True,
                       capture_output=True)
        return _profile(p, "churn", "data/train.csv")

    p = project  # its profile of data/train.csv was cached by `data add` (this code: ten kept)
    warm = run_upgraded()
    assert [len(c["top"]) for c in warm["columns"] if "top" in c] == [2]
    p.git("reset", "-q", "--hard", "HEAD~1")
    shutil.rmtree(p.root / PROFILES)
    assert run_upgraded() == warm


def _upgraded(tmp_path: Path, file: str, old: str, new: str) -> dict[str, str]:
    """The environment that runs a copy of mlver with one change in ``file`` (an upgrade)."""
    import mlver

    copy = tmp_path / "upgraded"
    shutil.copytree(Path(mlver.__file__).parent, copy / "mlver", ignore=shutil.ignore_patterns("__pycache__"))
    source = copy / "mlver" / file
    assert source.read_text().count(old) == 1
    source.write_text(source.read_text().replace(old, new))
    return {**os.environ, "PYTHONPATH": str(copy)}


def test_declarations_an_older_mlver_cached_are_read_again(gto_registry: tuple[Project, object], tmp_path: Path) -> None:
    """The dvc.yaml declarations ``ls`` caches by each file's stat (project.py)
    are read again by an upgrade that reads them otherwise."""
    p, _ = gto_registry
    for dvc_yaml in (p.root / "dvc.yaml", p.root / "sub/proj/dvc.yaml"):
        while time.time() - max(dvc_yaml.stat().st_mtime, dvc_yaml.stat().st_ctime) < 2.1:
            time.sleep(0.1)  # out of the racy window: cached

    def types(env: dict[str, str] | None = None) -> dict[str, str]:
        out = subprocess.run([sys.executable, "-m", "mlver", "ls", "--json"], cwd=p.root, env=env,
                             capture_output=True, text=True, check=True)
        return {m["model"]: m["type"] for m in json.loads(out.stdout)}

    assert types()["customers"] == "dataset"
    assert (p.root / ".git/mlver/cache/dvc-yaml-artifacts-2.json").is_file()
    env = _upgraded(tmp_path, "project.py", 'type=str(entry.get("type") or "")', 'type="model"')
    assert types(env)["customers"] == "model"
    shutil.rmtree(p.root / ".git/mlver/cache")
    assert types(env)["customers"] == "model"  # as it says with no cache


def test_objects_removed_from_the_remote_behind_mlvers_back_are_sent_again(project: Project, tmp_path: Path) -> None:
    """The remote ledger (adapters/remotestat.py) vouches for bytes, never for
    presence: an object another clone's ``dvc gc -c`` or a hand took from the
    folder remote is sent by the next push, which then says what DVC says."""
    from fixtures.objects import object_path, run_big_model

    p = project
    md5 = run_big_model(p)
    p.ok("release", "churn")
    p.ok("push")
    remote = p.remote
    assert object_path(remote, md5).is_file()
    entries = json.loads(Path(os.environ["XDG_CACHE_HOME"], "mlver", "remote-objects.json").read_text())["objects"]
    assert any(name.endswith(md5[2:]) for name in entries)  # what the ledger vouches for

    def dvc(cwd: Path, *args: str) -> str:
        return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, check=True, capture_output=True,
                              text=True).stdout

    # Another clone, at the commit before the model, collects the remote: the model's object goes.
    clone = tmp_path / "clone"
    p.git("clone", "-q", str(p.root), str(clone))
    subprocess.run(["git", "checkout", "-q", "HEAD~2"], cwd=clone, check=True)
    (clone / ".dvc/config.local").write_text((p.root / ".dvc/config.local").read_text())
    dvc(clone, "gc", "-w", "-c", "-f")
    assert not object_path(remote, md5).exists()
    pushed = p.ok("push", "--json").json()
    assert md5 in {s["md5"] for s in pushed["sent"]}
    assert object_path(remote, md5).is_file()
    # By hand, every object: all are sent again, and DVC finds the remote whole.
    shutil.rmtree(remote / "files")
    again = p.ok("push", "--json").json()
    assert again["transferred"] == again["objects"] + again["pipeline"] > 0
    assert "missing" not in dvc(p.root, "status", "-c") and "deleted" not in dvc(p.root, "status", "-c")


def test_replace_refs_turned_off_and_on_in_git_config(released_twice: Project, isolate: Path) -> None:
    """What history caches are stamped with (``git.history_context``) includes
    whether git follows the replace refs: ``core.useReplaceRefs false`` leaves
    them in place, and log, verify and what push sends must follow git."""
    p = released_twice
    old, new = (p.git("rev-parse", f"churn@{v}^{{}}").strip() for v in ("v0.1.0", "v0.2.0"))
    p.git("replace", new, old)  # v0.2.0's commit reads as v0.1.0's
    p.ok("remote", "add", "out", str(isolate / "out"))

    def answers() -> list[str]:
        shutil.rmtree(isolate / "out", ignore_errors=True)
        sent = sorted(s["md5"] for s in p.ok("push", "-r", "out", "--json").json()["sent"])
        return [p.ok("log", "churn", "--json").stdout, p.mlver("verify", "--all", "--offline", "--json").stdout,
                json.dumps(sent)]

    for use in ("false", "true"):
        answers()  # the caches, under the setting before
        p.git("config", "core.useReplaceRefs", use)
        warm = answers()
        shutil.rmtree(p.root / ".git/mlver/cache")
        assert warm == answers(), f"core.useReplaceRefs {use}"


def test_replace_refs_kept_elsewhere_by_git_replace_ref_base(released_twice: Project, isolate: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """``GIT_REPLACE_REF_BASE`` moves the replace refs git follows: history caches
    stamped without it are not answers with it."""
    p = released_twice
    old, new = (p.git("rev-parse", f"churn@{v}^{{}}").strip() for v in ("v0.1.0", "v0.2.0"))
    p.git("update-ref", f"refs/alt/{new}", old)  # a replace ref only under that base
    p.ok("log", "churn", "--json")
    p.mlver("verify", "--all", "--offline", "--json")
    monkeypatch.setenv("GIT_REPLACE_REF_BASE", "refs/alt/")
    warm = [p.ok("log", "churn", "--json").stdout, p.mlver("verify", "--all", "--offline", "--json").stdout]
    shutil.rmtree(p.root / ".git/mlver/cache")
    assert warm == [p.ok("log", "churn", "--json").stdout, p.mlver("verify", "--all", "--offline", "--json").stdout]
