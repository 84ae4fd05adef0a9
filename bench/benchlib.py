"""Shared helpers for the bench scripts: timing subprocesses, environment, tables.

Every measurement is wall-clock time of a whole subprocess, because that is
what a user waits for: interpreter start-up, imports and git calls included.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable


def tool(name: str) -> str | None:
    """A command from the project's venv, else from PATH; None if absent."""
    local = VENV_BIN / name
    if local.exists():
        return str(local)
    return shutil.which(name)


class Timeout(Exception):
    pass


class CommandFailed(Exception):
    pass


def isolated_env(home: Path) -> dict[str, str]:
    """An environment that cannot phone home or read the user's settings.

    Telemetry and update checks of DVC/GTO would add network waits that
    have nothing to do with the tools' own speed; a private HOME keeps
    ~/.gitconfig, ~/.config/dvc and the user's mlver storage out of it.
    """
    env = dict(os.environ)
    env.update({
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "DVC_NO_ANALYTICS": "1",
        "ITERATIVE_DO_NOT_TRACK": "1",  # GTO's (and DVC's) telemetry library
        "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_TERMINAL_PROMPT": "0",
        "NO_COLOR": "1",
        "COLUMNS": "120",  # rich/click wrap differently without a terminal; pin it
    })
    # This sandbox sets PYTHONDONTWRITEBYTECODE, so every run would recompile
    # mlver's (editable) source; users get cached bytecode. Cache it, but in
    # the private HOME so nothing is written next to the sources.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home / ".pycache")
    # Tools from the venv first, as if it were activated.
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("VIRTUAL_ENV", None)
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    return env


def temp_home(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"mlver-bench-{prefix}-"))


def run_once(argv: Sequence[str], cwd: Path, env: dict[str, str], timeout: float | None = None) -> float:
    """Wall-clock seconds of one run; output discarded, failures raised."""
    return run_timed(argv, cwd, env, timeout)[0]


def run_timed(argv: Sequence[str], cwd: Path, env: dict[str, str],
              timeout: float | None = None) -> tuple[float, float]:
    """(wall, cpu) seconds of one run; cpu is user+sys of the process and its children.

    CPU time is reported next to wall time because this machine is shared:
    other sessions' load inflates wall time, much less CPU time.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise Timeout(f"{' '.join(argv)}: timed out after {timeout} s") from exc
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise CommandFailed(f"{' '.join(argv)} exited {proc.returncode} in {cwd}:\n  " + "\n  ".join(tail))
    return elapsed, cpu


def run_rusage(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(wall s, cpu s, peak RSS KiB) of one run of ``argv`` and the processes it waited for."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise CommandFailed(f"{' '.join(argv)} exited {proc.returncode} in {cwd}:\n  " + err.decode(errors="replace")[-500:])
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


@dataclass
class Timing:
    label: str
    runs: list[float] = field(default_factory=list)  # wall seconds
    cpu: list[float] = field(default_factory=list)   # user+sys seconds
    note: str = ""  # e.g. "timeout >120 s"

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs and not self.note else None

    @property
    def best(self) -> float | None:
        return min(self.runs) if self.runs and not self.note else None

    @property
    def median_cpu(self) -> float | None:
        return statistics.median(self.cpu) if self.cpu and not self.note else None


def measure_many(commands: Sequence[tuple[str, Sequence[str]]], cwd: Path, env: dict[str, str],
                 runs: int, warmup: int = 1, timeout: float | None = None) -> dict[str, Timing]:
    """Median-of-N timings of several commands, interleaved run by run.

    Interleaving (a, b, c, a, b, c, ...) spreads a burst of load from other
    work on the machine over all commands instead of one. Warm-up runs fill
    the page cache and __pycache__. A timeout or a failure is recorded in
    ``note`` instead of aborting the whole benchmark, so one broken tool does
    not hide the other numbers.
    """
    timings = {label: Timing(label) for label, _ in commands}
    for round_ in range(warmup + runs):
        for label, argv in commands:
            t = timings[label]
            if t.note:
                continue
            try:
                wall, cpu = run_timed(argv, cwd, env, timeout)
            except Timeout:
                t.note = f"timeout >{timeout:g} s"
                continue
            except CommandFailed as exc:
                t.note = "failed"
                print(f"warning: {exc}", file=sys.stderr)
                continue
            if round_ >= warmup:
                t.runs.append(wall)
                t.cpu.append(cpu)
    return timings


def measure(label: str, argv: Sequence[str], cwd: Path, env: dict[str, str], runs: int,
            warmup: int = 1, timeout: float | None = None) -> Timing:
    return measure_many([(label, argv)], cwd, env, runs, warmup, timeout)[label]


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def fmt_ratio(num: float | None, den: float | None) -> str:
    if num is None or den is None or den == 0:
        return "-"
    return f"{num / den:.1f}x" if num / den >= 10 else f"{num / den:.2f}x"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def _cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat; None off Linux."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_fraction(seconds: float = 1.0) -> float | None:
    """Share of all CPUs busy over ``seconds`` while we sleep: other people's load."""
    a = _cpu_ticks()
    time.sleep(seconds)
    b = _cpu_ticks()
    if a is None or b is None or b[1] == a[1]:
        return None
    return (b[0] - a[0]) / (b[1] - a[1])


def wait_for_quiet(limit: float = 0.25, patience: float | None = None) -> str:
    """Wait (up to ``patience`` s) until other processes use < ``limit`` of the CPUs.

    The machine has 2 cores and is shared with other sessions (test suites,
    profilers); a benchmark that starts while one core is pegged measures
    the neighbour. Returns a note for the report either way.
    """
    if patience is None:  # MLVER_BENCH_PATIENCE=0: measure under whatever load there is (and say so)
        patience = float(os.environ.get("MLVER_BENCH_PATIENCE", "180"))
    start = time.monotonic()
    busy = busy_fraction()
    while busy is not None and busy >= limit and time.monotonic() - start < patience:
        print(f"  waiting for a quieter machine (other load {busy:.0%} of {os.cpu_count()} cores) ...",
              file=sys.stderr, flush=True)
        time.sleep(4)
        busy = busy_fraction()
    if busy is None:
        return "other load unknown"
    waited = time.monotonic() - start
    return f"other load {busy:.0%} of all cores at start" + (f" (after waiting {waited:.0f} s)" if waited > 2 else "")


def mlver_source() -> str:
    """Which mlver was measured: HEAD plus a hash of the package's .py files.

    The sources change while benchmarks run (several people work here), so
    HEAD alone would not say which code produced a number.
    """
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True).stdout.strip() or "?"
    digest = hashlib.sha256()
    for path in sorted((ROOT / "mlver").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return f"mlver at {head} + work tree, sources sha256 {digest.hexdigest()[:12]}"


def machine() -> str:
    """One line describing where the numbers came from (load matters on 2 cores)."""
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    quiet = wait_for_quiet()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    py = subprocess.run([PYTHON, "-c", "import platform; print(platform.python_version())"],
                        capture_output=True, text=True).stdout.strip()
    return (f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
            f"{platform.system()} {platform.release()}, Python {py}, {git}, load average {load}, {quiet}; "
            f"{mlver_source()}")


def report(name: str, text: str) -> None:
    """Print a benchmark's markdown and keep a copy in bench/out/<name>.md."""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.md").write_text(text.rstrip() + "\n")
    print(text.rstrip() + "\n", flush=True)


def warm(*paths: Path) -> None:
    """Read every file under ``paths`` into the page cache, then write back dirty pages:
    the command timed next reads from memory, as its rival did, and pays for no
    earlier command's writes."""
    for path in paths:
        files = [path] if path.is_file() else [Path(top) / n for top, _, names in os.walk(path) for n in names]
        for file in files:
            with open(file, "rb") as fh:
                while fh.read(1 << 20):
                    pass
    os.sync()


def sh(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CommandFailed(f"{' '.join(argv)}: {proc.stderr.strip()[-800:]}")
    return proc.stdout


def transfer_project(root: Path, env: dict[str, str], large_mb: int, files: int, kb: int) -> None:
    """A project with one large model and a folder of many small files, both recorded:
    what the transfer benchmarks (local and S3) push and pull."""
    mlver = tool("mlver") or "mlver"
    root.mkdir(parents=True)
    sh([mlver, "init"], root, env)
    (root / "models").mkdir()
    with open(root / "models" / "big.bin", "wb") as fh:
        for _ in range(large_mb):
            fh.write(os.urandom(1024 * 1024))
    many = root / "data" / "many"
    many.mkdir(parents=True)
    for i in range(files):
        (many / f"{i:05d}.bin").write_bytes(os.urandom(kb * 1024))
    (root / "models" / "tiny.bin").write_bytes(b"tiny")
    sh([mlver, "data", "add", "data/many"], root, env)
    sh([mlver, "model", "add", "big", "--path", "models/big.bin"], root, env)
    sh([mlver, "model", "add", "many", "--path", "models/tiny.bin", "--data", "data/many"], root, env)
    sh(["git", "commit", "-qm", "declare"], root, env)
    sh([mlver, "record", "big"], root, env)
    sh([mlver, "record", "many"], root, env)
