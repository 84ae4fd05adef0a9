"""moto's S3 served by a choice of HTTP server, metered: the benches' S3 endpoint.

    .venv/bin/python bench/s3server.py --server werkzeug|cheroot --port P [--threads N] [--profile FILE]
        [--dispatch-cache]

``werkzeug``: what ``python -m moto.server`` runs (werkzeug's development
server: a new thread per connection, and every answer closes its connection,
whatever the request asked). ``cheroot``: the same WSGI application of moto
served by cheroot's HTTP/1.1 server, keep-alive and a pool of N threads,
as real S3 keeps connections open. Same moto, same state, same answers: only
the connection handling differs.

Metering, for the bench's "where does the server's time go": every request's
CPU inside moto's application (``time.thread_time`` around the call and the
iteration of its answer) is summed, with the number of requests and of
distinct client connections (remote address and port, between two reads
of the counters). ``GET /_stats`` (an
underscore is never in a bucket name, so no S3 request has this path)
answers those counters and the process's CPU as JSON; the difference between
the process's CPU and the application's is the HTTP server's: accepting,
parsing, thread start-up, writing, closing. ``--profile FILE``: cProfile (thread CPU time) in
every thread from its start (the server's own threads included), merged and
written as pstats to FILE when the process is told to stop (SIGTERM/SIGINT).

``--dispatch-cache``: moto picks the service of every request by a host name
(``get_backend_for_host``). An S3 path gives it none, so it infers one from
the signature (``s3.us-east-1.amazonaws.com``) and looks that up: a listing of
every moto service package on disk (``backends.list_of_moto_modules``: one
``listdir`` and ~175 ``isdir``) and the URL patterns of every service before
S3's, on every request. The answer depends on the host name alone (the
packages on disk and the patterns do not change while the server runs), so
this option remembers it per host: the same backend, the same answers
(tests/test_s3server.py sends one sequence of requests to a server with it and
one without and compares every answer), without the scan. Any client with a
custom endpoint pays the scan alike, so the option favours no tool; it makes the server's
own CPU per request, which bounds every client's wall on 2 shared cores,
smaller for both.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

STATS_PATH = "/_stats"
# Hosts remembered at most: a client inventing hosts (the region in a signature) cannot grow it without end.
DISPATCH_MEMO_LIMIT = 1024


class Meter:
    """WSGI middleware: CPU spent inside ``app`` per request, requests, connections."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.requests = 0
        self.app_cpu = 0.0
        self.peers: set[tuple[str, str]] = set()
        self.connections = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATS_PATH:
            body = json.dumps(self.stats()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        start = time.thread_time()
        # The answer is drained here, so its CPU (Flask builds some bodies lazily) is the application's.
        chunks = self.app(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        spent = time.thread_time() - start
        with self.lock:
            self.requests += 1
            self.app_cpu += spent
            self.peers.add((environ.get("REMOTE_ADDR", ""), str(environ.get("REMOTE_PORT", ""))))
        return [body]

    def stats(self) -> dict[str, Any]:
        # Connections are counted as distinct peers between two reads of the counters (a
        # client port is not reused that soon; over a whole run it would be).
        with self.lock:
            self.connections += len(self.peers)
            self.peers.clear()
            return {"requests": self.requests, "connections": self.connections, "app_cpu": self.app_cpu,
                    "process_cpu": time.process_time()}


def cached_dispatch(create_app: Callable[..., Any]) -> Callable[..., Iterable[bytes]]:
    """moto's ``DomainDispatcherApplication`` with its host -> backend lookup remembered."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    class Dispatcher(DomainDispatcherApplication):
        def get_backend_for_host(self, host: str | None) -> Any:
            # Only get_application calls it, under the dispatcher's own lock: the dict needs none.
            try:
                return memo[host]
            except KeyError:
                backend = super().get_backend_for_host(host)
                if len(memo) < DISPATCH_MEMO_LIMIT:
                    memo[host] = backend
                return backend

    memo: dict[str | None, Any] = {}
    return Dispatcher(create_app)


class Profiles:
    """One cProfile per thread, each started as its thread starts; merged at the end."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.all: list[cProfile.Profile] = []

    def start(self, *_: Any) -> None:
        sys.setprofile(None)  # this hook ran once, for this thread; cProfile takes over from here
        # CPU, not wall: under the GIL a wall clock charges a function for every other thread's turn.
        profile = cProfile.Profile(time.thread_time)
        with self.lock:
            self.all.append(profile)
        profile.enable()

    def dump(self, path: str) -> None:
        import pstats

        with self.lock:
            profiles = list(self.all)
        stats = None
        for profile in profiles:
            profile.create_stats()
            if stats is None:
                stats = pstats.Stats(profile)
            else:
                stats.add(profile)
        if stats is not None:
            stats.dump_stats(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("werkzeug", "cheroot"), default="werkzeug")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=32, help="cheroot's pool (mlver and DVC send up to 8-32 at once)")
    parser.add_argument("--profile", help="write a cProfile of every thread here (pstats) on SIGTERM")
    parser.add_argument("--dispatch-cache", action="store_true",
                        help="remember moto's host -> service lookup instead of scanning its packages per request")
    args = parser.parse_args(argv)

    import os

    os.environ.setdefault("MOTO_PORT", str(args.port))  # what moto puts in URLs it answers with
    profiles = Profiles() if args.profile else None
    if profiles is not None:
        threading.setprofile(profiles.start)
        profiles.start()

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    dispatch = cached_dispatch(create_backend_app) if args.dispatch_cache else DomainDispatcherApplication(create_backend_app)
    app = Meter(dispatch)
    def finish(*_: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    try:
        if args.server == "werkzeug":
            from werkzeug.serving import run_simple

            # As `python -m moto.server` runs it.
            run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
        else:
            from cheroot import wsgi

            server = wsgi.Server((args.host, args.port), app, numthreads=args.threads, request_queue_size=128)
            try:
                server.start()  # blocks; keep-alive is HTTP/1.1's default in cheroot
            finally:
                server.stop()  # its worker threads are not daemons: without this the process stays
    except SystemExit:
        pass
    finally:
        if profiles is not None and args.profile:
            profiles.dump(args.profile)


if __name__ == "__main__":
    main()
