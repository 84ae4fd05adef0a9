"""A registry GTO wrote, adopted as it is: reads before `mlver init`, derived
lineage for versions with no record, GTO's stage and deprecation semantics."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fixtures.gto_registry import Gto, GtoRegistry, churn_model

from conftest import S3, Project
from mlver.adapters import gitremote
from mlver.api._common import resolve
from mlver.api.fetching import resolve_remote
from mlver.api.trust import REQUIRE_ENV, resolve_trusted
from mlver.domain import record as rec
from mlver.errors import MlverError
from mlver.project import Project as MlverProject


def _stages(gto_show: dict) -> dict:
    return {name: {s: v for s, v in m["stage"].items() if v} for name, m in gto_show.items()}


def test_reads_before_init_say_what_gto_says(gto_registry: tuple[Project, GtoRegistry], gto_cli: Gto) -> None:
    p, reg = gto_registry
    assert not (p.root / "mlver.yaml").exists()
    gto = gto_cli.json(p.root, "show")
    ours = {m["model"]: m for m in p.ok("ls", "--json").json()}
    # segment is deprecated: hidden by both; the monorepo artifact under GTO's name.
    assert set(ours) == set(gto) == {"churn", "customers", "sub/proj:nested"}
    assert {n: m["latest"] for n, m in ours.items()} == {n: m["version"] for n, m in gto.items()}
    assert {n: m["stages"] for n, m in ours.items()} == _stages(gto)
    # The deregistered v0.1.1 held prod last: prod is v0.0.1's again, not a bare commit.
    assert ours["churn"]["stages"] == {"prod": "v0.0.1", "staging": "v0.1.0"}
    assert ours["customers"]["type"] == "dataset" and ours["churn"]["type"] == "model"
    assert all(m["declared"] for m in ours.values())
    every = {m["model"]: m for m in p.ok("ls", "--deprecated", "--json").json()}
    gto_every = gto_cli.json(p.root, "show", "-d")
    assert set(every) == set(gto_every) and every["segment"]["deprecated"] and not gto_every["segment"]["active"]
    human = p.ok("ls").stdout
    assert "sub/proj:nested" in human and "customers (dataset)" in human and "segment" not in human

    events = p.ok("log", "sub/proj:nested", "--json").json()
    assert [(e["kind"], e["version"], e["stage"], e["tag"]) for e in events] == [
        ("assign", "v0.0.1", "dev", "sub/proj=nested#dev#1"), ("release", "v0.0.1", None, "sub/proj=nested@v0.0.1")]
    churn = p.ok("log", "churn", "--json").json()
    assert [(e["kind"], e["version"], e["stage"]) for e in churn[:2]] == [("deregister", "v0.1.1", None), ("assign", "v0.1.1", "prod")]

    shown = p.ok("show", "churn#prod", "--json").json()
    assert shown["versions"] == ["v0.0.1"] and shown["stages"] == ["prod"]
    record = shown["record"]
    assert record["derived"] is True and record["commit"] == reg.commits[0]
    assert record["doc"]["artifact"]["md5"] == reg.md5["churn@v0.0.1"] and record["doc"]["artifact"]["path"] == "models/churn.pkl"
    assert record["doc"]["metrics"] == {"accuracy": 0.8, "auc": 0.7}
    assert record["doc"]["derived_from"]["artifact"] == "models/churn.pkl.dvc"
    assert "DERIVED" in p.ok("show", "churn@v0.1.0").stdout
    nested = p.ok("show", "sub/proj:nested@v0.0.1", "--json").json()["record"]["doc"]
    assert nested["artifact"] == {"path": "sub/proj/model.bin", "md5": reg.md5["sub/proj:nested@v0.0.1"],
                                  "size": 650, "nfiles": None, "remote": None}

    [d] = p.ok("diff", "churn@v0.0.1", "churn#staging", "--json").json()
    assert {m["key"]: (m["old"], m["new"]) for m in d["metrics"]} == {"accuracy": (0.8, 0.85), "auc": (0.7, 0.75)}
    assert d["artifact"]["changed"] and any("derived" in n for n in d["notes"])
    card = p.ok("card", "churn#prod").stdout
    assert "derived" in card and "Predicts which customers leave" in card and "tabular" in card
    assert "no version of churn is in stage 'dev'" in p.fails("show", "churn#dev").stderr
    assert "has no version v0.1.1" in p.fails("show", "churn@v0.1.1").stderr


def test_pull_verify_promote_rollback_a_gto_registry(gto_registry: tuple[Project, GtoRegistry], gto_cli: Gto,
                                                     isolate: Path) -> None:
    p, reg = gto_registry
    pulled = p.ok("pull", "churn#prod", "-o", str(isolate / "prod.pkl"), "--json").json()
    assert pulled["derived"] is True and pulled["version"] == "v0.0.1"
    assert hashlib.md5((isolate / "prod.pkl").read_bytes()).hexdigest() == reg.md5["churn@v0.0.1"]
    assert "hash derived from commit" in p.ok("pull", "churn@v0.1.0", "-o", str(isolate / "v010.pkl")).stdout
    p.ok("pull", "customers@v1.0.0", "-o", str(isolate / "customers.csv"))  # a dataset, by version
    assert (isolate / "customers.csv").read_text() == "id,plan\n1,a\n2,b\n"
    p.ok("pull", "sub/proj:nested#dev", "-o", str(isolate / "nested.bin"))
    assert hashlib.md5((isolate / "nested.bin").read_bytes()).hexdigest() == reg.md5["sub/proj:nested@v0.0.1"]
    no_hash = p.fails("pull", "segment@v0.4.1", "-o", str(isolate / "segment.pt"))
    assert "no mlver record" in no_hash.stderr and "no DVC hash for s3://mycorp" in no_hash.stderr

    # An object that rots in the remote is a finding, for a GTO version too.
    rotten = p.remote / "files" / "md5" / reg.md5["churn@v0.1.0"][:2] / reg.md5["churn@v0.1.0"][2:]
    rotten.chmod(0o644)
    good = rotten.read_bytes()
    rotten.write_bytes(b"not the model")
    failed = p.mlver("verify", "--all", "--json")
    assert failed.exit_code == 1
    assert [f["ref"] for f in failed.json()["findings"]] == ["churn@v0.1.0 models/churn.pkl"]
    rotten.write_bytes(good)

    # Before and after `mlver init`, verify notes GTO's versions and checks their objects.
    checked = p.ok("verify", "--all", "--json").json()
    assert checked["ok"] and checked["findings"] == [] and checked["objects"] >= 4
    assert any("churn@v0.0.1" in n and "no lineage record" in n for n in checked["notes"])
    p.ok("init")
    p.commit_all("mlver init")
    # `release` knows a dvc.yaml model: it has no record at HEAD, it is not unknown.
    released = p.fails("release", "churn")
    assert "no record of churn" in released.stderr and "unknown model" not in released.stderr

    promoted = p.ok("promote", "churn@v0.1.0", "prod", "--json").json()
    assert promoted["derived"] is True and promoted["tag"] == "churn#prod#4"  # GTO deregistered with a simple tag: no counter
    assert gto_cli.json(p.root, "show")["churn"]["stage"]["prod"] == "v0.1.0"
    back = p.ok("rollback", "churn", "prod", "--json").json()
    assert (back["version"], back["rolled_back_from"], back["derived"]) == ("v0.0.1", "v0.1.0", True)
    assert gto_cli.json(p.root, "show")["churn"]["stage"]["prod"] == "v0.0.1"
    assert p.ok("ls", "--json").json()[0]["stages"]["prod"] == "v0.0.1"



def test_lineage_derived_from_a_pipeline(pipeline: Project, gto_cli: Gto, isolate: Path) -> None:
    """A DVC pipeline version registered by GTO: the artifact's hash from the
    stage that outputs it in dvc.lock, the raw data upstream of it, every
    upstream stage's params; no record, so marked derived. `pull --repo`
    derives the same hash and fetches it from the remote the commit shares."""
    import shutil

    import yaml

    shared = isolate / "shared-storage"
    shutil.copytree(pipeline.root / ".dvc" / "cache", shared)  # what `dvc push` would have sent
    pipeline.write(".dvc/config", f"[core]\n    remote = shared\n['remote \"shared\"']\n    url = {shared}\n")
    pipeline.commit_all("share the remote")
    gto_cli.write(pipeline.root, "register", "text-classifier", "HEAD")
    doc = pipeline.ok("show", "text-classifier@v0.0.1", "--json").json()["record"]["doc"]
    lock = yaml.safe_load((pipeline.root / "dvc.lock").read_text())["stages"]
    model_out = next(o for o in lock["train"]["outs"] if o["path"] == "model.pkl")
    assert doc["derived"] and doc["artifact"]["md5"] == model_out["md5"]
    # eval/metrics.json is in the evaluate stage's DVC output, not in the tree: read from the cache, as DVC reads it.
    assert doc["derived_from"] == {"artifact": "dvc.lock (stage train)", "stages": ["train", "featurize", "prepare"],
                                   "metrics": ["eval/metrics.json"]}
    dvc_metrics = json.loads(subprocess.run([sys.executable, "-m", "dvc", "metrics", "show", "--json"], cwd=pipeline.root,
                                            capture_output=True, text=True, check=True).stdout)
    assert doc["metrics"] == rec.flatten(dvc_metrics[""]["data"]["eval/metrics.json"]["data"]) != {}
    assert [d["path"] for d in doc["data"]] == ["data/questions.csv"]
    raw = yaml.safe_load((pipeline.root / "data/questions.csv.dvc").read_text())["outs"][0]
    assert doc["data"][0]["md5"] == raw["md5"]
    assert doc["params"] == {"prepare.split": 0.25, "prepare.seed": 20170428, "featurize.max_features": 40,
                             "featurize.ngrams": 2, "train.seed": 20170428, "train.n_est": 50, "train.min_split": 0.01}
    assert doc["code"]["command"] == "python src/train.py data/features model.pkl"
    eval_dir = next(o["md5"] for o in lock["evaluate"]["outs"] if o["path"] == "eval")
    manifest = pipeline.root / ".dvc" / "cache" / "files" / "md5" / eval_dir[:2] / eval_dir[2:]
    manifest.rename(manifest.with_suffix(".away"))  # a cache without that output: no metrics, none guessed
    bare = pipeline.ok("show", "text-classifier@v0.0.1", "--json").json()["record"]["doc"]
    assert bare["metrics"] == {} and bare["derived_from"]["metrics"] == []
    manifest.with_suffix(".away").rename(manifest)
    out = isolate / "serving.pkl"
    pulled = pipeline.ok("pull", "text-classifier@v0.0.1", "--repo", pipeline.root.as_uri(), "-o", str(out), "--json").json()
    assert pulled["derived"] and hashlib.md5(out.read_bytes()).hexdigest() == model_out["md5"] == pulled["files"][0]["md5"]


def test_verify_mixes_gto_versions_and_records(trained: Project, gto_cli: Gto) -> None:
    """In a registry with both, a GTO version is a note and a moved mlver tag
    (one that promises a record its commit does not hold) is still a failure."""
    first = trained.git("rev-list", "--max-parents=0", "HEAD").strip()
    gto_cli.write(trained.root, "register", "churn", first, "--version", "v0.0.5")  # before mlver: no record
    checked = trained.ok("verify", "--all", "--offline", "--json").json()
    assert checked["ok"] and any("churn@v0.0.5" in n and "no lineage record" in n for n in checked["notes"])
    message = trained.git("tag", "-l", "--format=%(contents)", "churn@v0.1.0")
    trained.git("tag", "-f", "-a", "churn@v0.1.0", "-m", message, first)
    failed = trained.mlver("verify", "--all", "--offline", "--json")
    assert failed.exit_code == 1
    assert any(f["ref"] == "churn@v0.1.0" and "no record of churn" in f["problem"] for f in failed.json()["findings"])


def test_pull_repo_of_a_gto_version(gto_registry: tuple[Project, GtoRegistry], gto_cli: Gto, s3: S3,
                                    isolate: Path) -> None:
    """`pull --repo` on versions GTO registered: the hash comes from the commit's .dvc
    file, the remote from its .dvc/config; lightweight tags are not versions."""
    p, reg = gto_registry
    run = lambda *a: subprocess.run(a, cwd=p.root, check=True, capture_output=True)  # noqa: E731
    run(sys.executable, "-m", "dvc", "remote", "add", "-d", "shared", s3.url())
    run(sys.executable, "-m", "dvc", "remote", "modify", "shared", "endpointurl", s3.endpoint)
    p.write("models/churn.pkl", churn_model(4))
    run(sys.executable, "-m", "dvc", "add", "-q", "models/churn.pkl")
    p.commit_all("Share the remote, update the model")
    for obj in (p.root / ".dvc" / "cache" / "files" / "md5").rglob("*"):  # what `dvc push` would have sent
        if obj.is_file():
            s3.client.put_object(Bucket=s3.bucket, Key=f"team/files/md5/{obj.parent.name}/{obj.name}", Body=obj.read_bytes())
    gto_cli.write(p.root, "register", "churn", "HEAD", "--version", "v0.2.0")
    gto_cli.write(p.root, "assign", "churn", "--version", "v0.2.0", "--stage", "qa")
    p.git("tag", "churn@v9.0.0", reg.commits[0])  # lightweight: gto ignores it, so must mlver
    p.git("tag", "churn#qa#9", reg.commits[0])
    v4 = hashlib.md5(churn_model(4)).hexdigest()

    serving = Project(isolate / "serving")  # no project here: only the git URL
    serving.root.mkdir()
    url, out = p.root.as_uri(), isolate / "serving" / "model.pkl"
    # The endpoint is the repository's choice: the user's credentials go there only when told.
    denied = serving.fails("pull", "churn@v0.2.0", "--repo", url, "-o", str(out)).stderr
    assert "access denied" in denied and "asked without your credentials" in denied and not out.exists()
    pull = lambda *a: serving.ok("pull", *a, "--repo", url, "-o", str(out), "--trust-endpoint")  # noqa: E731
    pulled = pull("churn@v0.2.0", "--json").json()
    assert (pulled["derived"], pulled["version"]) == (True, "v0.2.0")
    assert hashlib.md5(out.read_bytes()).hexdigest() == v4 == pulled["files"][0]["md5"]
    out.unlink()
    assert "pulled churn@v0.2.0 (no mlver record: hash derived from commit" in pull("churn#qa").stdout
    assert hashlib.md5(out.read_bytes()).hexdigest() == v4
    assert pull("churn", "--json").json()["version"] == "v0.2.0"
    missing = serving.fails("pull", "churn@v9.0.0", "--repo", url, "-o", str(out), "--trust-endpoint").stderr
    assert "churn has no version v9.0.0" in missing
    # c1 shares no remote in its .dvc/config: the default branch's default remote serves it;
    # segment's artifact has no DVC hash at all.
    prod = pull("churn#prod", "--json").json()
    kept = hashlib.md5(out.read_bytes()).hexdigest()
    assert prod["version"] == "v0.0.1" and kept == prod["files"][0]["md5"] != v4
    assert "no DVC hash for s3://mycorp" in serving.fails("pull", "segment@v0.4.1", "--repo", url, "-o", str(out)).stderr
    assert hashlib.md5(out.read_bytes()).hexdigest() == kept  # failures left the last pull alone


def test_push_sends_gto_versions_and_dvc_pull_reads_them(gto_registry: tuple[Project, GtoRegistry], isolate: Path) -> None:
    """`mlver push` of a registry GTO made: every released version's objects,
    though none has a record; `dvc pull` in a fresh clone reads them."""
    p, reg = gto_registry
    remote = isolate / "team-remote"
    remote.mkdir()
    (p.root / ".dvc" / "config.local").write_text(f"[core]\n    remote = team\n['remote \"team\"']\n    url = {remote}\n")
    p.ok("init")
    p.commit_all("mlver init")

    def stored() -> set[str]:
        return {f.parent.name + f.name for f in (remote / "files" / "md5").glob("*/*")}

    one = p.ok("push", "churn@v0.0.1", "--json").json()
    assert (one["objects"], one["transferred"]) == (1, 1) and stored() == {reg.md5["churn@v0.0.1"]}
    every = p.ok("push", "--json").json()
    # v0.1.1 was deregistered: not a released version any more, so not pushed.
    expected = {reg.md5[v] for v in ("churn@v0.0.1", "churn@v0.1.0", "customers@v1.0.0", "sub/proj:nested@v0.0.1")}
    assert (every["objects"], every["transferred"], every["present"]) == (4, 3, 1)
    assert stored() == expected and reg.md5["churn@v0.1.1"] not in stored()

    clone = isolate / "clone"
    subprocess.run(["git", "clone", "-q", str(p.root), str(clone)], check=True)
    subprocess.run(["git", "checkout", "-q", reg.commits[1]], cwd=clone, check=True)  # churn@v0.1.0
    (clone / ".dvc" / "config.local").write_text((p.root / ".dvc" / "config.local").read_text())
    pulled = subprocess.run([sys.executable, "-m", "dvc", "pull"], cwd=clone, capture_output=True, text=True)
    assert pulled.returncode == 0, pulled.stderr
    assert (clone / "models/churn.pkl").read_bytes() == churn_model(2)
    assert (clone / "data/customers.csv").read_text() == "id,plan\n1,a\n2,b\n"
    assert hashlib.md5((clone / "sub/proj/model.bin").read_bytes()).hexdigest() == reg.md5["sub/proj:nested@v0.0.1"]


def test_a_monorepo_model_never_puts_a_colon_in_a_path(gto_registry: tuple[Project, GtoRegistry], isolate: Path,
                                                       gto_cli: Gto) -> None:
    """`sub/proj:nested` recorded, released, shown, pushed, pulled, verified:
    every file mlver writes is named without ':' (not allowed on Windows)."""
    p, reg = gto_registry
    p.ok("init")
    p.commit_all("mlver init")
    (p.root / "sub/proj/model.bin").write_bytes(b"retrained nested model\n" * 40)
    subprocess.run([sys.executable, "-m", "dvc", "add", "-q", "sub/proj/model.bin"], cwd=p.root, check=True)
    p.commit_all("retrain nested")
    recorded = p.ok("record", "sub/proj:nested", "--json").json()
    assert recorded["path"] == ".mlver/records/sub/proj=nested.json"
    released = p.ok("release", "sub/proj:nested", "--json").json()
    assert released["tag"] == "sub/proj=nested@v0.1.0"  # GTO's tag form, after GTO's v0.0.1
    assert p.ok("show", "sub/proj:nested@v0.1.0", "--json").json()["record"]["derived"] is False
    assert [e["kind"] for e in p.ok("log", "sub/proj:nested", "--json").json()][:2] == ["release", "record"]
    status = p.mlver("status", "--offline", "--json")
    assert status.exit_code == 1 and "sub/proj:nested" in [m["model"] for m in status.json()["models"]]
    pushed = p.ok("push", "--json").json()
    assert pushed["objects"] >= 5
    verified = p.ok("verify", "--all", "--json").json()
    assert verified["ok"] and verified["findings"] == []
    p.ok("pull", "sub/proj:nested@v0.0.1")  # the default destination: the artifact's own path
    assert hashlib.md5((p.root / "sub/proj/model.bin").read_bytes()).hexdigest() == reg.md5["sub/proj:nested@v0.0.1"]
    p.ok("card", "sub/proj:nested@v0.1.0", "-o", str(isolate / "card.md"))
    # Stages and diffs take the monorepo name too, and GTO reads the tags they write.
    p.ok("promote", "sub/proj:nested@v0.0.1", "staging")
    p.ok("promote", "sub/proj:nested@v0.1.0", "staging")
    p.ok("rollback", "sub/proj:nested", "staging")
    ours = {m["model"]: m for m in p.ok("ls", "--json").json()}
    assert ours["sub/proj:nested"]["stages"]["staging"] == "v0.0.1"
    assert _stages(gto_cli.json(p.root, "show"))["sub/proj:nested"] == ours["sub/proj:nested"]["stages"]
    diffed = p.ok("diff", "sub/proj:nested@v0.0.1", "sub/proj:nested@v0.1.0", "--json").json()
    assert [d["model"] for d in diffed] == ["sub/proj:nested"] and diffed[0]["artifact"]["changed"]
    p.ok("review", "--base", "HEAD~2", "-o", str(isolate / "review.md"), "--plots", str(isolate / "plots"))
    tree = p.git("ls-tree", "-r", "--name-only", "HEAD").splitlines()
    written = [str(f.relative_to(p.root)) for f in p.root.rglob("*") if ".git" not in f.parts]
    written += [f.name for f in (isolate / "plots").glob("*")]
    assert [f for f in tree + written if ":" in f] == [] and ".mlver/records/sub/proj=nested.json" in tree


RESOLVED = ["churn", "churn@v0.0.1", "churn@v0.1.0", "churn@v0.1.1", "churn@v9.9.9", "churn#prod", "churn#staging",
            "churn#canary", "churn#nope", "sub/proj:nested", "sub/proj:nested#dev", "sub/proj:nested@v0.0.1",
            "customers@v1.0.0", "segment", "segment@v0.4.1"]


def _answer(fn: Any, *args: Any) -> tuple[str, ...]:
    try:
        return tuple(str(x) for x in fn(*args)[1:3])
    except MlverError as exc:
        return (type(exc).__name__,)


def _remote(url: str, bare: Path, text: str) -> tuple[str, ...]:
    try:
        _, commit, version, _ = resolve_remote(url, bare, text)
    except MlverError as exc:
        return (type(exc).__name__,)
    return commit, str(version)


def test_local_signed_and_remote_resolving_agree(gto_registry: tuple[Project, GtoRegistry], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """One resolver: a reference answered in a clone (``resolve``), signed-only
    (``resolve_trusted``) and with no clone (``pull --repo``'s ``resolve_remote``,
    from ``git ls-remote``) points at the same commit and version, or is refused
    the same way."""
    p, reg = gto_registry
    root = p.root
    # A stage GTO lets sit on a commit no version names, tagged a second after the last event.
    p.write("notes.txt", "a commit no version names\n")
    bare_commit = p.commit_all("no version here")
    env = {**os.environ, "GIT_COMMITTER_DATE": "@4000000000 +0000"}
    subprocess.run(["git", "tag", "-a", "churn#canary#9", "-m", "Assignment of churn to canary", bare_commit],
                   cwd=root, check=True, env=env)
    project = MlverProject.find(root, require_config=False)
    url = root.as_uri()
    bare = tmp_path / "no-clone.git"  # what pull --repo fetches tags into
    gitremote.init_bare(bare)

    local = {ref: _answer(resolve, project, ref) for ref in RESOLVED}
    assert local["churn#canary"] == (bare_commit, "None")
    assert local["churn#prod"] == (reg.commits[0], "v0.0.1")  # v0.1.1 held it, then was deregistered
    assert local["churn@v0.1.1"] == ("VersionNotFound",) and local["churn#nope"] == ("StageNotFound",)
    for ref in RESOLVED:
        assert _remote(url, bare, ref) == local[ref], ref
        assert _answer(resolve_trusted, project, ref) == local[ref], ref  # signing not required: the same

    # Signing required and no tag signed: every registry answer is refused, by both, naming the tag.
    monkeypatch.setenv(REQUIRE_ENV, "1")
    for ref in RESOLVED:
        refused = _answer(resolve_trusted, project, ref)
        assert refused == _remote(url, bare, ref), ref
        assert refused in {("TagNotTrusted",), ("VersionNotFound",), ("StageNotFound",)}, (ref, refused)
    assert _remote(url, bare, "churn#prod") == ("TagNotTrusted",)


def test_an_artifact_committed_to_git(isolate: Path, gto_cli: Gto) -> None:
    """example-gto's shape: ``models/churn.pkl`` is an ordinary git file (no
    ``.dvc``, no pipeline) that ``dvc.yaml`` declares and GTO registered. DVC
    reads it from the commit (``dvc artifacts get``); mlver derives its hash
    from the blob, pulls it from git (here and with --repo), and push, verify
    and status do not look for it in DVC storage."""
    root = isolate / "example-gto"
    root.mkdir()
    p = Project(root)
    p.git("init", "-q")
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=root, check=True)
    p.write("dvc.yaml", "artifacts:\n  churn:\n    type: model\n    path: models/churn.pkl\n")
    p.write("models/churn.pkl", "1st version")
    first = p.commit_all("Create models")
    gto_cli.write(root, "register", "churn", "HEAD", "--version", "v3.0.0")
    gto_cli.write(root, "assign", "churn", "--version", "v3.0.0", "--stage", "prod")
    p.write("models/churn.pkl", "2nd version")
    p.commit_all("Update model")
    gto_cli.write(root, "register", "churn", "HEAD", "--version", "v3.1.0")

    shown = p.ok("show", "churn#prod", "--json").json()["record"]
    assert shown["commit"] == first and shown["doc"]["derived_from"]["artifact"] == "git"
    assert shown["doc"]["artifact"]["md5"] == hashlib.md5(b"1st version").hexdigest()
    assert shown["doc"]["artifact"]["size"] == 11
    human = p.ok("show", "churn#prod").stdout  # what a commit cannot say is a dash, not Python's None
    assert "None" not in human and "remote -" in human and "python -" in human
    d = p.ok("diff", "churn@v3.0.0", "churn@v3.1.0", "--json").json()[0]
    assert d["artifact"]["changed"]

    subprocess.run([sys.executable, "-m", "dvc", "artifacts", "get", str(root), "churn", "--stage", "prod",
                    "-o", str(isolate / "dvc.pkl")], cwd=isolate, check=True, capture_output=True)
    pulled = p.ok("pull", "churn#prod", "-o", str(isolate / "mlver.pkl"), "--json").json()
    assert pulled["version"] == "v3.0.0" and pulled["derived"] is True
    assert (isolate / "mlver.pkl").read_bytes() == (isolate / "dvc.pkl").read_bytes() == b"1st version"
    p.ok("pull", "churn", "--repo", root.as_uri(), "-o", str(isolate / "repo.pkl"))
    assert (isolate / "repo.pkl").read_bytes() == b"2nd version"

    p.ok("init")
    p.commit_all("mlver init")
    assert p.ok("push", "--json").json()["objects"] == 0  # git holds it: nothing for DVC storage
    checked = p.ok("verify", "--all", "--json").json()
    assert checked["ok"] and checked["findings"] == []
    assert any("committed to git" in n for n in checked["notes"])
    assert p.git("status", "--porcelain") == ""
    # The workspace holds what GTO released last: nothing was trained, nothing is pending.
    assert "churn@v3.1.0's artifact" in p.ok("status").stderr
    p.write("models/churn.pkl", "3rd version")
    assert "trained, not recorded" in p.fails("status", code=1).stdout


def test_a_record_file_cannot_claim_to_be_derived(trained: Project) -> None:
    """push, verify and gc skip the artifact of derived lineage that git holds:
    a committed record saying it is derived would hide its own artifact."""
    import json

    path = trained.root / ".mlver" / "records" / "churn.json"
    doc = json.loads(path.read_text())
    doc.update(derived=True, derived_from={"artifact": "git", "stages": [], "metrics": []})
    from mlver.domain.record import dumps, seal

    path.write_text(dumps(seal(doc)))
    trained.commit_all("a record that says it was derived")
    found = trained.mlver("verify", "--json")
    assert found.exit_code == 1
    finding = found.json()["findings"][0]  # (the rest: trained never pushed)
    assert "derived" in finding["problem"] and "refused" in finding["problem"]
    assert "derived" in trained.fails("push").stderr


def test_artifacts_declared_in_gto_artifacts_yaml(isolate: Path, gto_cli: Gto) -> None:
    """GTO's own index, ``artifacts.yaml`` (before DVC had ``artifacts:``; GTO
    1.x still reads it): mlver lists what GTO lists, registered or not, and
    derives a version's lineage from the path declared there."""
    import yaml

    root = isolate / "gto-index"
    root.mkdir()
    p = Project(root)
    p.git("init", "-q")
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=root, check=True)
    p.write("models/nn.pkl", "a net")
    subprocess.run([sys.executable, "-m", "dvc", "add", "-q", "models/nn.pkl"], cwd=root, check=True)
    p.write("artifacts.yaml", "nn:\n  type: model\n  path: models/nn.pkl\n  description: A net\n"
                              "raw:\n  type: dataset\n  path: data/raw.csv\n")
    p.commit_all("declare with GTO")
    gto_cli.write(root, "register", "nn", "HEAD")
    gto = gto_cli.json(root, "show")
    ours = {m["model"]: m for m in p.ok("ls", "--json").json()}
    assert set(ours) == set(gto) == {"nn", "raw"}
    assert (ours["nn"]["latest"], ours["raw"]["latest"]) == (gto["nn"]["version"], gto["raw"]["version"]) == ("v0.0.1", None)
    assert ours["raw"]["type"] == "dataset" and ours["nn"]["type"] == "model"
    doc = p.ok("show", "nn", "--json").json()["record"]["doc"]
    tracked = yaml.safe_load((root / "models/nn.pkl.dvc").read_text())["outs"][0]
    assert doc["derived"] and (doc["artifact"]["path"], doc["artifact"]["md5"]) == ("models/nn.pkl", tracked["md5"])
    card = p.ok("card", "nn").stdout
    assert "A net" in card and "None" not in card  # GTO's `description`; no Python None for an unknown environment
    (root / "artifacts.yaml").unlink()  # the commit's declaration, not the work tree's
    assert p.ok("show", "nn@v0.0.1", "--json").json()["record"]["doc"]["artifact"]["md5"] == tracked["md5"]
    # No remote at all, as in a fresh GTO project: the cache `dvc add` filled serves it, as `dvc checkout` would.
    pulled = p.ok("pull", "nn", "-o", str(isolate / "nn.pkl"), "--json").json()
    assert pulled["fetched"] == 0 and (isolate / "nn.pkl").read_text() == "a net"
    assert "unknown remote 'nope'" in p.fails("pull", "nn", "-r", "nope", "-o", str(isolate / "x.pkl")).stderr


def test_run_and_record_of_a_model_gto_keeps_at_a_url_say_what_works(gto_registry: tuple[Project, GtoRegistry],
                                                                     gto_cli: Gto) -> None:
    """example-gto's segment lives at s3://mycorp/...: `mlver record segment`
    said the model file "does not exist" with a hint about the training, and
    `mlver run segment` suggested a command that would end there too. Both
    say the path is not the project's and what works on it as it is."""
    p, _ = gto_registry
    p.ok("init")
    p.commit_all("mlver init")
    path = "s3://mycorp/proj-ml/segm-model-2022-04-15.pt"
    for verb in ("run", "record"):
        failed = p.fails(verb, "segment")
        error, hint = failed.stderr.strip().splitlines()
        assert error == f"error: cannot {verb} segment: its path {path} (dvc.yaml artifacts) is not a file of this project"
        assert hint.startswith("hint: its versions and stages work as they are (`mlver ls segment`, "
                               "`mlver promote segment@vX.Y.Z STAGE`)")
    assert p.git("status", "--porcelain") == ""
    p.ok("promote", "segment@v0.4.1", "prod")  # the hint's way works
    assert gto_cli.json(p.root, "show")["segment"]["stage"]["prod"] == "v0.4.1"
