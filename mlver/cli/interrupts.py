"""What Ctrl-C leaves behind, per verb: the rest of `error: interrupted; ...`.

Each sentence is what the verb's implementation guarantees up to its
return, and is said only when the interrupt landed inside that work (its
traceback passes through mlver/api, adapters or domain). One that came
while the command line parsed or printed gets the bare "interrupted": it
may have come after the work was done.
"""
from __future__ import annotations

import os
from types import TracebackType
from typing import Any

_READS = "it only reads: nothing was changed"
_NO_TAG = "no tag was written: the registry is as it was"
# Backed by: api/recording.py (snapshot and HEAD put back on any exception),
# adapters/git.py registry_lock (tags of an interrupted write taken back),
# api/storage.py with the stores (each object written under a temporary name,
# renamed once its md5 matches), api/placing.py (everything staged, then
# switched in with SIGINT held), api/collection.py (only planned deletions),
# adapters/dvc.py set_remote (both config files written with SIGINT held).
_SAID = {
    "record": "nothing was recorded: the record, the .dvc file and git are as they were",
    "run": "nothing was recorded (what the training wrote before it stopped stays as it left it)",
    "release": "nothing was tagged",
    "promote": _NO_TAG,
    "rollback": _NO_TAG,
    "deprecate": _NO_TAG,
    "push": "what was sent stays in the remote, each object whole and checked; push again to send only the rest",
    "pull": "every destination is as it was, or all of them hold the pulled version (they are switched in "
            "together); pull again to finish",
    "init": "run `mlver init` again to finish (it is safe to run twice)",
    "data add": "run `mlver data add` again with the same paths to finish",
    "remote add": "the remote is in the config whole (both files) or not at all: `mlver remote list` shows which",
    **{verb: _READS for verb in ("ls", "log", "show", "diff", "status", "verify", "url", "remote list", "drift")},
}


def message(verb: str, params: dict[str, Any], exc: BaseException) -> str:
    """The whole message for ``exc`` ending ``verb`` (called with ``params``)."""
    if not _in_the_work(exc.__traceback__):
        return "interrupted"
    if verb == "gc":
        if not params.get("force"):
            return "interrupted; nothing was deleted (without --force gc only reports)"
        return ("interrupted; what gc deleted so far was only objects nothing keeps, and every other object is "
                "still there; run it again to finish")
    said = _SAID.get(verb)
    return f"interrupted; {said}" if said else "interrupted"


def _in_the_work(tb: TracebackType | None) -> bool:
    package = os.path.dirname(os.path.dirname(__file__))  # as the frames name their files: no resolving
    work = tuple(os.path.join(package, layer) + os.sep for layer in ("api", "adapters", "domain"))
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(work):
            return True
        tb = tb.tb_next
    return False
