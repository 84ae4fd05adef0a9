"""Run the real ``gto`` CLI many times from one process (started by ``Gto``).

Each request is one line of JSON: the argv of a ``gto`` command, run through
GTO's own click entry point (``gto.cli:app``, what the ``gto`` script calls)
in a repository given as the working directory. The answer is one line of
JSON: exit code, stdout, stderr. GTO reads the repository afresh on every
command (it keeps no state between calls), so this is the CLI, without its
0.8 s start-up per call.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys


def main() -> None:
    from click.exceptions import Exit
    from gto.cli import app

    for line in sys.stdin:
        request = json.loads(line)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = app.main(request["argv"], prog_name="gto", standalone_mode=False)
                code = code if isinstance(code, int) else 0
            except Exit as exc:
                code = exc.exit_code
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except Exception as exc:  # a click usage error, or a GTO bug: report, keep serving
                print(f"{type(exc).__name__}: {exc}", file=err)
                code = 2
        sys.stdout.write(json.dumps({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
