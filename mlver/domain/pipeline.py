"""A DVC pipeline as mlver needs it: which stages a stage model's training and
its metrics need, and what lies upstream of them. Pure: the DVC adapter
builds a ``Pipeline`` from DVC's own index of dvc.yaml and the .dvc files.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from mlver.errors import MetricsNotProduced, NotAnInput, PipelineStageNotFound, StageDoesNotOutput


@dataclass(frozen=True)
class Stage:
    """A stage of dvc.yaml, or a .dvc file (``source``: data added or imported)."""

    name: str  # DVC's address: "train", "sub/dvc.yaml:train", "data/x.csv.dvc"
    deps: tuple[str, ...] = ()  # repo-relative paths (params files are in ``params``)
    outs: tuple[str, ...] = ()
    cached: tuple[str, ...] = ()  # the outs DVC caches (and gitignores): never git's
    params: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (file, keys); no keys: the whole file
    upstream: frozenset[str] = frozenset()  # every stage it needs, transitively
    source: bool = False
    lockfile: str = ""  # repo-relative dvc.lock of a pipeline stage
    key: str = ""  # its key under ``stages:`` in that lock file
    wdir: str = ""  # what the lock file's paths are relative to


@dataclass(frozen=True)
class Pipeline:
    stages: dict[str, Stage] = field(default_factory=dict)

    def producer(self, path: str) -> Stage | None:
        """The stage that writes ``path``: an out that is the path or a folder holding it."""
        for stage in self.stages.values():
            if any(covers(out, path) for out in stage.outs):
                return stage
        return None

    def pipeline_stages(self) -> list[str]:
        return [s.name for s in self.stages.values() if not s.source]


def downstream(pipeline: Pipeline, targets: tuple[str, ...]) -> list[str]:
    """Pipeline stages that need one of ``targets`` but are not among them, in dvc.yaml order:
    what `dvc repro TARGETS` leaves behind."""
    return [s.name for s in pipeline.stages.values()
            if not s.source and s.name not in targets and not s.upstream.isdisjoint(targets)]


def covers(out: str, path: str) -> bool:
    return path == out or path.startswith(out.rstrip("/") + "/")


@dataclass(frozen=True)
class Plan:
    """What ``mlver run`` reproduces and what the record's lineage is drawn from."""

    model_stage: str
    metrics_stage: str | None  # None: no metrics, or a metrics file git tracks
    targets: tuple[str, ...]  # what `dvc repro` is given
    needed: tuple[str, ...]  # targets and everything upstream of them, in dvc.yaml order
    sources: tuple[str, ...]  # outs of the .dvc files upstream: the data
    inputs: tuple[str, ...]  # every path the model depends on through the DAG

    def lock_stages(self, pipeline: Pipeline) -> list[Stage]:
        return [pipeline.stages[n] for n in self.needed if not pipeline.stages[n].source]

    def outs(self, pipeline: Pipeline) -> list[str]:
        return [o for n in self.needed for o in pipeline.stages[n].outs]

    def cached(self, pipeline: Pipeline) -> list[str]:
        return [o for n in self.needed for o in pipeline.stages[n].cached]

    def uncached(self, pipeline: Pipeline) -> list[str]:
        """The outs DVC leaves to git (``cache: false``: example-dvc-experiments'
        metrics.json and plots/): written by the run, hashed in dvc.lock, so
        the record commit carries them as it carries dvc.lock."""
        return [o for s in self.lock_stages(pipeline) for o in s.outs if o not in s.cached]


def plan(pipeline: Pipeline, model: str, stage: str, path: str, metrics: str | None,
         data: tuple[str, ...], metrics_in_git: bool) -> Plan:
    """Check a stage model's declaration against the pipeline and plan its run.

    Refuses a stage that does not exist or does not write the model, a
    metrics file nothing produces for this model, and declared data the
    model does not depend on.
    """
    if stage not in pipeline.stages or pipeline.stages[stage].source:
        raise PipelineStageNotFound(stage, pipeline.pipeline_stages())
    trainer = pipeline.stages[stage]
    if path not in trainer.outs:
        raise StageDoesNotOutput(stage, path, list(trainer.outs))
    metrics_stage = None
    if metrics:
        writer = pipeline.producer(metrics)
        if writer is None:
            if not metrics_in_git:
                raise MetricsNotProduced(metrics, "is written by no stage of dvc.yaml and not tracked by git")
        elif writer.name != stage and stage not in writer.upstream:
            raise MetricsNotProduced(metrics, f"is written by stage {writer.name}, which does not depend on the model {path}")
        else:
            metrics_stage = writer.name
    targets = tuple(dict.fromkeys(n for n in (stage, metrics_stage) if n))
    wanted = {n for t in targets for n in (t, *pipeline.stages[t].upstream)}
    needed = tuple(n for n in pipeline.stages if n in wanted)
    model_side = {stage, *trainer.upstream}
    inputs = tuple(dict.fromkeys(
        p for n in pipeline.stages if n in model_side
        for p in (*pipeline.stages[n].deps, *(pipeline.stages[n].outs if n != stage else ()))
    ))
    for wanted_path in data:
        if not any(covers(p, wanted_path) or covers(wanted_path, p) for p in inputs):
            raise NotAnInput(model, wanted_path, stage, [p for p in inputs if pipeline.producer(p) is not None])
    sources = tuple(dict.fromkeys(o for n in needed if pipeline.stages[n].source for o in pipeline.stages[n].outs))
    return Plan(stage, metrics_stage, targets, needed, sources, inputs)
