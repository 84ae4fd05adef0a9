"""drift.check_stored: what comparing reads of a stored profile, beyond the JSON
types the record check gives it. Each refusal names its field and why; every
profile the profilers write passes (tests/domain/test_stream_profile.py)."""
from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest

from mlver.domain.compare import data_diff
from mlver.domain.drift import check_stored
from mlver.domain.profile import profile_frame
from mlver.errors import RecordShapeError
from mlver.models.record import DataRef, ProfileDoc

FRAME = pd.DataFrame({"age": [20, 31, 45, 58], "when": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]),
                      "plan": ["a", "b", "a", "c"], "flag": [True, False, True, True]})
BASE = profile_frame(FRAME, "csv")
AGE, WHEN, PLAN, FLAG = range(4)


def _refused(change: Any) -> RecordShapeError:
    doc = copy.deepcopy(BASE)
    change(doc)
    with pytest.raises(RecordShapeError) as caught:
        check_stored(ProfileDoc.build(doc), "the record of m@v1", "data[3].profile")
    assert caught.value.where == "the record of m@v1"
    return caught.value


def _column(i: int, **fields: Any) -> Any:
    return lambda d: d["columns"][i].update(fields)


def _without(i: int, key: str) -> Any:
    return lambda d: d["columns"][i].pop(key)


def test_the_profiles_of_every_kind_pass() -> None:
    assert [c["kind"] for c in BASE["columns"]] == ["numeric", "datetime", "categorical", "boolean"]
    check_stored(ProfileDoc.build(BASE), "w", "p")
    check_stored(ProfileDoc.build({"format": "csv", "rows": None, "columns": []}), "w", "p")  # no columns: no rows needed
    check_stored(ProfileDoc.build({**BASE, "columns": None}), "w", "p")


@pytest.mark.parametrize(("change", "what", "value", "why"), [
    (lambda d: d.update(rows=None), "data[3].profile.rows", None, "a profile with columns counts its rows"),
    (lambda d: d.update(rows=-1), "data[3].profile.rows", -1, "a profile with columns counts its rows"),
    (lambda d: d.update(rows=True), "data[3].profile.rows", True, "a profile with columns counts its rows"),
    (_column(AGE, name=None), "data[3].profile.columns[0].name", None, "every profiled column has one"),
    (_column(PLAN, kind=None), "data[3].profile.columns[2].kind", None, "every profiled column has one"),
    (_column(FLAG, dtype=None), "data[3].profile.columns[3].dtype", None, "every profiled column has one"),
    (_column(AGE, nulls=None), "data[3].profile.columns[0].nulls", None, "it is not a count"),
    (_column(PLAN, nulls=-2), "data[3].profile.columns[2].nulls", -2, "it is not a count"),
    (_without(AGE, "histogram"), "data[3].profile.columns[0].histogram", None,
     "a numeric column has one (null when no value is finite)"),
    (_without(AGE, "std"), "data[3].profile.columns[0].std", None, "a numeric column has one (null when no value is finite)"),
    (_without(WHEN, "max"), "data[3].profile.columns[1].max", None,
     "a datetime column has one (null when no value is finite)"),
    (_column(AGE, histogram={"edges": None, "counts": [4]}), "data[3].profile.columns[0].histogram.edges", None,
     "it is not a list of numbers"),
    (_column(AGE, histogram={"edges": [0, "1"], "counts": [4]}), "data[3].profile.columns[0].histogram.edges", [0, "1"],
     "it is not a list of numbers"),
    (_column(WHEN, histogram={"edges": [0, 1], "counts": [-4]}), "data[3].profile.columns[1].histogram.counts", [-4],
     "it is not a list of counts"),
    (_column(AGE, histogram={"edges": [0, 1], "counts": None}), "data[3].profile.columns[0].histogram.counts", None,
     "it is not a list of counts"),
    (_column(AGE, histogram={"edges": [0, 1, 2], "counts": [4]}), "data[3].profile.columns[0].histogram.edges", [0, 1, 2],
     "1 counts need 2 edges, one more than the bins"),
    (_column(AGE, histogram={"edges": [0], "counts": []}), "data[3].profile.columns[0].histogram.counts", [],
     "a histogram has a bin at least"),
    (_column(AGE, histogram={"edges": [0, 1], "counts": [1, 2, 3]}), "data[3].profile.columns[0].histogram.edges", [0, 1],
     "3 counts need 4 edges, one more than the bins"),
    (_column(PLAN, top=None), "data[3].profile.columns[2].top", None, "a categorical column lists its top values"),
    (_column(FLAG, top="True"), "data[3].profile.columns[3].top", "True", "a boolean column lists its top values"),
    (_column(PLAN, top=[["a", 2], 5]), "data[3].profile.columns[2].top[1]", 5, "it is not a [value, count] pair"),
    (_column(PLAN, top=[["a", 2, 1]]), "data[3].profile.columns[2].top[0]", ["a", 2, 1], "it is not a [value, count] pair"),
    (_column(PLAN, top=[[["a"], 2]]), "data[3].profile.columns[2].top[0]", [["a"], 2], "it is not a [value, count] pair"),
    (_column(PLAN, top=[["a", "2"]]), "data[3].profile.columns[2].top[0]", ["a", "2"], "it is not a [value, count] pair"),
    (_column(PLAN, top=[["a", -1]]), "data[3].profile.columns[2].top[0]", ["a", -1], "it is not a [value, count] pair"),
    (_column(PLAN, other=None), "data[3].profile.columns[2].other", None,
     "it is not a count (the rows outside the top values)"),
])
def test_a_field_comparing_cannot_read_is_refused_by_name(change: Any, what: str, value: Any, why: str) -> None:
    error = _refused(change)
    assert (error.what, error.value, error.why) == (what, value, why)


def test_any_json_scalar_is_a_top_value_and_a_zero_count_is_a_count() -> None:
    doc = copy.deepcopy(BASE)
    doc["columns"][PLAN].update(top=[["a", 0], [1, 1], [2.5, 1], [False, 1]], other=0)
    doc["columns"][AGE].update(nulls=0, histogram={"edges": [1.5, 1.5], "counts": [4]})  # a constant column's one bin
    check_stored(ProfileDoc.build(doc), "w", "p")


def test_diff_names_the_record_and_the_input_of_a_profile_it_cannot_compare() -> None:
    good = {"path": "d.csv", "md5": "a" * 32, "profile": BASE}
    bad = copy.deepcopy(good)
    bad.update(md5="b" * 32)
    bad["profile"]["columns"][PLAN]["top"] = None
    other = {"path": "x.bin", "md5": "c" * 32}
    old, new = (DataRef.build(good),), (DataRef.build(other), DataRef.build(bad))
    with pytest.raises(RecordShapeError) as caught:
        data_diff(old, new, where=("the record of m@v1", "the record of m@v2"))
    assert (caught.value.where, caught.value.what) == ("the record of m@v2", "data[1].profile.columns[2].top")
    with pytest.raises(RecordShapeError) as caught:
        data_diff(new[::-1], old, where=("the record of m@v1", "the record of m@v2"))
    assert (caught.value.where, caught.value.what) == ("the record of m@v1", "data[0].profile.columns[2].top")
    # Unchanged data is not compared, so not checked: its hash says all.
    assert data_diff((DataRef.build(bad),), (DataRef.build(bad),))[0].status == "unchanged"
