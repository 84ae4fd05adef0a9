"""`mlver push` (no REF) keeps what a commit fixes under .git/mlver/cache (each
commit's DVC files, each record's objects): a push with that cache sends
exactly what one without it sends, after every git operation that changes
which commits are pushed, and a damaged or hostile cache file is read again."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from fixtures.pipeline import PIPELINE_MODEL, declare, dvc, new_version

from conftest import Project
from mlver.adapters import git, statcache
from mlver.api import dvcouts
from mlver.domain import dvcfiles

CACHE = Path(".git/mlver/cache")


@pytest.fixture(autouse=True)
def _tags_settle_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The push plan is kept only under refs not changed in the last 2 s (a second change
    in one clock tick could leave their stat as it was); these tests change tags between
    pushes milliseconds apart, and git renames a new file over each ref, so none is racy."""
    monkeypatch.setattr(statcache, "RACY_S", 0)


def _stored(remote: Path) -> set[str]:
    return {f.parent.name + f.name for f in (remote / "files" / "md5").glob("*/*")}


def _push(p: Project, isolate: Path, name: str, cold: bool) -> tuple[set[str], dict]:
    """What a push stores in an empty remote, and its --json. Always the same remote
    (a folder emptied first, ``name`` for the reader): the plan is kept per remote."""
    if cold:
        shutil.rmtree(p.root / CACHE, ignore_errors=True)
    out = isolate / "out"
    if not any(line.split()[:1] == ["out"] for line in p.ok("remote", "list").stdout.splitlines()):
        p.ok("remote", "add", "out", str(out))
    shutil.rmtree(out, ignore_errors=True)
    result = p.ok("push", "-r", "out", "--json").json()
    return _stored(out), result


def _warm_is_cold(p: Project, isolate: Path, step: str) -> set[str]:
    """A push that reads the cache stores and says what one without it does; what it stored."""
    warm = _push(p, isolate, f"warm-{step}", False)
    assert (p.root / CACHE / "dvc-files.json").is_file() and (p.root / CACHE / "push-plan.bin").is_file()
    cold = _push(p, isolate, f"cold-{step}", True)
    assert warm == cold
    return cold[0]


def _versions(p: Project) -> None:
    """Two released versions whose pipelines differ in every stage."""
    p.ok("remote", "add", "team", str(p.root.parent / "team"), "--default")
    declare(p, "--data", "data/questions.csv")
    p.ok("run", PIPELINE_MODEL)
    p.ok("release", PIPELINE_MODEL)
    new_version(p, 0.5)


def _prepared(p: Project, rev: str) -> str:
    return yaml.safe_load(p.git("show", f"{rev}:dvc.lock"))["stages"]["prepare"]["outs"][0]["md5"]


def test_a_cached_push_sends_what_an_uncached_one_does_and_a_clone_pulls_it(pipeline: Project, isolate: Path) -> None:
    p = pipeline
    _versions(p)
    first = _push(p, isolate, "first", True)
    again = _push(p, isolate, "again", False)  # every commit's listing and record from the cache
    assert first == again and first[1]["pipeline"] > 0 and first[1]["unsent"] == []
    assert {_prepared(p, f"{PIPELINE_MODEL}@v0.1.0"), _prepared(p, "HEAD")} <= again[0]
    kept = json.loads((p.root / CACHE / "dvc-files.json").read_text())["tables"]
    assert set(kept["commits"]) == {p.git("rev-parse", f"{PIPELINE_MODEL}@v0.1.0^{{}}").strip(), p.git("rev-parse", "HEAD").strip()}
    clone = isolate / "clone"
    p.git("clone", "-q", str(p.root), str(clone))
    dvc(clone, "remote", "add", "--local", "-f", "-d", "out", str(isolate / "out"))  # what the cached push stored
    dvc(clone, "pull")
    assert "up to date" in dvc(clone, "status") and "in sync" in dvc(clone, "status", "-c")
    subprocess.run(["git", "checkout", "-q", f"{PIPELINE_MODEL}@v0.1.0"], cwd=clone, check=True)
    dvc(clone, "pull")
    assert "in sync" in dvc(clone, "status", "-c")


def test_the_cache_follows_every_git_operation(pipeline: Project, isolate: Path) -> None:
    p = pipeline
    _versions(p)
    old, tag = _prepared(p, f"{PIPELINE_MODEL}@v0.1.0"), f"{PIPELINE_MODEL}@v0.1.0"
    assert old in _warm_is_cold(p, isolate, "start")
    # A version's tag deleted: its commit is no longer pushed.
    target = p.git("rev-parse", f"{tag}^{{}}").strip()
    p.git("tag", "-d", tag)
    assert old not in _warm_is_cold(p, isolate, "deleted")
    # Re-tagged on another commit (a new one, with a dvc.lock of its own).
    params = yaml.safe_load((p.root / "params.yaml").read_text())
    params["prepare"]["split"] = 0.3
    p.write("params.yaml", yaml.safe_dump(params, sort_keys=False))
    p.commit_all("another split")
    p.ok("run", PIPELINE_MODEL)
    moved = p.git("rev-parse", "HEAD").strip()
    p.git("tag", "-a", tag, "-m", f"Registering artifact {PIPELINE_MODEL} version v0.1.0", moved)
    assert _prepared(p, "HEAD") in _warm_is_cold(p, isolate, "retagged")
    # Moved back to where it was: the old commit's listing is the cache's again, and right.
    p.git("tag", "-f", "-a", tag, "-m", f"Registering artifact {PIPELINE_MODEL} version v0.1.0", target)
    assert old in _warm_is_cold(p, isolate, "moved")
    # HEAD's commit rewritten (amended with another stage output): the new commit's files are read.
    lock = yaml.safe_load((p.root / "dvc.lock").read_text())
    lock["stages"]["prepare"]["outs"][0]["md5"] = _prepared(p, target)
    p.write("dvc.lock", yaml.safe_dump(lock, sort_keys=False))
    p.git("commit", "-qa", "--amend", "--no-edit")
    _warm_is_cold(p, isolate, "amended")
    # A new release.
    p.ok("release", PIPELINE_MODEL, "--version", "v9.0.0")
    _warm_is_cold(p, isolate, "released")


def test_a_damaged_or_hostile_cache_is_read_again(pipeline: Project, isolate: Path) -> None:
    p = pipeline
    _versions(p)
    right = _warm_is_cold(p, isolate, "start")
    file = p.root / CACHE / "dvc-files.json"
    doc = json.loads(file.read_text())
    head = p.git("rev-parse", "HEAD").strip()
    evil_blob = "e" * 40
    hostile = [
        b"{not json",
        b"",
        json.dumps({**doc, "tables": {"commits": {head: "k"}, "listings": {"k": {"../../etc/x.dvc": evil_blob}}}}).encode(),
        json.dumps({**doc, "tables": {"commits": {head: "k"}, "listings": {"k": {"dvc.lock": "not-a-blob"}}}}).encode(),
        json.dumps({**doc, "tables": {"commits": {head: "k"}, "listings": {"k": {"notes.txt": evil_blob}}}}).encode(),
        json.dumps({**doc, "tables": {"commits": {head: ["k"]}, "listings": {"k": []}}}).encode(),
        json.dumps({**doc, "stamp": "another build"}).encode(),
    ]
    for i, content in enumerate(hostile):
        file.write_bytes(content)
        assert _push(p, isolate, f"hostile-{i}", False)[0] == right, i
    facts = p.root / CACHE / "facts.json"
    facts.write_bytes(facts.read_bytes()[: len(facts.read_bytes()) // 2] + b"\x00garbage\n")
    assert _push(p, isolate, "facts-cut", False)[0] == right


def test_listings_are_the_tree_walks(pipeline: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cached listing of each commit is git.files_at's, cold and warm (not walked again)."""
    p = pipeline
    _versions(p)
    commits = p.git("rev-list", "--all").split() + ["0" * 40]
    walked = git.files_at(p.root, commits, dvcfiles.is_dvc_file, frozenset({".dvc", ".mlver", ".git"}))
    assert walked and all(walked.values())
    assert dvcouts.listings(p.root, commits) == walked  # cold: walked and kept
    walks: list[list[str]] = []
    real = git.files_at
    monkeypatch.setattr(git, "files_at", lambda root, asked, *a: walks.append(list(asked)) or real(root, asked, *a))
    assert dvcouts.listings(p.root, commits) == walked  # warm: from the file
    assert walks == [["0" * 40]]  # only the commit git lacks, which is never kept
    assert dvcouts.listings(p.root, commits[:1]) == {commits[0]: walked[commits[0]]}


def test_a_hostile_push_plan_is_read_again(pipeline: Project, isolate: Path) -> None:
    """The plan kept under the refs' state: a body this code did not write (under the right key) is not taken."""
    p = pipeline
    _versions(p)
    right = _warm_is_cold(p, isolate, "start")
    _push(p, isolate, "warm", False)
    file = p.root / CACHE / "push-plan.bin"
    raw = file.read_bytes()
    body = json.loads(raw[raw.index(b"{"):])
    head = raw[:raw.index(b"{")]
    assert body["md5s"] and body["outs"]
    hostile = [
        {**body, "md5s": ["../../../etc/passwd"] + body["md5s"][1:]},
        {**body, "outs": [*body["outs"][:-1], "a" * 31]},
        {**body, "counts": [*body["counts"][:-1], body["counts"][-1] + 1]},
        {**body, "counts": [str(c) for c in body["counts"]]},
        {**body, "commits": ["HEAD"] * len(body["commits"])},
        {**body, "wheres": [1] * len(body["wheres"])},
        {k: v for k, v in body.items() if k != "notes"},
    ]
    for i, doc in enumerate(hostile):
        file.write_bytes(head + json.dumps(doc).encode())
        assert _push(p, isolate, f"hostile-{i}", False)[0] == right, i
    # What the kept plan says is what a push takes: a plan naming less sends less (the key is the point).
    file.write_bytes(head + json.dumps({**body, "counts": [0] * len(body["counts"]), "md5s": [], "wheres": [],
                                                   "outs": [], "outs_where": []}).encode())
    assert _push(p, isolate, "trusted", False)[0] == set()
