"""Registries of 1,000 to 100,000 versions: verify, and one-model commands.

    .venv/bin/python bench/bench_scale.py [--runs 3] [--sizes 1000,10000,100000] [--cache /tmp/mlver-bench-scale]

Repositories come from gen_registry.py through bench_registry.ensure_repo
(100 models), cached under --cache between runs (100,000 versions take
~25 s to generate; the suite never builds them). Anchors, measured in the
same run and interleaved with mlver:

* `verify --all --offline` (cold: its caches in .git/mlver removed first;
  warm: run again) against one `git cat-file --batch` of the same record
  specs in history order. Linear means its seconds per version stay flat
  from 1,000 to 100,000.
* one-model commands at the largest size, packed and loose refs, against
  `git for-each-ref 'refs/tags/M@*' 'refs/tags/M#*'` and `git tag -a`.
  Writes (release, promote, deprecate, rollback) are undone after each run;
  `record` runs in a copy that is also a DVC project, with a 1 MB model.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import benchlib as bl
from bench_registry import ensure_repo

MODEL = "m042"
VERIFY = ["verify", "--all", "--offline"]


def _specs(repo: Path) -> Path:
    """The record specs verify reads (at every version and stage tag), oldest tag first."""
    from mlver.domain import tags
    from mlver.domain.tags import Action

    out = subprocess.run(["git", "for-each-ref", "--sort=taggerdate", "--format=%(*objectname) %(refname:strip=2)",
                          "refs/tags"], cwd=repo, capture_output=True, text=True, check=True).stdout
    seen: dict[str, None] = {}
    for line in out.splitlines():
        commit, _, name = line.partition(" ")
        parsed = tags.parse(name)
        if parsed is not None and parsed.action in (Action.REGISTER, Action.ASSIGN):
            seen.setdefault(f"{commit}:.mlver/records/{parsed.model}.json")
    path = repo / ".git" / "bench-specs"
    path.write_text("".join(f"{s}\n" for s in seen))
    return path


def _interleave(steps: list[tuple[str, Callable[[], tuple[float, float, int]]]], runs: int) -> dict[str, list[tuple[float, float, int]]]:
    results: dict[str, list[tuple[float, float, int]]] = {label: [] for label, _ in steps}
    for _ in range(runs):
        for label, step in steps:
            results[label].append(step())
    return results


def _med(samples: list[tuple[float, float, int]], i: int) -> float:
    return statistics.median(s[i] for s in samples)


def _verdicts(wall: float, cpu: float, limit: float) -> str:
    """The wall-clock verdict, and the CPU one beside it when they differ: on
    a loaded 2-core machine wall time is mostly other people's work."""
    if (wall < limit) == (cpu < limit):
        return bl.verdict(wall < limit)
    return f"{bl.verdict(wall < limit)} (wall); {bl.verdict(cpu < limit)} (cpu)"


def _sh(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def verify_rows(sizes: list[int], runs: int, cache: Path, env: dict[str, str], mlver: str) -> tuple[list[list[str]], list[str]]:
    rows, checks = [], []
    per_version = {}
    for size in sizes:
        repo = ensure_repo(size, False, False, cache)
        specs = _specs(repo)
        print(f"  verify at {size:,} versions x {runs} ...", file=sys.stderr, flush=True)

        # Each closure binds this size's repository: they run before the loop moves on,
        # and the defaults say so to the reader (and to ruff's B023).
        def anchor(repo: Path = repo, specs: Path = specs) -> tuple[float, float, int]:
            return bl.run_rusage(["sh", "-c", f"git cat-file --batch < {specs} > /dev/null"], repo, env)

        def cold(repo: Path = repo) -> tuple[float, float, int]:
            shutil.rmtree(repo / ".git" / "mlver", ignore_errors=True)
            return bl.run_rusage([mlver, *VERIFY], repo, env)

        def warm(repo: Path = repo) -> tuple[float, float, int]:
            return bl.run_rusage([mlver, *VERIFY], repo, env)

        got = _interleave([("anchor", anchor), ("cold", cold), ("warm", warm)], runs)
        a = _med(got["anchor"], 0)
        for label, name in (("anchor", "`git cat-file --batch` of the record specs, history order"),
                            ("cold", "`mlver verify --all --offline`, first run"),
                            ("warm", "`mlver verify --all --offline`, again")):
            s = got[label]
            rows.append([name, f"{size:,}", bl.fmt_s(_med(s, 0)), bl.fmt_s(_med(s, 1)),
                         f"{max(x[2] for x in s) / 1024:.0f}", bl.fmt_ratio(_med(s, 0), a)])
        per_version[size] = _med(got["cold"], 1) / size
        if size == max(sizes):
            c, w = got["cold"], got["warm"]
            checks.append(f"| first run within 2x of the anchor at {size:,} ({bl.fmt_ratio(_med(c, 0), a)} wall, "
                          f"{bl.fmt_ratio(_med(c, 1), _med(got['anchor'], 1))} cpu) | {bl.verdict(_med(c, 0) <= 2 * a)} |")
            peak = max(x[2] for x in c) / 1024
            checks.append(f"| first run peak RSS < 300 MiB ({peak:.0f} MiB) | {bl.verdict(peak < 300)} |")
            checks.append(f"| second run < 1 s ({bl.fmt_s(_med(w, 0))} s wall, {bl.fmt_s(_med(w, 1))} s cpu) "
                          f"| {_verdicts(_med(w, 0), _med(w, 1), 1.0)} |")
    low, high = min(sizes), max(sizes)
    growth = per_version[high] / per_version[low]
    checks.append(f"| linear: cpu s per version at {high:,} / at {low:,} = {growth:.2f} (<= 1.5) | {bl.verdict(growth <= 1.5)} |")
    return rows, checks


def _record_copy(repo: Path, cache: Path, env: dict[str, str], mlver: str) -> Path:
    """A copy of ``repo`` that is a DVC project with model `rec` declared."""
    copy = cache / f"{repo.name}-dvc"
    if not (copy / ".dvc").is_dir():
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(repo, copy, symlinks=True)
        shutil.rmtree(copy / ".git" / "mlver", ignore_errors=True)
        _sh([bl.tool("dvc") or "dvc", "init", "-q", "-f"], copy, env)  # (the generator leaves a .dvc/config)
        _sh([mlver, "model", "add", "rec", "--path", "models/rec.bin"], copy, env)
        _sh(["git", "add", "-A"], copy, env)
        _sh(["git", "commit", "-qm", "declare rec"], copy, env)
    return copy


def model_rows(size: int, runs: int, cache: Path, env: dict[str, str], mlver: str) -> tuple[list[list[str]], list[str]]:
    rows, checks = [], []
    for loose in (False, True):
        repo = ensure_repo(size, loose, False, cache)
        kind = "loose refs" if loose else "packed refs"
        limit = 0.5 if loose else 0.3
        print(f"  one-model commands at {size:,} versions, {kind} x {runs} ...", file=sys.stderr, flush=True)
        _sh([mlver, "log", MODEL], repo, env)  # the record history index, once (its first build walks every commit)

        def tags_of(where: Path) -> set[str]:
            return set(_sh(["git", "for-each-ref", "--format=%(refname:strip=2)", f"refs/tags/{MODEL}@*",
                            f"refs/tags/{MODEL}#*", "refs/tags/rec@*"], where, env).split())

        def run(*args: str, where: Path = repo, setup: Callable[[], None] | None = None,
                reset: bool = False) -> Callable[[], tuple[float, float, int]]:
            """One timed run; the tags it made (and with ``reset`` the commit ``setup`` made) undone after."""
            def step() -> tuple[float, float, int]:
                before = tags_of(where)
                if setup:
                    setup()
                result = bl.run_rusage(list(args), where, env)
                made = sorted(tags_of(where) - before)
                if made:
                    _sh(["git", "tag", "-d", *made], where, env)
                if reset:
                    _sh(["git", "reset", "-q", "--hard", "HEAD~1"], where, env)
                return result
            return step

        def new_record(repo: Path = repo) -> None:
            """A commit with a new record of MODEL (another seed, re-sealed), not released yet."""
            from mlver.domain import record as rec

            path = repo / ".mlver" / "records" / f"{MODEL}.json"
            doc = json.loads(path.read_text())
            doc["params"]["train.seed"] = -1
            path.write_text(rec.dumps(rec.seal(doc)))
            _sh(["git", "commit", "-qam", f"record {MODEL} again"], repo, env)

        dvc_repo = _record_copy(repo, cache, env, mlver)

        def record(dvc_repo: Path = dvc_repo) -> tuple[float, float, int]:
            (dvc_repo / "models").mkdir(exist_ok=True)
            (dvc_repo / "models" / "rec.bin").write_bytes(os.urandom(1 << 20))
            return bl.run_rusage([mlver, "record", "rec"], dvc_repo, env)

        steps = [
            ("anchor: git for-each-ref M@* M#*", run("git", "for-each-ref", f"refs/tags/{MODEL}@*", f"refs/tags/{MODEL}#*")),
            ("anchor: git tag -a", run("git", "tag", "-a", f"{MODEL}@v999.0.0", "-m", "x", "HEAD")),
            (f"mlver show {MODEL}", run(mlver, "show", MODEL)),
            (f"mlver show {MODEL}#prod --at", run(mlver, "show", f"{MODEL}#prod", "--at", "2026-01-02")),
            (f"mlver log {MODEL}", run(mlver, "log", MODEL)),
            (f"mlver release {MODEL}", run(mlver, "release", MODEL, setup=new_record, reset=True)),
            (f"mlver promote {MODEL}@v0.1.0 qa", run(mlver, "promote", f"{MODEL}@v0.1.0", "qa")),
            (f"mlver deprecate {MODEL}#prod", run(mlver, "deprecate", f"{MODEL}#prod")),
            (f"mlver rollback {MODEL} prod", run(mlver, "rollback", MODEL, "prod")),
            ("mlver record rec (1 MB)", record),
        ]
        got = _interleave(steps, runs)
        anchor = _med(got["anchor: git for-each-ref M@* M#*"], 0)
        for label, samples in got.items():
            rows.append([f"`{label}`", f"{size:,} {kind}", bl.fmt_s(_med(samples, 0)), bl.fmt_s(_med(samples, 1)),
                         bl.fmt_ratio(_med(samples, 0), anchor)])
            if label.startswith("mlver"):
                checks.append(f"| `{label}` < {limit} s with {kind} ({bl.fmt_s(_med(samples, 0))} s wall, "
                              f"{bl.fmt_s(_med(samples, 1))} s cpu) | {_verdicts(_med(samples, 0), _med(samples, 1), limit)} |")
    return rows, checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="registry scale benchmark")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/mlver-bench-scale"))
    parser.add_argument("--only", choices=("verify", "model"), default=None)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    mlver = bl.tool("mlver")
    if mlver is None:
        print("mlver is not installed", file=sys.stderr)
        return 2
    args.cache.mkdir(parents=True, exist_ok=True)
    home = bl.temp_home("scale")
    env = bl.isolated_env(home)
    header = bl.machine()
    try:
        vrows, vchecks = verify_rows(sizes, args.runs, args.cache, env, mlver) if args.only != "model" else ([], [])
        mrows, mchecks = model_rows(max(sizes), args.runs, args.cache, env, mlver) if args.only != "verify" else ([], [])
    finally:
        shutil.rmtree(home, ignore_errors=True)
    text = "\n".join([
        "## Registry scale: verify and one-model commands (bench_scale.py)", "",
        f"Machine: {header}. Median of {args.runs} interleaved runs (wall s, cpu s = user+sys with the git it "
        "runs; peak = largest RSS of the process and its children).", "",
        bl.table(["command", "versions", "wall s", "cpu s", "peak MiB", "x anchor"], vrows) if vrows else "", "",
        bl.table(["command", "versions", "wall s", "cpu s", "x for-each-ref"], mrows) if mrows else "", "",
        "| target | result |", "|---|---|", *vchecks, *mchecks,
    ])
    bl.report("scale", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
