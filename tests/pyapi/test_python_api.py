"""The Python API: the same verbs, records and errors as the CLI."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import mlver
from conftest import Project
from mlver.errors import MlverError


def test_import_is_cheap() -> None:
    code = ("import sys, mlver; mlver.ls; mlver.record; "
            "heavy = [m for m in ('dvc', 'pandas', 'sklearn', 'boto3', 'git') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_models_load_per_module_and_every_renderer_names_a_model() -> None:
    """`from mlver.models import X` builds only X's module; the CLI's renderers
    are keyed by class name, so a renamed class must fail here, not in a user's run."""
    code = ("import sys; from mlver.models import ModelSummary; import mlver.models as m; "
            "from mlver.cli import render as r; "
            "loaded = sorted(k for k in sys.modules if k.startswith('mlver.models.')); "
            "keys = [k for k in [*r._RENDERERS, *r._LIST_RENDERERS] if k not in m.__all__]; "
            "every = all(getattr(m, n).__name__ == n for n in m.__all__); "
            "print(loaded, keys, every and m.__all__ == sorted(m._WHERE), ModelSummary.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["['mlver.models.registry']", "[]", "True", "mlver.models.registry"]


def test_verbs_return_the_cli_dataclasses(trained: Project) -> None:
    [summary] = mlver.ls(repo=trained.root)
    assert isinstance(summary, mlver.models.ModelSummary) and summary.latest == "v0.1.0"
    events = mlver.log("churn", repo=trained.root)
    assert [e.kind for e in events] == ["release", "record"]
    shown = mlver.show("churn@v0.1.0", repo=trained.root)
    assert shown.record.intact and shown.versions == ("v0.1.0",)
    assert json.loads(trained.ok("show", "churn@v0.1.0", "--json").stdout)["record"]["doc"] == shown.record.doc
    [d] = mlver.diff("churn@v0.1.0", "churn@HEAD", repo=trained.root)
    assert d.status == "unchanged"


def test_cli_and_api_write_identical_records(project: Project, template, isolate) -> None:
    import shutil

    twin = Project(isolate / "twin")
    shutil.copytree(project.root, twin.root, symlinks=True)
    for p in (project, twin):
        subprocess.run([sys.executable, "train.py"], cwd=p.root, check=True)
    project.ok("record", "churn")
    result = mlver.record("churn", repo=twin.root)
    assert isinstance(result, mlver.models.RecordResult)
    a = json.loads((project.root / ".mlver/records/churn.json").read_text())
    b = json.loads((twin.root / ".mlver/records/churn.json").read_text())
    for doc in (a, b):
        del doc["created"], doc["digest"]
    assert a == b


def test_api_errors_are_the_cli_errors(trained: Project) -> None:
    with pytest.raises(MlverError) as caught:
        mlver.release("churn", repo=trained.root)
    cli = trained.fails("release", "churn")
    assert f"error: {caught.value.message}\nhint: {caught.value.hint}\n" == cli.stderr
    with pytest.raises(mlver.errors.InvalidName):
        mlver.show("a b", repo=trained.root)
    with pytest.raises(mlver.errors.ArgumentsNotApplicable, match="only apply when recording an estimator"):
        mlver.record("churn", data=["x"], repo=trained.root)
