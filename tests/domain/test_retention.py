"""The gc keep rules and manifests: pure functions."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlver.domain import retention
from mlver.errors import InputTooLarge, ManifestInvalid

md5s = st.text("0123456789abcdef", min_size=32, max_size=32).flatmap(
    lambda h: st.sampled_from([h, h + ".dir"]))
PID = "a" * 40


@given(st.sets(md5s, max_size=50))
def test_manifest_round_trip(objects: set[str]) -> None:
    name = retention.manifest_name(PID)
    content = retention.format_manifest(PID, objects, "2026-01-01T00:00:00Z")
    assert retention.parse_manifest(content, name, "m") == objects
    with pytest.raises(ManifestInvalid):  # the same content under another project's name
        retention.parse_manifest(content, retention.manifest_name("b" * 40), "m")


def test_manifest_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "MAX_MANIFEST_OBJECTS", 2)
    content = retention.format_manifest(PID, ["0" * 32, "1" * 32, "2" * 32], "")
    with pytest.raises(InputTooLarge):
        retention.parse_manifest(content, retention.manifest_name(PID), "m")
    assert retention.manifest_project("x.json") is None and retention.manifest_project(f"{PID}.json") == PID


@given(st.dictionaries(md5s, st.tuples(st.integers(0, 10**6), st.floats(0, 2000)), max_size=40),
       st.sets(md5s, max_size=20), st.sets(md5s, max_size=20), st.none() | st.sets(md5s, max_size=30))
def test_plan_deletes_only_what_no_rule_keeps(stored: dict, keep: set[str], protected: set[str],
                                              ours: set[str] | None) -> None:
    listed = {m: retention.Stored(size, mtime) for m, (size, mtime) in stored.items()}
    owners = {m: "churn" for m in list(listed)[::3]}
    plan = retention.plan(listed, keep, protected, owners, cutoff=1000, ours=ours)
    gone = set(plan.delete)
    claimed = set(listed) if ours is None else ours | set(owners)
    assert gone == {m for m, s in listed.items()
                    if m not in keep and m not in protected and m in claimed and s.mtime <= 1000}
    assert plan.kept + plan.protected + plan.foreign + plan.young + len(gone) == len(listed)
    assert plan.freed_bytes == sum(listed[m].size for m in gone)
    dirs = [i for i, m in enumerate(plan.delete) if m.endswith(".dir")]
    assert dirs == list(range(len(dirs)))  # directory manifests go before any file


def test_hashes_in_dvc_files_skip_what_is_not_a_hash() -> None:
    doc = {"outs": [{"md5": "a" * 32}, {"md5": "../x"}, "junk"],
           "stages": {"train": {"deps": [{"md5": "b" * 32 + ".dir"}], "outs": [{"md5": 5}]}, "bad": []}}
    assert retention.hashes_in_dvcfile(doc) == {"a" * 32, "b" * 32 + ".dir"}
    assert retention.hashes_in_dvcfile(["not", "a", "dict"]) == set()
