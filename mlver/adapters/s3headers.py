"""A bound on the wait for an answer's headers, for botocore's connections.

A read timeout bounds each wait for a byte, and pace.py the rate of a body
once it streams, but nothing bounded the status line and headers: a server
that sends them one byte every few seconds never trips the read timeout and
holds the request (and every retry of it) for as long as it likes. Here the
whole header block of an answer (and of a ``100 Continue``) must arrive within
``HEADER_FACTOR`` times the connection's timeout of its request being sent:
past that, one watcher thread shuts the socket down, the blocked read ends,
and the request fails as a timeout (botocore retries it, then mlver says so).
One thread for every connection, woken only by the earliest deadline, costs
a request a heap push and a lock, not a timer thread of its own.
"""
from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Headers come in one packet from any server that is not trickling them; twice the
# wait allowed for the first byte leaves a slow one room and a trickle none.
HEADER_FACTOR = 2.0


class HeadersTooSlow(TimeoutError):
    """An answer's headers did not arrive in ``seconds``: a timeout to urllib3 and botocore."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"the answer's headers took over {seconds:g} s")


class _Entry:
    __slots__ = ("sock", "done", "fired")

    def __init__(self, sock: socket.socket) -> None:
        self.sock: socket.socket | None = sock
        self.done = self.fired = False


class _Watcher:
    """Shuts down the socket of every header read still going at its deadline."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Entry]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, sock: socket.socket, deadline: float) -> _Entry:
        entry = _Entry(sock)
        with self._cond:
            earliest = not self._heap or deadline < self._heap[0][0]
            heapq.heappush(self._heap, (deadline, next(self._order), entry))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mlver-header-deadline", daemon=True)
                self._thread.start()
            elif earliest:
                self._cond.notify()
        return entry

    def finish(self, entry: _Entry) -> bool:
        """Whether the deadline fired (under the lock: after this it never does)."""
        with self._cond:
            entry.done, entry.sock = True, None
            return entry.fired

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                entry = heapq.heappop(self._heap)[2]
                entry.fired = True
                try:
                    # The plain socket's shutdown, also for TLS: the blocked read sees the end at once.
                    socket.socket.shutdown(entry.sock, socket.SHUT_RDWR)  # type: ignore[arg-type]
                except OSError:
                    pass  # (already closed: nothing left to wait on)


_WATCHER = _Watcher()


@contextmanager
def _bounded(conn: Any) -> Iterator[None]:
    timeout, sock = conn.timeout, conn.sock
    if not isinstance(timeout, (int, float)) or timeout <= 0 or not isinstance(sock, socket.socket):
        yield  # (no timeout, no bound: the caller asked to wait)
        return
    seconds = HEADER_FACTOR * timeout
    entry = _WATCHER.add(sock, time.monotonic() + seconds)
    try:
        yield
    except BaseException as exc:
        if _WATCHER.finish(entry):
            raise HeadersTooSlow(seconds) from exc
        raise
    if _WATCHER.finish(entry):  # fired as the last header arrived: the socket is shut all the same
        raise HeadersTooSlow(seconds)


def _bounding(base: type) -> type:
    """``base`` (one of botocore's connection classes) with its header reads bounded."""

    class Bounded(base):
        def getresponse(self, *args: Any, **kwargs: Any) -> Any:
            with _bounded(self):
                return super().getresponse(*args, **kwargs)

        def _handle_expect_response(self, message_body: Any) -> Any:
            with _bounded(self):
                return super()._handle_expect_response(message_body)

    Bounded.__name__ = Bounded.__qualname__ = f"HeaderBounded{base.__name__}"
    return Bounded


_POOLS: dict[str, type] = {}


def _pools() -> dict[str, type]:
    if not _POOLS:
        from botocore.awsrequest import AWSHTTPConnectionPool, AWSHTTPSConnectionPool

        for scheme, pool in (("http", AWSHTTPConnectionPool), ("https", AWSHTTPSConnectionPool)):
            _POOLS[scheme] = type(f"HeaderBounded{pool.__name__}", (pool,),
                                  {"ConnectionCls": _bounding(pool.ConnectionCls)})
    return _POOLS


def bound(client: Any) -> bool:
    """Bound the header reads of every connection ``client`` opens from now on (its
    pools are made on first use); False where botocore's session is not the one known."""
    try:
        classes = client._endpoint.http_session._pool_classes_by_scheme
    except AttributeError:
        return False
    if not isinstance(classes, dict):
        return False
    # (The same dict is the pool manager's and every proxy manager's: changed in place, all use it.)
    classes.update(_pools())
    return True


def too_slow(exc: BaseException) -> HeadersTooSlow | None:
    """The HeadersTooSlow under a failure botocore raised, if that is what it was."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        cause = todo.pop()
        if isinstance(cause, HeadersTooSlow):
            return cause
        if id(cause) in seen:
            continue
        seen.add(id(cause))
        # (urllib3 keeps what it wraps in args too: ProtocolError("Connection aborted.", error))
        todo += [c for c in (cause.__cause__, cause.__context__, *cause.args) if isinstance(c, BaseException)]
    return None
