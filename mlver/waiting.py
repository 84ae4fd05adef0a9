"""Network calls that keep the user waiting, and who is told about them.

Adapters mark each call that goes over the network (``with waiting(endpoint)``,
or ``begin``/``end`` from a library's own hooks); bytes arriving or leaving
(``moved``) restart the clocks, since a transfer that flows is not a wait.
While a command runs, the command line installs a reporter (``report_to``):
once a call has had no answer for ``AFTER`` seconds, a watcher thread tells
it the endpoint and the seconds waited, about twice a second, and ``None``
when nothing waits any more. With no reporter installed, marking a call
costs one dictionary write. Nothing here prints.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

AFTER = 2.0  # seconds without an answer before the user is told
TICK = 0.5
# (endpoint, seconds waited), or (endpoint, None) when the wait is over.
Reporter = Callable[[str, float | None], None]

_lock = threading.Lock()
_say = threading.Lock()  # one report at a time, and none after the command's reporter is gone
_inflight: dict[int, tuple[str, float]] = {}  # token -> (endpoint, since when it has had no answer)
_tokens = itertools.count(1)
_reporter: Reporter | None = None
_shown: str | None = None  # the endpoint last reported as waited on
_watcher: threading.Thread | None = None


def begin(endpoint: str) -> int:
    """Mark a call to ``endpoint`` in flight; ``end`` the token it returns."""
    token = next(_tokens)
    with _lock:
        _inflight[token] = (endpoint, time.monotonic())
        if _reporter is not None:
            _ensure_watcher()
    return token


def end(token: int | None) -> None:
    if token is not None:
        with _lock:
            _inflight.pop(token, None)


@contextmanager
def waiting(endpoint: str) -> Iterator[None]:
    token = begin(endpoint)
    try:
        yield
    finally:
        end(token)


def moved() -> None:
    """Bytes went over the wire: every call in flight has just had an answer."""
    if _inflight:
        now = time.monotonic()
        with _lock:
            for token, (endpoint, _) in _inflight.items():
                _inflight[token] = (endpoint, now)


@contextmanager
def report_to(reporter: Reporter | None) -> Iterator[None]:
    """Tell ``reporter`` of long waits while the block runs (one command);
    a wait still shown when it ends is closed first, so an error message
    that follows starts on a line of its own."""
    global _reporter
    with _lock:
        previous, _reporter = _reporter, reporter
        if reporter is not None and _inflight:
            _ensure_watcher()
    try:
        yield
    finally:
        with _say:
            with _lock:
                _reporter = previous
                if previous is None:
                    _inflight.clear()  # the command is over: a call Ctrl-C cut short never ended
            _close(reporter)


def _close(reporter: Reporter | None) -> None:
    global _shown
    with _lock:
        shown, _shown = _shown, None
    if shown is not None and reporter is not None:
        reporter(shown, None)


def _ensure_watcher() -> None:
    global _watcher
    if _watcher is None or not _watcher.is_alive():
        _watcher = threading.Thread(target=_watch, name="mlver-waiting", daemon=True)
        _watcher.start()


def _watch() -> None:
    global _shown
    while True:
        time.sleep(TICK)
        with _lock:
            reporter, shown = _reporter, _shown
            endpoint, since = min(_inflight.values(), key=lambda e: e[1], default=("", 0.0))
            waited = time.monotonic() - since if endpoint else 0.0
        if reporter is None:
            continue
        with _say:
            if _reporter is not reporter:
                continue  # the command ended meanwhile: it closed what was shown
            try:
                if waited >= AFTER:
                    with _lock:
                        _shown = endpoint
                    reporter(endpoint, waited)
                elif shown is not None:
                    _close(reporter)
            except Exception:
                pass  # a reporter that fails (a closed stderr) must not end the command
