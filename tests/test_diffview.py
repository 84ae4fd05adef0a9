"""mlver/diffview.py, the one place that decides what a reader sees of a diff: pure tests
(tests/cli/test_diff_formats.py checks the three formats agree through the CLI)."""
from __future__ import annotations

from typing import Any

import pytest

from mlver import diffview as dv
from mlver.domain import compare
from mlver.domain import record as rec
from mlver.models.record import RecordDoc
from mlver.report import summary


def _doc(**parts: Any) -> RecordDoc:
    base = {"schema": 1, "model": "m", "artifact": {"path": "m.pkl", "md5": "a" * 32, "size": 10},
            "code": {"commit": "c" * 40}, "params": {"lr": 0.1}, "metrics": {}, "data": [],
            "env": {"python": "3.11", "packages": {"numpy": "2.0"}}}
    return RecordDoc.from_doc(rec.seal(base | parts))


@pytest.mark.parametrize(("x", "plain", "signed"), [
    (None, None, None), (True, "true", "true"), (0.1, "0.1", "+0.1"), (1 / 3, "0.333333", "+0.333333"),
    (-2, "-2", "-2"), (3, "3", "+3"), (0, "0", "+0"), (float("inf"), "inf", "inf"), ("x", "x", "x"),
])
def test_one_text_per_value(x: Any, plain: str | None, signed: str | None) -> None:
    assert dv.text(x) == plain and dv.delta_text(x) == signed


def test_metric_lines_carry_trend_and_verdict() -> None:
    d = compare.model_diff("m", "m@a", "m@b", "1", "2",
                           _doc(metrics={"val_loss": 0.4, "p95_latency_ms": 10, "accuracy": 0.6, "rows": 5, "gone": 1, "f1": 0.5}),
                           _doc(metrics={"val_loss": 0.45, "p95_latency_ms": 12.5, "accuracy": 0.7, "rows": 5, "new": 2, "f1": 0.5}))
    assert d.status == "changed"  # only metrics moved: a change
    lines = {m.label: m for m in dv.view(d).metrics}
    assert (lines["val_loss"].trend, lines["val_loss"].verdict, lines["val_loss"].delta) == ("up", "worse", "+0.05")
    assert (lines["p95_latency_ms"].verdict, lines["p95_latency_ms"].pct) == ("worse", "+25.00%")
    assert (lines["accuracy"].trend, lines["accuracy"].verdict) == ("up", "better")
    assert (lines["rows"].status, lines["rows"].verdict, lines["rows"].delta) == ("unchanged", "same", "+0")
    assert (lines["gone"].status, lines["gone"].new, lines["gone"].verdict) == ("removed", None, "unknown")
    assert (lines["new"].status, lines["new"].old) == ("added", None)
    assert [m.label for m in dv.view(d).moved] == ["accuracy", "gone", "new", "p95_latency_ms", "val_loss"]
    text = summary(dv.view(d), markdown=False)
    assert "val_loss 0.4 → 0.45 (+12.50% ▲ worse)" in text and "accuracy 0.6 → 0.7 (+16.67% ▲ better)" in text
    assert "rows" not in text and "f1" not in text


def test_unchanged_added_removed_and_env() -> None:
    same = compare.model_diff("m", "a", "b", "1", "2", _doc(), _doc())
    view = dv.view(same)
    assert view.status == "unchanged" and view.headline == "no changes" and view.artifact is None and not view.data
    assert summary(view) == "no changes"
    env = dv.view(compare.model_diff("m", "a", "b", "1", "2", _doc(), _doc(env={"python": "3.11", "packages": {"numpy": "2.1"}})))
    assert env.status == "changed" and [(e.label, e.old, e.new) for e in env.env] == [("numpy", "2.0", "2.1")]
    assert summary(env, markdown=False) == "1 environment change"
    art = dv.view(compare.model_diff("m", "a", "b", "1", "2", _doc(),
                                     _doc(artifact={"path": "m.pkl", "md5": "b" * 32, "size": 2048})))
    assert art.artifact is not None and art.artifact.md5 == dv.Shift("a" * 12, "b" * 12)
    assert art.artifact.size == dv.Shift("10 B", "2.0 KB")


def test_data_views_say_what_changed_and_pick_the_columns() -> None:
    columns = [{"name": f"c{i}", "null_rate": {"old": 0, "new": 0.5}, "mean": {"old": 1.0, "new": 2.0, "delta": 1.0},
                "std": {"old": 1.0, "new": 1.0}, "psi": i / 100, "drifted": i >= 10} for i in range(15)]
    profile = {"rows": {"old": 10, "new": 12, "delta": 2}, "columns": columns, "columns_added": ["n"],
               "columns_removed": [], "type_changed": [{"name": "t", "old": "int64", "new": "object"}],
               "drifted_columns": [f"c{i}" for i in range(10, 15)]}
    from mlver.models.diff import DataChange
    from mlver.models.profilediff import ProfileChange

    typed = ProfileChange.build(profile)
    assert typed.to_doc() == profile and typed.rows is not None and typed.rows.delta == 2
    assert typed.columns[3].mean is not None and typed.columns[3].mean.new == 2.0 and typed.type_changed[0].new == "object"
    x = dv.data_view(DataChange("d.csv", "changed", "1" * 32, "2" * 32, 1, 2, 1, 1, profile=typed))
    assert x.compared and not x.hash_only and x.rows == dv.Shift("10", "12", "+2") and x.rows_changed
    assert [c.name for c in x.columns] == [f"c{i}" for i in range(14, 2, -1)] and x.more_columns == 3
    assert x.columns[0].psi == "0.140" and x.columns[0].drifted and x.columns[0].mean == dv.Shift("1", "2", "+1")
    assert x.type_changed == (("t", "int64", "object"),) and x.files is None
    hashed = dv.data_view(DataChange("b.bin", "changed", "1" * 32, "2" * 32, 1, 2, 1, 3, note="not tabular"))
    assert hashed.hash_only and not hashed.compared and hashed.files == dv.Shift("1", "3")
