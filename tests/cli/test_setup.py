"""init, data add, model add through the CLI on real repositories."""
from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from conftest import Project


def test_init_in_empty_folder(isolate: Path) -> None:
    root = isolate / "fresh"
    root.mkdir()
    p = Project(root)
    run = p.ok("init", "--json")
    info = run.json()
    assert info["created_git"] and info["created_dvc"]
    assert (root / ".git").is_dir() and (root / ".dvc").is_dir() and (root / "mlver.yaml").exists()
    # A storage folder of this project's own (a `dvc gc -c` here cannot reach another project's objects).
    storage = Path(info["remote_url"])
    assert storage.parent == Path(os.environ["XDG_DATA_HOME"]) / "mlver" / "projects" and storage.is_dir()
    assert storage.name.startswith("fresh-") and info["notes"] == []
    # The machine-specific remote is in the untracked config.local only.
    assert str(storage) in (root / ".dvc" / "config.local").read_text()
    assert str(storage) not in (root / ".dvc" / "config").read_text()
    assert "config.local" in (root / ".dvc" / ".gitignore").read_text()
    staged = p.git("diff", "--cached", "--name-only").split()
    assert "mlver.yaml" in staged and ".dvc/config" in staged
    assert run.stderr == ""
    # Twice is harmless.
    again = p.ok("init", "--json").json()
    assert not again["created_git"] and not again["created_dvc"] and again["remote_url"] == str(storage)


def test_data_add_tracks_and_stages(project: Project) -> None:
    project.write("data/extra.csv", "a,b\n1,2\n3,4\n")
    run = project.ok("data", "add", "data/extra.csv", "--json")
    [entry] = run.json()
    assert entry["path"] == "data/extra.csv" and entry["profiled"]
    dvcfile = yaml.safe_load((project.root / "data/extra.csv.dvc").read_text())
    assert dvcfile["outs"][0]["md5"] == entry["md5"]
    staged = project.git("diff", "--cached", "--name-only").split()
    assert "data/extra.csv.dvc" in staged and "data/.gitignore" in staged


def test_data_add_missing_path(project: Project) -> None:
    run = project.fails("data", "add", "data/nope.csv")
    assert "data/nope.csv does not exist" in run.stderr


def test_model_add_writes_dvc_artifacts_and_mlver_yaml(project: Project) -> None:
    dvc_yaml = yaml.safe_load((project.root / "dvc.yaml").read_text())
    assert dvc_yaml["artifacts"]["churn"] == {"path": "models/churn.pkl", "type": "model", "desc": "Churn classifier"}
    config = yaml.safe_load((project.root / "mlver.yaml").read_text())
    assert config["models"]["churn"] == {
        "path": "models/churn.pkl", "data": ["data/train.csv"], "params": "params.yaml",
        "metrics": "metrics.json", "command": "python train.py",
    }


def test_model_add_bad_input(project: Project) -> None:
    base = ["--path", "models/x.pkl", "--data", "data/train.csv"]
    for bad in ["../x", "a b", "x@y", "", "X"]:
        run = project.fails("model", "add", bad, *base)
        assert "invalid model name" in run.stderr
    assert "already declared" in project.fails("model", "add", "churn", *base).stderr
    assert "does not exist" in project.fails("model", "add", "m2", *base, "--params", "nope.yaml").stderr
    project.write("bad.yaml", "a: [1, 2\n")
    project.commit_all("bad params")
    assert "malformed" in project.fails("model", "add", "m2", *base, "--params", "bad.yaml").stderr
    project.write("data/raw.csv", "a\n1\n")
    project.commit_all("untracked by dvc")
    run = project.fails("model", "add", "m2", "--path", "m.pkl", "--data", "data/raw.csv")
    assert "not tracked by DVC" in run.stderr and "mlver data add data/raw.csv" in run.stderr
    assert "no stage" in project.fails("model", "add", "m2", "--path", "m.pkl", "--stage", "train").stderr
    assert "not both" in project.fails("model", "add", "m2", "--path", "m.pkl", "--command", "x", "--stage", "y").stderr


def test_not_a_git_repository(isolate: Path) -> None:
    elsewhere = isolate / "plain"
    elsewhere.mkdir()
    p = Project(elsewhere)
    for args in (["ls"], ["run", "churn"], ["release", "churn"], ["push"], ["pull", "churn@v0.1.0"]):
        run = p.mlver(*args)
        assert run.exit_code == 2, args
        assert run.stderr.startswith("error: not a git repository"), run.stderr
        assert "hint: run `mlver init`" in run.stderr
    assert not (elsewhere / ".git").exists()


def test_help_on_every_command() -> None:
    """A meta-test: every command and option explains itself."""
    from mlver.cli import cli

    def walk(group, prefix=()):
        for name, cmd in group.commands.items():
            yield prefix + (name,), cmd
            if hasattr(cmd, "commands"):
                yield from walk(cmd, prefix + (name,))

    from click.testing import CliRunner

    for path, cmd in walk(cli):
        assert cmd.help or cmd.short_help, f"mlver {' '.join(path)} has no help"
        shown = CliRunner().invoke(cli, [*path, "--help"]).output
        # click's no-rewrap marker is a backspace alone on its line; a literal "\\b" is printed as it is
        assert "\\b" not in shown and "\b" not in shown, f"mlver {' '.join(path)} --help shows click's \\b marker"
        for param in cmd.params:
            if param.param_type_name == "option":
                assert param.help, f"mlver {' '.join(path)} {param.opts} has no help"


def test_json_output_is_parseable(trained: Project) -> None:
    for args in (["ls"], ["log", "churn"], ["show", "churn"], ["diff", "churn@v0.1.0", "churn@HEAD"]):
        run = trained.ok(*args, "--json")
        json.loads(run.stdout)
