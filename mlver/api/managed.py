"""What a record commit may carry besides the record: the files mlver writes
for it, and for a stage model what DVC wrote that a DVC user commits after
`dvc repro`. Read by recording (what to commit), training (what a clean tree
may have changed) and pending (what `mlver record` would refuse)."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass

from mlver.adapters import dvc
from mlver.domain import record as rec
from mlver.domain.pipeline import Pipeline, Plan
from mlver.project import ModelSpec


@dataclass(frozen=True)
class StageRun:
    """A stage model's pipeline and the plan of its run: what the lineage is read from."""

    pipeline: Pipeline
    plan: Plan


def managed_paths(spec: ModelSpec, stage_run: StageRun | None = None) -> list[str]:
    """Files a record commit may touch: mlver's outputs and nothing else.

    For a stage model, what a DVC user commits after `dvc repro`: the lock
    files, the .gitignore files DVC keeps for the outputs and, known from its
    pipeline, the outs DVC leaves to git (``cache: false``).
    """
    paths = [rec.record_path(spec.name)]
    if spec.stage:
        outs = stage_run.plan.outs(stage_run.pipeline) if stage_run else [spec.path]
        locks = [s.lockfile for s in stage_run.plan.lock_stages(stage_run.pipeline)] if stage_run else [dvc.LOCK_FILE]
        paths.extend(dict.fromkeys(locks))
        paths.extend(dict.fromkeys(posixpath.join(posixpath.dirname(o), ".gitignore") for o in outs))
        if stage_run:
            paths.extend(o for o in dict.fromkeys(stage_run.plan.uncached(stage_run.pipeline)) if o not in paths)
    else:
        paths.extend(dvc.tracked_side_files(spec.path))
    if spec.metrics:
        paths.append(spec.metrics)
    return paths
