"""Registry writes say how to publish their tag; missing output folders and closed pipes end cleanly."""
from __future__ import annotations

import subprocess
import sys

from conftest import Project


def test_registry_writes_print_the_push_line(trained: Project) -> None:
    p = trained
    p.set_params(lr=0.2)
    p.commit_all("lr 0.2")
    p.ok("run", "churn")
    for args in (("release", "churn"), ("promote", "churn@v0.1.0", "prod"), ("promote", "churn@v0.2.0", "prod"),
                 ("rollback", "churn", "prod"), ("deprecate", "churn@v0.2.0")):
        run = p.ok(*args, "--json")
        tag = run.json()["tag"]  # stdout stays one JSON document
        assert run.stderr.strip().splitlines()[-1] == f"to publish it: git push origin {tag}", args
        assert p.git("tag", "-l", tag).strip() == tag


def test_missing_output_folders(trained: Project) -> None:
    p = trained
    for args in (("card", "churn", "-o", "nowhere/card.md"), ("review", "--base", "main", "-o", "nowhere/report.md")):
        run = p.fails(*args)
        assert "error: cannot write nowhere/" in run.stderr and "hint: create it first: `mkdir -p nowhere`" in run.stderr
    p.write("docs/keep", "")
    assert "is a directory" in p.fails("card", "churn", "-o", "docs").stderr  # click says so, exit 2
    review = p.mlver("review", "--base", "main", "--plots", "out/plots", "-o", "docs/report.md")
    assert review.exit_code == 0, review.stderr
    assert (p.root / "out/plots").is_dir() and (p.root / "docs/report.md").is_file()
    p.ok("card", "churn", "-o", "docs/card.md")
    assert "churn" in (p.root / "docs/card.md").read_text()


def test_a_closed_pipe_exits_quietly(trained: Project) -> None:
    """`mlver ls --json | head -c 10`: the reader is gone before mlver writes."""
    proc = subprocess.Popen([sys.executable, "-m", "mlver", "ls", "--json"], cwd=trained.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 141, err
    assert err == ""


def test_ctrl_c_while_starting_exits_130(project: Project) -> None:
    """Ctrl-C in the first moments (click and mlver still importing, click
    parsing): `error: interrupted` and 130, never a traceback or click's
    `Aborted!` with exit 1. With --json (every other run) stdout holds one
    document: the interruption, or the result when it was out before the
    signal came. Python's own start-up (site, .pth files) comes before any
    mlver code and is not ours to catch: the blows are aimed past it, and
    those that land there anyway are skipped over."""
    import json
    import random
    import signal
    import time

    def took(*args: str) -> float:
        started = time.monotonic()
        subprocess.run([sys.executable, *args], cwd=project.root, capture_output=True, check=True)
        return time.monotonic() - started

    rng = random.Random(11)
    ours = 0
    for trial in range(14):
        # Through click (`--traceback`): a plain `mlver ls` skips click and is
        # often done before the signal comes.
        as_json = ["--json"] if trial % 2 else []
        argv = ["-m", "mlver", "--traceback", "ls", *as_json]
        # The blow lands after Python's own start-up and before the end, as they take
        # now: fixed delays (20-150 ms) all fell in Python's start-up under a load of 16.
        python, whole = took("-c", "pass"), took(*argv)
        proc = subprocess.Popen([sys.executable, *argv], cwd=project.root,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        time.sleep(python + rng.uniform(0.0, 0.8) * max(whole - python, 0.0))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate()
        assert "Aborted!" not in err, err
        if "Fatal Python error" in err or "Could not import runpy module" in err or proc.returncode in (0, -signal.SIGINT):
            continue  # interpreter start-up (-m's runpy too), or before Python took over SIGINT, or already done
        assert proc.returncode == 130 and err.lstrip("\n").startswith("error: interrupted"), (proc.returncode, err)
        assert "Traceback" not in err, err
        if as_json:
            doc = json.loads(out)  # exactly one document
            said = err.strip().splitlines()[0].removeprefix("error: ")
            assert isinstance(doc, list) or (doc["error"]["family"], doc["error"]["message"]) == ("interrupted", said), out
        ours += 1
    assert ours >= 3, "too few interruptions landed in mlver's start-up to prove anything"
