"""S3 transfers against a local S3-compatible endpoint (moto's server on loopback).

    .venv/bin/python bench/bench_s3.py [--large-mb 1024] [--files 2000] [--file-kb 4]
                                       [--commits 1000] [--runs 3] [--download-file] [--only large,many,repo]
                                       [--server werkzeug|cheroot]

Per run, in an order that turns each run (mlver, dvc, boto3; then dvc first; then boto3): push and pull of one large file and
of a directory of small files, by `mlver` and by `dvc push`/`dvc pull` on the
same repository, then the same push again with nothing to send; boto3's own
`upload_file` and one streaming `get_object` (the floors of the large-file
targets; `download_file`'s ranged GETs take minutes against moto, so only
with --download-file), and a sequential `put_object`/`get_object` loop for
the small files. Then `mlver pull --repo` of a model by stage against `dvc
artifacts get --stage` (which clones) on a repository with --commits
commits. Every push goes to a fresh prefix; every pull starts with an empty
cache and no workspace copy. Each push starts from the cache as `record` left
it, with mlver's stat cache of it (the folder is moved aside for the pulls and
back, never copied: its files keep the stat `record` saw), as bench_storage.py
gives each tool its own bookkeeping warm; one more mlver row pushes the large
object with the stat cache deleted first (an object dvc or a copy wrote: hashed
as sent). Before each command the files it reads are
read into the page cache and `sync` runs. Each figure is a whole process,
interpreter start-up included. moto's server is pure Python, so absolute
speeds are the endpoint's; the ratios are what the targets are about.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import benchlib as bl

BUCKET = "bench"


def start_moto(port: int, logdir: Path, server: str = "werkzeug") -> subprocess.Popen:
    """moto's S3 behind ``server`` (bench/s3server.py): werkzeug as `python -m moto.server`
    serves it, a connection per request; cheroot, keep-alive, as real S3."""
    log = open(logdir / "moto.log", "wb")
    proc = subprocess.Popen([bl.PYTHON, str(bl.BENCH / "s3server.py"), "--server", server, "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto server did not start")


sh = bl.sh


CPU: dict[str, list[float]] = {}  # the same keys as the wall times: user+sys of the command and its children


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    return bl.run_timed(argv, cwd, env, timeout=3600)


def note(times: dict[str, list[float]], key: str, sample: tuple[float, float]) -> None:
    times.setdefault(key, []).append(sample[0])
    CPU.setdefault(key, []).append(sample[1])


BOTO = """
import sys, os, boto3
from concurrent.futures import ThreadPoolExecutor
ep, op, bucket, prefix, path = sys.argv[1:6]
c = boto3.client("s3", endpoint_url=ep, region_name="us-east-1")
if op == "up":
    c.upload_file(path, bucket, prefix + "/big")
elif op == "down":
    c.download_file(bucket, prefix + "/big", path)
elif op == "stream":  # one streaming GET: the floor for a pull of one large object
    body = c.get_object(Bucket=bucket, Key=prefix + "/big")["Body"]
    with open(path, "wb") as fh:
        for chunk in iter(lambda: body.read(1 << 20), b""):
            fh.write(chunk)
elif op == "up-many":
    for name in sorted(os.listdir(path)):
        with open(os.path.join(path, name), "rb") as fh:
            c.put_object(Bucket=bucket, Key=f"{prefix}/{name}", Body=fh)
elif op == "down-many":
    os.makedirs(path, exist_ok=True)
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for o in page.get("Contents", ()):
            with open(os.path.join(path, o["Key"].rsplit("/", 1)[1]), "wb") as fh:
                fh.write(c.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
"""



def add_remote(root: Path, env: dict[str, str], name: str, endpoint: str, tool: str = "dvc") -> None:
    """A fresh remote in .dvc/config.local, added with the tool's own command: `mlver remote add`
    leaves mlver's cache of DVC's config reading warm, as a user's own setup would (with `dvc remote
    add` the next mlver command imports DVC to read the changed config: ~0.08 s CPU, once)."""
    if tool == "mlver":
        sh([bl.tool("mlver") or "mlver", "remote", "add", "--local", "-f", name, f"s3://{BUCKET}/{name}",
            "--endpoint-url", endpoint], root, env)
        return
    sh([bl.tool("dvc") or "dvc", "remote", "add", "--local", "-f", name, f"s3://{BUCKET}/{name}"], root, env)
    sh([bl.tool("dvc") or "dvc", "remote", "modify", "--local", name, "endpointurl", endpoint], root, env)


STAT_CACHE = ".dvc/tmp/mlver/md5s.json"  # mlver's stat cache (adapters/hashcache.py)


def drop_local(root: Path, paths: list[str], keep: Path) -> None:
    """No cache and no workspace copy, for a pull; the cache is moved aside, not deleted (restore)."""
    cache = root / ".dvc" / "cache"
    if cache.exists() and not (keep / "cache").exists():
        os.rename(cache, keep / "cache")
    shutil.rmtree(cache, ignore_errors=True)
    for p in paths:
        target = root / p
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def restore(root: Path, keep: Path) -> None:
    """The cache as `record` left it, and mlver's stat cache of it: what a user
    has after `record` (as bench_storage.py gives each tool its own bookkeeping
    warm). The folder is moved back, not copied, so its files keep the inode
    and ctime that `record` saw; a pull's cache is deleted."""
    cache = root / ".dvc" / "cache"
    if (keep / "cache").exists():
        shutil.rmtree(cache, ignore_errors=True)
        os.rename(keep / "cache", cache)
    shutil.copy(keep / "md5s.json", root / STAT_CACHE)


TOOLS = ("mlver", "dvc", "boto3")


def transfer_rows(root: Path, env: dict[str, str], endpoint: str, runs: int, tmp: Path,
                  download_file: bool = False, only: frozenset[str] = frozenset(("large", "many"))) -> dict[str, list[float]]:
    mlver, dvc = bl.tool("mlver") or "mlver", bl.tool("dvc") or "dvc"
    cases = {
        "large": (["big@HEAD"], ["models/big.bin.dvc"], ["models/big.bin"], "big@HEAD"),
        "many": (["many@HEAD"], ["data/many.dvc", "models/tiny.bin.dvc"], ["data/many", "models/tiny.bin"], "many@HEAD"),
    }
    times: dict[str, list[float]] = {}
    keep = tmp / "keep"
    keep.mkdir()
    shutil.copy(root / STAT_CACHE, keep / "md5s.json")
    if "large" in only:
        # Untimed: moto's first large upload grows its heap (the first push of a run took 1.3-2.1x the
        # others), a cost no tool should pay alone.
        sh([bl.PYTHON, "-c", BOTO, endpoint, "up", BUCKET, "warm-up", str(root / "models/big.bin")], root, env)
    for argv, key in (([mlver, "--version"], "start mlver"), ([bl.PYTHON, "-c", "import boto3"], "start boto3")):
        for _ in range(runs):  # the start-up floor of each side: every figure here is a whole process
            note(times, key, timed(argv, root, env))
    for case, (refs, targets, paths, pull_ref) in cases.items():
        if case not in only:
            continue
        for run in range(runs):
            # The order turns each run: moto answers the same upload more slowly just after another
            # large one (its Complete, 2.4-3.7 s for the same 512 MiB), so no tool always comes first.
            for tool in TOOLS[run % 3:] + TOOLS[:run % 3]:
                name = f"{tool}-{case}-{run}"
                print(f"  {name} ...", file=sys.stderr, flush=True)
                restore(root, keep)
                if tool == "boto3":
                    src = root / ("models/big.bin" if case == "large" else "data/many")
                    if not src.exists():
                        sh([dvc, "checkout", *targets], root, env)
                    op = "up" if case == "large" else "up-many"
                    bl.warm(src)
                    note(times, f"push {case} boto3", timed([bl.PYTHON, "-c", BOTO, endpoint, op, BUCKET, name, str(src)], root, env))
                    dst = tmp / f"{name}-down"
                    op = "down" if case == "large" else "down-many"
                    if case == "many" or download_file:
                        bl.warm()
                        note(times, f"pull {case} boto3", timed([bl.PYTHON, "-c", BOTO, endpoint, op, BUCKET, name, str(dst)], root, env))
                    shutil.rmtree(dst, ignore_errors=True) if dst.is_dir() else dst.unlink(missing_ok=True)
                    if case == "large":
                        bl.warm()
                        note(times, "pull large stream", timed([bl.PYTHON, "-c", BOTO, endpoint, "stream", BUCKET, name, str(dst)], root, env))
                        dst.unlink(missing_ok=True)
                    continue
                add_remote(root, env, name, endpoint, tool)
                push = [mlver, "push", "-r", name, *refs] if tool == "mlver" else [dvc, "push", "-r", name, *targets]
                bl.warm(root / ".dvc" / "cache")
                note(times, f"push {case} {tool}", timed(push, root, env))
                bl.warm()
                note(times, f"again {case} {tool}", timed(push, root, env))  # nothing to send
                if case == "large" and tool == "mlver":
                    # An object mlver's stat cache does not know (dvc pull or a copy wrote it): hashed as sent.
                    add_remote(root, env, f"{name}-unknown", endpoint, tool)
                    (root / STAT_CACHE).unlink()
                    bl.warm(root / ".dvc" / "cache")
                    note(times, "push unknown mlver", timed([mlver, "push", "-r", f"{name}-unknown", *refs], root, env))
                drop_local(root, paths, keep)
                pull = [mlver, "pull", pull_ref, "-r", name, "--with-data"] if tool == "mlver" else [dvc, "pull", "-r", name, *targets]
                bl.warm()
                note(times, f"pull {case} {tool}", timed(pull, root, env))
    restore(root, keep)
    return times


def make_registry_repo(root: Path, env: dict[str, str], endpoint: str, commits: int) -> None:
    """A repository with ``commits`` commits of history, then the model, released and in prod."""
    root.mkdir(parents=True)
    mlver = bl.tool("mlver") or "mlver"
    sh(["git", "init", "-q"], root, env)
    stream = []
    for i in range(commits):
        body = f"notes {i}\n" + os.urandom(2048).hex() + "\n"
        stream.append(f"commit refs/heads/main\ncommitter Bench <b@e.com> {1700000000 + i} +0000\n"
                      f"data {len(f'c{i}')}\nc{i}\n"
                      + f"M 100644 inline notes.txt\ndata {len(body)}\n{body}\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, env=env, input="".join(stream).encode(), check=True)
    sh(["git", "checkout", "-q", "main"], root, env)
    sh([mlver, "init", "--remote", f"s3://{BUCKET}/registry"], root, env)
    sh([bl.tool("dvc") or "dvc", "remote", "modify", "storage", "endpointurl", endpoint], root, env)
    sh([mlver, "model", "add", "churn", "--path", "models/churn.pkl"], root, env)
    sh(["git", "add", "-A"], root, env)
    sh(["git", "commit", "-qm", "declare churn"], root, env)
    (root / "models").mkdir()
    (root / "models" / "churn.pkl").write_bytes(os.urandom(1024 * 1024))
    sh([mlver, "record", "churn"], root, env)
    sh([mlver, "release", "churn"], root, env)
    sh([mlver, "promote", "churn@v0.1.0", "prod"], root, env)
    sh([mlver, "push"], root, env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="S3 transfer benchmark")
    parser.add_argument("--large-mb", type=int, default=1024)
    parser.add_argument("--files", type=int, default=2000,
                        help="small files (bench_small_files.py --s3-files measures the many-files moonshot)")
    parser.add_argument("--file-kb", type=int, default=4)
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--download-file", action="store_true",
                        help="also time boto3's download_file of the large object (ranged GETs: minutes against moto)")
    parser.add_argument("--repo-runs", type=int, default=5)
    parser.add_argument("--server", choices=("werkzeug", "cheroot"), default="werkzeug",
                        help="the HTTP server in front of moto (bench/s3server.py); cheroot keeps connections open")
    parser.add_argument("--only", default="large,many,repo",
                        help="comma-separated sections: large (one file), many (small files), repo (pull --repo)")
    args = parser.parse_args(argv)
    only = frozenset(args.only.split(","))

    home = bl.temp_home("s3")
    env = bl.isolated_env(home)
    env.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true"})
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    moto = start_moto(port, home, args.server)
    endpoint = f"http://127.0.0.1:{port}"
    header = bl.machine()
    try:
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                     aws_secret_access_key="bench").create_bucket(Bucket=BUCKET)
        print(f"  project: {args.large_mb} MB file, {args.files} x {args.file_kb} KB ...", file=sys.stderr, flush=True)
        bl.transfer_project(home / "project", env, args.large_mb, args.files, args.file_kb)
        times = transfer_rows(home / "project", env, endpoint, args.runs, home, args.download_file, only)
        shutil.rmtree(home / "project", ignore_errors=True)
        if "repo" not in only:
            args.repo_runs = 0
        print(f"  registry repo with {args.commits} commits ...", file=sys.stderr, flush=True)
        repo = home / "registry"
        if args.repo_runs:
            make_registry_repo(repo, env, endpoint, args.commits)
        work = home / "serving"
        work.mkdir()
        url = repo.as_uri()
        mlver_get = [bl.tool("mlver") or "mlver", "pull", "churn#prod", "--repo", url, "-o", "m.pkl", "--trust-endpoint"]
        dvc_get = [bl.tool("dvc") or "dvc", "artifacts", "get", url, "churn", "--stage", "prod", "-o", "m.pkl", "-f"]
        for _ in range(args.repo_runs):
            for tool, cmd in (("mlver pull --repo", mlver_get), ("dvc artifacts get", dvc_get)):
                (work / "m.pkl").unlink(missing_ok=True)
                note(times, tool, timed(cmd, work, env))
    finally:
        moto.terminate()
        moto.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    cpu = {k: statistics.median(v) for k, v in CPU.items()}

    def cpus(*keys: str) -> str:
        return " / ".join(bl.fmt_s(cpu.get(k)) for k in keys)
    mb = args.large_mb * 1024 * 1024 / 1e6
    rows = []
    for op in ("push", "pull"):
        for case, label in (("large", f"1 file of {args.large_mb} MiB"), ("many", f"{args.files} files of {args.file_kb} KiB")):
            m, d, b = (med.get(f"{op} {case} {t}") for t in ("mlver", "dvc", "boto3"))
            rows.append([f"{op} {label}", bl.fmt_s(m), bl.fmt_s(d), bl.fmt_s(b), bl.fmt_ratio(m, d),
                         f"{(b / m):.2f}x" if m and b else "-",
                         f"{mb / m:.0f} MB/s" if case == "large" and m else "-",
                         cpus(*(f"{op} {case} {t}" for t in ("mlver", "dvc", "boto3")))])
    for case, label in (("large", f"1 file of {args.large_mb} MiB"), ("many", f"{args.files} files of {args.file_kb} KiB")):
        m, d = med.get(f"again {case} mlver"), med.get(f"again {case} dvc")
        rows.append([f"push again, nothing to send ({label})", bl.fmt_s(m), bl.fmt_s(d), "-", bl.fmt_ratio(m, d), "-", "-",
                     cpus(f"again {case} mlver", f"again {case} dvc", "-")])
    unknown, boto = med.get("push unknown mlver"), med.get("push large boto3")
    rows.insert(1, [f"push 1 file of {args.large_mb} MiB, object unknown to mlver's stat cache (hashed as sent)",
                    bl.fmt_s(unknown), "-", bl.fmt_s(boto), "-", f"{(boto / unknown):.2f}x" if unknown and boto else "-",
                    f"{mb / unknown:.0f} MB/s" if unknown else "-", cpus("push unknown mlver", "-", "push large boto3")])
    stream, pulled = med.get("pull large stream"), med.get("pull large mlver")
    rows.append([f"one streaming get_object of {args.large_mb} MiB (boto3 column)", "-", "-", bl.fmt_s(stream),
                 "-", f"mlver pull / stream: {bl.fmt_ratio(pulled, stream)}", "-", cpus("-", "-", "pull large stream")])
    rows.append(["start-up floor: `mlver --version` (mlver column), `python -c 'import boto3'` (boto3 column)",
                 bl.fmt_s(med.get("start mlver")), "-", bl.fmt_s(med.get("start boto3")), "-", "-", "-",
                 cpus("start mlver", "-", "start boto3")])
    table = bl.table(["transfer", "mlver s", "dvc s", "boto3 s", "mlver/dvc time", "mlver/boto3 throughput", "mlver rate",
                      "cpu s mlver / dvc / boto3"], rows)
    m, d = med.get("mlver pull --repo"), med.get("dvc artifacts get")
    repo_table = bl.table(["command", "median s", "runs"],
                          [[f"`{k}` (stage prod, {args.commits} commits)", bl.fmt_s(med.get(k)), str(len(times.get(k, ())))]
                           for k in ("mlver pull --repo", "dvc artifacts get")])
    cases = [c for c in ("large", "many") if c in only]
    big = med.get("push large mlver"), med.get("pull large mlver")
    targets = [
        ("mlver push/pull within 1.1x of dvc (every row)",
         all(med.get(f"{o} {c} mlver", 1e9) <= 1.1 * med.get(f"{o} {c} dvc", 0) for o in ("push", "pull") for c in cases)),
        ("mlver >= 0.8x boto3 throughput on the large file (push; pull too with --download-file)",
         all(b and med[f"{o} large boto3"] / b >= 0.8 for o, b in zip(("push", "pull"), big, strict=True) if f"{o} large boto3" in med)),
        (f"`mlver pull --repo` >= 3x faster than `dvc artifacts get` ({d / m:.1f}x)" if m and d else
         "`mlver pull --repo` >= 3x faster than `dvc artifacts get` (not run)", d / m >= 3 if m and d else None),
        ("pull of the large object within 1.3x of one streaming get_object",
         bool(pulled and stream and pulled <= 1.3 * stream)),
        ("push with nothing to send at or below dvc push (both cases)",
         all(med.get(f"again {c} mlver", 1e9) <= med.get(f"again {c} dvc", 0) for c in cases)),
        ("mlver push >= 0.9x boto3 upload_file throughput on the large file (object known, as after record or pull)",
         bool(big[0] and med.get("push large boto3") and med["push large boto3"] / big[0] >= 0.9)),
    ]
    text = "\n".join([
        f"## S3 transfers (moto server on loopback, behind {args.server})", "", header, "",
        f"Median of {args.runs} run(s) per transfer, {args.repo_runs} per `--repo` pull; every push to a fresh "
        "prefix, every pull from an empty cache. boto3 rows: `upload_file`/`download_file` (default "
        "TransferConfig), and a sequential `put_object`/`get_object` loop for the small files. Each figure is a "
        "whole process (interpreter start-up included). moto's server is single-process Python: it, not the "
        "clients, bounds absolute speed.", "",
        table, "", repo_table, "",
        "| target | result |", "|---|---|",
        *[f"| {label} | {bl.verdict(ok)} |" for label, ok in targets],
    ])
    bl.report("s3", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
