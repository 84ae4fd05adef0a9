"""A blob in history past any real size (a 10 GB "record" someone committed) is
refused by the size git's header gives, before its content is read: neither
mlver's memory nor its time grows with it."""
from __future__ import annotations

import subprocess
import tracemalloc
from pathlib import Path

import pytest

from mlver.adapters import git
from mlver.errors import InputTooLarge

BIG = 48 << 20  # read whole, it would raise the peak past the bound the tests allow


def _repo(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "repo"
    root.mkdir()
    run = lambda *a: subprocess.run(["git", *a], cwd=root, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    (root / "small.json").write_bytes(b"{}\n")
    (root / "exact.json").write_bytes(b"x" * 1000)
    (root / "big.json").write_bytes(b" " * BIG)
    run("add", "-A")
    run("commit", "-q", "-m", "blobs")
    return root, subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True,
                                text=True).stdout.strip()


def _peak(fn):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_stream_gives_an_oversized_blob_by_its_size_and_goes_on_with_the_rest(tmp_path: Path) -> None:
    root, head = _repo(tmp_path)
    specs = [f"{head}:small.json", f"{head}:big.json", f"{head}:exact.json", f"{head}:gone.json", f"{head}:big.json"]
    got, peak = _peak(lambda: list(git.stream_blobs(root, specs, 1000)))
    assert [s for s, _, _ in got] == specs
    assert got[0][2] == b"{}\n" and got[2][2] == b"x" * 1000 and got[3] == (specs[3], None, None)
    for _, oid, body in (got[1], got[4]):
        assert isinstance(body, git.Oversized) and body.size == BIG and oid == body.oid
    assert peak < 8 << 20, f"{peak:,} bytes held: the oversized blob was read"
    assert [b for _, _, b in git.stream_blobs(root, specs[1:2])][0] == b" " * BIG  # no bound: read


@pytest.mark.parametrize("way", ["session", "one git"])
def test_read_blobs_refuses_an_oversized_blob_unread(tmp_path: Path, way: str, monkeypatch: pytest.MonkeyPatch) -> None:
    root, head = _repo(tmp_path)
    if way == "one git":
        monkeypatch.setattr(git._CatFile, "MAX_SPECS", 0)
    assert git.read_blobs(root, [f"{head}:exact.json"], 1000) == {f"{head}:exact.json": b"x" * 1000}
    tracemalloc.start()
    try:
        with pytest.raises(InputTooLarge) as refused:
            git.read_blobs(root, [f"{head}:small.json", f"{head}:big.json"], 1000)
        assert tracemalloc.get_traced_memory()[1] < 8 << 20, "the oversized blob was read"
    finally:
        tracemalloc.stop()
    assert refused.value.where == f"big.json at {head[:12]}" and f"{BIG:,} bytes" in str(refused.value)
    assert git.read_blob(root, head, "big.json", None) == b" " * BIG  # no bound: read
    # The session a refusal ended is not reused half-read: the next read is right.
    assert git.read_blob(root, head, "small.json") == b"{}\n"
