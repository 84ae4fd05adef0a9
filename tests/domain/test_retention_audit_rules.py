"""gc's manifests and plan, and the registry's self-checks, message by message."""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from mlver.domain import audit, retention, tags
from mlver.domain.audit import Assignment, policy_findings
from mlver.domain.policy import Gate, Policy
from mlver.domain.registry import Event
from mlver.errors import InputTooLarge, ManifestInvalid

PID = "0123456789abcdef0123456789abcdef01234567"
NAME = f"{PID}.json"
H = [f"{i:032x}" for i in range(6)]


def _manifest(**doc: object) -> bytes:
    return json.dumps({"schema": 1, "project": PID, "objects": [], **doc}).encode()


def _why(content: bytes, name: str = NAME) -> str:
    with pytest.raises(ManifestInvalid) as info:
        retention.parse_manifest(content, name, "s3://b/mlver/manifests/x")
    assert info.value.where == "s3://b/mlver/manifests/x"
    message = info.value.message
    assert message.startswith("s3://b/mlver/manifests/x is refused: ")
    assert message.endswith("; gc deletes nothing from this remote while it is there")
    return message.removeprefix("s3://b/mlver/manifests/x is refused: ").split(";")[0]


def test_manifest_file_names() -> None:
    assert retention.manifest_name(PID) == NAME and retention.manifest_project(NAME) == PID
    assert retention.manifest_project("b" * 64 + ".json") == "b" * 64
    for name in (PID, PID + ".jso", PID.upper() + ".json", PID[:-1] + ".json", "x" + NAME, ".json", NAME + ".json"):
        assert retention.manifest_project(name) is None
    assert retention.MANIFEST_DIR == "mlver/manifests"


def test_format_manifest_is_sorted_unique_and_stable() -> None:
    content = retention.format_manifest(PID, [H[2], H[1], H[2]], "2026-01-01T00:00:00Z")
    assert content.endswith(b"\n") and content.decode().startswith("{\n")
    assert json.loads(content) == {"schema": 1, "project": PID, "updated": "2026-01-01T00:00:00Z", "objects": [H[1], H[2]]}
    assert retention.parse_manifest(content, NAME, "m") == frozenset({H[1], H[2]})


def test_what_a_manifest_must_be() -> None:
    assert _why(_manifest(), "notes.json") == "its file name is not <project id>.json"
    assert _why(b"{") == "it is not JSON"
    assert _why(b"[" * 100_000) == "it is not JSON"  # too deep for the parser: refused, not a crash
    assert _why(b"[]") == "it is not a schema 1 manifest"
    assert _why(_manifest(schema=2)) == "it is not a schema 1 manifest"
    assert _why(_manifest(project="b" * 40)) == "the project it names is not the one its file name says"
    assert _why(_manifest(objects={"a": 1})) == "'objects' is not a list"
    assert _why(_manifest(objects=[H[0], "../../x"])) == "it names '../../x', which is not an object hash"
    assert _why(_manifest(objects=[H[0], 7])) == "it names '7', which is not an object hash"
    assert _why(_manifest(objects=["x" * 100])) == f"it names {'x' * 60!r}, which is not an object hash"
    assert retention.parse_manifest(_manifest(objects=[H[0], H[1] + ".dir"]), NAME, "m") == {H[0], H[1] + ".dir"}


def test_manifest_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "MAX_MANIFEST_OBJECTS", 2)
    assert retention.parse_manifest(_manifest(objects=H[:2]), NAME, "m") == set(H[:2])
    with pytest.raises(InputTooLarge) as info:
        retention.parse_manifest(_manifest(objects=H[:3]), NAME, "m")
    assert (info.value.what, info.value.value, info.value.where) == ("objects", "3 entries", "m")
    assert info.value.why == "a manifest names at most 2 objects"
    content = _manifest(objects=H[:1])
    monkeypatch.setattr(retention, "MAX_MANIFEST_BYTES", len(content))
    assert retention.parse_manifest(content, NAME, "m") == {H[0]}
    with pytest.raises(InputTooLarge) as info:
        retention.parse_manifest(content + b" ", NAME, "m")
    assert (info.value.what, info.value.value) == ("size", f"{len(content) + 1} bytes")
    assert info.value.why == f"a manifest is at most {len(content)} bytes"


def test_plan_counts_each_reason_to_keep_and_the_bytes_freed_per_model() -> None:
    stored = {H[0]: retention.Stored(10, 5), H[1]: retention.Stored(20, 5), H[2]: retention.Stored(30, 5),
              H[3]: retention.Stored(40, 100), H[4]: retention.Stored(50, 5), H[5] + ".dir": retention.Stored(60, 50),
              "f" * 32: retention.Stored(70, 5)}
    plan = retention.plan(stored, keep={H[0]}, protected={H[1], H[0]}, owners={H[4]: "churn", H[5] + ".dir": "churn"},
                          cutoff=50, ours={H[2], H[3], "f" * 32})
    assert plan.delete == [H[5] + ".dir", H[2], H[4], "f" * 32]
    assert (plan.kept, plan.protected, plan.foreign, plan.young) == (1, 1, 0, 1)
    assert plan.freed == {"churn": (2, 110), "": (2, 100)} and plan.freed_bytes == 210
    shared = retention.plan(stored, keep=set(), protected=set(), owners={}, cutoff=50, ours={H[0]})
    assert shared.foreign == 6 and shared.delete == [H[0]]
    everything = retention.plan(stored, set(), set(), {}, cutoff=100)
    assert len(everything.delete) == 7 and everything.young == 0 and everything.foreign == 0


def test_hashes_of_dvc_files_and_locks() -> None:
    doc = {"outs": [{"md5": H[0]}], "deps": [{"md5": H[1]}, {"path": "x"}],
           "stages": {"a": {"outs": [{"md5": H[2]}], "deps": [{"md5": H[3] + ".dir"}]}, "b": "junk", "c": {"outs": "x"}}}
    assert retention.hashes_in_dvcfile(doc) == {H[0], H[1], H[2], H[3] + ".dir"}
    assert retention.hashes_in_dvcfile({"outs": {"md5": H[0]}, "stages": []}) == set()
    assert retention.hashes_in_dvcfile({"outs": [{"md5": "A" * 32}, {"md5": [H[1]]}]}) == set()


@dataclass
class Info:
    timestamp: int


def _event(name: str, ts: int, commit: str = "c" * 40, info: bool = True) -> Event:
    parsed = tags.parse(name)
    assert parsed is not None
    return Event(parsed, name, commit, Info(ts) if info else None)


def test_future_dated_tags_name_the_date_and_the_fix() -> None:
    (finding,) = audit.future_dated([_event("m@v1.0.0", 1_700_000_400), _event("m@v0.1.0", 1_700_000_000),
                                     _event("m@v2.0.0", 1_800_000_000, info=False)], now=1_700_000_000, skew=300)
    assert finding.ref == "m@v1.0.0"
    assert finding.problem == ("the tag is dated 2023-11-14T22:20:00Z, in the future: until then it outranks every later event")
    assert finding.fix == ("check who made it (`git tag -v m@v1.0.0`); if it is bogus, delete it "
                           "(`git tag -d m@v1.0.0`, `git push --delete origin m@v1.0.0`)")
    assert audit.future_names([("t", 1300)], now=1000) == [] and len(audit.future_names([("t", 1301)], now=1000)) == 1


def test_counter_order_findings() -> None:
    events = [_event("m#prod#1", 10), _event("m#prod#3", 20), _event("m#dev#2", 30), _event("m#prod", 5),
              _event("n#prod#9", 1), _event("n#prod#8", 2), _event("m#prod#4", 40, info=False)]
    # by date m is #1, #3, #2 (the simple tag has no counter, the last no date): one of them is blamed, the
    # latest-kept run is #1, #2; n is #9 then #8
    blamed = audit.counter_order(events)
    assert [f.ref for f in blamed] == ["m#prod#3", "n#prod#9"]
    assert blamed[1].problem == ("its counter #9 is out of order with its date 1970-01-01T00:00:01Z: "
                                 "it was made by hand, or its date was forged")
    assert blamed[1].fix == "compare `mlver log n` with `git tag -v n#prod#9`; delete it if nobody vouches for it"
    same_time = [_event("m#prod#2", 10), _event("m#prod#1", 10)]
    assert audit.counter_order(same_time) == []  # a tie in dates is ordered by the counter
    repeated = [_event("m#prod#1", 10), _event("m#dev#1", 20)]
    assert len(audit.counter_order(repeated)) == 1  # a counter never repeats


def test_release_order_finding_text() -> None:
    events = [_event("m@v0.2.0", 200), _event("m@v0.1.0", 300), _event("n@v0.1.0", 1), _event("m@v0.3.0", 250, info=False)]
    (finding,) = audit.release_order(events, lambda e: True)
    assert finding.ref == "m@v0.1.0"
    assert finding.problem == ("it is dated 1970-01-01T00:05:00Z, after a higher version was released: "
                               "mlver never releases below an existing version, so this tag was re-made or moved")
    assert finding.fix == "find its first target (`git log --all -- .mlver/records/m.json`) and restore the tag there"
    equal = [_event("m@v0.1.0", 5), _event("m@v0.2.0", 5)]
    assert audit.release_order(equal, lambda e: True) == []


def test_tagged_before_commit_finding_text() -> None:
    commit = "0123456789abcdef" * 2 + "01234567"
    events = [_event("m@v0.1.0", 1000, commit), _event("m@v0.2.0", 1000, "d" * 40), _event("m@v0.3.0", 0, commit, info=False)]
    (finding,) = audit.tagged_before_commit(events, {commit: 1301}, skew=300)
    assert finding.ref == "m@v0.1.0"
    assert finding.problem == ("it is dated 1970-01-01T00:16:40Z, before its commit 0123456789ab "
                               "(1970-01-01T00:21:41Z): its date was forged")
    assert finding.fix == "check who made it (`git tag -v m@v0.1.0`); a moved tag keeps its old date to look unchanged"
    assert audit.tagged_before_commit(events, {commit: 1300}, skew=300) == []


def test_policy_replay_finding_text_and_the_policy_of_the_day() -> None:
    strict = Policy(("dev", "prod"), {"prod": (Gate("acc", min=0.9),)})
    history = [Assignment("m#prod#1", "m", "prod", "v1", {"acc": 0.5}, False, False, timestamp=10),
               Assignment("m#prod#2", "m", "prod", "v2", {"acc": 0.5}, False, False, timestamp=20)]
    found = policy_findings(lambda ts: strict if ts >= 20 else Policy(), history)
    assert [f.ref for f in found] == ["m#prod#2"]
    assert found[0].problem == ("it gives prod to v2 outside the policy (skipped dev; gate acc 0.5 < min 0.9) "
                                "and carries no --force note")
    assert found[0].fix == ("if it was meant, say so with `mlver promote ... --force`; "
                            "else un-assign it: `mlver deprecate m#prod`")
    # held per model: another model's dev does not let this one skip it
    other = [Assignment("n#dev#1", "n", "dev", "v1", {}, False, False), Assignment("m#prod#2", "m", "prod", "v1", None, False, False)]
    assert [f.ref for f in policy_findings(lambda _: strict, other)] == ["m#prod#2"]
    # a rollback needs the same stage held before, not any stage
    back = [Assignment("m#dev#1", "m", "dev", "v1", {}, False, False),
            Assignment("m#prod#2", "m", "prod", "v1", {"acc": 0.1}, False, True)]
    assert [f.ref for f in policy_findings(lambda _: strict, back)] == ["m#prod#2"]
