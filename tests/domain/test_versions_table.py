"""`mlver ls NAME`'s table as a pure function of the released versions and the folded registry."""
from __future__ import annotations

import pytest
from fixtures.events import events

from mlver.domain.registry import fold
from mlver.domain.versions import Released, stage_spans, versions_table
from mlver.errors import UnknownMetric
from mlver.models import DataInput, MetricCell, ParamChange


def _state(*spec: tuple[str, str, int]):  # noqa: ANN202
    return fold(events(*spec)).models["m"]


def _doc(acc: object, loss: float, lr: float, md5: str, rows: object = 10) -> dict:
    return {"metrics": {"acc": acc, "loss": loss}, "params": {"lr": lr, "depth": 3},
            "data": [{"path": "d.csv", "md5": md5, "profile": {"rows": rows}}, "junk", {"path": "x.bin", "md5": "e"}]}


RELEASED = [
    Released("v1.10.0", "c3", "t3", "carol", "c@x", _doc(0.8, 0.3, 0.2, "b")),
    Released("v1.2.0", "c1", "t1", "alice", "a@x", _doc(0.7, 0.5, 0.1, "a", rows=True)),
    Released("v1.9.0", "c2", "t2", "bob", "b@x", _doc(0.9, 0.1, 0.1, "a"), derived=True, intact=False),
    Released("v1.11.0", "c4", "t4", "dan", "d@x", None),
]
STATE = _state(("m@v1.2.0", "c1", 1), ("m@v1.9.0", "c2", 2), ("m@v1.10.0", "c3", 3), ("m@v1.11.0", "c4", 4),
               ("m#prod#1", "c1", 5), ("m#dev#2", "c2", 6), ("m#prod#3", "c2", 7), ("m#staging#4", "c3", 8),
               ("m#qa#5", "bare", 9))


def test_stage_spans_now_and_before() -> None:
    spans = stage_spans(STATE)
    assert spans["v1.2.0"] == ((), ("prod",))
    assert spans["v1.9.0"] == (("dev", "prod"), ())
    assert spans["v1.10.0"] == (("staging",), ())
    assert spans["bare"] == (("qa",), ())
    assert "v1.11.0" not in spans


def test_rows_are_newest_first_and_each_compares_with_the_version_before_in_semver_order() -> None:
    table = versions_table("m", RELEASED, STATE, repo="https://x/r.git")
    assert (table.model, table.metrics, table.repo, table.sort_by, table.against) == ("m", ("acc", "loss"), "https://x/r.git", None, None)
    assert table.stages == {"dev": "v1.9.0", "prod": "v1.9.0", "qa": "bare", "staging": "v1.10.0"}
    assert [r.version for r in table.rows] == ["v1.11.0", "v1.10.0", "v1.9.0", "v1.2.0"]
    newest, ten, nine, two = table.rows
    assert (two.previous, nine.previous, ten.previous, newest.previous) == (None, "v1.2.0", "v1.9.0", "v1.10.0")
    assert (two.commit, two.released, two.released_by, two.email) == ("c1", "t1", "alice", "a@x")
    assert (two.stages, two.stages_before, nine.stages) == ((), ("prod",), ("dev", "prod"))
    assert (nine.derived, nine.intact, two.derived, two.intact) == (True, False, False, True)
    assert (newest.record, newest.metrics, newest.data, newest.params_changed) == (False, {}, (), ())
    assert two.data == (DataInput("d.csv", "a", None, False), DataInput("x.bin", "e", None, False))  # rows True: not a count
    assert nine.data == (DataInput("d.csv", "a", 10, False), DataInput("x.bin", "e", None, False))
    assert ten.data[0] == DataInput("d.csv", "b", 10, True) and ten.data[1].changed is False
    assert two.params_changed == () and nine.params_changed == ()
    assert ten.params_changed == (ParamChange("lr", 0.1, 0.2, "changed"),)
    assert two.metrics["acc"] == MetricCell(0.7)
    assert nine.metrics["acc"].delta == pytest.approx(0.2) and nine.metrics["acc"].better is True
    assert nine.metrics["loss"].better is True and nine.metrics["loss"].pct == pytest.approx(-80.0)
    assert ten.metrics["loss"].better is False and ten.metrics["acc"].better is False


def test_against_a_stage_and_sorting_by_a_metric() -> None:
    against = versions_table("m", RELEASED, STATE, against="prod", against_version="v1.9.0",
                             against_doc=RELEASED[2].doc, sort_by="loss")
    assert (against.against, against.against_version, against.sort_by) == ("prod", "v1.9.0", "loss")
    assert [r.version for r in against.rows] == ["v1.9.0", "v1.10.0", "v1.2.0", "v1.11.0"]  # lowest loss first, none last
    ten = against.rows[1]
    assert ten.metrics["acc"].against_delta == pytest.approx(-0.1) and ten.metrics["acc"].against_better is False
    assert ten.metrics["loss"].against_better is False
    by_acc = versions_table("m", RELEASED, STATE, sort_by="acc")
    assert [r.version for r in by_acc.rows] == ["v1.9.0", "v1.10.0", "v1.2.0", "v1.11.0"]  # highest first
    assert all(c.against_delta is None for r in by_acc.rows for c in r.metrics.values())


def test_sorting_puts_non_numbers_last_and_keeps_newest_first_among_equals() -> None:
    released = [Released("v0.1.0", "a", "t", "x", "e", {"metrics": {"acc": 0.5}}),
                Released("v0.2.0", "b", "t", "x", "e", {"metrics": {"acc": "n/a"}}),
                Released("v0.3.0", "c", "t", "x", "e", {"metrics": {"acc": 0.5}}),
                Released("v0.4.0", "d", "t", "x", "e", {"metrics": {"acc": True}}),
                Released("v0.5.0", "e", "t", "x", "e", {"metrics": "broken"})]
    table = versions_table("m", released, sort_by="acc")
    assert [r.version for r in table.rows] == ["v0.3.0", "v0.1.0", "v0.5.0", "v0.4.0", "v0.2.0"]
    assert table.stages == {} and table.rows[0].stages == ()


def test_an_unknown_metric_to_sort_by_names_the_known_ones() -> None:
    with pytest.raises(UnknownMetric) as info:
        versions_table("m", RELEASED, sort_by="f1")
    assert "f1" in info.value.message and "acc" in info.value.message and "loss" in info.value.message


def test_params_are_compared_only_between_two_records() -> None:
    released = [Released("v0.1.0", "a", "t", "x", "e", {"params": {"a": 1}}),
                Released("v0.2.0", "b", "t", "x", "e", {"params": "bad"}),
                Released("v0.3.0", "c", "t", "x", "e", {"params": {"a": 2}}),
                Released("v0.4.0", "d", "t", "x", "e", {}),
                Released("v0.5.0", "e", "t", "x", "e", {"params": {"b": 1}, "data": [{"path": "p", "md5": "m", "profile": "x"}]})]
    rows = {r.version: r for r in versions_table("m", released).rows}
    assert rows["v0.2.0"].params_changed == () and rows["v0.3.0"].params_changed == ()
    assert rows["v0.4.0"].params_changed == (ParamChange("a", 2, None, "removed"),)
    assert rows["v0.5.0"].params_changed == (ParamChange("b", None, 1, "added"),)
    assert rows["v0.5.0"].data == (DataInput("p", "m", None, True),)  # not in the version before: changed
