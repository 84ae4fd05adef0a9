"""A bounded read allocates what the file holds, not its bound: ``read(n)``
allocates n bytes at once, so every command that read a 500-byte cache file
with its 1 GiB bound took 1 GiB for a moment (a MemoryError where memory is
not overcommitted), and every manifest read 256 MiB."""
from __future__ import annotations

import tracemalloc
from pathlib import Path

from mlver.adapters import statcache
from mlver.adapters.storage import LocalStore


def _peak(fn):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        return fn(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_small_file_read_under_a_large_bound_allocates_its_size(tmp_path: Path) -> None:
    small = tmp_path / "cache.json"
    small.write_bytes(b'{"format": 1}' * 40)
    got, peak = _peak(lambda: statcache.read_bytes(small))
    assert got == small.read_bytes() and peak < 1 << 20, peak
    store = LocalStore(tmp_path / "files" / "md5", "remote x")
    (tmp_path / "mlver").mkdir()
    (tmp_path / "mlver" / "m.json").write_bytes(b"{}")
    got, peak = _peak(lambda: store.meta_read("mlver/m.json", 64 << 20))
    assert got == b"{}" and peak < 1 << 20, peak


def test_the_bound_still_holds_for_a_file_longer_than_its_size_says(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as fh:  # (its size is 0)
        assert statcache.read_upto(fh, 3 << 20) == b"\0" * ((3 << 20) + 1)
    exact = tmp_path / "exact"
    exact.write_bytes(b"y" * 1000)
    with open(exact, "rb") as fh:
        assert statcache.read_upto(fh, 1000) == b"y" * 1000
    with open(exact, "rb") as fh:
        assert statcache.read_upto(fh, 999) == b"y" * 1000  # one past the bound: the caller refuses it
