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

    .venv/bin/python bench/bench_profile.py [--rows N] [--repeat K]
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))


def make_csv(path: pathlib.Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    cols: dict[str, object] = {
        "id": rng.permutation(rows),  # unique ints
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
    pd.DataFrame(cols).to_csv(path, index=False)


def _cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import pandas as pd

    import benchlib as bl
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
