"""Many small files: `mlver data add`, `push` and `pull` of one directory against DVC.

Generates --files files of --size bytes (default 100,000 x 4 KiB, in 100
subfolders) under --tmp, then, interleaved --repeat times, `dvc add DIR`
and `mlver data add DIR` in fresh repositories (the folder hard-linked in):
wall, CPU (user+sys of the child via os.wait4) and peak RSS. Then checks
that both wrote the same .dvc file, the same .dir manifest and the same
cache objects, and that `dvc status` is clean in mlver's repository.
Target: mlver at least 3x faster than `dvc add` (wall).

Then push and pull of that directory (--transfer-repeat rounds; in each
round every target, and in turn dvc or mlver first), to a fresh local
directory remote and, with --s3-files N (0: skip), to moto's S3 on 127.0.0.1
for a directory of the first N files, behind each of --servers (bench/s3server.py:
werkzeug, as `python -m moto.server` serves it, closing every connection;
cheroot, keep-alive and a thread pool, as real S3 keeps connections open;
either with ``+cache``: moto's per-request scan of its service packages done
once per host, the same answers for less of the server's CPU, for both tools).
Both tools against both servers in the same run: a server that favours one
client is no fair anchor alone. Both tools start from the same state: the same cache
objects (checked identical above), a fresh remote for a push, an empty cache
and no workspace copy for a pull from the remote the same tool pushed to;
the files each command reads are read into the page cache first and `sync`
runs before it. What a command leaves behind is moved aside, not deleted,
until the last timed command (see _Aside: on a filesystem without a journal
the deletions would slow the next command's file creations). Reported: wall,
CPU of the command, and for S3 the server's CPU, requests and connections
meanwhile (moto is one Python process sharing the machine's cores: the CPU
mlver's requests cost it is a floor under mlver's wall). mlver's repository records a model on the data (`mlver
push` sends what records name); dvc pushes and pulls `images.dvc`. Last,
`dvc pull` in mlver's repository from the remote mlver pushed to, then
`dvc status`, which must be clean: DVC reads what mlver wrote.
Target: mlver at least 2x faster than DVC on each.

Everything it generated is deleted afterwards.

    .venv/bin/python bench/bench_small_files.py [--files N] [--size BYTES] [--repeat K]
        [--transfer-repeat K] [--s3-files N] [--servers werkzeug,cheroot,cheroot+cache] [--tmp DIR]
        [--skip-add] [--skip-local]
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
from collections.abc import Callable
from dataclasses import dataclass

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))


def _link_tree(src: pathlib.Path, dst: pathlib.Path) -> None:
    for folder, _, files in os.walk(src):
        out = dst / os.path.relpath(folder, src)
        out.mkdir(parents=True, exist_ok=True)
        for name in files:
            os.link(os.path.join(folder, name), out / name)


class _Aside:
    """Trees a timed command left, moved out of the way instead of deleted, and
    deleted after the last timed command. On this machine's ext4 (no journal),
    every inode created within a minute of many deletions scans past the freed
    ones (the kernel's recently_deleted()): a pull of 3,000 files timed right
    after the previous one was removed paid ~1 ms of kernel time per file for
    that cleanup (sys 4.5-6.8 s instead of 1.4 s), and whichever tool ran second paid it."""

    def __init__(self, folder: pathlib.Path) -> None:
        self.folder = folder
        self._n = 0

    def put(self, path: pathlib.Path) -> None:
        self.folder.mkdir(exist_ok=True)
        self._n += 1
        os.rename(path, self.folder / str(self._n))


def _cache(repo: pathlib.Path) -> dict[str, bytes]:
    root = repo / ".dvc" / "cache"
    # Objects are named by their md5: the names say the content; a manifest is compared byte for byte.
    return {p.relative_to(root).as_posix(): p.read_bytes() if p.name.endswith(".dir") else b""
            for p in root.rglob("*") if p.is_file()}


def _tree(folder: pathlib.Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _make_repos(work: pathlib.Path, data: pathlib.Path, env: dict[str, str], tag: str) -> dict[str, pathlib.Path]:
    """A dvc repository and an mlver one, each with ``data`` added as images/ (the mlver
    one with a model recorded on it), for the transfer rows."""
    import benchlib as bl

    repos = {}
    for tool in ("dvc", "mlver"):
        repo = work / f"xfer-{tool}-{tag}"
        repo.mkdir()
        bl.sh(["git", "init", "-q"], repo, env)
        _link_tree(data, repo / "images")
        if tool == "dvc":
            bl.sh([f"{bl.VENV_BIN}/dvc", "init", "-q"], repo, env)
            bl.sh([f"{bl.VENV_BIN}/dvc", "add", "-q", "images"], repo, env)
        else:
            mlver = f"{bl.VENV_BIN}/mlver"
            bl.sh([mlver, "init"], repo, env)
            bl.sh([mlver, "data", "add", "images"], repo, env)
            (repo / "model.bin").write_bytes(b"a model trained on images\n")
            bl.sh([mlver, "model", "add", "m", "--path", "model.bin", "--data", "images"], repo, env)
            bl.sh(["git", "commit", "-qm", "declare m"], repo, env)
            bl.sh([mlver, "record", "m"], repo, env)
        repos[tool] = repo
    return repos


@dataclass
class _Target:
    """Where a group of transfers goes: a local directory remote or one S3 server."""

    name: str  # "local", "s3 werkzeug", "s3 cheroot"
    url: Callable[[str], str]  # remote name -> URL
    opts: list[list[str]]  # `dvc remote modify` arguments
    stats: Callable[[], dict[str, float]] | None = None  # the S3 server's counters (s3server.py's /_stats)


_Sample = tuple[float, float, float, float, float]  # wall, cpu, server cpu, server requests, server connections


def _transfers(repos: dict[str, pathlib.Path], env: dict[str, str], targets: list[_Target], repeat: int,
               aside: _Aside) -> tuple[dict[tuple[str, str], list[_Sample]], dict[str, str]]:
    """Push and pull of images/ by each tool to each target; returns the timings
    ((target, "push dvc") -> samples) and, per target, why `dvc pull` + `dvc
    status` in mlver's repository disagree with what mlver pushed there ("" when
    they agree). The order turns every round: targets rotate, and the tool that
    goes first alternates, so neither a tool nor a server always runs first
    (a server's first requests, a cold page cache, the previous command's writeback)."""
    import benchlib as bl

    dvc, mlver = f"{bl.VENV_BIN}/dvc", f"{bl.VENV_BIN}/mlver"
    times: dict[tuple[str, str], list[_Sample]] = {}

    def timed(target: _Target, label: str, argv: list[str], repo: pathlib.Path) -> None:
        print(f"  {target.name} {label} ...", file=sys.stderr, flush=True)
        before = target.stats() if target.stats else {}
        wall, cpu, _ = bl.run_rusage(argv, repo, env)
        after = target.stats() if target.stats else {}
        cpu_s, requests, connections = (after[k] - before[k] for k in ("process_cpu", "requests", "connections")) \
            if after else (0.0, 0.0, 0.0)
        times.setdefault((target.name, label), []).append((wall, cpu, cpu_s, requests, connections))

    keep = {tool: repo.parent / f"{repo.name}-cache" for tool, repo in repos.items()}
    for tool, repo in repos.items():
        shutil.copytree(repo / ".dvc" / "cache", keep[tool], copy_function=os.link)
    last: dict[str, str] = {}
    turn = 0
    for round_ in range(repeat):
        for target in targets[round_ % len(targets):] + targets[:round_ % len(targets)]:
            tools = ("dvc", "mlver") if turn % 2 == 0 else ("mlver", "dvc")
            turn += 1
            for tool in tools:
                repo = repos[tool]
                name = f"{target.name.replace(' ', '-')}-{tool}-{round_}"
                bl.sh([dvc, "remote", "add", "--local", "-f", name, target.url(name)], repo, env)
                for opt in target.opts:
                    bl.sh([dvc, "remote", "modify", "--local", name, *opt], repo, env)
                cache = repo / ".dvc" / "cache"
                if not cache.exists():
                    shutil.copytree(keep[tool], cache, copy_function=os.link)
                bl.warm(cache)
                push = [dvc, "push", "-q", "-r", name, "images.dvc"] if tool == "dvc" else \
                    [mlver, "push", "-r", name, "m@HEAD"]
                timed(target, f"push {tool}", push, repo)
                aside.put(cache)
                aside.put(repo / "images")
                os.sync()
                pull = [dvc, "pull", "-q", "-r", name, "images.dvc"] if tool == "dvc" else \
                    [mlver, "pull", "m@HEAD", "--with-data", "-r", name]
                timed(target, f"pull {tool}", pull, repo)
                if tool == "mlver":
                    last[target.name] = name
    # DVC reads what mlver pushed: pull it with dvc into mlver's repository, then dvc status.
    repo = repos["mlver"]
    expected = _tree(repo / "images")
    why = {}
    for target in targets:
        aside.put(repo / ".dvc" / "cache")
        aside.put(repo / "images")
        print(f"  {target.name}: dvc pull of what mlver pushed ...", file=sys.stderr, flush=True)
        pulled = subprocess.run([dvc, "pull", "-q", "-r", last[target.name], "images.dvc"], cwd=repo, env=env,
                                capture_output=True, text=True)
        status = subprocess.run([dvc, "status", "images.dvc"], cwd=repo, env=env, capture_output=True, text=True)
        same = pulled.returncode == 0 and _tree(repo / "images") == expected
        clean = status.returncode == 0 and "up to date" in status.stdout
        why[target.name] = "" if same and clean else \
            f"dvc pull rc {pulled.returncode} {pulled.stderr[-300:]}; status: {status.stdout[-300:]}"
    return times, why


def _s3_server(kind: str) -> tuple[subprocess.Popen, str]:
    """moto's S3 behind ``kind`` (bench/s3server.py: werkzeug as `python -m moto.server` runs
    it, or cheroot with keep-alive; a ``+cache`` suffix adds ``--dispatch-cache``), on a free
    loopback port; (process, endpoint)."""
    import socket
    import time
    import urllib.request

    import benchlib as bl

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server, _, cache = kind.partition("+")
    if server not in ("werkzeug", "cheroot") or cache not in ("", "cache"):
        raise SystemExit(f"unknown server {kind!r}: werkzeug or cheroot, either with +cache")
    extra = ["--dispatch-cache"] if cache else []
    proc = subprocess.Popen([bl.PYTHON, str(bl.BENCH / "s3server.py"), "--server", server, "-p", str(port), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).read()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"S3 server ({kind}) did not start")


def _server_stats(endpoint: str) -> Callable[[], dict[str, float]]:
    import json
    import urllib.request

    def stats() -> dict[str, float]:
        with urllib.request.urlopen(f"{endpoint}/_stats", timeout=30) as answer:
            return {k: float(v) for k, v in json.load(answer).items()}

    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--transfer-repeat", type=int, default=1)
    parser.add_argument("--s3-files", type=int, default=20_000)
    parser.add_argument("--servers", default="werkzeug,cheroot",
                        help="S3 servers in front of moto (bench/s3server.py), each measured with both tools: "
                             "werkzeug, cheroot, and either with +cache (s3server.py --dispatch-cache: moto's "
                             "host -> service lookup remembered, the same answers for less server CPU), "
                             "e.g. cheroot,cheroot+cache")
    parser.add_argument("--skip-add", action="store_true", help="only the push/pull rows")
    parser.add_argument("--skip-local", action="store_true", help="no local-remote push/pull rows")
    parser.add_argument("--tmp", default="/tmp")
    args = parser.parse_args()

    import benchlib as bl

    work = pathlib.Path(tempfile.mkdtemp(prefix="mlver-bench-small-", dir=args.tmp))
    sections: list[str] = []
    servers: list[subprocess.Popen] = []
    aside = _Aside(work / "set-aside")
    try:
        data = work / "source"
        for i in range(args.files):
            folder = data / f"d{i % 100:02d}"
            if i < 100:
                folder.mkdir(parents=True)
            (folder / f"f{i:06d}.bin").write_bytes(os.urandom(args.size))
        env = bl.isolated_env(work / "home")
        env.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_EC2_METADATA_DISABLED": "true"})
        header = bl.machine()
        if not args.skip_add:
            sections.append(_add_rows(args, work, data, env, header, aside))
        rows, verdicts = [], []
        groups: list[tuple[int, list[_Target]]] = []
        if not args.skip_local:
            groups.append((args.files, [_Target("local", lambda name: str(work / "remotes" / name), [])]))
        if args.s3_files:
            import boto3

            s3_targets = []
            for kind in args.servers.split(","):
                proc, endpoint = _s3_server(kind)
                servers.append(proc)
                boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                             aws_secret_access_key="bench").create_bucket(Bucket="bench")
                s3_targets.append(_Target(f"s3 {kind}", lambda name: f"s3://bench/{name}",
                                          [["endpointurl", endpoint]], _server_stats(endpoint)))
            groups.append((args.s3_files, s3_targets))
        for count, targets in groups:
            subset = data if count >= args.files else _subset(data, work / f"source-{count}", count)
            repos = _make_repos(work, subset, env, targets[0].name.split()[0])
            times, why = _transfers(repos, env, targets, args.transfer_repeat, aside)
            for target in targets:
                where = "local directory remote" if target.name == "local" else \
                    f"S3, moto behind {target.name.split()[1].replace('+cache', ' (dispatch cached)')} on 127.0.0.1"
                for op in ("push", "pull"):
                    d, m = ([statistics.median(x[i] for x in times[(target.name, f"{op} {tool}")]) for i in range(5)]
                            for tool in ("dvc", "mlver"))
                    s3 = target.stats is not None
                    rows.append([f"{op} {count:,} x {args.size:,} B", where, f"{d[0]:.1f}", f"{m[0]:.1f}",
                                 f"{d[0] / m[0]:.2f}x", f"{d[1]:.1f}", f"{m[1]:.1f}",
                                 f"{d[2]:.1f} / {m[2]:.1f}" if s3 else "-",
                                 f"{d[3]:.0f} / {m[3]:.0f}" if s3 else "-",
                                 f"{d[4]:.0f} / {m[4]:.0f}" if s3 else "-",
                                 f"{d[0] / m[2]:.2f}x" if s3 and m[2] else "-"])
                    verdicts.append((f"{op} to {where} at least 2x faster than dvc ({d[0] / m[0]:.2f}x)", d[0] >= 2 * m[0]))
                verdicts.append((f"`dvc pull` + `dvc status` clean on what mlver pushed to {where}"
                                 + (f" ({why[target.name]})" if why[target.name] else ""), not why[target.name]))
            for repo in repos.values():
                aside.put(repo)
        if rows:
            sections.append("\n".join([
                "## Many small files: push and pull of a directory (bench_small_files.py)", "",
                f"Machine: {header}. Median of {args.transfer_repeat} run(s), the order turned every round (targets "
                "rotate, the tool that goes first alternates); wall seconds of the whole process, CPU (user+sys) of "
                "the process and its children; for S3, what the server (moto: one Python process on the same 2 cores) "
                "spent meanwhile: its CPU, requests and client connections (werkzeug closes every connection; cheroot "
                "keeps them open, as real S3 does). The last column is the best any client could reach against that "
                "server: dvc's wall over the server CPU mlver's requests cost. Same cache objects, fresh remote per "
                "push, empty cache and no workspace copy per pull (the previous ones moved aside, deleted after the "
                "last timed command); page cache warmed and `sync` before each command.", "",
                bl.table(["transfer", "remote", "dvc s", "mlver s", "mlver faster by", "dvc cpu s", "mlver cpu s",
                          "server cpu s (dvc / mlver)", "requests (dvc / mlver)", "connections (dvc / mlver)",
                          "ceiling"], rows), "",
                "| target | result |", "|---|---|",
                *[f"| {label} | {bl.verdict(ok)} |" for label, ok in verdicts],
            ]))
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    bl.report("small_files", "\n\n".join(sections))


def _subset(data: pathlib.Path, out: pathlib.Path, count: int) -> pathlib.Path:
    files = sorted(p for p in data.rglob("*") if p.is_file())[:count]
    for p in files:
        target = out / p.relative_to(data)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(p, target)
    return out


def _add_rows(args: argparse.Namespace, work: pathlib.Path, data: pathlib.Path, env: dict[str, str], header: str,
              aside: _Aside) -> str:
    import benchlib as bl

    runs: dict[str, list[tuple[float, float, float]]] = {"dvc add": [], "mlver data add": []}
    kept: dict[str, pathlib.Path] = {}
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
                aside.put(kept[name])
            kept[name] = repo
            shutil.rmtree(work / "home" / ".local", ignore_errors=True)
    dvc_repo, mlver_repo = kept["dvc add"], kept["mlver data add"]
    same_dvc = (dvc_repo / "images.dvc").read_text() == (mlver_repo / "images.dvc").read_text()
    same_cache = _cache(dvc_repo) == _cache(mlver_repo)
    status = subprocess.run([f"{bl.VENV_BIN}/dvc", "status"], cwd=mlver_repo, env=env, capture_output=True, text=True)
    clean = status.returncode == 0 and "up to date" in status.stdout
    for repo in kept.values():
        aside.put(repo)
    med = {name: [statistics.median(x[i] for x in xs) for i in range(3)] for name, xs in runs.items()}
    d, m = med["dvc add"], med["mlver data add"]
    return "\n".join([
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


if __name__ == "__main__":
    main()
