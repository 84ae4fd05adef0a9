"""Planning a stage model's run from a DVC pipeline: pure logic over Stage/Pipeline."""
from __future__ import annotations

import pytest

from mlver.domain.pipeline import Pipeline, Plan, Stage, covers, downstream, plan
from mlver.errors import MetricsNotProduced, NotAnInput, PipelineStageNotFound, StageDoesNotOutput

# raw.csv.dvc -> prepare -> train -> evaluate; lookup.csv.dvc only feeds evaluate; report depends on nothing.
PIPELINE = Pipeline({
    "raw.csv.dvc": Stage("raw.csv.dvc", outs=("data/raw.csv",), cached=("data/raw.csv",), source=True),
    "lookup.csv.dvc": Stage("lookup.csv.dvc", outs=("data/lookup.csv",), source=True),
    "prepare": Stage("prepare", deps=("data/raw.csv", "prepare.py"), outs=("data/clean/",), cached=("data/clean/",),
                     upstream=frozenset({"raw.csv.dvc"})),
    "train": Stage("train", deps=("data/clean/part-0.csv", "train.py"), outs=("models/m.pkl", "train.json"),
                   cached=("models/m.pkl",), upstream=frozenset({"prepare", "raw.csv.dvc"})),
    "evaluate": Stage("evaluate", deps=("models/m.pkl", "data/lookup.csv"), outs=("metrics.json",),
                      upstream=frozenset({"train", "prepare", "raw.csv.dvc", "lookup.csv.dvc"})),
    "report": Stage("report", deps=("notes.md",), outs=("report.json",)),
})


def test_covers_is_the_path_or_a_folder_holding_it() -> None:
    assert covers("data", "data") and covers("data", "data/x.csv") and covers("data/", "data/x.csv")
    assert not covers("data", "database.csv") and not covers("data/x.csv", "data")


def test_producer_is_the_stage_whose_out_is_the_path_or_holds_it() -> None:
    assert PIPELINE.producer("data/clean/part-0.csv").name == "prepare"  # type: ignore[union-attr]
    assert PIPELINE.producer("models/m.pkl").name == "train"  # type: ignore[union-attr]
    assert PIPELINE.producer("data/raw.csv").name == "raw.csv.dvc"  # type: ignore[union-attr]
    assert PIPELINE.producer("train.py") is None
    assert PIPELINE.pipeline_stages() == ["prepare", "train", "evaluate", "report"]


def test_downstream_is_what_needs_the_targets_and_is_not_among_them() -> None:
    assert downstream(PIPELINE, ("train",)) == ["evaluate"]
    assert downstream(PIPELINE, ("prepare",)) == ["train", "evaluate"]  # transitively, in dvc.yaml order
    assert downstream(PIPELINE, ("train", "evaluate")) == []
    assert downstream(PIPELINE, ("report",)) == []
    # A data source's dependents are pipeline stages; the .dvc files themselves never are.
    assert downstream(PIPELINE, ("lookup.csv.dvc",)) == ["evaluate"]


def test_a_model_trained_and_evaluated_downstream() -> None:
    p = plan(PIPELINE, "m", "train", "models/m.pkl", "metrics.json", (), metrics_in_git=False)
    assert p == Plan(
        model_stage="train",
        metrics_stage="evaluate",
        targets=("train", "evaluate"),
        needed=("raw.csv.dvc", "lookup.csv.dvc", "prepare", "train", "evaluate"),  # in dvc.yaml order
        sources=("data/raw.csv", "data/lookup.csv"),
        # the model's side only: the trainer's deps, and everything upstream (deps and outs); not its own outs
        inputs=("data/raw.csv", "prepare.py", "data/clean/", "data/clean/part-0.csv", "train.py"),
    )
    assert [s.name for s in p.lock_stages(PIPELINE)] == ["prepare", "train", "evaluate"]
    assert p.outs(PIPELINE) == ["data/raw.csv", "data/lookup.csv", "data/clean/", "models/m.pkl", "train.json", "metrics.json"]
    assert p.cached(PIPELINE) == ["data/raw.csv", "data/clean/", "models/m.pkl"]


def test_metrics_the_trainer_writes_itself_need_no_second_target() -> None:
    p = plan(PIPELINE, "m", "train", "models/m.pkl", "train.json", ("data/raw.csv",), metrics_in_git=False)
    assert p.metrics_stage == "train" and p.targets == ("train",)
    assert p.needed == ("raw.csv.dvc", "prepare", "train") and p.sources == ("data/raw.csv",)


def test_metrics_in_git_or_none_have_no_metrics_stage() -> None:
    assert plan(PIPELINE, "m", "train", "models/m.pkl", "metrics-by-hand.json", (), metrics_in_git=True).metrics_stage is None
    p = plan(PIPELINE, "m", "train", "models/m.pkl", None, (), metrics_in_git=False)
    assert p.metrics_stage is None and p.targets == ("train",)
    assert plan(PIPELINE, "m", "report", "report.json", None, (), metrics_in_git=False).needed == ("report",)


def test_declared_data_must_be_an_input_or_hold_one() -> None:
    for data in (("data/raw.csv",), ("data",), ("data/clean/part-0.csv",), ("data/clean/",)):
        plan(PIPELINE, "m", "train", "models/m.pkl", None, data, metrics_in_git=False)
    with pytest.raises(NotAnInput) as err:
        plan(PIPELINE, "m", "train", "models/m.pkl", None, ("data/lookup.csv",), metrics_in_git=False)
    # the inputs listed are those a stage produces (data/raw.csv, data/clean/ ...), not the scripts
    assert err.value.message == ("model m (stage train) does not depend on data/lookup.csv; its inputs: "
                                 "data/raw.csv, data/clean/, data/clean/part-0.csv")


def test_a_stage_that_is_missing_a_source_or_does_not_write_the_model_is_refused() -> None:
    with pytest.raises(PipelineStageNotFound, match="no stage 'fit' .stages: prepare, train, evaluate, report."):
        plan(PIPELINE, "m", "fit", "models/m.pkl", None, (), metrics_in_git=False)
    with pytest.raises(PipelineStageNotFound):
        plan(PIPELINE, "m", "raw.csv.dvc", "data/raw.csv", None, (), metrics_in_git=False)
    with pytest.raises(StageDoesNotOutput, match=r"its outputs: models/m.pkl, train.json"):
        plan(PIPELINE, "m", "train", "models/other.pkl", None, (), metrics_in_git=False)
    with pytest.raises(StageDoesNotOutput):  # a file inside an out folder is not the out
        plan(PIPELINE, "m", "prepare", "data/clean/part-0.csv", None, (), metrics_in_git=False)


def test_metrics_nothing_downstream_of_the_model_writes_are_refused() -> None:
    with pytest.raises(MetricsNotProduced, match="report.json is written by stage report, which does not depend on the model"):
        plan(PIPELINE, "m", "train", "models/m.pkl", "report.json", (), metrics_in_git=True)
    with pytest.raises(MetricsNotProduced, match="is written by no stage"):
        plan(PIPELINE, "m", "train", "models/m.pkl", "nowhere.json", (), metrics_in_git=False)
