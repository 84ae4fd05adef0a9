"""The pipeline graph reproduce walks: every stage after what it needs, and
the inputs are exactly the deps no stage writes."""
from __future__ import annotations

from hypothesis import given, strategies as st

from mlver.domain import dag


@st.composite
def pipelines(draw):
    """A random DAG: stage i may read the output folder of any earlier stage and raw files."""
    n = draw(st.integers(1, 8))
    body = {}
    for i in range(n):
        parents = draw(st.sets(st.integers(0, i - 1), max_size=i)) if i else set()
        raw = draw(st.sets(st.sampled_from(["data/a.csv", "data/b", "src/x.py"]), max_size=2))
        deps = [f"out{p}/part.csv" if draw(st.booleans()) else f"out{p}" for p in sorted(parents)] + sorted(raw)
        body[f"s{i}"] = {"cmd": "true", "deps": deps, "outs": [f"out{i}"]}
    return {"stages": body}


@given(pipelines(), st.data())
def test_upstream_orders_dependencies_first_and_inputs_are_unproduced(doc, data) -> None:
    stages = dag.stages_of(doc)
    targets = data.draw(st.lists(st.sampled_from(sorted(stages)), min_size=1, max_size=3))
    order = dag.upstream(stages, targets)
    assert len(order) == len(set(order)) and set(targets) <= set(order)
    for name in order:
        for dep in stages[name].deps:
            parent = dag.producer(stages, dep)
            if parent is not None:
                assert parent in order and order.index(parent) < order.index(name)
    assert set(dag.inputs(stages, order)) == {d for n in order for d in stages[n].deps if not d.startswith("out")}


def test_wdir_outs_metrics_and_options() -> None:
    stages = dag.stages_of({"stages": {
        "prep": {"wdir": "sub", "deps": ["../data/raw.csv"], "outs": [{"clean": {"cache": False}}]},
        "eval": {"deps": ["sub/clean/x.csv"], "metrics": [{"eval/metrics.json": {"cache": False}}], "plots": ["eval/p"]},
        "broken": "not a mapping",
    }})
    assert sorted(stages) == ["eval", "prep"]
    assert stages["prep"].deps == ("data/raw.csv",) and stages["prep"].outs == ("sub/clean",)
    assert dag.producer(stages, "eval/metrics.json") == "eval" and dag.producer(stages, "sub/clean/x.csv") == "prep"
    assert dag.upstream(stages, ["eval"]) == ["prep", "eval"]
    assert dag.inputs(stages, ["prep", "eval"]) == ["data/raw.csv"]
