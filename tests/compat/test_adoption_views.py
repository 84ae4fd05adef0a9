"""What mlver shows of a DVC/GTO project it adopts agrees with GTO and DVC:
the registry rows `gto show` lists, apart from what is only declared; params
as a params file writes them; a model committed to git hashed once per blob."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fixtures.gto_registry import Gto

from conftest import Project


def _dvc(root: Path, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def _adopted(root: Path) -> Project:
    root.mkdir()
    p = Project(root)
    p.git("init", "-q")
    _dvc(root, "init", "-q")
    return p


def test_ls_lists_gto_rows_apart_from_declared_only(isolate: Path, gto_cli: Gto) -> None:
    """example-get-started's shape: a registered model and a dataset that
    dvc.yaml declares but nobody versioned (`gto show` leaves it out), plus a
    nested dvc.yaml and GTO's artifacts.yaml (whose unversioned entries
    `gto show` does list)."""
    p = _adopted(isolate / "get-started")
    p.write("dvc.yaml", "artifacts:\n  text-classification:\n    path: model.pkl\n    type: model\n"
                        "  stackoverflow-dataset:\n    path: data/data.xml\n    type: dataset\n"
                        "  draft:\n    path: draft.pkl\n    type: model\n")
    p.write("sub/dvc.yaml", "artifacts:\n  images:\n    path: images\n    type: dataset\n")
    p.write("artifacts.yaml", "legacy:\n  type: model\n  path: legacy.pkl\n")
    p.write("model.pkl", "a model")
    p.commit_all("declare")
    gto_cli.write(p.root, "register", "text-classification", "HEAD", "--version", "v1.0.0")
    gto_cli.write(p.root, "assign", "text-classification", "--version", "v1.0.0", "--stage", "prod")

    gto = gto_cli.json(p.root, "show")
    rows = {m["model"]: m for m in p.ok("ls", "--json").json()}
    listed = {n for n, m in rows.items() if m["registry"]}
    assert listed == set(gto) == {"text-classification", "legacy"}
    assert {n: (rows[n]["latest"], rows[n]["stages"]) for n in listed} == {
        n: (m["version"], {s: v for s, v in m["stage"].items() if v}) for n, m in gto.items()}
    assert {n: rows[n]["type"] for n in set(rows) - listed} == {
        "stackoverflow-dataset": "dataset", "draft": "model", "sub:images": "dataset"}

    human = p.ok("ls").stdout
    table, _, declared = human.partition("Declared, no version yet (not in `gto show`):")
    assert "text-classification" in table and "legacy" in table and declared
    for name in ("stackoverflow-dataset", "draft", "sub:images"):
        assert name not in table and name in declared
    assert "text-classification" not in declared
    told = " ".join(p.ok("ls", "--help").stdout.split())
    assert "section of their own" in told and '(`"registry": false` in --json)' in told


def test_list_params_read_as_the_params_file_writes_them(project: Project, isolate: Path) -> None:
    """example-get-started-experiments' ``test_regions: [REGION_1]``: every
    text of a list or mapping param (show, diff, card, ls NAME, lineage) is
    the flow form YAML and JSON both read back as the same value, never
    Python's ``['REGION_1']``; --json keeps real lists."""
    import yaml

    old = {"train.regions": ["REGION_1"], "train.layers": [64, 32], "train.steps": [{"lr": 0.1, "warm": True}]}
    project.set_params(regions=["REGION_1"], layers=[64, 32], steps=[{"lr": 0.1, "warm": True}])
    project.commit_all("list params")
    project.ok("run", "churn")
    project.ok("release", "churn")
    project.set_params(regions=["REGION_1", "REGION_2"], layers=[64, 32], steps=[{"lr": 0.1, "warm": True}])
    project.commit_all("two regions")
    project.ok("run", "churn")
    project.ok("release", "churn")

    shown = project.ok("show", "churn@v0.1.0", "--json").json()["record"]["doc"]["params"]
    assert {k: shown[k] for k in old} == old
    texts = {"show": project.ok("show", "churn@v0.1.0").stdout,
             "diff": project.ok("diff", "churn@v0.1.0", "churn@v0.2.0").stdout,
             "diff --md": project.ok("diff", "churn@v0.1.0", "churn@v0.2.0", "--md").stdout,
             "card": project.ok("card", "churn@v0.1.0").stdout,
             "ls": project.ok("ls", "churn").stdout,
             "lineage": project.ok("lineage", "churn@v0.1.0").stdout}
    for where, text in texts.items():
        assert "['" not in text and "[{'" not in text and "True" not in text, where
    assert 'train.regions=["REGION_1"]' in texts["show"] and "train.layers=[64, 32]" in texts["show"]
    assert 'train.steps=[{"lr": 0.1, "warm": true}]' in texts["show"]
    from mlver.formats import value

    for param in old.values():
        assert yaml.safe_load(value(param)) == json.loads(value(param)) == param
    [row] = [line for line in texts["diff"].splitlines() if "train.regions" in line]
    assert row.split(maxsplit=1)[1] == '["REGION_1"]  ["REGION_1", "REGION_2"]'
    assert '| `train.regions` | \\["REGION\\_1"\\] | \\["REGION\\_1", "REGION\\_2"\\] |' in texts["diff --md"]
    [changed] = project.ok("diff", "churn@v0.1.0", "churn@v0.2.0", "--json").json()[0]["params"]
    assert (changed["key"], changed["old"], changed["new"]) == ("train.regions", ["REGION_1"], ["REGION_1", "REGION_2"])
    rows = project.ok("ls", "churn", "--json").json()["rows"]
    assert [(p["old"], p["new"]) for r in rows for p in r["params_changed"]] == [(["REGION_1"], ["REGION_1", "REGION_2"])]
    assert 'train.regions ["REGION_1"]->["REGION_1", "REGION_2"]' in texts["ls"]
    assert '| train.steps | \\[{"lr": 0.1, "warm": true}\\] |' in texts["card"]
    assert "train.regions=#91;#34;REGION_1#34;#93;" in texts["card"]  # the card's lineage graph (mermaid entities)


def _git_log_wrapper(bindir: Path, log: Path) -> None:
    """A ``git`` first on PATH that logs each command line (and what a
    ``cat-file --batch`` is asked for, after it), then runs the real git."""
    import shutil

    real = shutil.which("git")
    bindir.mkdir()
    wrapper = bindir / "git"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\n'
                       f'if [ "$*" = "cat-file --batch" ]; then tee -a "{log}" | "{real}" "$@"; exit $?; fi\n'
                       f'exec "{real}" "$@"\n')
    wrapper.chmod(0o755)


def test_a_model_held_in_git_is_hashed_once_per_blob(isolate: Path, gto_cli: Gto, monkeypatch: Any) -> None:
    """example-gto's ``models/churn.pkl`` is a git file: every command derives
    its lineage again, but its md5 is read from .git/mlver/cache by blob id
    after the first time. Never stale: new content is a new id; a damaged or
    forged-looking entry is hashed again; a replace ref does not change what
    an id's content hashes to."""
    import hashlib

    p = _adopted(isolate / "example-gto")
    p.write("dvc.yaml", "artifacts:\n  churn:\n    type: model\n    path: models/churn.pkl\n")
    p.write("models/churn.pkl", b"1st version" * 1000)
    p.commit_all("Create models")
    gto_cli.write(p.root, "register", "churn", "HEAD", "--version", "v3.0.0")
    p.write("models/churn.pkl", b"2nd version" * 1000)  # same size, other bytes
    p.commit_all("Update model")
    gto_cli.write(p.root, "register", "churn", "HEAD", "--version", "v3.1.0")
    want = {v: hashlib.md5(c * 1000).hexdigest() for v, c in (("v3.0.0", b"1st version"), ("v3.1.0", b"2nd version"))}

    def md5(version: str) -> str:
        doc = p.ok("show", f"churn@{version}", "--json").json()["record"]["doc"]
        assert doc["artifact"]["size"] == 11000 and doc["derived_from"]["artifact"] == "git"
        return str(doc["artifact"]["md5"])

    log = isolate / "git.log"
    _git_log_wrapper(isolate / "bin", log)
    monkeypatch.setenv("PATH", f"{isolate / 'bin'}:{os.environ['PATH']}")
    assert {v: md5(v) for v in want} == want
    def reads() -> list[str]:
        """Every git command that read the model's content: its blob hashed, or its bytes asked of cat-file."""
        lines = log.read_text().splitlines()
        return [line for line in lines if "cat-file blob" in line or line.endswith(":models/churn.pkl")]

    assert len(reads()) == 2  # one per blob
    log.write_text("")
    assert {v: md5(v) for v in want} == want and reads() == []
    assert p.ok("diff", "churn@v3.0.0", "churn@v3.1.0", "--json").json()[0]["artifact"]["changed"]

    cache = Path(p.git("rev-parse", "--git-path", "mlver/cache/blob-md5.json").strip())
    cache = cache if cache.is_absolute() else p.root / cache
    oid = p.git("rev-parse", "churn@v3.0.0^{}:models/churn.pkl").strip()
    doc = json.loads(cache.read_text())
    assert doc["tables"]["md5"][oid] == [want["v3.0.0"], 11000]
    for damage in ("not json", json.dumps({**doc, "tables": {"md5": {oid: ["NOT-AN-MD5", 11000]}}}),
                   json.dumps({**doc, "tables": {"md5": {oid: [want["v3.0.0"], -1]}}}),
                   json.dumps({**doc, "tables": {"md5": {oid: [want["v3.0.0"], 5]}}})):  # not git's size for it
        cache.write_text(damage)
        assert md5("v3.0.0") == want["v3.0.0"], damage

    # A replace ref makes git show other bytes for the id: the id's own content is what was hashed.
    other = p.git("rev-parse", "churn@v3.1.0^{}:models/churn.pkl").strip()
    cache.unlink()
    p.git("replace", oid, other)
    assert md5("v3.0.0") == want["v3.0.0"]
    p.git("replace", "-d", oid)

    # New content at the same path and size: a new blob, a new md5.
    p.write("models/churn.pkl", b"3rd version" * 1000)
    p.commit_all("Retrain")
    gto_cli.write(p.root, "register", "churn", "HEAD", "--version", "v3.2.0")
    assert md5("v3.2.0") == hashlib.md5(b"3rd version" * 1000).hexdigest()
    assert {v: md5(v) for v in want} == want


def test_verify_a_gto_only_history_with_no_remote(isolate: Path, gto_cli: Gto) -> None:
    """example-gto as cloned: no mlver record, no DVC remote, models committed
    to git or kept at an s3:// URL, and a GTO history with a stage given back
    to an older version, an un-assignment, a deprecated version and a
    deprecated model, tags with and without messages. Nothing needs a remote,
    so verify asks none: sound, and saying what it could not check."""
    p = _adopted(isolate / "example-gto")
    p.write("dvc.yaml", "artifacts:\n  churn:\n    type: model\n    path: models/churn.pkl\n"
                        "  segment:\n    type: model\n    path: s3://mycorp/proj-ml/segm.pt\n")
    p.write("models/churn.pkl", "1st version")
    p.commit_all("Create models")
    gto = lambda *a: gto_cli.write(p.root, *a)  # noqa: E731
    gto("register", "churn", "HEAD", "--version", "v3.0.0", "-m", "")
    gto("register", "segment", "HEAD", "--version", "v0.4.1")
    gto("assign", "churn", "--version", "v3.0.0", "--stage", "prod")
    p.write("models/churn.pkl", "2nd version")
    p.commit_all("Update model")
    gto("register", "churn", "HEAD", "--version", "v3.1.0", "-m", "the second")
    for args in (["assign", "churn", "--version", "v3.1.0", "--stage", "prod"],
                 ["assign", "churn", "--version", "v3.0.0", "--stage", "prod", "--force"],  # back to the older one
                 ["assign", "churn", "--version", "v3.1.0", "--stage", "staging"],
                 ["deprecate", "churn", "v3.1.0", "staging"],  # un-assignment
                 ["deprecate", "churn", "v3.1.0"], ["deprecate", "segment"]):
        gto(*args)
    assert gto_cli.json(p.root, "show", "-d")["churn"]["stage"]["prod"] == "v3.0.0"

    checked = p.mlver("verify", "--all", "--json")
    assert checked.exit_code == 0, checked.stderr
    doc = checked.json()
    assert doc["ok"] and doc["findings"] == [] and doc["objects"] == 0 and doc["remote"] is None
    notes = " ".join(doc["notes"])
    assert "churn@v3.0.0" in notes and "committed to git" in notes and "no DVC hash" in notes
    assert "no remote was asked" in notes
    assert "no remote was asked" in p.ok("verify", "--all").stderr
    # Told a remote by name, verify still asks for it (and says it does not exist).
    assert "unknown remote 'nope'" in p.fails("verify", "--all", "-r", "nope").stderr


def test_deprecating_a_version_right_after_a_promote_reads_in_that_order(trained: Project, gto_cli: Gto) -> None:
    """`mlver promote` then `mlver deprecate` of that version, at once: GTO
    orders a deregistration before an assignment made in the same second,
    so each write takes a second of its own and `gto history` tells them in
    the order they were made, as `mlver log` does."""
    p = trained
    p.ok("promote", "churn@v0.1.0", "staging")
    p.ok("deprecate", "churn@v0.1.0")
    times = p.git("for-each-ref", "--format=%(creatordate:unix)", "refs/tags/churn#staging#*", "refs/tags/churn@v0.1.0!*")
    assert len(set(times.split())) == 2
    history = [e["ref"] for e in gto_cli.json(p.root, "history") if e["artifact"] == "churn"]
    assert history == [e["tag"] for e in p.ok("log", "churn", "--json").json() if e["kind"] != "record"]
    assert history[:2] == [t for t in p.git("tag", "--sort=-creatordate", "-l", "churn*").split()[:2]]


def test_verify_a_gto_version_kept_in_the_remote_its_commit_names(isolate: Path, gto_cli: Gto,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """example-get-started: the tutorial's versions were pushed to its public
    remote (``.dvc/config`` at their commits); a team that adopts it pushes
    to a remote of its own. verify checks each derived version in the remote
    asked, and one whose commit names another remote and whose objects are
    not there is a note saying so, not a missing object; a version whose
    commit names the remote asked is still checked in it."""
    p = _adopted(isolate / "get-started")
    public, team = isolate / "public-store", isolate / "team-store"
    p.write(".dvc/config", f"[core]\n    remote = public\n['remote \"public\"']\n    url = {public}\n")
    p.write("dvc.yaml", "artifacts:\n  text-classification:\n    path: model.pkl\n    type: model\n")
    p.write("model.pkl", "the tutorial's model")
    _dvc(p.root, "add", "-q", "model.pkl")
    p.commit_all("tutorial")
    gto_cli.write(p.root, "register", "text-classification", "HEAD", "--version", "v1.0.0")
    import hashlib

    theirs = hashlib.md5(b"the tutorial's model").hexdigest()
    (p.root / ".dvc" / "cache" / "files" / "md5" / theirs[:2] / theirs[2:]).unlink()  # a clone has not pulled it
    _dvc(p.root, "remote", "add", "-d", "-f", "team", str(team))
    p.write("model.pkl", "our model")
    _dvc(p.root, "add", "-q", "model.pkl")
    p.commit_all("ours, in our remote")
    gto_cli.write(p.root, "register", "text-classification", "HEAD", "--version", "v1.1.0")
    _dvc(p.root, "push", "-q")  # DVC pushes HEAD's objects to team

    from mlver.api import unrecorded

    configs_read: list[str] = []
    real = unrecorded.commit_remote
    monkeypatch.setattr(unrecorded, "commit_remote", lambda project, commit: configs_read.append(commit) or real(project, commit))
    doc = p.ok("verify", "--all", "--json").json()
    assert doc["ok"] and doc["findings"] == [] and doc["remote"] == "team" and doc["objects"] == 2
    # Only the version with an object missing here has its commit's .dvc/config read.
    assert configs_read == [p.git("rev-parse", "text-classification@v1.0.0^{}").strip()]
    assert any("v1.1.0" in n and "its artifact object is checked in the remote" in n for n in doc["notes"])
    # One true thing of v1.0.0: not checked, and where it is kept; never also "checked".
    [v100] = [n for n in doc["notes"] if "v1.0.0" in n]
    assert "not checked" in v100 and "checked in the remote" not in v100 and "not in remote team" in v100
    offline = p.ok("verify", "--all", "--offline", "--json").json()["notes"]
    assert any("v1.1.0" in n and "its artifact object is not checked (--offline)" in n for n in offline)
    assert not any("checked in the remote" in n for n in offline)
    [note] = [n for n in doc["notes"] if "remote public" in n]
    assert "text-classification@v1.0.0" in note and str(public) in note and "not checked" in note
    assert not any("v1.1.0" in n and "remote public" in n for n in doc["notes"])
    # mlver push sends what it has; the tutorial's objects are its public remote's, not lost: a note.
    p.write("model.pkl", "our second model")
    _dvc(p.root, "add", "-q", "model.pkl")
    p.commit_all("ours again")
    gto_cli.write(p.root, "register", "text-classification", "HEAD", "--version", "v1.2.0")
    p.ok("init")  # keeps the team's default remote
    p.commit_all("mlver init")
    pushed = p.ok("push", "--json").json()
    assert (pushed["transferred"], pushed["present"]) == (1, 1)
    [note] = pushed["notes"]
    assert "text-classification@v1.0.0 model.pkl" in note and f"remote public ({public})" in note
    assert "note: text-classification@v1.0.0 model.pkl" in p.ok("push").stdout
    asked = p.fails("push", "text-classification@v1.0.0")  # asked by name: it cannot be sent, an error
    assert "neither in the local cache nor in remote team" in asked.stderr
    assert p.ok("verify", "--all", "--json").json()["objects"] == 3
    ours = next(f for f in (team / "files" / "md5").rglob("*") if f.is_file() and f.read_bytes() == b"our model")
    ours.chmod(0o644)
    ours.unlink()
    failed = p.mlver("verify", "--all", "--json")
    assert failed.exit_code == 1
    assert [f["ref"] for f in failed.json()["findings"]] == ["text-classification@v1.1.0 model.pkl"]


def test_status_after_a_dvc_experiment_gives_fixes_that_run(pipeline: Project) -> None:
    """A recorded pipeline model, then `dvc exp run -S ...` in the workspace
    (example-get-started's experiments): status says what the experiment
    left, and its fix for the metrics, which a stage writes into a DVC output
    git does not track, is one DVC runs (`git checkout` of it fails)."""
    from fixtures.pipeline import PIPELINE_MODEL, declare, dvc

    p = pipeline
    declare(p)
    p.ok("run", PIPELINE_MODEL)
    dvc(p.root, "exp", "run", "-q", "-S", "train.n_est=5")
    def experiments() -> list[Any]:
        shown = json.loads(dvc(p.root, "exp", "show", "--json"))
        return [e for row in shown if row["rev"] != "workspace" for e in row.get("experiments") or ()]

    assert len(experiments()) == 1  # the experiment sits beside the recorded commit

    status = p.fails("status", "--json", code=1).json()
    [model] = status["models"]
    found = {x["kind"]: x for x in model["pending"]}
    assert {"trained", "params", "metrics"} <= set(found)
    fix = found["metrics"]["fix"]
    commands = [part.strip("` ") for part in fix.split("`")[1::2]]
    assert commands[0] == f"mlver record {PIPELINE_MODEL}" and "git checkout -- eval/metrics.json" not in commands
    undo = commands[-1]
    subprocess.run(undo, shell=True, cwd=p.root, check=True, capture_output=True)  # the fix as a user types it
    after = p.mlver("status", "--json").json()
    assert "metrics" not in {x["kind"] for m in after["models"] for x in m["pending"]}
    assert len(experiments()) == 1


def test_status_after_dvc_exp_run_set_param_says_to_commit_before_record(pipeline: Project) -> None:
    """`dvc exp run -S train.n_est=5` leaves params.yaml changed, and `mlver
    record` refuses a tracked file other than its own outputs uncommitted:
    status's fix for the trained model and its metrics says to commit it
    first, and doing just that records the experiment (its dvc.lock with it)."""
    from fixtures.pipeline import PIPELINE_MODEL, declare, dvc

    p = pipeline
    declare(p)
    p.ok("run", PIPELINE_MODEL)
    dvc(p.root, "exp", "run", "-q", "-S", "train.n_est=5")
    [model] = p.fails("status", "--json", code=1).json()["models"]
    found = {x["kind"]: x["fix"] for x in model["pending"]}
    assert found["trained"].startswith(f"commit params.yaml, then `mlver record {PIPELINE_MODEL}`")
    assert f"commit params.yaml, then `mlver record {PIPELINE_MODEL}`, or " in found["metrics"]
    assert "params.yaml" in p.fails("record", PIPELINE_MODEL).stderr  # what the fix is for
    p.git("commit", "-qm", "n_est 5", "params.yaml")
    p.ok("record", PIPELINE_MODEL)
    assert json.loads((p.root / f".mlver/records/{PIPELINE_MODEL}.json").read_text())["params"]["train.n_est"] == 5
    assert p.git("status", "--porcelain") == ""
    [model] = p.fails("status", "--json", code=1).json()["models"]  # (unreleased, not pushed: still pending)
    assert not {"trained", "metrics", "params"} & {x["kind"] for x in model["pending"]}


def test_status_fix_for_metrics_git_tracks(trained: Project) -> None:
    """The metrics file of a `--command` model is committed with its record: git puts it back."""
    recorded = json.loads((trained.root / "metrics.json").read_text())
    trained.write("metrics.json", json.dumps({**recorded, "accuracy": 1 / 3, "rows": recorded["rows"] + 1e-9}))
    [model] = trained.fails("status", "--json", code=1).json()["models"]
    [fix] = [x["fix"] for x in model["pending"] if x["kind"] == "metrics"]
    [what] = [x["detail"] for x in model["pending"] if x["kind"] == "metrics"]
    assert f"accuracy {recorded['accuracy']} -> 0.333333," in what  # as show and diff write them
    assert f"rows {recorded['rows']!r} -> {recorded['rows'] + 1e-9!r}" in what  # in full: 6 digits would not differ
    assert fix.endswith("`git checkout -- metrics.json`")
    subprocess.run(["git", "checkout", "--", "metrics.json"], cwd=trained.root, check=True)
    [model] = trained.fails("status", "--json", code=1).json()["models"]  # (objects not pushed: still pending)
    assert "metrics" not in [x["kind"] for x in model["pending"]]


def test_record_inside_dvc_exp_run_is_refused(pipeline: Project) -> None:
    """A stage that records (``mlver record`` after evaluate) run by `dvc exp
    run`: DVC runs it on a detached HEAD and commits the experiment on top,
    so a record commit made there is on no branch (it sat under the
    experiment's commit, and `mlver record` said "recorded in" it). Refused
    with the way out, which works: apply the experiment, commit, record."""
    import yaml
    from fixtures.pipeline import PIPELINE_MODEL, declare, dvc

    p = pipeline
    declare(p)
    p.ok("run", PIPELINE_MODEL)
    stages = yaml.safe_load((p.root / "dvc.yaml").read_text())
    # --allow-dirty: `-S` leaves params.yaml changed, and a record of a dirty tree would go ahead
    stages["stages"]["register"] = {"cmd": f"{sys.executable} -m mlver record {PIPELINE_MODEL} --allow-dirty",
                                    "deps": ["model.pkl", "eval"]}
    p.write("dvc.yaml", yaml.safe_dump(stages, sort_keys=False))
    p.commit_all("record after evaluate")
    head = p.git("rev-parse", "HEAD").strip()
    run = subprocess.run([sys.executable, "-m", "dvc", "exp", "run", "-S", "train.n_est=5", "-n", "five"], cwd=p.root,
                         capture_output=True, text=True)
    assert run.returncode != 0 and "cannot record text-classifier inside `dvc exp run` (experiment five)" in run.stderr
    assert "`dvc exp apply five`" in " ".join(run.stderr.split())
    assert p.git("rev-parse", "HEAD").strip() == head and p.git("symbolic-ref", "--short", "HEAD").strip() == "main"
    assert "mlver: record" not in p.git("log", "--all", f"{head}..", "--format=%s")
    assert "mlver: record" not in p.git("log", "-1", "--format=%s")

    del stages["stages"]["register"]
    p.write("dvc.yaml", yaml.safe_dump(stages, sort_keys=False))
    p.commit_all("record by hand")
    dvc(p.root, "exp", "run", "-q", "-S", "train.n_est=6", "-n", "six")
    dvc(p.root, "exp", "apply", "six")
    p.commit_all("apply six")
    p.ok("record", PIPELINE_MODEL)
    assert json.loads((p.root / ".mlver/records/text-classifier.json").read_text())["params"]["train.n_est"] == 6
    assert p.git("status", "--porcelain") == ""


def test_log_tells_events_of_one_second_in_gto_historys_order(gto_cli: Gto, isolate: Path) -> None:
    """Tags GTO or a script wrote within one second, in counter order unlike
    GTO's: `gto history` orders a second's events by kind (deprecation,
    registration, deregistration, assignment, un-assignment), and so does
    `mlver log` (it told them by counter)."""
    p = _adopted(isolate / "same-second")
    p.write("model.pkl", "a model")
    c1 = p.commit_all("one")
    p.write("model.pkl", "another")
    c2 = p.commit_all("two")
    p.write("model.pkl", "a third")
    c3 = p.commit_all("three")

    def tag(name: str, commit: str, when: int) -> None:
        env = {**os.environ, "GIT_COMMITTER_DATE": f"{when} +0000"}
        subprocess.run(["git", "tag", "-a", name, "-m", name, commit], cwd=p.root, check=True, env=env)

    t0 = 1_767_000_000
    tag("churn@v0.1.0", c1, t0)
    tag("churn@v0.2.0", c2, t0 + 1)
    tag("churn#prod#1", c1, t0 + 2)
    tag("churn@v0.1.0!#2", c1, t0 + 2)  # deregistered after the assignment, by counter, in its second
    tag("churn#dev!#4", c2, t0 + 3)  # an un-assignment made before the assignment it undoes
    tag("churn#dev#3", c2, t0 + 3)
    tag("churn#qa#5", c2, t0 + 4)
    tag("churn@deprecated#6", c2, t0 + 4)
    tag("churn#staging#7", c3, t0 + 5)  # assigned in the second the version is registered, tagged first
    tag("churn@v0.3.0", c3, t0 + 5)
    history = [e["ref"] for e in gto_cli.json(p.root, "history") if e["artifact"] == "churn"]
    assert history == [e["tag"] for e in p.ok("log", "churn", "--json").json()]
    assert history[:2] == ["churn#staging#7", "churn@v0.3.0"]


def test_run_a_dvc_yaml_model_names_the_stage_that_writes_it(pipeline: Project) -> None:
    """example-get-started adopted as it is: text-classifier is declared only
    in dvc.yaml's `artifacts:` and the train stage writes it. `mlver run`
    cannot guess how to train it, and the way it names is the stage, not a
    `python train.py` beside DVC; the named command works."""
    import shlex

    from fixtures.pipeline import PIPELINE_MODEL

    failed = pipeline.fails("run", PIPELINE_MODEL)
    assert "`python train.py`" not in failed.stderr
    [declare] = [c for c in failed.stderr.split("`")[1::2] if c.startswith("mlver model add")]
    assert declare == f"mlver model add {PIPELINE_MODEL} --path model.pkl --stage train"
    pipeline.ok(*shlex.split(declare)[1:])
    pipeline.commit_all("declare as told")
    pipeline.ok("run", PIPELINE_MODEL)
    # A model no stage writes (committed to git, as in example-gto): the command is the way.
    with open(pipeline.root / "dvc.yaml", "a") as fh:
        fh.write("  other:\n    path: other.pkl\n    type: model\n")
    pipeline.commit_all("another model")
    plain = pipeline.fails("run", "other").stderr
    assert "`mlver run other -- python train.py`" in plain and "--stage" not in plain


def test_verify_tells_each_gto_version_of_an_object_they_share(isolate: Path, gto_cli: Gto) -> None:
    """example-get-started: v1.1.0 and v1.2.0 hold one model.pkl (the commit
    between them only evaluated it), pushed to the tutorial's public remote.
    verify asks for the object once, and says of both versions that it is not
    in the remote asked but kept in the other, never "checked" of the second;
    a later version sharing it whose commit names the remote asked is missing it."""
    import hashlib

    p = _adopted(isolate / "get-started")
    public, team = isolate / "public-store", isolate / "team-store"
    p.write(".dvc/config", f"[core]\n    remote = public\n['remote \"public\"']\n    url = {public}\n")
    p.write("dvc.yaml", "artifacts:\n  text-classification:\n    path: model.pkl\n    type: model\n")
    p.write("model.pkl", "the tutorial's model")
    _dvc(p.root, "add", "-q", "model.pkl")
    p.commit_all("reproduce model using bigrams")
    gto_cli.write(p.root, "register", "text-classification", "HEAD", "--version", "v1.1.0")
    p.write("README.md", "evaluated\n")
    p.commit_all("evaluate bigrams model")
    gto_cli.write(p.root, "register", "text-classification", "HEAD", "--version", "v1.2.0")
    theirs = hashlib.md5(b"the tutorial's model").hexdigest()
    (p.root / ".dvc" / "cache" / "files" / "md5" / theirs[:2] / theirs[2:]).unlink()  # a clone has not pulled it
    _dvc(p.root, "remote", "add", "-d", "-f", "team", str(team))
    p.commit_all("our remote")

    doc = p.ok("verify", "--all", "--json").json()
    assert doc["ok"] and doc["findings"] == [] and doc["objects"] == 1
    for version in ("v1.1.0", "v1.2.0"):
        [note] = [n for n in doc["notes"] if f"text-classification@{version}" in n]
        assert "model.pkl: not in remote team" in note and f"remote public ({public})" in note, note
        assert "checked in the remote" not in note

    p.write("README.md", "adopted\n")
    p.commit_all("adopted: the same model, in our remote's care")
    gto_cli.write(p.root, "register", "text-classification", "HEAD", "--version", "v1.3.0")
    failed = p.mlver("verify", "--all", "--json")
    assert failed.exit_code == 1
    assert [f["ref"] for f in failed.json()["findings"]] == ["text-classification@v1.3.0 model.pkl"]


def test_diff_from_a_gto_version_commit_is_a_change_not_an_added_model(isolate: Path, gto_cli: Gto) -> None:
    """example-get-started's main sits on v1.2.0, a GTO version with no record:
    `mlver diff` of a branch that records the model compared it with nothing
    ("model added"). A commit a version tag names has that version's derived
    lineage, as `diff text-classification@v1.2.0 HEAD` shows it; any other
    commit without a record still has none."""
    p = _adopted(isolate / "get-started")
    p.write("dvc.yaml", "artifacts:\n  text-classification:\n    path: model.pkl\n    type: model\n")
    p.write("params.yaml", "train:\n  n_est: 50\n")
    p.write("train.py", "import yaml\nn = yaml.safe_load(open('params.yaml'))['train']['n_est']\n"
                        "open('model.pkl', 'w').write(f'trees {n}')\n")
    p.write("model.pkl", "trees 50")
    _dvc(p.root, "add", "-q", "model.pkl")
    tutorial = p.commit_all("the tutorial's model")
    gto_cli.write(p.root, "register", "text-classification", "HEAD", "--version", "v1.2.0")
    p.ok("init")
    p.ok("model", "add", "text-classification", "--path", "model.pkl", "--params", "params.yaml",
         "--command", "python train.py")
    p.write("params.yaml", "train:\n  n_est: 80\n")
    untagged = p.commit_all("adopt, more trees")
    p.ok("run", "text-classification")

    [d] = p.ok("diff", tutorial, "HEAD", "--json").json()
    assert d["status"] == "changed"
    assert any("derived from commit" in n and "text-classification@v1.2.0" in n for n in d["notes"])
    assert d["artifact"]["changed"]
    [by_ref] = p.ok("diff", "text-classification@v1.2.0", "HEAD", "--json").json()
    assert d["artifact"] == by_ref["artifact"]
    [plain] = p.ok("diff", untagged, "HEAD", "--json").json()  # no record, no version there: added
    assert plain["status"] == "added"
