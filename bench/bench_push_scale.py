"""`mlver push` (no REF) with nothing to send, at 1,000 to 100,000 versions.

    .venv/bin/python bench/bench_push_scale.py [--runs 3] [--sizes 1000,10000,100000]
        [--source /tmp/regcache] [--work /tmp/mlver-bench-push] [--old-src DIR]

Registries come from gen_registry.py (100 models): copied from ``--source``
(``registry-<n>``, never written to) into ``--work``, else generated there.
Each gets a folder remote that already holds an object for every hash the
records at HEAD and at every version name (their content is never read: a
push with nothing to send only asks which are there), set as the default in
``.dvc/config.local``. Measured in the same run, interleaved:

* `dvc push` at HEAD (the anchor of the target: cold push within 2x of it);
* `git for-each-ref` of the tags plus one `cat-file --batch` of each tagged
  commit's root tree (the floor of walking every version's commit);
* `mlver push`, cold (.git/mlver/cache removed first) and warm (again);
* with ``--old-src`` (a `git archive` of another build): that build's push,
  cold and warm, run by the same interpreter.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import benchlib as bl
from bench_registry import ensure_repo

Sample = tuple[float, float, int]


def _repo(size: int, source: Path, work: Path) -> Path:
    repo = work / f"registry-{size}"
    if not repo.is_dir():
        if (source / repo.name / ".git").is_dir():
            subprocess.run(["cp", "-a", str(source / repo.name), str(repo)], check=True)
        else:
            ensure_repo(size, False, False, work)
    return repo


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, check=True).stdout


def _remote(repo: Path, env: dict[str, str]) -> int:
    """A folder remote holding every hash the records at HEAD and at each tag name; how many."""
    remote = repo.parent / f"{repo.name}-remote"
    filled = remote / "bench-filled"
    if filled.is_file():
        return int(filled.read_text())
    listed = _git(repo, "for-each-ref", "--format=%(*objectname) %(refname:strip=2)", "refs/tags").decode().splitlines()
    head = _git(repo, "rev-parse", "HEAD").decode().strip()
    records = _git(repo, "ls-tree", "--name-only", "HEAD", ".mlver/records/").decode().split()
    specs = {f"{c}:.mlver/records/{re.split('[@#]', n)[0]}.json" for c, n in (line.split() for line in listed)}
    specs |= {f"{head}:{path}" for path in records}
    data = _git(repo, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in sorted(specs)).encode())
    md5s: set[str] = set()
    pos = 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        head_line = data[pos:nl].split()
        if head_line[-1] == b"missing":
            pos = nl + 1
            continue
        size = int(head_line[2])
        doc = json.loads(data[nl + 1:nl + 1 + size])
        pos = nl + 2 + size
        md5s.add(doc["artifact"]["md5"])
        md5s.update(d["md5"] for d in doc["data"])
    for md5 in md5s:
        folder = remote / "files" / "md5" / md5[:2]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / md5[2:]).touch()
    subprocess.run([bl.tool("dvc") or "dvc", "remote", "add", "--local", "-f", "-d", "mlver-local", str(remote)],
                   cwd=repo, env=env, check=True, capture_output=True)
    filled.write_text(str(len(md5s)))
    return len(md5s)


def _steps(repo: Path, env: dict[str, str], mlver: list[str], old: list[str] | None,
           old_env: dict[str, str]) -> list[tuple[str, Callable[[], Sample]]]:
    cache = repo / ".git" / "mlver" / "cache"
    trees = repo / ".git" / "bench-trees"
    trees.write_text("".join(f"{c}^{{tree}}\n" for c in sorted(set(
        _git(repo, "for-each-ref", "--format=%(*objectname)", "refs/tags").decode().split()))))

    def push(argv: list[str], cold: bool, with_env: dict[str, str]) -> Callable[[], Sample]:
        def step() -> Sample:
            if cold:
                shutil.rmtree(cache, ignore_errors=True)
            return bl.run_rusage([*argv, "push"], repo, with_env)
        return step

    steps = [
        ("anchor: `dvc push` at HEAD", lambda: bl.run_rusage([bl.tool("dvc") or "dvc", "push"], repo, env)),
        ("floor: `git for-each-ref` + every tagged commit's tree", lambda: bl.run_rusage(
            ["sh", "-c", f"git for-each-ref --format='%(*objectname)' refs/tags > /dev/null && "
                         f"git cat-file --batch < {trees} > /dev/null"], repo, env)),
        ("`mlver push`, cold", push(mlver, True, env)),
        ("`mlver push`, warm", push(mlver, False, env)),
    ]
    if old is not None:
        steps += [("old build `mlver push`, cold", push(old, True, old_env)),
                  ("old build `mlver push`, warm", push(old, False, old_env))]
    return steps


def _med(samples: list[Sample], i: int) -> float:
    return statistics.median(s[i] for s in samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="push with nothing to send, at scale")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--source", type=Path, default=Path("/tmp/regcache"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/mlver-bench-push"))
    parser.add_argument("--old-src", type=Path, default=None, help="a `git archive` of the build to compare with")
    args = parser.parse_args(argv)
    mlver = bl.tool("mlver") or sys.exit("mlver is not installed")
    args.work.mkdir(parents=True, exist_ok=True)
    home = bl.temp_home("push-scale")
    env = bl.isolated_env(home)
    old_env = {**env, "PYTHONPATH": str(args.old_src)} if args.old_src else env
    old = [sys.executable, "-m", "mlver"] if args.old_src else None
    header = bl.machine()
    rows, checks, per_version = [], [], {}
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            repo = _repo(size, args.source, args.work)
            objects = _remote(repo, env)
            print(f"  push at {size:,} versions ({objects:,} objects there) x {args.runs} ...", file=sys.stderr, flush=True)
            steps = _steps(repo, env, [mlver], old, old_env)
            got: dict[str, list[Sample]] = {label: [] for label, _ in steps}
            for _ in range(args.runs):
                for label, step in steps:
                    got[label].append(step())
            anchor = got[steps[0][0]]
            for label, samples in got.items():
                rows.append([label, f"{size:,}", bl.fmt_s(_med(samples, 0)), bl.fmt_s(_med(samples, 1)),
                             f"{max(s[2] for s in samples) / 1024:.0f}", bl.fmt_ratio(_med(samples, 0), _med(anchor, 0)),
                             bl.fmt_ratio(_med(samples, 1), _med(anchor, 1))])
            cold, warm = got["`mlver push`, cold"], got["`mlver push`, warm"]
            per_version[size] = _med(cold, 1) / size
            checks.append(f"| {size:,}: warm push < 1 s ({bl.fmt_s(_med(warm, 0))} s wall, {bl.fmt_s(_med(warm, 1))} s cpu) "
                          f"| {bl.verdict(_med(warm, 1) < 1.0)} (cpu) |")
            checks.append(f"| {size:,}: cold push within 2x of `dvc push` ({bl.fmt_ratio(_med(cold, 1), _med(anchor, 1))} cpu) "
                          f"| {bl.verdict(_med(cold, 1) <= 2 * _med(anchor, 1))} |")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    low, high = min(per_version), max(per_version)
    checks.append(f"| linear: cold cpu s per version at {high:,} / at {low:,} = "
                  f"{per_version[high] / per_version[low]:.2f} | (information) |")
    text = "\n".join([
        "## `mlver push` with nothing to send, at scale (bench_push_scale.py)", "",
        f"Machine: {header}. Median of {args.runs} interleaved runs (cpu = user+sys with its children).", "",
        bl.table(["command", "versions", "wall s", "cpu s", "peak MiB", "x dvc push wall", "x dvc push cpu"], rows), "",
        "| target | result |", "|---|---|", *checks,
    ])
    bl.report("push_scale", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
