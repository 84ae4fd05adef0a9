"""A model committed to git (example-gto's shape): `mlver show` before and after its blob's md5 is kept.

    .venv/bin/python bench/bench_git_model.py [--mb 200] [--runs 5]

The repository: a ``dvc.yaml`` that declares ``churn`` at ``models/churn.pkl``,
an ordinary git file of ``--mb`` MiB, registered by GTO's tag format (no
record, so every command derives the version's lineage from its commit).
Timed, interleaved run by run: ``mlver show churn@v1.0.0 --json`` with the
cache of blob md5s removed first (the blob is read and hashed, as every
command did before), the same with the cache kept (what every command after
the first costs), and the floor of the cold path, ``git cat-file blob | md5sum``.
"""
from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import benchlib as bl


def build(root: Path, env: dict[str, str], mb: int) -> str:
    """The repository; returns the model blob's id."""
    root.mkdir(parents=True)
    git = lambda *a: bl.sh(["git", *a], root, env)  # noqa: E731
    git("init", "-q")
    (root / "dvc.yaml").write_text("artifacts:\n  churn:\n    type: model\n    path: models/churn.pkl\n")
    (root / "models").mkdir()
    with open(root / "models" / "churn.pkl", "wb") as fh:
        block = bytes(range(256)) * 4096  # 1 MiB, each MiB made distinct so git cannot delta it away
        for i in range(mb):
            fh.write(i.to_bytes(4, "big") + block[4:])
    git("add", "-A")
    git("commit", "-q", "-m", "Create models")
    git("tag", "-a", "churn@v1.0.0", "-m", "Registering artifact churn version v1.0.0")
    return git("rev-parse", "HEAD:models/churn.pkl").strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    home = bl.temp_home("git-model")
    env = bl.isolated_env(home)
    root = home / "example-gto"
    oid = build(root, env, args.mb)
    mlver = bl.tool("mlver") or "mlver"
    cache = bl.sh(["git", "rev-parse", "--git-path", "mlver/cache/blob-md5.json"], root, env).strip()
    show = f"{mlver} show churn@v1.0.0 --json > /dev/null"
    commands = [
        ("floor: git cat-file blob, piped to md5sum", ["sh", "-c", f"git cat-file blob {oid} | md5sum > /dev/null"]),
        ("show, blob md5 not kept (hashed)", ["sh", "-c", f"rm -f {cache}; {show}"]),
        ("show, blob md5 kept", ["sh", "-c", show]),
    ]
    note = bl.wait_for_quiet()
    timings = bl.measure_many(commands, root, env, args.runs)
    floor = timings[commands[0][0]]
    rows = [[label, bl.fmt_s(t.median), bl.fmt_s(t.median_cpu), bl.fmt_ratio(t.median, floor.median),
             bl.fmt_ratio(t.median_cpu, floor.median_cpu)] for label, t in timings.items()]
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"git-held model of {args.mb} MiB, {args.runs} interleaved runs, medians; {note}; {load}")
    print(bl.mlver_source())
    print(bl.table(["command", "wall s", "cpu s", "wall / floor", "cpu / floor"], rows))


if __name__ == "__main__":
    main()
