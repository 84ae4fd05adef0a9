"""The one reader of DVC's entries (outs, deps, a lock's stages), under both
policies, on hostile input: REFUSE raises UntrustedInput, SKIP passes over,
KEEP passes over only what names no hash."""
from __future__ import annotations

import posixpath
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlver.api.derived import _dvcfile_out, _stages, _yaml
from mlver.api.dvcouts import parsed
from mlver.domain import retention, validate
from mlver.domain.dvcentries import (
    MAX_COUNT,
    MAX_STAGES,
    Entry,
    Policy,
    dvcfile_outs,
    lock_stages,
    read_entry,
    stage_list,
)
from mlver.domain.dvcfiles import outs_pushed
from mlver.errors import BadHash, ConfigError, InputTooLarge, MlverError, UnsafePath, UntrustedInput

A, D = "a" * 32, "d" * 32 + ".dir"
REFUSE, SKIP, KEEP = Policy.REFUSE, Policy.SKIP, Policy.KEEP


def test_a_good_entry_reads_the_same_under_both_policies() -> None:
    entry = {"path": "./model/../model.bin", "md5": A, "size": 5, "nfiles": 1, "hash": "md5", "cache": False,
             "remote": "team"}
    want = Entry("sub/model.bin", A, 5, 1, dvc3=True, cache=False, push=True, remote="team")
    assert read_entry(entry, "sub", "sub/x.dvc", REFUSE) == want == read_entry(entry, "sub", "sub/x.dvc", SKIP)
    assert read_entry({"path": "feats", "md5": D, "size": MAX_COUNT}, "", "x.dvc", REFUSE) \
        == Entry("feats", D, MAX_COUNT)


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside", "sub/../../outside", ".git/hooks/pre-commit",
                                  ".dvc/config", ".MLVER/records/m.json", "a\\b", "c:/x", "a\x00b", "", "x" * 300])
def test_a_path_outside_the_project_refuses_the_file_or_passes_the_entry_over(path: str) -> None:
    with pytest.raises(UntrustedInput):
        read_entry({"path": path, "md5": A}, "", "x.dvc", REFUSE)
    assert read_entry({"path": path, "md5": A}, "", "x.dvc", SKIP) is None


@pytest.mark.parametrize("path", ["/usr/share/dict/words", "../shared/raw.csv", "s3://bucket/raw.csv",
                                  "https://example.com/raw.csv"])
def test_a_dependency_outside_the_project_has_no_path_under_both_policies(path: str) -> None:
    for policy in Policy:
        assert read_entry({"path": path, "md5": A}, "", "dvc.lock", policy, dep=True) == Entry(None, A)
    assert read_entry({"path": "s3://bucket/m", "md5": A}, "", "dvc.lock", REFUSE) == Entry(None, A)


@pytest.mark.parametrize("field, value, error", [
    ("md5", "../../../etc/passwd", BadHash), ("md5", A.upper(), BadHash), ("md5", A[:31], BadHash),
    ("md5", "z" * 32 + ".dir", BadHash), ("md5", D + ".dir", BadHash), ("md5", A + ".DIR", BadHash),
    ("md5", int("1" * 32), BadHash), ("md5", [A], BadHash),
    ("size", -1, UntrustedInput), ("size", MAX_COUNT + 1, UntrustedInput), ("size", 10**100, UntrustedInput),
    ("size", True, UntrustedInput), ("nfiles", False, UntrustedInput), ("size", 1.0, UntrustedInput),
    ("nfiles", "3", UntrustedInput), ("size", {"a": 1}, UntrustedInput),
])
def test_a_bad_field_refuses_the_file_or_is_left_out(field: str, value: Any, error: type) -> None:
    entry = {"path": "m", "md5": A, "size": 1, "nfiles": 1, field: value}
    with pytest.raises(error):
        read_entry(entry, "", "m.dvc", REFUSE)
    skipped = read_entry(entry, "", "m.dvc", SKIP)
    assert skipped is not None and getattr(skipped, field) is None and skipped.path == "m"


@pytest.mark.parametrize("doc", [[{"path": "m"}], "outs", 3, {"outs": {"path": "m"}}, {"outs": ["m"]},
                                 {"outs": [["path", "m"]]}, {"outs": "m"}])
def test_lists_and_maps_in_each_others_place_in_a_dvc_file(doc: Any) -> None:
    with pytest.raises(UntrustedInput):
        dvcfile_outs(doc, "", "m.dvc", REFUSE)
    assert dvcfile_outs(doc, "", "m.dvc", SKIP) == ()


@pytest.mark.parametrize("doc", [[1], {"stages": [1]}, {"stages": {"s": "x"}}, {"stages": {"s": ["outs"]}},
                                 {"stages": {"s": {"outs": ["m"]}}}, {"stages": {"s": {"outs": {"path": "m"}}}},
                                 {"stages": {"s": {"deps": [1]}}}, {"stages": {"s": {"deps": "m"}}}])
def test_lists_and_maps_in_each_others_place_in_a_lock(doc: Any) -> None:
    with pytest.raises(UntrustedInput):
        lock_stages(doc, "", "dvc.lock", REFUSE)
    assert all(s.outs == s.deps == () for s in lock_stages(doc, "", "dvc.lock", SKIP).values())


def test_skip_keeps_the_rest_of_a_lock_that_refuse_refuses_whole() -> None:
    lock = {"schema": "2.0", "stages": {
        "prep": {"cmd": "p", "deps": [{"path": "raw", "md5": D}, {"path": "../x", "md5": A}],
                 "outs": [{"path": "feats", "md5": D, "hash": "md5"}]},
        "train": {"cmd": ["a", "b"], "params": {"params.yaml": {"lr": 1}},
                  "deps": [{"path": "feats", "md5": "nothex"}],
                  "outs": [{"path": "/etc/cron.d/x", "md5": A}, {"path": "m.pkl", "md5": A, "size": -5}]},
        "broken": ["not", "a", "stage"]}}
    with pytest.raises(UntrustedInput):
        lock_stages(lock, "", "dvc.lock", REFUSE)
    with pytest.raises(UntrustedInput):
        outs_pushed("dvc.lock", lock, None, "r")
    read = lock_stages(lock, "", "dvc.lock", SKIP)
    assert list(read) == ["prep", "train"] and read["train"].cmd == ["a", "b"]
    assert read["prep"].deps == (Entry("raw", D), Entry(None, A)) and read["prep"].outs == (Entry("feats", D, dvc3=True),)
    assert read["train"].deps == (Entry("feats", None),) and read["train"].outs == (Entry("m.pkl", A, None),)
    assert read["train"].params == {"params.yaml": {"lr": 1}}
    # The derived records' view of it: what has no path in the project is left out.
    derived = _stages(lock, "")
    assert derived["prep"]["deps"] == [{"path": "raw", "md5": D, "size": None, "nfiles": None}]
    assert derived["train"]["outs"] == [{"path": "m.pkl", "md5": A, "size": None, "nfiles": None}]


def test_skip_reads_at_most_max_stages_and_refuse_every_one() -> None:
    lock = {"stages": {f"s{i}": {"outs": [{"path": f"o{i}", "md5": A}]} for i in range(MAX_STAGES + 5)}}
    assert len(lock_stages(lock, "", "dvc.lock", SKIP)) == MAX_STAGES
    assert len(lock_stages(lock, "", "dvc.lock", REFUSE)) == MAX_STAGES + 5
    assert len(stage_list(lock, "", "dvc.lock", KEEP)) == MAX_STAGES + 5  # gc deletes what it does not read


def test_keep_holds_on_to_every_hash_whatever_the_rest_of_its_entry_says() -> None:
    assert read_entry({"path": "../x", "md5": A, "size": -1}, "", "dvc.lock", KEEP) == Entry(None, A)
    assert read_entry({"md5": D}, "", "x.dvc", KEEP) == Entry(None, D)
    assert read_entry([A], "", "x.dvc", KEEP) is None
    # YAML reads 1 and '1' as two stage names; str() makes them one, which must not drop a stage
    lock = {"stages": {1: {"outs": [{"path": "a", "md5": A}]}, "1": {"outs": [{"path": "d", "md5": D}]}}}
    assert [s.outs[0].md5 for s in stage_list(lock, "", "dvc.lock", KEEP)] == [A, D]
    assert retention.hashes_in_dvcfile(lock) == {A, D}


def test_an_output_at_a_url_that_push_would_send_refuses_the_file() -> None:
    with pytest.raises(UnsafePath):
        outs_pushed("x.dvc", {"outs": [{"path": "s3://b/x", "md5": A, "hash": "md5"}]}, None, "r")
    assert outs_pushed("x.dvc", {"outs": [{"path": "s3://b/x", "md5": A, "cache": False}]}, None, "r").pushed == ()


def test_a_derived_dvc_file_out_takes_the_first_entry_in_the_project() -> None:
    text = f"outs:\n- path: /etc/passwd\n  md5: {A}\n- path: m.pkl\n  md5: {D}\n  nfiles: 2\n".encode()
    assert _dvcfile_out(text, "models/m.pkl") == {"path": "models/m.pkl", "md5": D, "size": None, "nfiles": 2}
    assert _dvcfile_out(b"outs: [1, 2]", "m.pkl") is None and _dvcfile_out(b"- a", "m.pkl") is None


_BOMB = b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n".encode()
    for i in range(8))


@pytest.mark.parametrize("content, error", [
    (_BOMB, ConfigError),  # a billion nodes from 400 bytes
    (b"outs:\n" + b"- " * 200 + b"x\n", ConfigError),  # 200 levels deep
    (b"outs: []\n" + b"#" * (16 * 1024 * 1024), InputTooLarge),
    (b"outs: !!python/object/apply:os.system [echo hi]\n", ConfigError),  # YAML's safe subset only
])
def test_the_one_loader_of_dvc_files_is_bounded(content: bytes, error: type) -> None:
    with pytest.raises(error):
        parsed(content, "x.dvc")
    assert _yaml(content, "x.dvc") is None  # derived records: the file is unreadable, nothing derived from it


def test_aliases_that_stay_small_are_read() -> None:
    text = f"defaults: &d {{md5: {A}, hash: md5}}\nouts:\n- <<: *d\n  path: m\n".encode()
    assert dvcfile_outs(parsed(text, "m.dvc"), "", "m.dvc", REFUSE) == (Entry("m", A, dvc3=True),)


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(),
                     st.text(max_size=40), st.sampled_from([A, D, A.upper(), D + ".dir", "..", "/", "s3://b/k"]))
_PATHS = st.one_of(st.text(alphabet="ab./\\:\x00 ", max_size=20), st.sampled_from(
    ["m", "a/b", "../m", "/m", ".git/x", ".dvc/x", "a/../../b", "./m", "a//b", "https://h/x"]))
_ENTRY = st.fixed_dictionaries({}, optional={
    "path": st.one_of(_PATHS, _SCALARS), "md5": _SCALARS, "size": _SCALARS, "nfiles": _SCALARS,
    "hash": _SCALARS, "cache": _SCALARS, "push": _SCALARS, "remote": _SCALARS})
_ANY_ENTRY = st.one_of(_ENTRY, _SCALARS, st.lists(_SCALARS, max_size=3))


def _well_formed(entry: Entry) -> None:
    if entry.path is not None:
        assert validate.check_project_path(entry.path, "test") == entry.path == posixpath.normpath(entry.path)
    assert entry.md5 is None or validate.MD5.fullmatch(entry.md5)
    for count in (entry.size, entry.nfiles):
        assert count is None or (type(count) is int and 0 <= count <= MAX_COUNT)
    assert type(entry.cache) is bool and type(entry.push) is bool


@settings(max_examples=400, deadline=None)
@given(_ANY_ENTRY, st.sampled_from(["", "sub", "a/b"]), st.booleans())
def test_whatever_an_entry_holds_refuse_checks_it_and_skip_never_raises(entry: Any, folder: str, dep: bool) -> None:
    skipped = read_entry(entry, folder, "f", SKIP, dep)
    try:
        strict = read_entry(entry, folder, "f", REFUSE, dep)
    except UntrustedInput:
        strict = None  # refused; SKIP then passed over the entry or one of its fields
        assert skipped is None or None in (skipped.md5, skipped.size, skipped.nfiles)
    for read in (strict, skipped):
        if read is not None:
            _well_formed(read)
    if strict is not None:
        assert skipped == strict


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.dictionaries(st.sampled_from(["stages", "outs", "schema"]), st.one_of(
    st.dictionaries(st.text(max_size=5), st.one_of(_SCALARS, st.fixed_dictionaries({}, optional={
        "cmd": _SCALARS, "params": st.one_of(_SCALARS, st.dictionaries(st.text(max_size=3), _SCALARS)),
        "outs": st.one_of(_SCALARS, st.lists(_ANY_ENTRY, max_size=3)),
        "deps": st.one_of(_SCALARS, st.lists(_ANY_ENTRY, max_size=3))})), max_size=3),
    st.lists(_ANY_ENTRY, max_size=3), _SCALARS)), _SCALARS))
def test_whatever_a_lock_holds_both_policies_give_checked_stages_or_refuse(doc: Any) -> None:
    skipped = lock_stages(doc, "sub", "sub/dvc.lock", SKIP)
    try:
        strict: dict[str, Any] | None = lock_stages(doc, "sub", "sub/dvc.lock", REFUSE)
    except MlverError as exc:
        assert isinstance(exc, UntrustedInput)
        strict = None
    for stages in (strict or {}, skipped):
        for stage in stages.values():
            assert isinstance(stage.params, dict)
            for entry in stage.deps + stage.outs:
                _well_formed(entry)
    if strict is not None:
        assert skipped == strict
