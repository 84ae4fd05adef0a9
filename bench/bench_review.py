"""Pull request review: `mlver review` vs `dvc metrics diff` + `dvc params diff` + `dvc diff`.

    .venv/bin/python bench/bench_review.py [--runs 5] [--regenerate] [--rows 1000000]

One repository, cached in bench/out/review-repo (a stamp of this script and
the row count decides whether it is still valid), with 20 models whose data
are 1,000,000-row, 20-column CSVs:

* main: code, per model a params file, a metrics file (both declared to DVC in
  dvc.yaml's top-level `metrics:` and `params:`), a data `.dvc` file, the
  model's `.dvc` file, then a record commit with each model's lineage record;
* feature: the code and every model's learning rate change, every model's
  data becomes a second 1,000,000-row CSV (one column shifted by 1 sd, one
  column added), then a record commit with new records and metrics.

The two CSVs are real (bench_profile.make_csv, then shifted), profiled for
real by mlver's own profiler, and their md5 and size are written into the
data `.dvc` files exactly as `dvc add` writes them. The 20 models share those
two data versions; neither tool reads the data when it compares two git
revisions (both read the hashes from git), so the files are not copied 20
times (2.5 GB). Records are sealed with `mlver.domain.record.seal`, as
`mlver record` does. Remote objects for the `in_remote` gate are sparse files
of the recorded size: the gate only checks presence and size.

All gates of the review are on (metric min and max drop, max drift, in_remote,
intact) and pass, so `mlver review` exits 0 like the DVC commands. DVC's three
commands show strictly less: data by hash only, no rows, columns or drift.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import benchlib as bl

MODELS = 20
REPO = bl.OUT / "review-repo"
REMOTE = bl.OUT / "review-remote"
STAMP = "mlver-bench-stamp.json"


def _sh(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"setup failed: {' '.join(argv)} in {cwd}\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _csvs(tmp: Path, rows: int) -> list[tuple[str, int, dict]]:
    """(md5, size, profile) of the base CSV and of the shifted head CSV."""
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(bl.ROOT))
    from bench_profile import make_csv

    from mlver.adapters.tabular import profile_file

    base, head = tmp / "base.csv", tmp / "head.csv"
    make_csv(base, rows)
    frame = pd.read_csv(base)
    frame["f0"] = frame["f0"] + 1.0  # f0 ~ N(0, 1): shifted by one standard deviation
    frame["region"] = np.array(["north", "south", "east", "west"])[np.arange(len(frame)) % 4]
    frame.to_csv(head, index=False)
    return [(_md5(p), p.stat().st_size, profile_file(p)) for p in (base, head)]


def _dvcfile(md5: str, size: int, name: str) -> str:
    return f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: {name}\n"


def _record(i: int, head: bool, code_commit: str, data: tuple[str, int, dict], art: tuple[str, int],
            params: dict, metrics: dict, parent: dict | None) -> dict:
    from mlver.domain.record import flatten, record_path, seal

    name = f"m{i:02d}"
    return seal({
        "schema": 1, "model": name,
        "artifact": {"path": f"models/{name}.pkl", "md5": art[0], "size": art[1], "nfiles": 1, "remote": "mlver-local"},
        "code": {"commit": code_commit, "clean": True, "dirty_files": [], "diff_sha256": None,
                 "command": "python src/train.py", "exit_code": 0, "started": "2026-11-22T10:00:00Z", "duration_s": 42.0,
                 "outputs": sorted([record_path(name), f"models/{name}.pkl.dvc", "models/.gitignore", f"metrics/{name}.json"])},
        "data": [{"path": f"data/{name}.csv", "md5": data[0], "size": data[1], "nfiles": 1, "profile": data[2]}],
        "params": flatten(params), "metrics": metrics,
        "env": {"python": "3.11.7", "platform": "Linux", "packages": {"mlver": "0.1.0", "pandas": "3.1.1" if head else "3.0.0"}},
        "created": "2026-11-22T10:00:42Z", "author": {"name": "Bench", "email": "bench@example.com"},
        "parent": parent,
    })


def _write_side(repo: Path, env: dict[str, str], head: bool, data: tuple[str, int, dict], code_commit_msg: str) -> None:
    import yaml

    (repo / "src").mkdir(exist_ok=True)
    (repo / "src/train.py").write_text("import json\n# train every model\n" + ("# tuned learning rate\nLR = 0.05\n" if head else "LR = 0.1\n"))
    for i in range(MODELS):
        name = f"m{i:02d}"
        params = {"train": {"lr": 0.05 if head else 0.1, "depth": 6, "n_estimators": 200, "seed": i}}
        (repo / "params").mkdir(exist_ok=True)
        (repo / f"params/{name}.yaml").write_text(yaml.safe_dump(params))
        (repo / "data").mkdir(exist_ok=True)
        (repo / f"data/{name}.csv.dvc").write_text(_dvcfile(data[0], data[1], f"{name}.csv"))
    (repo / "data/.gitignore").write_text("".join(f"/m{i:02d}.csv\n" for i in range(MODELS)))
    _sh(["git", "add", "-A"], repo, env)
    _sh(["git", "commit", "-q", "-m", code_commit_msg], repo, env)
    code = _sh(["git", "rev-parse", "HEAD"], repo, env).strip()
    for i in range(MODELS):
        name = f"m{i:02d}"
        params = yaml.safe_load((repo / f"params/{name}.yaml").read_text())
        metrics = {"accuracy": round(0.85 + i / 1000 + (0.004 if head else 0), 6),
                   "auc": round(0.9 + i / 2000 - (0.002 if head else 0), 6), "loss": round(0.31 - (0.01 if head else 0), 6)}
        art = (hashlib.md5(f"{name}-{head}".encode()).hexdigest(), 5_000_000 + i * 1000 + head)
        (repo / "metrics").mkdir(exist_ok=True)
        (repo / f"metrics/{name}.json").write_text(json.dumps(metrics))
        (repo / "models").mkdir(exist_ok=True)
        (repo / f"models/{name}.pkl.dvc").write_text(_dvcfile(art[0], art[1], f"{name}.pkl"))
        path = repo / f".mlver/records/{name}.json"
        parent = None
        if path.exists():
            old = json.loads(path.read_text())
            parent = {"commit": _sh(["git", "log", "-1", "--format=%H", "--", str(path)], repo, env).strip(), "digest": old["digest"]}
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = _record(i, head, code, data, art, params, metrics, parent)
        path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        for md5, size in ((art[0], art[1]), (data[0], data[1])):  # sparse: the gate checks presence and size
            obj = REMOTE / "files" / "md5" / md5[:2] / md5[2:]
            obj.parent.mkdir(parents=True, exist_ok=True)
            with open(obj, "wb") as fh:
                fh.truncate(size)
    (repo / "models/.gitignore").write_text("".join(f"/m{i:02d}.pkl\n" for i in range(MODELS)))
    _sh(["git", "add", "-A"], repo, env)
    _sh(["git", "commit", "-q", "-m", "mlver: record all models"], repo, env)


def _configs(repo: Path) -> None:
    import yaml

    names = [f"m{i:02d}" for i in range(MODELS)]
    dvc_yaml = {"metrics": [f"metrics/{n}.json" for n in names], "params": [f"params/{n}.yaml" for n in names],
                "artifacts": {n: {"path": f"models/{n}.pkl", "type": "model"} for n in names}}
    (repo / "dvc.yaml").write_text(yaml.safe_dump(dvc_yaml, sort_keys=False))
    config = {"version": 1, "models": {n: {"path": f"models/{n}.pkl", "data": [f"data/{n}.csv"], "params": f"params/{n}.yaml",
                                            "metrics": f"metrics/{n}.json", "command": "python src/train.py"} for n in names},
              "review": {"drift_threshold": 0.2, "gates": {"*": {
                  "metrics": {"accuracy": {"min": 0.8, "max_drop": 0.01}}, "max_drift": 10.0, "in_remote": True, "intact": True}}}}
    (repo / "mlver.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def ensure_repo(rows: int, regenerate: bool, env: dict[str, str]) -> Path:
    want = {"rows": rows, "models": MODELS, "script": hashlib.sha256(Path(__file__).read_bytes()).hexdigest()}
    stamp = REPO / ".git" / STAMP
    if not regenerate and stamp.exists() and json.loads(stamp.read_text()) == want:
        return REPO
    for d in (REPO, REMOTE):
        shutil.rmtree(d, ignore_errors=True)
    REPO.mkdir(parents=True)
    print(f"  generating {MODELS} models on two {rows:,}-row CSVs ...", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        base, head = _csvs(Path(tmp), rows)
    _sh(["git", "init", "-q", "-b", "main"], REPO, env)
    _sh([bl.tool("mlver") or "mlver", "init", "--remote", str(REMOTE)], REPO, env)
    _configs(REPO)
    _write_side(REPO, env, False, base, "train 20 models")
    _sh(["git", "checkout", "-q", "-b", "feature"], REPO, env)
    _write_side(REPO, env, True, head, "tune the learning rate; new data")
    stamp.write_text(json.dumps(want))
    return REPO


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="review benchmark")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    mlver, dvc = bl.tool("mlver"), bl.tool("dvc")
    if mlver is None or dvc is None:
        print("skip bench_review: mlver or dvc is not installed", file=sys.stderr)
        return 0
    home = bl.temp_home("review")
    env = bl.isolated_env(home)
    try:
        repo = ensure_repo(args.rows, args.regenerate, env)
        header = bl.machine()
        dvc_cmds = [("dvc metrics diff main HEAD", [dvc, "metrics", "diff", "main", "HEAD"]),
                    ("dvc params diff main HEAD", [dvc, "params", "diff", "main", "HEAD"]),
                    ("dvc diff main HEAD", [dvc, "diff", "main", "HEAD"])]
        mlver_cmds = [("mlver review --base main", [mlver, "review", "--base", "main"]),
                      ("mlver review --base main --json", [mlver, "review", "--base", "main", "--json"]),
                      ("mlver diff main HEAD", [mlver, "diff", "main", "HEAD"])]
        print(f"  {len(dvc_cmds) + len(mlver_cmds)} commands x {args.runs} runs ...", file=sys.stderr, flush=True)
        t = bl.measure_many(mlver_cmds + dvc_cmds, repo, env, runs=args.runs)
        plots_dir = home / "plots"
        plots = bl.measure("mlver review --base main --plots DIR",
                           [mlver, "review", "--base", "main", "--plots", str(plots_dir)], repo, env, runs=3)
        report = json.loads(subprocess.run([mlver, "review", "--base", "main", "--json"], cwd=repo, env=env,
                                           capture_output=True, text=True).stdout)
        md_size = len(subprocess.run([mlver, "review", "--base", "main"], cwd=repo, env=env, capture_output=True).stdout)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    dvc_total = sum(t[label].median or 0 for label, _ in dvc_cmds)
    dvc_cpu = sum(t[label].median_cpu or 0 for label, _ in dvc_cmds)
    review = t["mlver review --base main"]
    rows = [[f"`{label}`", bl.fmt_s(x.median), bl.fmt_s(x.best), bl.fmt_s(x.median_cpu), bl.fmt_ratio(x.median, dvc_total)]
            for label, x in list(t.items()) + [(plots.label, plots)]]
    rows.append(["**the three dvc commands**", bl.fmt_s(dvc_total), "", bl.fmt_s(dvc_cpu), "1.00x"])
    ok_time = review.median is not None and review.median <= 1.0
    gates = report["gates"]
    drifted = sorted({c for d in report["diffs"] for x in d["data"] for c in ((x.get("profile") or {}).get("drifted_columns") or [])})
    text = "\n".join([
        f"## Pull request review ({MODELS} models, {args.rows:,}-row CSVs)",
        "",
        f"Machine: {header}. Median of {args.runs} runs after one warm-up, commands interleaved "
        "(plots: median of 3); cpu s = user+sys; ratio to the sum of the three DVC commands' medians.",
        "",
        bl.table(["command", "median s", "min s", "cpu s", "x dvc (3 commands)"], rows),
        "",
        f"What the review found: {sum(d['status'] == 'changed' for d in report['diffs'])} of {len(report['diffs'])} models changed, "
        f"{len(gates)} gates checked ({sum(not g['passed'] for g in gates)} failed), drift flagged in {', '.join(drifted) or 'no column'}; "
        f"the markdown report is {md_size:,} bytes.",
        "",
        "| target | result |",
        "|---|---|",
        f"| `mlver review` of 20 models on 1,000,000-row CSVs <= 1 s ({bl.fmt_s(review.median)} s) | {bl.verdict(ok_time)} |",
        f"| ratio to `dvc metrics diff` + `dvc params diff` + `dvc diff` | {bl.fmt_ratio(review.median, dvc_total)} |",
    ])
    bl.report("review", text)
    return 0 if ok_time else 1


if __name__ == "__main__":
    sys.exit(main())
