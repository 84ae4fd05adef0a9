"""Ctrl-C in the verbs that set a project up: exit 130, a line that says how
to finish, and running the verb again finishes it (DVC agrees afterwards)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from conftest import Project


def _interrupted(cwd: Path, args: tuple[str, ...], at: Callable[[], bool]) -> tuple[int, str, str]:
    """Run mlver and send SIGINT the moment ``at()`` holds (stopped first, so that it
    cannot finish in between, however loaded the machine is): exit code, stdout, stderr."""
    proc = subprocess.Popen([sys.executable, "-m", "mlver", *args], cwd=cwd, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    while proc.poll() is None and not at():
        time.sleep(0.0005)
    assert proc.poll() is None, "it finished before the moment came"
    os.kill(proc.pid, signal.SIGSTOP)
    os.kill(proc.pid, signal.SIGINT)
    os.kill(proc.pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def _dvc_status(root: Path) -> str:
    run = subprocess.run(["dvc", "status"], cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_an_interrupted_data_add_is_finished_by_running_it_again(project: Project) -> None:
    p = project
    p.write("data/big.bin", os.urandom(32 << 20))
    staging = p.root / ".dvc/cache/mlver-tmp"
    code, _, err = _interrupted(p.root, ("data", "add", "data/big.bin"), lambda: any(staging.glob("user-*/*")))
    assert code == 130 and "Traceback" not in err, err
    assert err.splitlines()[-1] == "error: interrupted; run `mlver data add` again with the same paths to finish"
    assert not (p.root / "data/big.bin.dvc").exists()  # (stopped while hashing: nothing of it written)
    p.ok("data", "add", "data/big.bin")
    assert p.git("diff", "--cached", "--name-only").split() == ["data/.gitignore", "data/big.bin.dvc"]
    assert "up to date" in _dvc_status(p.root)


def test_an_interrupt_under_json_is_one_document_on_stdout(project: Project) -> None:
    """A script that runs `--json` and is interrupted reads how it ended as it reads an error:
    one document, the same words as the line on stderr, and the verb."""
    p = project
    p.write("data/big.bin", os.urandom(32 << 20))
    staging = p.root / ".dvc/cache/mlver-tmp"
    code, out, err = _interrupted(p.root, ("data", "add", "data/big.bin", "--json"), lambda: any(staging.glob("user-*/*")))
    assert code == 130 and "Traceback" not in err, err
    said = "interrupted; run `mlver data add` again with the same paths to finish"
    assert err.splitlines()[-1] == f"error: {said}"
    assert json.loads(out) == {"error": {"family": "interrupted", "class": "KeyboardInterrupt", "message": said,
                                         "hint": "", "exit_code": 130, "fields": {"verb": "data add"}}}
    # Without --json stdout stays the result's alone: nothing on it.
    p.write("data/big.bin", os.urandom(32 << 20))
    left = set(staging.glob("user-*/*"))  # (the first run's copy, swept later: not this run's moment)
    code, out, _ = _interrupted(p.root, ("data", "add", "data/big.bin"), lambda: bool(set(staging.glob("user-*/*")) - left))
    assert code == 130 and out == ""


def test_an_interrupted_init_is_finished_by_running_it_again(isolate: Path) -> None:
    root = isolate / "fresh"
    root.mkdir()
    code, _, err = _interrupted(root, ("init",), lambda: (root / ".dvc").is_dir())
    assert code in (130, -signal.SIGINT) and "Traceback" not in err, err  # (-2: the shell's 130 too)
    if code == 130:
        assert err.splitlines()[-1] == "error: interrupted; run `mlver init` again to finish (it is safe to run twice)"
    p = Project(root)
    p.ok("init")
    assert sorted(p.git("diff", "--cached", "--name-only").split()) == [".dvc/.gitignore", ".dvc/config", ".dvcignore",
                                                                         "mlver.yaml"]
    assert (root / ".dvc/config.local").is_file()
    _dvc_status(root)


def test_an_interrupt_while_the_result_is_written_adds_no_second_document(project: Project) -> None:
    """Ctrl-C while `ls --json` writes its result (the reader is slow: the pipe is full and
    mlver waits in write): stdout is that document, as far as it got, and nothing after it."""
    import fcntl
    import termios

    p = project
    p.write("dvc.yaml", "artifacts:\n" + "".join(f"  m{i:04d}:\n    type: model\n    path: models/m{i}.pkl\n"
                                                  for i in range(1500)))
    p.commit_all("1500 models")
    whole = p.ok("ls", "--json").stdout
    proc = subprocess.Popen([sys.executable, "-m", "mlver", "ls", "--json"], cwd=p.root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    capacity = fcntl.fcntl(proc.stdout, fcntl.F_GETPIPE_SZ)
    assert len(whole) > 4 * capacity  # (the interrupt lands early in the write)
    waiting = bytearray(4)
    while fcntl.ioctl(proc.stdout, termios.FIONREAD, waiting) == 0 and int.from_bytes(waiting, sys.byteorder) < capacity:
        assert proc.poll() is None, "it ended before its result filled the pipe"
        time.sleep(0.001)
    os.kill(proc.pid, signal.SIGSTOP)
    os.kill(proc.pid, signal.SIGINT)
    os.kill(proc.pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err.decode().splitlines()[-1].startswith("error: interrupted"), err
    assert whole.encode().startswith(out) and len(out) >= capacity, out[-300:]


# Sends SIGINT to itself at the point: .dvc/config written, .dvc/config.local not yet
# (the next time DVC opens config.local), as a Ctrl-C there would come.
_CTRL_C_BETWEEN_THE_CONFIGS = """\
import os, signal, sys
from pathlib import Path

state = {"written": False, "sent": False}

def hook(event, args):
    if event != "open" or not isinstance(args[0], str) or state["sent"]:
        return
    if args[0].endswith(".dvc/config") and "w" in (args[1] or ""):
        state["written"] = True
    elif state["written"] and args[0].endswith(".dvc/config.local"):
        state["sent"] = True
        Path("../signalled").touch()
        os.kill(os.getpid(), signal.SIGINT)

sys.addaudithook(hook)
from mlver.__main__ import main
sys.argv = ["mlver", *sys.argv[1:]]
main()
"""


def test_an_interrupted_remote_add_leaves_the_whole_remote_or_none(project: Project) -> None:
    """`remote add --default` of a shared remote writes .dvc/config, then moves this
    machine's default in .dvc/config.local: a Ctrl-C between the two left a default in
    .dvc/config that config.local's old one still overrode (pushes went elsewhere)."""
    p = project
    before = subprocess.run(["dvc", "remote", "default"], cwd=p.root, capture_output=True, text=True).stdout.strip()
    assert before and before != "shared"  # (mlver init's local default, in config.local)
    run = subprocess.run([sys.executable, "-c", _CTRL_C_BETWEEN_THE_CONFIGS, "remote", "add", "shared",
                          "s3://bucket/models", "--default"], cwd=p.root, capture_output=True, text=True, timeout=120,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert (p.root.parent / "signalled").exists(), "the signal was not sent between the two files"
    assert run.returncode == 130 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.splitlines()[-1] == ("error: interrupted; the remote is in the config whole (both files) or not "
                                           "at all: `mlver remote list` shows which")
    default = subprocess.run(["dvc", "remote", "default"], cwd=p.root, capture_output=True, text=True)
    assert default.returncode == 0 and default.stdout.strip() == "shared", default
    listed = p.ok("remote", "list", "--json").json()
    assert [(r["name"], r["url"]) for r in listed if r["name"] == "shared"] == [("shared", "s3://bucket/models")]
