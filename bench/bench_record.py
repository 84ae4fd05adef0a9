"""Record overhead: `mlver record` + `mlver release` vs the same steps by hand.

    .venv/bin/python bench/bench_record.py [--rounds 3] [--size-mb 200]

Two twin projects in a private HOME. Each round writes the same fresh
random model file into both, then times

    mlver:  mlver record m; mlver release m
    manual: dvc add models/m.bin; git add models/m.bin.dvc models/.gitignore;
            git commit -m ...; git tag -a m@vX -m ...

Hashing and caching 200 MB is the same work on both sides (mlver calls
DVC's own `add`), so the ratio shows what mlver's lineage record costs on top.
The order of the two sides alternates per round so that drift in machine
load or page-cache state does not always favour the same side.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import benchlib as bl

MODEL = "m"
ARTIFACT = "models/m.bin"
CHUNK = 8 << 20


def _sh(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    """An untimed setup step; show its output only if it fails."""
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"setup failed: {' '.join(argv)} in {cwd}\n{proc.stdout}{proc.stderr}")


def _write_random(paths: list[Path], size: int) -> None:
    # Same bytes in both projects: identical hashing and caching work.
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
    handles = [p.open("wb") for p in paths]
    try:
        left = size
        while left:
            block = os.urandom(min(CHUNK, left))
            for h in handles:
                h.write(block)
            left -= len(block)
    finally:
        for h in handles:
            h.close()
    # Flush dirty pages now, so writeback does not land inside a timed step.
    os.sync()


def setup(base: Path, env: dict[str, str], mlver: str, dvc: str) -> tuple[Path, Path]:
    ours, twin = base / "with-mlver", base / "by-hand"
    ours.mkdir()
    _sh([mlver, "init"], ours, env)
    _sh([mlver, "model", "add", MODEL, "--path", ARTIFACT], ours, env)
    _sh(["git", "add", "-A"], ours, env)
    _sh(["git", "commit", "-q", "-m", "declare m"], ours, env)
    twin.mkdir()
    _sh(["git", "init", "-q"], twin, env)
    _sh([dvc, "init", "-q"], twin, env)
    _sh(["git", "add", "-A"], twin, env)
    _sh(["git", "commit", "-q", "-m", "init"], twin, env)
    return ours, twin


def mlver_steps(mlver: str) -> list[tuple[str, list[str]]]:
    return [("mlver record", [mlver, "record", MODEL]), ("mlver release", [mlver, "release", MODEL])]


def manual_steps(dvc: str, version: str) -> list[tuple[str, list[str]]]:
    return [
        ("dvc add", [dvc, "add", "-q", ARTIFACT]),
        ("git add", ["git", "add", f"{ARTIFACT}.dvc", "models/.gitignore"]),
        ("git commit", ["git", "commit", "-q", "-m", f"train {MODEL} {version}"]),
        ("git tag", ["git", "tag", "-a", f"{MODEL}@{version}", "-m",
                     f"Registering artifact {MODEL} version {version}"]),
    ]


CPU = "cpu"  # key for the steps' summed user+sys time


def run_steps(steps: list[tuple[str, list[str]]], cwd: Path, env: dict[str, str]) -> dict[str, float]:
    """Wall seconds per step, plus their summed CPU seconds under CPU."""
    times: dict[str, float] = {CPU: 0.0}
    for label, argv in steps:
        times[label], cpu = bl.run_timed(argv, cwd, env)
        times[CPU] += cpu
    return times


# Phases of `mlver record` worth separating: (label, module suffix, function
# names, first found wins). mlver is being refactored while this benchmark
# exists, so a phase matches any of several names, and a phase that is not
# found is left out (and named under the table) rather than shown as 0.
PHASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("artifact into the DVC cache (hash + copy)", "mlver/adapters/dvc.py", ("track_file", "add")),
    ("tree check (git status, tracked files)", "mlver/api/training.py", ("check_code", "_check_code")),
    ("data check", "mlver/api/training.py", ("check_data", "_check_data")),
    ("read the parent record (git cat-file)", "mlver/api/_common.py", ("read_record",)),
    ("history of the record (git log)", "mlver/adapters/git.py", ("log_path",)),
    ("environment (package versions)", "mlver/api/recording.py", ("environment", "_env")),
    ("default remote (DVC config)", "mlver/adapters/dvc.py", ("remotes",)),
    ("commit (temp index, commit-tree)", "mlver/adapters/git.py", ("commit_paths",)),
    ("write_record total", "mlver/api/recording.py", ("write_record", "_record")),
    ("api.record total", "mlver/api/training.py", ("record",)),
]


def profile_record(cwd: Path, env: dict[str, str], out: Path) -> tuple[list[list[str]], list[str]]:
    """Run `mlver record` once under cProfile and split its time by phase.

    cProfile inflates pure-Python time, so these are for where-the-time-goes,
    not for the ratio above. Returns the rows and the phases not found.
    """
    import pstats

    wall = bl.run_once([bl.PYTHON, "-m", "cProfile", "-o", str(out), "-m", "mlver", "record", MODEL], cwd, env)
    stats = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    rows, missing = [], []
    for label, suffix, funcs in PHASES:
        for func in funcs:
            hits = [v[3] for (file, _, name), v in stats.items() if file.endswith(suffix) and name == func]
            if hits:
                rows.append([label, bl.fmt_s(sum(hits))])
                break
        else:
            missing.append(label)
    rows.append(["whole process under cProfile (incl. interpreter start)", bl.fmt_s(wall)])
    return rows, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="record overhead benchmark")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size-mb", type=int, default=200)
    args = parser.parse_args(argv)

    mlver, dvc = bl.tool("mlver"), bl.tool("dvc")
    if mlver is None or dvc is None:
        print("skip bench_record: needs mlver and dvc", file=sys.stderr)
        return 0
    home = bl.temp_home("record")
    env = bl.isolated_env(home)
    header = bl.machine()
    size = args.size_mb << 20

    rounds: list[tuple[dict[str, float], dict[str, float]]] = []
    phases: list[list[str]] = []
    not_found: list[str] = []
    status: tuple[float, float] | None = None
    try:
        ours, twin = setup(home, env, mlver, dvc)
        # Warm-up round (1 MB, untimed): the first record has no parent and
        # DVC creates its cache and state database; later rounds are the
        # steady state a user lives in. It also makes the timed versions
        # v0.2.0.. on both sides.
        _write_random([ours / ARTIFACT, twin / ARTIFACT], 1 << 20)
        run_steps(mlver_steps(mlver), ours, env)
        run_steps(manual_steps(dvc, "v0.1.0"), twin, env)
        for r in range(args.rounds):
            version = f"v0.{r + 2}.0"  # what `mlver release` picks: a minor bump
            print(f"  round {r + 1}: writing {args.size_mb} MB ...", file=sys.stderr, flush=True)
            _write_random([ours / ARTIFACT, twin / ARTIFACT], size)
            if r % 2 == 0:
                a = run_steps(mlver_steps(mlver), ours, env)
                b = run_steps(manual_steps(dvc, version), twin, env)
            else:
                b = run_steps(manual_steps(dvc, version), twin, env)
                a = run_steps(mlver_steps(mlver), ours, env)
            rounds.append((a, b))
        # The first `dvc status` afterwards: if the artifact was hashed outside
        # DVC, DVC's state database does not know it and must hash it again.
        status = (bl.run_once([dvc, "status"], ours, env), bl.run_once([dvc, "status"], twin, env))
        # One more round, outside the ratio, to see where mlver record's time goes.
        _write_random([ours / ARTIFACT], size)
        phases, not_found = profile_record(ours, env, home / "record.prof")
        # Both sides must have produced the same registry state.
        tags_ours = subprocess.run(["git", "tag"], cwd=ours, capture_output=True, text=True).stdout.split()
        tags_twin = subprocess.run(["git", "tag"], cwd=twin, capture_output=True, text=True).stdout.split()
        if tags_ours != tags_twin:
            print(f"warning: tags differ: mlver {tags_ours} vs by hand {tags_twin}", file=sys.stderr)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    mlver_cols = [label for label, _ in mlver_steps("mlver")]
    manual_cols = [label for label, _ in manual_steps("dvc", "v0")]
    rows, ratios = [], []
    per_col: dict[str, list[float]] = {c: [] for c in [*mlver_cols, "mlver total", *manual_cols, "by-hand total"]}
    for i, (a, b) in enumerate(rounds, 1):
        ta = sum(v for k, v in a.items() if k != CPU)
        tb = sum(v for k, v in b.items() if k != CPU)
        ratios.append(ta / tb)
        for c in mlver_cols:
            per_col[c].append(a[c])
        for c in manual_cols:
            per_col[c].append(b[c])
        per_col["mlver total"].append(ta)
        per_col["by-hand total"].append(tb)
        rows.append([str(i), *(bl.fmt_s(a[c]) for c in mlver_cols), bl.fmt_s(ta),
                     *(bl.fmt_s(b[c]) for c in manual_cols), bl.fmt_s(tb), f"{ta / tb:.2f}x",
                     f"{a[CPU]:.2f} / {b[CPU]:.2f}"])
    med_ratio = statistics.median(ratios) if ratios else None
    rows.append(["**median**", *(bl.fmt_s(statistics.median(per_col[c])) for c in mlver_cols),
                 bl.fmt_s(statistics.median(per_col["mlver total"])),
                 *(bl.fmt_s(statistics.median(per_col[c])) for c in manual_cols),
                 bl.fmt_s(statistics.median(per_col["by-hand total"])),
                 f"**{med_ratio:.2f}x**" if med_ratio else "-",
                 f"{statistics.median(a[CPU] for a, _ in rounds):.2f} / {statistics.median(b[CPU] for _, b in rounds):.2f}"
                 if rounds else "-"])
    # What mlver adds beyond DVC's hashing: record minus dvc add, per round.
    extra = [a["mlver record"] - b["dvc add"] for a, b in rounds]

    text = "\n".join([
        "## Record overhead",
        "",
        f"Machine: {header}. {args.rounds} rounds of a fresh {args.size_mb} MB random "
        f"`{ARTIFACT}` (after one untimed 1 MB warm-up round); seconds per step, wall clock.",
        "",
        bl.table(["round", *(f"`{c}`" for c in mlver_cols), "mlver total",
                  *(f"`{c}`" for c in manual_cols), "by-hand total", "ratio",
                  "cpu s mlver / by hand"], rows),
        "",
        f"`mlver record` minus `dvc add`, median of the per-round differences (negative: the whole record costs less than DVC's add alone): "
        f"{bl.fmt_s(statistics.median(extra) if extra else None)} s.",
        "",
        (f"First `dvc status` after the last round: {status[0]:.3f} s in the mlver project, "
         f"{status[1]:.3f} s in the by-hand one (a gap means DVC re-hashes what mlver cached)."
         if status else ""),
        "",
        f"Where `mlver record` spends its time (one extra {args.size_mb} MB round under cProfile, "
        "cumulative seconds; phases overlap where one calls another):",
        "",
        bl.table(["phase", "seconds"], phases),
        "",
        *([f"Not found in this version of mlver: {', '.join(not_found)}.", ""] if not_found else []),
        "| target | result |",
        "|---|---|",
        f"| mlver record+release <= 1.2x by hand, median ratio ({f'{med_ratio:.2f}x' if med_ratio else '-'}) "
        f"| {bl.verdict(None if med_ratio is None else med_ratio <= 1.2)} |",
    ])
    bl.report("record", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
