"""Governance reads at scale: verify, log and show --at on 10,000 versions.

    .venv/bin/python bench/bench_governance.py [--runs 5]

Uses the registry benchmark's cached 10,000-version repository (100
models, stage tags every ~10 versions). `verify --all --offline` checks
every record's digest, every tag's digest against its record and every
parent link, without the remote (the generated artifacts are not stored
anywhere). Targets (issue 5): verify within 3 s; log and show --at within 1 s.
"""
from __future__ import annotations

import argparse
import sys

import benchlib as bl
from bench_registry import ensure_repo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="governance benchmark")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    home = bl.temp_home("governance")
    env = bl.isolated_env(home)
    header = bl.machine()
    repo = ensure_repo(10_000, loose=False, regenerate=False)
    mlver = bl.tool("mlver")
    if mlver is None:
        print("mlver is not installed", file=sys.stderr)
        return 2
    commands = [
        ("git for-each-ref refs/tags", ["git", "for-each-ref", "refs/tags"]),
        ("mlver verify --all --offline", [mlver, "verify", "--all", "--offline"]),
        ("mlver log m042", [mlver, "log", "m042"]),
        ("mlver show m042#prod --at 2026-01-01T06:00:00Z", [mlver, "show", "m042#prod", "--at", "2026-01-01T06:00:00Z"]),
    ]
    print(f"  {len(commands)} commands x {args.runs} runs ...", file=sys.stderr, flush=True)
    results = bl.measure_many(commands, repo, env, runs=args.runs)
    floor = results["git for-each-ref refs/tags"].median
    rows = [[f"`{label}`", bl.fmt_s(t.median), bl.fmt_s(t.best), bl.fmt_s(t.median_cpu), bl.fmt_ratio(t.median, floor)]
            for label, t in results.items()]
    limits = {"mlver verify --all --offline": 3.0, "mlver log m042": 1.0,
              "mlver show m042#prod --at 2026-01-01T06:00:00Z": 1.0}
    checks = [[f"`{label}` <= {limit:g} s ({bl.fmt_s(results[label].median)} s)",
               bl.verdict(results[label].median is not None and results[label].median <= limit)]
              for label, limit in limits.items()]
    text = "\n".join([
        "## Governance reads (10,000 versions, 100 models)", "", header, "",
        f"Median of {args.runs} runs after one warm-up, wall clock; cpu s = median user+sys.", "",
        bl.table(["command", "median s", "min s", "cpu s", "x floor"], rows), "",
        bl.table(["target", "result"], checks), "",
    ])
    bl.report("governance", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
