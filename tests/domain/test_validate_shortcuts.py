"""The shortcuts of the record checks never let through what the full rules
refuse: a path the plain-path pattern accepts passes every rule of
check_relpath, and a record too deep is refused whatever its size."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlver.domain import validate
from mlver.errors import MlverError

pieces = st.sampled_from(["a", "Z", "0", "_", "-", ".", "..", ".git", ".GIT", "git", "/", "//", "\\", "C:", ":",
                          "\x00", "\x1f", "\x7f", " ", "é", "\u2215", "x" * 255, "y" * 256, "~"])


@settings(max_examples=200, deadline=None)
@given(st.lists(pieces, min_size=1, max_size=8).map("".join))
def test_a_plain_path_passes_every_rule(path: str) -> None:
    if validate._PLAIN_PATH.fullmatch(path) and len(path) <= validate.MAX_PATH_BYTES:
        assert validate._relpath_rules(path, "here", "path") == path
    try:
        fast = validate.check_relpath(path, "here")
    except MlverError:
        fast = None
    try:
        slow = validate._relpath_rules(path, "here", "path")
    except MlverError:
        slow = None
    assert fast == slow, path


def test_a_record_too_deep_is_refused_with_or_without_a_count() -> None:
    deep: dict = {"schema": 1}
    node = deep
    for _ in range(validate.MAX_DEPTH + 1):
        node["x"] = {}
        node = node["x"]
    text = json.dumps(deep).encode()
    for containers in (None, text.count(b"{") + text.count(b"[")):
        with pytest.raises(MlverError):
            validate.check_record(deep, "here", containers=containers)
    validate.check_record({"schema": 1, "params": {"a": [1, {"b": 2}]}}, "here", containers=3)


def test_a_path_judged_once_is_judged_the_same_again() -> None:
    """validate._plain_entry keeps each path's verdict (100,000 records name a few paths):
    a path refused once is refused again, also once the kept verdicts were let go."""
    paths = ["../x", "models/m.pkl", "a/.git/x", "data/train.csv", "x" * 256, "é/x"]
    for _ in range(3):
        for path in paths:
            assert validate._plain_entry({"path": path}) == (validate._PLAIN_PATH.fullmatch(path) is not None)
    for i in range(validate._KEEP_PATHS + 10):
        assert validate._plain_entry({"path": f"d/{i}"})
    assert len(validate._PLAIN_PATHS) <= validate._KEEP_PATHS
    assert not validate._plain_entry({"path": "../x"}) and validate._plain_entry({"path": "models/m.pkl"})
