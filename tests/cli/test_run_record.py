"""run and record: the lineage record and its all-or-nothing commit."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import yaml

from conftest import Project, make_csv
from mlver.domain import record as rec


def _record(p: Project) -> dict:
    return json.loads((p.root / ".mlver/records/churn.json").read_text())


def test_run_records_lineage_and_commits_only_outputs(project: Project) -> None:
    code_commit = project.git("rev-parse", "HEAD").strip()
    run = project.ok("run", "churn", "--json")
    result = run.json()
    record = _record(project)
    assert rec.is_intact(record) and record["digest"] == result["digest"]
    assert record["schema"] == rec.SCHEMA and record["model"] == "churn"
    assert record["code"]["commit"] == code_commit and record["code"]["clean"]
    assert record["code"]["command"] == "python train.py" and record["code"]["exit_code"] == 0
    assert record["params"] == {"train.lr": 0.1, "train.epochs": 3}
    assert record["metrics"] == {"accuracy": 0.5102, "rows": 200}
    dvc_md5 = yaml.safe_load((project.root / "data/train.csv.dvc").read_text())["outs"][0]["md5"]
    [data] = record["data"]
    assert data["path"] == "data/train.csv" and data["md5"] == dvc_md5
    assert data["profile"]["rows"] == 200
    assert [c["name"] for c in data["profile"]["columns"]] == ["age", "income", "plan", "churned"]
    model_md5 = yaml.safe_load((project.root / "models/churn.pkl.dvc").read_text())["outs"][0]["md5"]
    assert record["artifact"] == {"path": "models/churn.pkl", "md5": model_md5, "size": 2048, "nfiles": 1, "remote": "mlver-local"}
    assert record["author"] == {"name": "Test User", "email": "test@example.com"}
    assert record["parent"] is None
    assert set(record["env"]["packages"]) >= {"mlver", "dvc", "pandas"}
    # The record commit holds nothing but mlver's outputs, and sits on the code.
    assert project.git("rev-parse", "HEAD~1").strip() == code_commit
    changed = set(project.git("show", "--name-only", "--format=", "HEAD").split())
    assert changed == {".mlver/records/churn.json", "models/churn.pkl.dvc", "models/.gitignore", "metrics.json"}
    assert project.git("status", "--porcelain", "--untracked-files=no") == ""
    # Training output went to stderr; stdout is the result alone.
    assert run.stdout.lstrip().startswith("{")


def test_second_run_links_parent(project: Project) -> None:
    first = project.ok("run", "churn", "--json").json()
    project.set_params(lr=0.2)
    project.commit_all("tune lr")
    project.ok("run", "churn")
    record = _record(project)
    assert record["parent"] == {"commit": first["commit"], "digest": first["digest"]}
    assert record["params"]["train.lr"] == 0.2


def test_run_refuses_dirty_tree_unless_allowed(project: Project) -> None:
    project.write("train.py", (project.root / "train.py").read_text() + "\n# tweak\n")
    run = project.fails("run", "churn")
    assert "uncommitted changes: train.py" in run.stderr and "--allow-dirty" in run.stderr
    project.ok("run", "churn", "--allow-dirty")
    code = _record(project)["code"]
    assert code["clean"] is False and code["dirty_files"] == ["train.py"]
    assert len(code["diff_sha256"]) == 64
    # The dirty source file itself is not swept into the record commit.
    assert "train.py" not in project.git("show", "--name-only", "--format=", "HEAD").split()


def test_run_refuses_changed_data(project: Project) -> None:
    project.write("data/train.csv", make_csv(201))
    run = project.fails("run", "churn")
    assert "data data/train.csv has changed since it was committed" in run.stderr
    assert "mlver data add data/train.csv" in run.stderr
    # A new hash that is tracked but not committed is refused too.
    project.ok("data", "add", "data/train.csv")
    run = project.fails("run", "churn", "--allow-dirty")
    assert "data/train.csv.dvc" in run.stderr


def test_training_failure_records_nothing(project: Project) -> None:
    project.set_params(fail=True)
    project.commit_all("break training")
    run = project.fails("run", "churn")
    assert "exit code 3" in run.stderr and "nothing was recorded" in run.stderr


def test_model_file_absent_after_training(project: Project) -> None:
    project.set_params(skip_model=True)
    project.commit_all("no model")
    run = project.fails("run", "churn", outputs=("metrics.json",))
    assert "model file models/churn.pkl does not exist" in run.stderr


def test_metrics_and_params_malformed(project: Project) -> None:
    project.write("params.yaml", "train: {lr: [\n")
    project.commit_all("bad params")
    assert "params file params.yaml is malformed" in project.fails("run", "churn").stderr
    project.set_params()
    project.commit_all("good params")
    project.ok("run", "churn")  # writes metrics.json
    project.write("metrics.json", "{not json")
    project.commit_all("bad metrics file committed")
    head = project.git("rev-parse", "HEAD").strip()
    run = project.mlver("record", "churn")
    assert run.exit_code == 2 and "metrics file metrics.json is malformed" in run.stderr
    assert project.git("rev-parse", "HEAD").strip() == head


def test_params_and_metrics_that_are_not_text_are_said_so(project: Project) -> None:
    """Bytes that are not UTF-8, or a folder where the file belongs: exit 2 naming the file, never a crash."""
    project.ok("run", "churn")
    project.write("params.yaml", b"\xff\xfe\x00\x01")
    project.commit_all("params as binary")
    assert "params file params.yaml is not UTF-8 text" in project.fails("run", "churn").stderr
    assert "params file params.yaml is not UTF-8 text (byte 0)" in project.fails("status").stderr
    project.set_params()
    project.commit_all("good params")
    project.write("metrics.json", b"\xff\xfe\x00")
    assert "metrics file metrics.json is not UTF-8 text" in project.fails("record", "churn").stderr
    (project.root / "metrics.json").unlink()
    (project.root / "metrics.json").mkdir()
    assert "metrics file metrics.json: file 'metrics.json' is refused: it is a folder, not a file" in project.fails("record", "churn").stderr


def test_unknown_model(project: Project) -> None:
    run = project.fails("run", "nope")
    assert "unknown model 'nope' (known: churn)" in run.stderr


def test_record_model_trained_outside(project: Project) -> None:
    subprocess.run([sys.executable, "train.py"], cwd=project.root, check=True)
    result = project.ok("record", "churn", "--json").json()
    record = _record(project)
    assert record["digest"] == result["digest"]
    assert record["code"]["exit_code"] is None and record["code"]["command"] == "python train.py"
    # Nothing trained since: the same record, no second commit; `mlver run` trains, so it records.
    head = project.git("rev-parse", "HEAD").strip()
    again = project.ok("record", "churn", "--json").json()
    assert again["unchanged"] and (again["commit"], again["digest"]) == (head, result["digest"])
    assert project.git("rev-parse", "HEAD").strip() == head and project.git("status", "--porcelain") == ""
    ran = project.ok("run", "churn", "--json").json()
    assert not ran["unchanged"] and ran["commit"] != head and _record(project)["parent"]["commit"] == head


def test_failure_midway_leaves_nothing(project: Project) -> None:
    """The record file cannot be written: the .dvc file dvc add wrote is rolled back."""
    (project.root / ".mlver").mkdir()
    (project.root / ".mlver/records").write_text("in the way")
    project.commit_all("a file where the records folder goes")
    before = project.state()
    run = project.mlver("run", "churn")
    assert run.exit_code == 2, run.stderr
    assert run.stderr.startswith("error: could not write .mlver/records/churn.json")
    after = project.state()
    # metrics.json and the model file are the training's own outputs; mlver's are gone.
    assert after["head"] == before["head"] and after["tags"] == before["tags"]
    assert not (project.root / "models/churn.pkl.dvc").exists()
    assert not (project.root / "models/.gitignore").exists()


def test_ctrl_c_during_training_leaves_nothing(project: Project) -> None:
    before = project.state()
    started = project.root.parent / "training-started"  # outside the repository
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlver", "run", "churn", "--", "sh", "-c", f"touch {started}; sleep 30"],
        cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        # As from a shell: SIGINT not ignored, whatever an earlier in-process `dvc repro` left in this worker.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 60  # a loaded machine can take a while to start mlver
    while not started.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert started.exists(), "the training never started"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err
    assert err.decode().rstrip().endswith(
        "error: interrupted; nothing was recorded (what the training wrote before it stopped stays as it left it)")
    assert project.state() == before


def test_written_files_get_the_usual_mode(project: Project) -> None:
    """Atomic writes go through mkstemp (0600); what lands must be readable like any file."""
    # The process's own umask (mlver reads it once: it never changes it, nor should a test).
    with open("/proc/self/status") as status:
        mask = int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    project.ok("run", "churn")
    for path in (".mlver/records/churn.json", "models/churn.pkl.dvc", "models/.gitignore", "mlver.yaml"):
        assert (project.root / path).stat().st_mode & 0o777 == 0o666 & ~mask, path


def test_metrics_file_missing_after_training(project: Project) -> None:
    project.write("train.py", (project.root / "train.py").read_text().replace('"metrics.json"', '"elsewhere.json"'))
    project.commit_all("metrics written elsewhere")
    run = project.fails("run", "churn", outputs=("elsewhere.json", "models/"))
    assert "metrics file metrics.json does not exist" in run.stderr


def test_traceback_only_on_request(project: Project) -> None:
    quiet = project.mlver("run", "nope")
    assert quiet.exit_code == 2 and "Traceback" not in quiet.stderr
    loud = project.mlver("--traceback", "run", "nope")
    assert loud.exit_code == 2 and "Traceback (most recent call last)" in loud.stderr
    assert loud.stderr.rstrip().endswith("hint: declare it with `mlver model add nope --path ...`, or see `mlver ls`")


def test_no_git_identity(project: Project, monkeypatch) -> None:
    (project.root.parent / "env" / "home" / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(project.root.parent / "env" / "home" / ".gitconfig"))
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    run = project.fails("run", "churn", outputs=("metrics.json", "models/"))
    assert "git config --global user.name" in run.stderr
