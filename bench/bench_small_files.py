"""`mlver data add` of a directory of many small files against `dvc add`.

Generates --files files of --size bytes (default 100,000 x 4 KiB, in 100
subfolders) under --tmp, then, interleaved --repeat times, `dvc add DIR`
and `mlver data add DIR` in fresh repositories (the folder hard-linked in):
wall, CPU (user+sys of the child via os.wait4) and peak RSS. Then checks
that both wrote the same .dvc file, the same .dir manifest and the same
cache objects, and that `dvc status` is clean in mlver's repository.
Target: mlver at least 3x faster than `dvc add` (wall). Everything it
generated is deleted afterwards.

    .venv/bin/python bench/bench_small_files.py [--files N] [--size BYTES] [--repeat K] [--tmp DIR]
"""
from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))


def _link_tree(src: pathlib.Path, dst: pathlib.Path) -> None:
    for folder, _, files in os.walk(src):
        out = dst / os.path.relpath(folder, src)
        out.mkdir(parents=True, exist_ok=True)
        for name in files:
            os.link(os.path.join(folder, name), out / name)


def _cache(repo: pathlib.Path) -> dict[str, bytes]:
    root = repo / ".dvc" / "cache"
    # Objects are named by their md5: the names say the content; a manifest is compared byte for byte.
    return {p.relative_to(root).as_posix(): p.read_bytes() if p.name.endswith(".dir") else b""
            for p in root.rglob("*") if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--tmp", default="/tmp")
    args = parser.parse_args()

    import benchlib as bl

    work = pathlib.Path(tempfile.mkdtemp(prefix="mlver-bench-small-", dir=args.tmp))
    try:
        data = work / "source"
        for i in range(args.files):
            folder = data / f"d{i % 100:02d}"
            if i < 100:
                folder.mkdir(parents=True)
            (folder / f"f{i:06d}.bin").write_bytes(os.urandom(args.size))
        env = bl.isolated_env(work / "home")
        runs: dict[str, list[tuple[float, float, float]]] = {"dvc add": [], "mlver data add": []}
        kept: dict[str, pathlib.Path] = {}
        header = bl.machine()
        for round_ in range(args.repeat):
            for name in runs:  # interleaved: anchor, mlver, anchor, mlver ...
                repo = work / f"repo-{name.split()[0]}-{round_}"
                repo.mkdir()
                subprocess.run(["git", "init", "-q"], cwd=repo, env=env, check=True)
                init = [f"{bl.VENV_BIN}/dvc", "init", "-q"] if name == "dvc add" else [f"{bl.VENV_BIN}/mlver", "init"]
                subprocess.run(init, cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _link_tree(data, repo / "images")
                argv = [f"{bl.VENV_BIN}/dvc", "add", "-q", "images"] if name == "dvc add" else \
                    [f"{bl.VENV_BIN}/mlver", "data", "add", "images"]
                wall, cpu, peak = bl.run_rusage(argv, repo, env)
                runs[name].append((wall, cpu, peak / 1024))
                if name in kept:
                    shutil.rmtree(kept[name])
                kept[name] = repo
                shutil.rmtree(work / "home" / ".local", ignore_errors=True)
        dvc_repo, mlver_repo = kept["dvc add"], kept["mlver data add"]
        same_dvc = (dvc_repo / "images.dvc").read_text() == (mlver_repo / "images.dvc").read_text()
        same_cache = _cache(dvc_repo) == _cache(mlver_repo)
        status = subprocess.run([f"{bl.VENV_BIN}/dvc", "status"], cwd=mlver_repo, env=env, capture_output=True, text=True)
        clean = status.returncode == 0 and "up to date" in status.stdout
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {name: [statistics.median(x[i] for x in xs) for i in range(3)] for name, xs in runs.items()}
    d, m = med["dvc add"], med["mlver data add"]
    text = "\n".join([
        "## Many small files: `data add` of a directory (bench_small_files.py)", "",
        f"{args.files:,} files x {args.size:,} bytes in 100 folders. Machine: {header}. Median of {args.repeat} interleaved "
        "runs (measured under load from the other sessions); CPU (user+sys) and peak RSS of the child via os.wait4.", "",
        bl.table(["command", "wall s", "cpu s", "peak RSS MiB"],
                 [[f"`{name}`", f"{v[0]:.1f}", f"{v[1]:.1f}", f"{v[2]:.0f}"] for name, v in med.items()]), "",
        "| target | result |", "|---|---|",
        f"| at least 3x faster than `dvc add` (wall {d[0] / m[0]:.1f}x, cpu {d[1] / m[1]:.1f}x) | {bl.verdict(d[0] >= 3 * m[0])} |",
        f"| identical `.dvc` file | {bl.verdict(same_dvc)} |",
        f"| identical `.dir` manifest and cache objects | {bl.verdict(same_cache)} |",
        f"| `dvc status` clean in mlver's repository | {bl.verdict(clean)} |",
    ])
    bl.report("small_files", text)


if __name__ == "__main__":
    main()
