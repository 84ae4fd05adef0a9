"""How much profiling a CSV costs on top of reading it.

Generates a CSV (default 1,000,000 rows x 20 columns: ints, floats with NaN,
string columns with 10-50 categories and nulls, a bool) in a temp dir, then
times, median of --repeat runs interleaved case by case: pandas.read_csv, the
pyarrow engine (for the record: mlver.adapters.tabular uses the C engine),
profile_frame alone, and profile_file (read + profile). Target:
profile_file <= 1.3 x read_csv, in one run.

Wall and CPU time (user+sys of this process, both profiling threads) are
both reported: the machine is shared, and other sessions' load moves wall
time far more than CPU time. The script waits for a quiet machine first.

With --gb G[,G...]: bounded memory. For each size a CSV of the same columns
is generated under --tmp, a block at a time (never whole in memory; past
1 GB its rows are repeated), then
`mlver data add` (streamed profile included) and `dvc add` of the same file
in fresh repositories, interleaved --repeat times: peak RSS and CPU of the
child (os.wait4), wall. Targets: peak < 1 GiB, CPU <= 2x `dvc add`. Each
file and the caches are deleted afterwards; the free disk is checked first.

    .venv/bin/python bench/bench_profile.py [--rows N] [--repeat K]
    .venv/bin/python bench/bench_profile.py --gb 2,10 [--repeat K] [--tmp DIR]
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))


def make_csv(path: pathlib.Path, rows: int, seed: int = 0, offset: int = 0, append: bool = False) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {
        "id": offset + rng.permutation(rows),  # unique ints
        "amount_cents": rng.integers(0, 10**9, rows),  # wide range
        "age": rng.integers(18, 90, rows),
        "visits": rng.poisson(3, rows),
        "score": rng.integers(0, 1000, rows),
        "year": rng.integers(2000, 2025, rows),
    }
    for i in range(8):
        x = rng.normal(i, 1 + i, rows).round(4)
        x[rng.random(rows) < 0.05] = np.nan
        cols[f"f{i}"] = x
    for i, k in enumerate([10, 20, 35, 50]):
        values = np.array([f"cat{i}_{j}" for j in range(k)], dtype=object)[rng.integers(0, k, rows)]
        values[rng.random(rows) < 0.02] = None
        cols[f"s{i}"] = values
    cols["flag"] = rng.random(rows) < 0.3
    cols["rating"] = np.where(rng.random(rows) < 0.1, np.nan, rng.integers(1, 6, rows))  # ints with nulls
    pd.DataFrame(cols).to_csv(path, index=False, mode="a" if append else "w", header=not append)


def make_big_csv(path: pathlib.Path, size: int, block: int = 1_000_000, base: int = 1_000_000_000) -> int:
    """A CSV of at least `size` bytes, a block of rows at a time; its row count.
    Past `base` bytes the rows generated so far are appended again (by
    plain copying: pandas writes 5 MB/s on a loaded machine), so ids repeat
    but every column keeps its kind and distribution."""
    import shutil

    rows = 0
    while not path.exists() or path.stat().st_size < min(size, base):
        make_csv(path, block, seed=rows // block, offset=rows, append=rows > 0)
        rows += block
    first = rows
    with open(path, "rb") as f:
        header = len(f.readline())
    copy = path.with_suffix(".rows")
    with open(path, "rb") as src, open(copy, "wb") as dst:
        src.seek(header)
        shutil.copyfileobj(src, dst, 1 << 24)
    try:
        while path.stat().st_size < size:
            with open(copy, "rb") as src, open(path, "ab") as dst:
                shutil.copyfileobj(src, dst, 1 << 24)
            rows += first
    finally:
        copy.unlink()
    return rows


def _rusage(argv: list[str], cwd: pathlib.Path, env: dict[str, str]) -> tuple[float, float, float, float]:
    """(wall s, user s, sys s, peak RSS MiB) of one run of the child, from os.wait4."""
    import os
    import subprocess

    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {cwd}:\n{err.decode(errors='replace')[-500:]}")
    return time.perf_counter() - start, usage.ru_utime, usage.ru_stime, usage.ru_maxrss / 1024


def big(sizes: list[float], repeat: int, tmp: pathlib.Path, files: list[pathlib.Path], base: pathlib.Path | None) -> None:
    """`dvc add` and `mlver data add` (and, with `base`, the mlver package in that
    folder: `git archive main mlver | tar -x -C DIR`) of each CSV, interleaved.
    `files`: existing CSVs, used as they are and kept; else one is generated per size."""
    import os
    import shutil
    import subprocess

    import benchlib as bl

    results = []
    for item in files or sizes:
        given = isinstance(item, pathlib.Path)
        size = item.stat().st_size if given else int(item * 1e9)
        free = shutil.disk_usage(tmp).free
        if free < (1.8 if given else 2.8) * size + 10e9:  # the file, one cache copy, spilled numbers, and room for others
            print(f"skip {size / 1e9:.1f} GB: {free / 1e9:.0f} GB free in {tmp}", file=sys.stderr)
            continue
        work = pathlib.Path(tempfile.mkdtemp(prefix="mlver-bench-big-", dir=tmp))
        try:
            data = item if given else work / "big.csv"
            if given:
                with open(data, "rb") as f:
                    rows = sum(block.count(b"\n") for block in iter(lambda f=f: f.read(1 << 24), b"")) - 1
            else:
                # In a child: this process stays small, and the children forked from it start small
                # (a forked child's peak RSS counts what it inherited before exec).
                rows = int(subprocess.run([bl.PYTHON, __file__, "--make", str(data), str(size)], check=True,
                                          capture_output=True, text=True).stdout)
            home = work / "home"
            env = bl.isolated_env(home)
            env["TMPDIR"] = str(work)  # spilled numbers go next to the file
            names = ["dvc add", "mlver data add"] + (["mlver data add, base"] if base else [])
            runs: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in names}
            header = bl.machine()
            for _ in range(repeat):  # interleaved: anchor, mlver, (base,) anchor, mlver ...
                for name in runs:
                    repo = work / "repo"
                    repo.mkdir()
                    run_env = dict(env, PYTHONPATH=str(base)) if name.endswith("base") else env
                    mlver = [bl.PYTHON, "-m", "mlver"]
                    subprocess.run(["git", "init", "-q"], cwd=repo, env=run_env, check=True)
                    if name == "dvc add":
                        subprocess.run([f"{bl.VENV_BIN}/dvc", "init", "-q"], cwd=repo, env=run_env, check=True)
                    else:
                        subprocess.run([*mlver, "init"], cwd=repo, env=run_env, check=True,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    os.link(data, repo / "big.csv")
                    argv = [f"{bl.VENV_BIN}/dvc", "add", "-q", "big.csv"] if name == "dvc add" else [*mlver, "data", "add", "big.csv"]
                    runs[name].append(_rusage(argv, repo, run_env))
                    if name != "dvc add" and not list((repo / ".dvc" / "tmp" / "mlver" / "profiles").glob("*.json")):
                        raise SystemExit(f"{name}: no profile written")
                    shutil.rmtree(repo)
                    shutil.rmtree(home / ".local", ignore_errors=True)  # mlver's default local remote
            results.append((size, rows, header, runs))
        finally:
            shutil.rmtree(work, ignore_errors=True)  # a given file is outside it
    lines = ["## Tabular profiles in bounded memory (bench_profile.py --gb)", ""]
    for size, rows, header, runs in results:
        med = {name: [statistics.median(x[i] for x in xs) for i in range(4)] for name, xs in runs.items()}
        d, m = med["dvc add"], med["mlver data add"]
        lines += [
            f"{size / 1e9:.2f} GB CSV, {rows:,} rows x 20 columns. Machine: {header}. Median of {repeat} interleaved runs; "
            "user and sys CPU and peak RSS of the child via os.wait4.", "",
            bl.table(["command", "wall s", "user s", "sys s", "cpu s", "peak RSS MiB"],
                     [[f"`{name}`", f"{v[0]:.1f}", f"{v[1]:.1f}", f"{v[2]:.1f}", f"{v[1] + v[2]:.1f}", f"{v[3]:.0f}"]
                      for name, v in med.items()]), "",
            "| target | result |", "|---|---|",
            f"| peak RSS < 1 GiB ({m[3]:.0f} MiB) | {bl.verdict(m[3] < 1024)} |",
            f"| CPU <= 2x `dvc add` ({(m[1] + m[2]) / (d[1] + d[2]):.2f}x; user {m[1] / d[1]:.2f}x; wall {m[0] / d[0]:.2f}x) "
            f"| {bl.verdict(m[1] + m[2] <= 2 * (d[1] + d[2]))} |", "",
        ]
    bl.report("profile_big", "\n".join(lines))


def _cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--gb", help="sizes in GB (comma-separated) for the bounded-memory bench against dvc add")
    parser.add_argument("--tmp", default="/tmp", help="where the big CSVs are generated (deleted afterwards)")
    parser.add_argument("--csv", action="append", default=[], metavar="PATH",
                        help="with --gb: an existing CSV of make_csv's columns instead of generating one (kept); repeatable")
    parser.add_argument("--base", metavar="DIR", help="with --gb: also time the mlver package in DIR (e.g. main's), interleaved")
    parser.add_argument("--make", nargs=2, metavar=("PATH", "BYTES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        print(make_big_csv(pathlib.Path(args.make[0]), int(args.make[1])))
        return
    if args.gb or args.csv:
        big([float(x) for x in (args.gb or "0").split(",")], args.repeat, pathlib.Path(args.tmp),
            [pathlib.Path(p).resolve() for p in args.csv], pathlib.Path(args.base).resolve() if args.base else None)
        return

    import benchlib as bl
    import pandas as pd

    from mlver.adapters.tabular import profile_file
    from mlver.domain.profile import profile_frame

    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "bench.csv"
        make_csv(path, args.rows)
        frame = pd.read_csv(path)
        cases = {
            "pd.read_csv": lambda: pd.read_csv(path),
            "pd.read_csv pyarrow": lambda: pd.read_csv(path, engine="pyarrow"),
            "profile_frame": lambda: profile_frame(frame, "csv"),
            "profile_file": lambda: profile_file(path),
        }
        header = bl.machine()  # waits for a quiet machine
        wall: dict[str, list[float]] = {name: [] for name in cases}
        cpu: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.repeat):  # interleaved, so load spikes hit all cases alike
            for name, run in cases.items():
                c0, start = _cpu(), time.perf_counter()
                run()
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(_cpu() - c0)
        size = path.stat().st_size
    base, base_cpu = statistics.median(wall["pd.read_csv"]), statistics.median(cpu["pd.read_csv"])
    rows = [[f"`{name}`", f"{statistics.median(xs):.3f}", f"{min(xs):.3f}", f"{statistics.median(cpu[name]):.3f}",
             f"{statistics.median(xs) / base:.2f}x", f"{statistics.median(cpu[name]) / base_cpu:.2f}x"]
            for name, xs in wall.items()]
    ratio = statistics.median(wall["profile_file"]) / base
    ratio_cpu = statistics.median(cpu["profile_file"]) / base_cpu
    text = "\n".join([
        "## CSV profiling (bench_profile.py)",
        "",
        f"Machine: {header}. {args.rows:,} rows x {frame.shape[1]} columns, {size / 1e6:.1f} MB CSV; in-process, "
        f"median of {args.repeat} runs interleaved case by case; cpu = user+sys of the process (both profiling threads).",
        "",
        bl.table(["case", "median s", "min s", "cpu s", "x read_csv", "cpu x read_csv"], rows),
        "",
        "| target | result |",
        "|---|---|",
        f"| `profile_file` <= 1.3x `pd.read_csv`, wall ({ratio:.2f}x; cpu {ratio_cpu:.2f}x) | {bl.verdict(ratio <= 1.3)} |",
    ])
    bl.report("profile", text)


if __name__ == "__main__":
    main()
