"""push and pull to the default kind of remote: a local directory.

    .venv/bin/python bench/bench_storage.py [--large-mb 1024] [--files 20000] [--file-kb 4] [--runs 3]
                                            [--only push,pull,again]

One project with a --large-mb model (recorded by `mlver record`) and a model
trained on a folder of --files small files. Commands are interleaved run by
run (mlver, dvc, cp, mlver, ...) after one warm-up round; medians reported.

Both tools start from the same state, each with its own bookkeeping warm:

- push of the large model to a fresh local remote. Before each push the
  tool itself pulled the object into an empty cache from a seed remote, so
  its own state knows the cache object (DVC's state database, mlver's stat
  cache) -- what a user has after `pull` or `record`. A second pair of rows
  pushes an object the *other* tool wrote into the cache (neither knows it):
  mlver then hashes it once while it copies.
- pull of it from the seed remote with an empty cache and no workspace copy
  (mlver pushed the seed object, so its ledger of remote objects knows it);
  a second mlver row pulls with that ledger deleted first (hashed, as before);
- `pull --with-data` again with all the small files already in place:
  `mlver pull` vs `dvc pull`, each after its own first pull.

Page cache: before every timed command the file it reads is read once
(so every tool reads it from memory, none from disk) and `sync` writes back
what the previous command left dirty, so no command pays for another's
writes. The machine has memory for all of it; nothing is dropped.

Everything lives under /tmp and is deleted at the end. Each figure is a
whole process, interpreter start-up included.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

import benchlib as bl

sh = bl.sh


LEDGER = "adapters/remotestat.py"


def remote(root: Path, env: dict[str, str], name: str, path: Path) -> None:
    sh([bl.tool("dvc") or "dvc", "remote", "add", "--local", "-f", name, str(path)], root, env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="local-remote push/pull benchmark")
    parser.add_argument("--large-mb", type=int, default=1024)
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--file-kb", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="push,pull,again", help="comma-separated sections to run")
    args = parser.parse_args(argv)
    sections = set(args.only.split(","))
    mlver, dvc = bl.tool("mlver") or "mlver", bl.tool("dvc") or "dvc"
    home = bl.temp_home("storage")
    env = bl.isolated_env(home)
    root = home / "project"
    times: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}

    def timed(key: str, cmd: list[str], reads: list[Path], record: bool) -> None:
        bl.warm(*reads)
        print(f"  {key} ...", file=sys.stderr, flush=True)
        wall, cpu = bl.run_timed(cmd, root, env, timeout=3600)
        if record:
            times.setdefault(key, []).append(wall)
            cpus.setdefault(key, []).append(cpu)

    header = bl.machine()
    try:
        print(f"  project: {args.large_mb} MiB model, {args.files} x {args.file_kb} KiB ...", file=sys.stderr, flush=True)
        bl.transfer_project(root, env, args.large_mb, args.files, args.file_kb)
        md5 = json.loads(sh([mlver, "show", "big@HEAD", "--json"], root, env))["record"]["doc"]["artifact"]["md5"]
        rel = Path("files/md5") / md5[:2] / md5[2:]
        cache_obj = root / ".dvc/cache" / rel
        workspace = root / "models/big.bin"
        seed = home / "seed"
        ledger = Path(env["XDG_CACHE_HOME"]) / "mlver" / "remote-objects.json"
        remote(root, env, "seed", seed)
        sh([mlver, "push", "-r", "seed", "big@HEAD"], root, env)
        pull_cmd = {"mlver": [mlver, "pull", "big@HEAD", "-r", "seed"],
                    "dvc": [dvc, "pull", "-r", "seed", "models/big.bin.dvc"]}

        def empty() -> None:
            cache_obj.unlink(missing_ok=True)
            workspace.unlink(missing_ok=True)
            os.sync()

        for run in range(args.runs + 1):  # round 0 warms up (imports, bytecode, DVC's site cache)
            keep = run > 0
            for tool in ("mlver", "dvc", "cp"):
                if "pull" in sections:
                    if tool == "cp":
                        timed("pull large cp", ["cp", str(seed / rel), str(home / "cp-out.bin")], [seed / rel], keep)
                        (home / "cp-out.bin").unlink()
                    else:
                        empty()
                        timed(f"pull large {tool}", pull_cmd[tool], [seed / rel], keep)
                    if tool == "mlver":
                        # The same pull without the ledger of remote objects mlver hashed (as before it
                        # existed): the object is hashed as it is copied (and recorded again).
                        empty()
                        ledger.unlink(missing_ok=True)
                        timed("pull hashed mlver", pull_cmd[tool], [seed / rel], keep)
                if "push" in sections:
                    for writer in ((tool, "mlver" if tool == "dvc" else "dvc") if tool != "cp" else ("cp",)):
                        target = home / f"remote-{tool}"
                        shutil.rmtree(target, ignore_errors=True)
                        if tool == "cp":
                            (target / rel).parent.mkdir(parents=True)
                            timed("push large cp", ["cp", str(cache_obj), str(target / rel)], [cache_obj], keep)
                        else:
                            empty()
                            sh(pull_cmd[writer], root, env)  # who last wrote the cache object
                            remote(root, env, target.name, target)
                            key = f"push large {tool}" if writer == tool else f"push foreign {tool}"
                            timed(key, [mlver, "push", "-r", target.name, "big@HEAD"] if tool == "mlver"
                                  else [dvc, "push", "-r", target.name, "models/big.bin.dvc"], [cache_obj], keep)
                            assert (target / rel).is_file(), f"{tool} did not push the object"
                        shutil.rmtree(target)
        if "again" in sections:
            # Every small file already in place: each tool after its own first pull.
            sh([mlver, "push", "many@HEAD"], root, env)
            many = root / "data/many"
            for run in range(args.runs + 2):  # run 0 places the files, run 1 warms up
                for tool in ("mlver", "dvc"):
                    cmd = [mlver, "pull", "many@HEAD", "--with-data"] if tool == "mlver" else \
                        [dvc, "pull", "data/many.dvc", "models/tiny.bin.dvc"]
                    if run == 0:
                        sh(cmd, root, env)
                        continue
                    timed(f"again many {tool}", cmd, [many], run > 1)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    rows = []
    labels = (("push large", f"push 1 file of {args.large_mb} MiB, object known to the pushing tool"),
              ("push foreign", f"push 1 file of {args.large_mb} MiB, object written by the other tool"),
              ("pull large", f"pull 1 file of {args.large_mb} MiB (empty cache, no workspace copy)"),
              ("pull hashed", f"the same pull, no ledger entry (hashed as before {LEDGER})"),
              ("again many", f"pull --with-data again, {args.files} files in place"))
    for key, label in labels:
        like = {"push foreign": "push large", "pull hashed": "pull large"}.get(key, key)  # what it is compared with
        m, d, c = med.get(f"{key} mlver"), med.get(f"{key} dvc", med.get(f"{like} dvc")), med.get(f"{like} cp")
        if m is None and d is None:
            continue
        rows.append([label, bl.fmt_s(m), bl.fmt_s(d), bl.fmt_s(c), bl.fmt_ratio(m, d), bl.fmt_ratio(m, c),
                     bl.fmt_s(cpu.get(f"{key} mlver")), bl.fmt_s(cpu.get(f"{key} dvc", cpu.get(f"{like} dvc"))),
                     bl.fmt_s(cpu.get(f"{like} cp"))])
    # cp's CPU too: on a loaded VM a kernel copy's system time swings (0.4-3 s for 1 GiB), so
    # mlver's CPU is read against the copy measured in the same run.
    table = bl.table(["operation", "mlver s", "dvc s", "cp s", "mlver/dvc", "mlver/cp", "mlver cpu s", "dvc cpu s",
                      "cp cpu s"], rows)
    targets = [(f"{label} at or below dvc", med[f"{key} mlver"] <= med[f"{key} dvc"])
               for key, label in (("push large", "push 1 GiB"), ("pull large", "pull 1 GiB"),
                                  ("again many", "repeated pull --with-data"))
               if f"{key} mlver" in med and f"{key} dvc" in med]
    text = "\n".join([
        "## Local remote: push and pull (bench_storage.py)", "", header, "",
        f"Median of {args.runs} interleaved run(s) after one warm-up round; each figure a whole process; "
        "every file a command reads was read into the page cache first, and `sync` ran before each command.", "",
        table, "",
        "| target | result |", "|---|---|", *[f"| {label} | {bl.verdict(ok)} |" for label, ok in targets],
    ])
    bl.report("storage", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
