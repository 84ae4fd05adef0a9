"""push and pull to the default kind of remote: a local directory.

    .venv/bin/python bench/bench_storage.py [--large-mb 1024] [--files 20000] [--file-kb 4] [--runs 3]

One project with a --large-mb model (recorded by `mlver record`) and a model
trained on a folder of --files small files. Interleaved per run (mlver, dvc,
cp, ...), medians reported:

- push of the large model to a fresh local remote: `mlver push` vs
  `dvc push` (warmed once first, so DVC's state already knows the object) vs
  `cp` of the cache object;
- pull of it from that remote with an empty cache and no workspace copy:
  `mlver pull` vs `dvc pull` vs `cp` of the remote object;
- `pull --with-data` again with all the small files already in place:
  `mlver pull` vs `dvc pull` (each after its own first pull).

Everything lives under /tmp and is deleted at the end. Each figure is a
whole process, interpreter start-up included.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

import benchlib as bl


sh = bl.sh


make_project = bl.transfer_project


def remote(root: Path, env: dict[str, str], name: str, path: Path) -> None:
    sh([bl.tool("dvc") or "dvc", "remote", "add", "--local", "-f", name, str(path)], root, env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="local-remote push/pull benchmark")
    parser.add_argument("--large-mb", type=int, default=1024)
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--file-kb", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    mlver, dvc = bl.tool("mlver") or "mlver", bl.tool("dvc") or "dvc"
    home = bl.temp_home("storage")
    env = bl.isolated_env(home)
    root = home / "project"
    times: dict[str, list[float]] = {}

    def timed(key: str, cmd: list[str]) -> None:
        print(f"  {key} ...", file=sys.stderr, flush=True)
        times.setdefault(key, []).append(bl.run_timed(cmd, root, env, timeout=3600)[0])

    header = bl.machine()
    try:
        print(f"  project: {args.large_mb} MiB model, {args.files} x {args.file_kb} KiB ...", file=sys.stderr, flush=True)
        make_project(root, env, args.large_mb, args.files, args.file_kb)
        md5 = sh([mlver, "show", "big@HEAD", "--json"], root, env)
        import json

        md5 = json.loads(md5)["record"]["doc"]["artifact"]["md5"]
        rel = Path("files/md5") / md5[:2] / md5[2:]
        cache_obj = root / ".dvc/cache" / rel
        keep = home / "keep.bin"
        shutil.copy(cache_obj, keep)
        remote(root, env, "warm", home / "warm")
        sh([dvc, "push", "-r", "warm", "models/big.bin.dvc"], root, env)  # DVC's state learns the object
        shutil.rmtree(home / "warm")
        for run in range(args.runs):
            for tool in ("mlver", "dvc", "cp"):
                target = home / f"remote-{tool}-{run}"
                if tool == "cp":
                    (target / rel).parent.mkdir(parents=True)
                    timed("push large cp", ["cp", str(cache_obj), str(target / rel)])
                    timed("pull large cp", ["cp", str(target / rel), str(home / "cp-out.bin")])
                    (home / "cp-out.bin").unlink()
                    shutil.rmtree(target)
                    continue
                remote(root, env, target.name, target)
                timed(f"push large {tool}", [mlver, "push", "-r", target.name, "big@HEAD"] if tool == "mlver"
                      else [dvc, "push", "-r", target.name, "models/big.bin.dvc"])
                # Pull from an empty cache with no workspace copy.
                cache_obj.unlink()
                (root / "models/big.bin").unlink()
                timed(f"pull large {tool}", [mlver, "pull", "big@HEAD", "-r", target.name] if tool == "mlver"
                      else [dvc, "pull", "-r", target.name, "models/big.bin.dvc"])
                shutil.rmtree(target)
        # Every small file already in place: each tool after its own first pull.
        sh([mlver, "push", "many@HEAD"], root, env)
        for run in range(args.runs + 1):
            for tool in ("mlver", "dvc"):
                cmd = [mlver, "pull", "many@HEAD", "--with-data"] if tool == "mlver" else [dvc, "pull", "data/many.dvc", "models/tiny.bin.dvc"]
                if run == 0:
                    sh(cmd, root, env)  # the first pull, which places the files
                    continue
                timed(f"again many {tool}", cmd)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    rows = []
    for key, label in (("push large", f"push 1 file of {args.large_mb} MiB"), ("pull large", f"pull 1 file of {args.large_mb} MiB"),
                       ("again many", f"pull --with-data again, {args.files} files in place")):
        m, d, c = med.get(f"{key} mlver"), med.get(f"{key} dvc"), med.get(f"{key} cp")
        rows.append([label, bl.fmt_s(m), bl.fmt_s(d), bl.fmt_s(c), bl.fmt_ratio(m, d), bl.fmt_ratio(m, c)])
    table = bl.table(["operation", "mlver s", "dvc s", "cp s", "mlver/dvc", "mlver/cp"], rows)
    targets = [(f"{label} at or below dvc", med[f"{key} mlver"] <= med[f"{key} dvc"])
               for key, label in (("push large", "push 1 GiB"), ("pull large", "pull 1 GiB"),
                                  ("again many", "repeated pull --with-data"))]
    text = "\n".join([
        "## Local remote: push and pull (bench_storage.py)", "", header, "",
        f"Median of {args.runs} interleaved run(s); each figure a whole process.", "", table, "",
        "| target | result |", "|---|---|", *[f"| {label} | {bl.verdict(ok)} |" for label, ok in targets],
    ])
    bl.report("storage", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
