"""`mlver ls` at 100,000 versions, cold and warm (issue 12).

    .venv/bin/python bench/bench_ls_scale.py [--runs 5] [--regenerate]

The repository is bench_registry.py's (gen_registry.py: 100 models, 1,000
versions each, a stage tag every ten versions: 110,000 tags, packed), cached
under bench/out/registry-100000/. `mlver ls` keeps its rows in
.git/mlver/cache/ls-registry-2.bin, keyed by the state of the tag refs as
git stores them (the stat of packed-refs, refs/tags and every loose tag
file: git.tag_refs_state, no git run), or by the exact tag listing where
that state cannot be trusted (reftable, GIT_DIR, a change in the last 2 s).
"cold" deletes that file before every run (the first `ls` after any tag
changes); "warm" leaves it (every later `ls`). The floor is
`git show-ref -d --tags`, the one git call a cold `ls` needs (a warm one
runs none). Runs are interleaved; wall and cpu (user+sys with the git it
runs) medians, with the verdicts on both.
"""
from __future__ import annotations

import argparse
import shutil
import sys

import bench_registry
import benchlib as bl

VERSIONS, MODELS = 100_000, bench_registry.MODELS
CACHE = ".git/mlver/cache/ls-registry-2.bin"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mlver ls at 100,000 versions, cold and warm")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--against", metavar="DIR", help="also time the mlver package in DIR (another commit's "
                        "mlver/, e.g. `git archive main mlver | tar -x -C DIR`), interleaved: before/after")
    args = parser.parse_args(argv)
    mlver = bl.tool("mlver")
    if mlver is None:
        print("skip bench_ls_scale: needs mlver", file=sys.stderr)
        return 0
    home = bl.temp_home("ls-scale")
    env = bl.isolated_env(home)
    header = bl.machine()
    try:
        repo = bench_registry.ensure_repo(VERSIONS, False, args.regenerate)
        commands = [
            ("git show-ref -d --tags", ["git", "show-ref", "-d", "--tags"]),
            ("mlver ls, cold", ["sh", "-c", f'rm -f {CACHE} && exec "$0" ls', mlver]),
            ("mlver ls, warm", [mlver, "ls"]),
        ]
        if args.against:
            other = ["env", f"PYTHONPATH={args.against}", mlver]
            commands += [("mlver ls, cold (--against)", ["sh", "-c", f'rm -f {CACHE} && exec "$@" ls', "sh", *other]),
                         ("mlver ls, warm (--against)", [*other, "ls"])]
        print(f"  {len(commands)} commands x {args.runs} runs ...", file=sys.stderr, flush=True)
        timings = bl.measure_many(commands, repo, env, runs=args.runs)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    floor, cold, warm = (timings[label] for label, _ in commands[:3])
    rows = [[f"`{t.label}`", t.note or bl.fmt_s(t.median), bl.fmt_s(t.best), bl.fmt_s(t.median_cpu),
             str(len(t.runs)), bl.fmt_ratio(t.median, floor.median)] for t in timings.values()]
    cold_ok = None if cold.median is None else cold.median < 1.0
    warm_ok = None if warm.median is None else warm.median < 0.3

    def verdict(t: bl.Timing, ok: bool | None, limit: float) -> str:
        """The wall verdict (the target), and the cpu one beside it when they
        differ: on a loaded machine wall time is mostly other people's work."""
        cpu_ok = None if t.median_cpu is None else t.median_cpu < limit
        return bl.verdict(ok) if ok == cpu_ok or cpu_ok is None else f"{bl.verdict(ok)} (wall); {bl.verdict(cpu_ok)} (cpu)"
    text = "\n".join([
        "## `mlver ls` at 100,000 versions (bench_ls_scale.py)",
        "",
        f"Machine: {header}. gen_registry.py: {MODELS} models, {VERSIONS:,} versions, a stage tag every "
        f"ten (110,000 tags, packed refs). Median of {args.runs} interleaved runs after one warm-up.",
        "",
        bl.table(["command", "median s", "min s", "cpu s", "runs", "x floor"], rows),
        "",
        "| target | result |",
        "|---|---|",
        f"| `ls` at 100,000 versions under 1 s cold ({bl.fmt_s(cold.median)} s wall, {bl.fmt_s(cold.median_cpu)} s cpu) "
        f"| {verdict(cold, cold_ok, 1.0)} |",
        f"| a warm `ls` (cached rows) under 0.3 s ({bl.fmt_s(warm.median)} s wall, {bl.fmt_s(warm.median_cpu)} s cpu) "
        f"| {verdict(warm, warm_ok, 0.3)} |",
    ])
    bl.report("ls_scale", text)
    return 0 if cold_ok is not False and warm_ok is not False else 1


if __name__ == "__main__":
    sys.exit(main())
