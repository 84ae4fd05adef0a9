"""The end-to-end demo: train, record, release, change, diff, push, pull, prove.

Runs the real `mlver` command in a temporary project, as a user would, on a
dataset that ships with scikit-learn and the default local-directory remote.
"""
from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

TRAIN_PY = '''\
"""Train a churn-style classifier; params from params.yaml, metrics to metrics.json."""
import json
import os
import pickle

import pandas as pd
import yaml
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split

params = yaml.safe_load(open("params.yaml"))["train"]
df = pd.read_csv("data/train.csv")
X, y = df.drop(columns="target"), df["target"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
model = RandomForestClassifier(
    n_estimators=params["n_estimators"], max_depth=params["max_depth"], random_state=params["seed"]
).fit(X_train, y_train)
proba = model.predict_proba(X_test)[:, 1]
pred = (proba >= 0.5).astype(int)
os.makedirs("models", exist_ok=True)
with open("models/churn.pkl", "wb") as fh:
    pickle.dump(model, fh)
with open("metrics.json", "w") as fh:
    json.dump({
        "accuracy": round(accuracy_score(y_test, pred), 4),
        "f1": round(f1_score(y_test, pred), 4),
        "roc_auc": round(roc_auc_score(y_test, proba), 4),
    }, fh, indent=2)
'''


def say(text: str) -> None:
    print(f"\n\033[1m## {text}\033[0m" if sys.stdout.isatty() else f"\n## {text}", flush=True)


def sh(*args: str, cwd: Path) -> str:
    print(f"$ {shlex.join(args)}", flush=True)
    proc = subprocess.run(args, cwd=cwd, text=True, capture_output=True)
    if proc.stdout:
        print(textwrap.indent(proc.stdout.rstrip(), "  "), flush=True)
    if proc.returncode != 0:
        print(textwrap.indent(proc.stderr.rstrip(), "  "), file=sys.stderr)
        raise SystemExit(f"demo step failed: {shlex.join(args)} (exit {proc.returncode})")
    return proc.stdout


def write_data(root: Path, rows: int | None, noise: float = 0.0) -> None:
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    if rows:
        frame = frame.iloc[:rows]
    if noise:
        rng = np.random.default_rng(0)
        frame = frame.copy()
        frame["mean radius"] = frame["mean radius"] + rng.normal(0, noise, len(frame))
    (root / "data").mkdir(exist_ok=True)
    frame.to_csv(root / "data" / "train.csv", index=False)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="mlver-demo-")) / "churn-project"
    root.mkdir()
    git = lambda *a: sh("git", *a, cwd=root)  # noqa: E731
    mlver = lambda *a: sh("mlver", *a, cwd=root)  # noqa: E731
    if not subprocess.run(["git", "config", "user.email"], capture_output=True, text=True).stdout.strip():
        os.environ.setdefault("GIT_AUTHOR_NAME", "mlver demo")
        os.environ.setdefault("GIT_AUTHOR_EMAIL", "demo@example.com")
        os.environ.setdefault("GIT_COMMITTER_NAME", "mlver demo")
        os.environ.setdefault("GIT_COMMITTER_EMAIL", "demo@example.com")

    say(f"A new project in {root}")
    mlver("init")
    write_data(root, rows=400)
    (root / "train.py").write_text(TRAIN_PY)
    (root / "params.yaml").write_text("train:\n  n_estimators: 50\n  max_depth: 4\n  seed: 0\n")
    mlver("data", "add", "data/train.csv")
    mlver("model", "add", "churn", "--path", "models/churn.pkl", "--data", "data/train.csv",
          "--params", "params.yaml", "--metrics", "metrics.json", "--command", "python train.py",
          "--desc", "Breast-cancer classifier standing in for churn")
    git("add", "-A")
    git("commit", "-q", "-m", "Train churn on the first 400 rows")

    say("Train, record and release v0.1.0")
    mlver("run", "churn")
    mlver("release", "churn")

    say("New data (all 569 rows, a noisier column) and a deeper forest")
    write_data(root, rows=None, noise=0.5)
    (root / "params.yaml").write_text("train:\n  n_estimators: 120\n  max_depth: 8\n  seed: 0\n")
    mlver("data", "add", "data/train.csv")
    git("add", "-A")
    git("commit", "-q", "-m", "More data, deeper forest")
    mlver("run", "churn")
    mlver("release", "churn")

    say("The registry, the audit trail, and what changed")
    mlver("ls")
    mlver("log", "churn")
    mlver("diff", "churn@v0.1.0", "churn@v0.2.0")

    say("Push to the default local remote, then lose every local copy")
    mlver("push")
    record = json.loads(subprocess.run(["mlver", "show", "churn@v0.1.0", "--json"], cwd=root,
                                       capture_output=True, text=True, check=True).stdout)["record"]["doc"]
    shutil.rmtree(root / ".dvc" / "cache")
    (root / "models" / "churn.pkl").unlink()
    (root / "data" / "train.csv").unlink()
    print("  deleted .dvc/cache, models/churn.pkl and data/train.csv")

    say("Pull v0.1.0 back, with its data, and prove it")
    mlver("pull", "churn@v0.1.0", "--with-data")
    got = hashlib.md5((root / "models" / "churn.pkl").read_bytes()).hexdigest()
    data = hashlib.md5((root / "data" / "train.csv").read_bytes()).hexdigest()
    want, want_data = record["artifact"]["md5"], record["data"][0]["md5"]
    print(f"  model md5 {got}  recorded {want}  {'OK' if got == want else 'MISMATCH'}")
    print(f"  data  md5 {data}  recorded {want_data}  {'OK' if data == want_data else 'MISMATCH'}")
    if got != want or data != want_data:
        raise SystemExit("demo failed: the pulled files do not match the record")

    say("Done")
    print(f"  The project is at {root}: try `cd {root} && mlver show churn` or `gto show`.")


if __name__ == "__main__":
    main()
