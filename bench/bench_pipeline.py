"""A stage model's training: `mlver run` vs `dvc repro` plus the same commit by hand.

    .venv/bin/python bench/bench_pipeline.py [--rounds 5]

Two twin copies of DVC's tutorial pipeline (tests/fixtures/pipeline.py:
prepare -> featurize -> train -> evaluate, metrics into the DVC output
eval/) in a private HOME. Each round changes the same param in both and
commits it (untimed), then times

    mlver:  mlver run text-classifier
    manual: dvc repro train evaluate; git add dvc.lock; git commit -m ...

once for a train param (DVC reruns train and evaluate) and once for a
prepare param (all four stages). The data does not change between rounds,
so its profile comes from mlver's cache; the first record of a data
version also profiles it, timed apart in the last row. The two sides
alternate order per round, so drift in load favours neither.
Target: mlver within 1.1x of the manual steps, plus the profiling time.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import benchlib as bl

sys.path.insert(0, str(bl.ROOT / "tests"))
from fixtures.pipeline import PIPELINE_MODEL, build_pipeline  # noqa: E402

SCENARIOS = (("train.n_est", "train", "n_est", 50), ("prepare.split", "prepare", "split", 0.25))


def _sh(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"setup failed: {' '.join(argv)} in {cwd}\n{proc.stdout}{proc.stderr}")


def _set_param(root: Path, section: str, key: str, value: object) -> None:
    import yaml

    doc = yaml.safe_load((root / "params.yaml").read_text())
    doc[section][key] = value
    (root / "params.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def setup(base: Path, env: dict[str, str], mlver: str) -> tuple[Path, Path]:
    import os

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        ours, twin = base / "with-mlver", base / "by-hand"
        build_pipeline(ours)
        build_pipeline(twin)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    _sh([mlver, "model", "add", PIPELINE_MODEL, "--path", "model.pkl", "--stage", "train",
         "--metrics", "eval/metrics.json"], ours, env)
    _sh(["git", "commit", "-q", "-m", "declare"], ours, env)
    return ours, twin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    mlver, dvc = bl.tool("mlver"), bl.tool("dvc")
    if not mlver or not dvc:
        raise SystemExit("bench_pipeline: needs mlver and dvc in .venv")
    home = bl.temp_home("pipeline")
    env = bl.isolated_env(home)
    try:
        ours, twin = setup(home / "work", env, mlver)
        where = bl.machine()  # waits for a quieter machine before anything is timed
        # The first record profiles data/questions.csv (then cached by its hash).
        _set_param(ours, "train", "n_est", 49)
        _sh(["git", "commit", "-q", "-am", "warm"], ours, env)
        first = bl.measure("first", [mlver, "run", PIPELINE_MODEL], ours, env, runs=1, warmup=0)
        profile_cache = ours / ".dvc" / "tmp" / "mlver" / "profiles"
        rows, results = [], {}
        for label, section, key, start in SCENARIOS:
            m = bl.Timing("mlver run")
            h = bl.Timing("by hand")
            for i in range(args.rounds + 1):  # round 0 is a warm-up
                value = start + (i + 1) * (0.01 if isinstance(start, float) else 1)
                for root in (ours, twin):
                    _set_param(root, section, key, round(value, 4))
                    _sh(["git", "commit", "-q", "-am", f"{label}={value}"], root, env)
                sides = [("m", ours), ("h", twin)] if i % 2 == 0 else [("h", twin), ("m", ours)]
                for side, root in sides:
                    if side == "m":
                        wall, cpu = bl.run_timed([mlver, "run", PIPELINE_MODEL], root, env)
                        timing = m
                    else:
                        w1, c1 = bl.run_timed([dvc, "repro", "train", "evaluate"], root, env)
                        w2, c2 = bl.run_timed(["git", "add", "dvc.lock"], root, env)
                        w3, c3 = bl.run_timed(["git", "commit", "-q", "-m", "repro"], root, env)
                        wall, cpu, timing = w1 + w2 + w3, c1 + c2 + c3, h
                    if i:
                        timing.runs.append(wall)
                        timing.cpu.append(cpu)
            results[label] = (m, h)
            rows.append([f"{label} changed", bl.fmt_s(m.median), bl.fmt_s(h.median),
                         bl.fmt_ratio(m.median, h.median), bl.fmt_ratio(m.median_cpu, h.median_cpu)])
        # A new data version: the same run with the profile cache emptied, against a cached one.
        cold, warm = [], []
        for i in range(3):
            for cleared in (True, False):
                if cleared:
                    shutil.rmtree(profile_cache, ignore_errors=True)
                _set_param(ours, "train", "n_est", 200 + 2 * i + cleared)
                _sh(["git", "commit", "-q", "-am", "profile"], ours, env)
                (cold if cleared else warm).append(bl.run_timed([mlver, "run", PIPELINE_MODEL], ours, env)[0])
        profiling = statistics.median(cold) - statistics.median(warm)
        worst = max(m.median / h.median for m, h in results.values() if m.median and h.median)
        rows.append(["profiling a new data version (240 rows)", bl.fmt_s(profiling), "-", "-", "-"])
        text = "\n".join([
            "## pipeline: `mlver run` of a stage model vs `dvc repro` + `git add/commit`",
            "",
            where,
            "",
            f"Medians of {args.rounds} interleaved rounds (wall seconds; ratio of CPU seconds beside it). "
            f"First run of the project (profiles the data): {bl.fmt_s(first.median)} s.",
            "",
            bl.table(["change", "mlver run", "dvc repro + git add + commit", "ratio", "cpu ratio"], rows),
            "",
            f"Target: within 1.1x, profiling apart: {bl.verdict(worst <= 1.1)} (worst {worst:.2f}x).",
        ])
        bl.report("pipeline", text)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
