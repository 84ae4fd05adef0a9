"""The bound on an answer's headers (adapters/s3headers.py): a server that sends
them a byte at a time, each within the read timeout, is given up on after twice
that timeout, for the answer of a request and for the ``100 Continue`` a large
PUT waits for before it sends its body."""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from fixtures.hostile_s3 import trickling_headers_s3

from mlver.adapters import s3 as s3store
from mlver.adapters import s3headers
from mlver.errors import RemoteAccessError


def test_a_trickled_100_continue_is_given_up_on(tmp_path: Path) -> None:
    import hashlib

    # 2 MiB: one PutObject (under the multipart threshold), sent with Expect: 100-continue.
    path = tmp_path / "object"
    path.write_bytes(os.urandom(2 * 1024 * 1024))
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    with trickling_headers_s3(every=0.2, continues=True) as server:
        store = s3store.S3Store("slow", "s3://bucket/team", endpoint_url=server.url, access_key_id="a",
                                secret_access_key="b", region="us-east-1", connect_timeout=1, read_timeout=1)
        started = time.monotonic()
        with pytest.raises(RemoteAccessError) as raised:
            store.put(path, md5)
        took = time.monotonic() - started
    assert "its answer's headers took over 2 s" in str(raised.value), raised.value
    assert any("(expects 100 Continue)" in r for r in server.requests), server.requests
    assert took < 30, took


def test_headers_that_arrive_in_time_are_not_cut_and_the_watcher_keeps_no_socket() -> None:
    left, right = socket.socketpair()

    class Conn:
        timeout, sock = 0.5, left

    with s3headers._bounded(Conn()):
        right.sendall(b"x")
        assert left.recv(1) == b"x"
    time.sleep(0.7)  # past the deadline: a finished read is never shut down
    right.sendall(b"y")
    assert left.recv(1) == b"y"
    assert all(entry.sock is None for _, _, entry in s3headers._WATCHER._heap)
    left.close()
    right.close()


def test_a_read_still_waiting_at_its_deadline_ends_as_a_timeout() -> None:
    left, right = socket.socketpair()
    left.settimeout(5)

    class Conn:
        timeout, sock = 0.25, left

    stop = threading.Event()

    def trickle() -> None:  # a byte every 0.1 s, each well within the 5 s timeout
        try:
            while not stop.wait(0.1):
                right.sendall(b"z")
        except OSError:
            pass  # shut down: the reader gave up

    sender = threading.Thread(target=trickle)
    sender.start()
    started = time.monotonic()
    got = 0
    try:
        with pytest.raises(s3headers.HeadersTooSlow) as raised, s3headers._bounded(Conn()):
            while left.recv(1):
                got += 1
    finally:
        stop.set()
        sender.join()
    assert raised.value.seconds == 0.5 and 0.45 < time.monotonic() - started < 3 and got >= 2, got
    left.close()
    right.close()
