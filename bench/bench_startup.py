"""Start-up cost: how long a user waits for commands that do almost nothing.

    .venv/bin/python bench/bench_startup.py [--runs 15]

Runs in a small generated registry (5 models, 10 versions) so `mlver ls`
measures start-up plus a trivial read. `python -c pass` is the interpreter
floor every Python CLI pays; `git --version` is the floor of a native tool.
"""
from __future__ import annotations

import argparse
import shutil
import sys

import benchlib as bl
import gen_registry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="start-up benchmark")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)

    home = bl.temp_home("startup")
    env = bl.isolated_env(home)
    header = bl.machine()
    repo = home / "repo"
    candidates: list[tuple[str, str | None, list[str]]] = [
        ("python -c pass", bl.PYTHON, ["-c", "pass"]),
        ("git --version", bl.tool("git"), ["--version"]),
        ("mlver --help", bl.tool("mlver"), ["--help"]),
        ("mlver ls", bl.tool("mlver"), ["ls"]),
        ("dvc --version", bl.tool("dvc"), ["--version"]),
        ("gto --help", bl.tool("gto"), ["--help"]),
    ]
    commands: list[tuple[str, list[str]]] = []
    for label, exe, rest in candidates:
        if exe is None:
            print(f"skip {label}: not installed", file=sys.stderr)
            continue
        commands.append((label, [exe, *rest]))
    try:
        gen_registry.generate(repo, models=5, versions=10)
        print(f"  {len(commands)} commands x {args.runs} runs ...", file=sys.stderr, flush=True)
        results = bl.measure_many(commands, repo, env, runs=args.runs)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    py = results.get("python -c pass")
    dvc = results.get("dvc --version")
    rows = [
        [f"`{label}`", t.note or bl.fmt_s(t.median), bl.fmt_s(t.best),
         bl.fmt_s(max(t.runs) if t.runs else None), bl.fmt_s(t.median_cpu),
         bl.fmt_ratio(t.median, py.median if py else None),
         bl.fmt_ratio(t.median, dvc.median if dvc else None)]
        for label, t in results.items()
    ]
    helped = results.get("mlver --help")
    h = helped.median if helped else None
    d = dvc.median if dvc else None
    t1 = None if h is None else h <= 0.25
    t2 = None if h is None or d is None else h < 0.5 * d

    text = "\n".join([
        "## Start-up",
        "",
        f"Machine: {header}. Median of {args.runs} runs after one warm-up, commands interleaved, "
        "cpu s = median user+sys; in a generated "
        "repository with 5 models and 10 versions.",
        "",
        bl.table(["command", "median s", "min s", "max s", "cpu s", "x python -c pass", "x dvc --version"], rows),
        "",
        "| target | result |",
        "|---|---|",
        f"| `mlver --help` median <= 0.25 s ({bl.fmt_s(h)} s) | {bl.verdict(t1)} |",
        f"| `mlver --help` < 0.5x `dvc --version` ({bl.fmt_ratio(h, d)}) | {bl.verdict(t2)} |",
    ])
    bl.report("startup", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
