"""How slowly a download may go: a read timeout bounds each wait for a byte, not
the whole; a server that sends one byte every few seconds never trips it and
holds a pull (and its user) for days.

After a grace period (``MLVER_RATE_GRACE``, 60 s) a download must have averaged
the least rate (``MLVER_MIN_RATE``, 16 KiB a second: 128 kbit/s, well under
any link that moves models) since that period ended, so an object of N bytes
gets 60 s + N / 16 KiB at most. Both are the user's, from the environment,
never the repository's; ``MLVER_MIN_RATE=0`` turns the bound off. The check
runs between reads, so the reader must return whatever a socket read gave
(``read1``), not wait to fill its buffer.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable

from mlver.errors import TransferTooSlow, UnreadableValue

RATE_ENV, GRACE_ENV = "MLVER_MIN_RATE", "MLVER_RATE_GRACE"
MIN_RATE = 16 * 1024  # bytes a second
GRACE_S = 60.0


def _setting(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):  # (NaN fails the first test)
        raise UnreadableValue(f"${name}", text, "a number of bytes a second (MLVER_MIN_RATE) or of seconds "
                                                "(MLVER_RATE_GRACE), 0 or more")
    return value


class Pace:
    """The pace of one download: ``moved(n)`` after each read of ``n`` bytes
    raises TransferTooSlow when it has fallen under the least average rate."""

    def __init__(self, name: str, url: str, action: str) -> None:
        self.name, self.url, self.action = name, url, action
        self.rate = _setting(RATE_ENV, MIN_RATE)
        self.grace = _setting(GRACE_ENV, GRACE_S)
        self.start = time.monotonic()
        self.got = 0

    def moved(self, n: int) -> None:
        self.got += n
        if not self.rate:
            return
        late = time.monotonic() - self.start - self.grace
        if late > 0 and self.got < self.rate * late:
            raise TransferTooSlow(self.name, self.url, self.action, self.got,
                                  int(time.monotonic() - self.start), int(self.rate))


def read1_of(stream: object) -> Callable[[int], bytes]:
    """The call that reads at most n bytes of ``stream`` in one socket read:
    urllib3's ``read1`` under botocore's StreamingBody (``read`` fills its
    buffer first: minutes of a trickle without returning), else ``read1`` or ``read``."""
    raw = getattr(stream, "_raw_stream", stream)
    read1 = getattr(raw, "read1", None)
    return read1 if callable(read1) else getattr(stream, "read")  # noqa: B009 -- (typed as object)


def read_paced(stream: object, limit: int, pace: Pace, chunk: int = 1024 * 1024) -> bytes:
    """At most ``limit`` bytes of ``stream``, read as they arrive, each read paced."""
    read = read1_of(stream)
    parts: list[bytes] = []
    left = limit
    while left > 0:
        part = read(min(chunk, left))
        if not part:
            break
        parts.append(part)
        left -= len(part)
        pace.moved(len(part))
    return b"".join(parts)
