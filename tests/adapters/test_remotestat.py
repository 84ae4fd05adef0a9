"""The ledger of remote objects stays bounded, and what cannot be its own file is not read."""
from __future__ import annotations

import json
import os
from pathlib import Path

from mlver.adapters import remotestat


def _stat_of(tmp_path: Path) -> os.stat_result:
    f = tmp_path / "obj"
    f.write_bytes(b"x")
    return os.stat(f)


def test_ledger_keeps_the_newest_entries_and_survives_a_reload(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger.json")
    st = _stat_of(tmp_path)
    ledger = remotestat.Ledger(path)
    for i in range(remotestat.MAX_ENTRIES + 10):
        ledger.remember(f"/r/{i}", "0" * 32, st)
    ledger.save()
    again = remotestat.Ledger(path)
    assert len(again.entries) == remotestat.MAX_ENTRIES
    assert "/r/0" not in again.entries and again.trusts(f"/r/{remotestat.MAX_ENTRIES + 9}", "0" * 32, st)
    assert not again.trusts(f"/r/{remotestat.MAX_ENTRIES + 9}", "1" * 32, st)  # another md5
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_ledger_that_is_too_big_or_a_symlink_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    st = _stat_of(tmp_path)
    entry = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, "0" * 32]
    doc = {"format": remotestat.FORMAT, "objects": {"/r/a": entry}}
    path.write_text(json.dumps(doc))
    os.chmod(path, 0o600)
    assert remotestat.Ledger(str(path)).trusts("/r/a", "0" * 32, st)
    path.write_text(json.dumps(doc) + " " * remotestat.MAX_BYTES)
    assert remotestat.Ledger(str(path)).entries == {}
    real = tmp_path / "real.json"
    real.write_text(json.dumps(doc))
    os.chmod(real, 0o600)
    path.unlink()
    path.symlink_to(real)
    assert remotestat.Ledger(str(path)).entries == {}
