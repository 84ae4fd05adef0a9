"""mlver.sklearn: record estimators from Python, load them back anywhere."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlver
import mlver.sklearn
from conftest import Project
from mlver import errors


def _record(p: Project, name: str) -> dict:
    return json.loads((p.root / f".mlver/records/{name}.json").read_text())


def _cancer(p: Project):
    frame = load_breast_cancer(as_frame=True).frame.iloc[:, [0, 1, 2, 3, -1]]
    p.write("data/cancer.csv", frame.to_csv(index=False))
    p.ok("data", "add", "data/cancer.csv")
    p.commit_all("cancer data")
    X, y = frame.drop(columns="target"), frame["target"]
    return train_test_split(X, y, random_state=0, test_size=0.3)


def test_classifier_record_release_load_in_fresh_process(project: Project) -> None:
    X_train, X_test, y_train, y_test = _cancer(project)
    model = LogisticRegression(C=0.5, max_iter=2000).fit(X_train, y_train)
    result = mlver.record("cancer", model=model, data=["data/cancer.csv"], metrics={"business.cost": 12},
                          X=X_test, y=y_test, repo=project.root)
    doc = _record(project, "cancer")
    assert doc["digest"] == result.digest
    assert doc["params"]["C"] == 0.5 and doc["params"]["max_iter"] == 2000
    assert set(doc["metrics"]) == {"accuracy", "f1", "roc_auc", "business.cost"}
    assert doc["metrics"]["accuracy"] == pytest.approx(model.score(X_test, y_test), abs=1e-6)
    assert [i["name"] for i in doc["signature"]["inputs"]] == list(X_train.columns)
    assert doc["signature"]["inputs"][0]["dtype"] == "float64" and doc["signature"]["task"] == "classification"
    assert doc["framework"]["estimator"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert doc["env"]["packages"]["scikit-learn"] == doc["framework"]["version"]
    assert doc["data"][0]["path"] == "data/cancer.csv" and doc["data"][0]["profile"]["rows"] == 569
    # The declaration made on the way is part of the record commit, nothing else is.
    changed = set(project.git("show", "--name-only", "--format=", "HEAD").split())
    assert changed == {".mlver/records/cancer.json", "models/cancer.joblib.dvc", "models/.gitignore", "mlver.yaml", "dvc.yaml"}
    assert project.git("status", "--porcelain", "--untracked-files=no") == ""
    mlver.release("cancer", repo=project.root)
    project.ok("push")

    expected = model.predict_proba(X_test)[:, 1]
    X_test.to_csv(project.root.parent / "x_test.csv", index=False)
    script = textwrap.dedent(f"""
        import json, pandas as pd, mlver.sklearn
        model = mlver.sklearn.load("cancer@v0.1.0", repo={str(project.root)!r})
        X = pd.read_csv({str(project.root.parent / 'x_test.csv')!r})
        print(json.dumps(model.predict_proba(X)[:, 1].tolist()))
    """)
    (project.root / "models/cancer.joblib").unlink()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=project.root.parent)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == expected.tolist()


def test_regressor_metrics(project: Project) -> None:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = Ridge(alpha=0.3).fit(X[:300], y[:300])
    mlver.sklearn.record(model, "diabetes", X=X[300:], y=y[300:], repo=project.root)
    doc = _record(project, "diabetes")
    assert set(doc["metrics"]) == {"r2", "mae", "rmse"}
    assert doc["params"]["alpha"] == 0.3 and doc["signature"]["task"] == "regression"


def test_pipeline_with_column_transformer(project: Project) -> None:
    frame = pd.DataFrame({"age": np.arange(60) % 40 + 20.0, "plan": list("abc") * 20, "y": [0, 1] * 30})
    pipe = Pipeline([
        ("prep", ColumnTransformer([("num", StandardScaler(), ["age"]), ("cat", OneHotEncoder(), ["plan"])])),
        ("clf", LogisticRegression(C=2.0)),
    ]).fit(frame[["age", "plan"]], frame["y"])
    mlver.sklearn.record(pipe, "pipe", X=frame[["age", "plan"]], y=frame["y"], repo=project.root)
    params = _record(project, "pipe")["params"]
    assert params["clf__C"] == 2.0 and params["steps"] == ["prep", "clf"]
    assert params["prep__transformers"] == ["num", "cat"] and params["prep__num__with_mean"] is True
    assert params["prep"] == "ColumnTransformer"
    inputs = _record(project, "pipe")["signature"]["inputs"]
    assert inputs == [{"name": "age", "dtype": "float64"}, {"name": "plan", "dtype": str(frame["plan"].dtype)}]
    json.dumps(params)  # everything JSON


def test_load_warns_on_another_sklearn(project: Project) -> None:
    X, y = load_diabetes(return_X_y=True)
    mlver.sklearn.record(Ridge().fit(X, y), "reg", repo=project.root)
    path = project.root / ".mlver/records/reg.json"
    doc = json.loads(path.read_text())
    doc["framework"]["version"] = "0.24.2"
    from mlver.domain import record as rec

    path.write_text(rec.dumps(rec.seal(doc)))
    project.commit_all("pretend an older sklearn trained it")
    with pytest.warns(mlver.sklearn.VersionMismatchWarning, match="0.24.2"):
        mlver.sklearn.load("reg@HEAD", repo=project.root)


def test_bad_input(project: Project) -> None:
    X, y = load_diabetes(return_X_y=True)
    fitted = Ridge().fit(X, y)
    before = project.state()
    cases = [
        (lambda: mlver.sklearn.record(object(), "m", repo=project.root), errors.NotAnEstimator, "not a scikit-learn estimator"),
        (lambda: mlver.sklearn.record(Ridge(), "m", repo=project.root), errors.NotFitted, "has not been fitted"),
        (lambda: mlver.sklearn.record(fitted, "m", metrics={"acc": "high"}, repo=project.root), errors.InvalidMetric, "'acc'"),
        (lambda: mlver.sklearn.record(fitted, "m", data=["data/raw.csv"], repo=project.root), errors.DataNotTracked, "not tracked by DVC"),
        (lambda: mlver.sklearn.record(fitted, "a b", repo=project.root), errors.InvalidName, "invalid model name"),
        (lambda: mlver.record("m", model=fitted, X=X, repo=project.root), errors.ArgumentsTogether, "both X and y"),
        (lambda: mlver.sklearn.record(fitted, "m", format="pickle", repo=project.root), errors.UnknownChoice, "'pickle'"),
    ]
    project.write("data/raw.csv", "a\n1\n")
    project.commit_all("raw")
    before = project.state()
    for call, kind, needle in cases:
        with pytest.raises(kind, match=needle) as caught:
            call()
        assert caught.value.hint
        assert project.state() == before


def test_uncommitted_script_is_refused_then_recorded_as_dirty(project: Project) -> None:
    script = textwrap.dedent("""
        import sys
        import mlver.sklearn
        from sklearn.datasets import load_diabetes
        from sklearn.linear_model import Ridge
        X, y = load_diabetes(return_X_y=True)
        try:
            mlver.sklearn.record(Ridge().fit(X, y), "nb", allow_dirty=sys.argv[1] == "dirty")
        except mlver.errors.MlverError as exc:
            print("refused:", exc.message)
    """)
    project.write("notebook.py", script)  # not committed, like a fresh notebook
    clean = subprocess.run([sys.executable, "notebook.py", "strict"], cwd=project.root, capture_output=True, text=True)
    assert "refused: tracked files have uncommitted changes: notebook.py" in clean.stdout, clean.stderr
    dirty = subprocess.run([sys.executable, "notebook.py", "dirty"], cwd=project.root, capture_output=True, text=True)
    assert dirty.returncode == 0, dirty.stderr
    code = _record(project, "nb")["code"]
    assert code["clean"] is False and code["dirty_files"] == ["notebook.py"]


def test_skops_format_round_trip(project: Project) -> None:
    X, y = load_diabetes(return_X_y=True)
    model = Ridge(alpha=0.7).fit(X, y)
    mlver.sklearn.record(model, "safe", format="skops", path="models/safe.skops", repo=project.root)
    doc = _record(project, "safe")
    assert doc["framework"]["format"] == "skops" and "skops" in doc["env"]["packages"]
    loaded = mlver.sklearn.load("safe@HEAD", repo=project.root)
    assert np.allclose(loaded.predict(X[:5]), model.predict(X[:5]))
