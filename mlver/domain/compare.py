"""Comparing two lineage records: params, metrics, data, artifact, env (the rows of mlver/models/diff.py)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, TypeGuard

from mlver.models.diff import ArtifactChange, CodeChange, DataChange, EnvChange, MetricChange, ParamChange

TYPE_CHECKING = False  # the record's types are only read here: ls NAME starts without building them
if TYPE_CHECKING:
    from mlver.models.record import ArtifactRef, DataRef, Environment, RecordDoc
    from mlver.models.review import ModelDiff

_MISSING = object()


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, Any, Any, str]]:
    rows = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, _MISSING), new.get(key, _MISSING)
        if a == b:
            continue
        status = "added" if a is _MISSING else "removed" if b is _MISSING else "changed"
        rows.append((key, None if a is _MISSING else a, None if b is _MISSING else b, status))
    return rows


def params_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[ParamChange, ...]:
    return tuple(ParamChange(*row) for row in _changes(old, new))


# Name parts of metrics where lower is better; anything else is taken as
# higher-is-better only when it is a known score, else "better" stays None:
# a wrong guess would mislead a reviewer more than no guess.
_LOWER = ("loss", "error", "err", "mae", "mse", "rmse", "mape", "smape", "logloss", "latency",
          "duration", "time", "cost", "fpr", "fnr", "perplexity", "wer", "cer", "brier", "bits")
_HIGHER = ("accuracy", "acc", "auc", "roc", "f1", "precision", "recall", "r2", "map", "ndcg",
           "iou", "dice", "bleu", "rouge", "score", "tpr", "tnr", "specificity", "sensitivity", "ap")


@lru_cache(maxsize=4096)  # a site asks it for every metric of every version: a few names, 10,000s of times
def higher_is_better(metric: str) -> bool | None:
    parts = [p for p in metric.lower().replace("-", "_").replace(".", "_").replace("/", "_").split("_") if p]
    if any(p in _LOWER for p in parts):
        return False
    if any(p in _HIGHER for p in parts):
        return True
    return None


def is_number(x: Any) -> TypeGuard[float]:
    """A JSON number that is a number (true and false are not)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def metrics_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[MetricChange, ...]:
    """Every metric on either side, with delta, percent change, direction
    (up/down/same) and, where the metric's name tells, whether it got better."""
    rows = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        delta = pct = direction = better = None
        if is_number(a) and is_number(b):
            delta = b - a
            pct = (delta / abs(a) * 100.0) if a else None
            direction = "up" if delta > 0 else "down" if delta < 0 else "same"
            goal = higher_is_better(key)
            if goal is not None and delta:
                better = (delta > 0) == goal
        rows.append(MetricChange(key, a, b, delta, pct, direction, better))
    return tuple(rows)


def data_diff(old: Sequence[DataRef], new: Sequence[DataRef], threshold: float | None = None,
              where: tuple[str, str] = ("the old record", "the new record")) -> tuple[DataChange, ...]:
    """Per data input: hash, size, files and, for tabular data, what the
    profiles say changed (rows, columns, per-column shift and PSI, flagged
    at ``threshold``). ``where``: the two records, named in the error a
    profile that cannot be compared raises (drift.check_stored)."""
    from mlver.domain.drift import DEFAULT_THRESHOLD, check_stored, compare_profiles
    from mlver.models.profilediff import ProfileChange

    by_old = {d.path: d for d in old}
    by_new = {d.path: d for d in new}
    index = ({id(d): i for i, d in enumerate(old)}, {id(d): i for i, d in enumerate(new)})
    rows = []
    for path in sorted(set(by_old) | set(by_new)):
        a, b = by_old.get(path), by_new.get(path)
        if a is None:
            status = "added"
        elif b is None:
            status = "removed"
        else:
            status = "unchanged" if a.md5 == b.md5 else "changed"
        profile, note = None, None
        pa, pb = a and a.profile, b and b.profile
        if status == "changed" and (pa or pb):
            for side, (ref, stored) in enumerate(((a, pa), (b, pb))):
                if ref is not None and stored:
                    check_stored(stored, where[side], f"data[{index[side][id(ref)]}].profile")
            profile = ProfileChange.build(compare_profiles(pa.to_doc() if pa else None, pb.to_doc() if pb else None,
                                                           DEFAULT_THRESHOLD if threshold is None else threshold))
            if not (pa and pb):
                note = f"no profile on the {'old' if not pa else 'new'} side: columns are compared with nothing"
        elif status == "changed":  # not tabular: the hash is all there is to compare
            why = (a and a.profile_error) or (b and b.profile_error)
            note = f"no profile ({why}): hash-only comparison" if why else "not tabular: hash-only comparison"
        rows.append(DataChange(
            path=path, status=status, old_md5=a.md5 if a else None, new_md5=b.md5 if b else None,
            old_size=a.size if a else None, new_size=b.size if b else None,
            old_nfiles=a.nfiles if a else None, new_nfiles=b.nfiles if b else None,
            profile=profile, note=note,
        ))
    return tuple(rows)


def artifact_diff(old: ArtifactRef | None, new: ArtifactRef | None) -> ArtifactChange:
    old_md5, new_md5 = old.md5 if old else None, new.md5 if new else None
    return ArtifactChange(path=(new.path if new else None) or (old.path if old else None) or None,
                          old_md5=old_md5, new_md5=new_md5, old_size=old.size if old else None,
                          new_size=new.size if new else None, changed=old_md5 != new_md5)


def _flat_env(env: Environment | None) -> dict[str, Any]:
    if not env:
        return {"python": None, "platform": None}
    return {"python": env.python, "platform": env.platform, **(env.packages or {})}


def env_diff(old: Environment | None, new: Environment | None) -> tuple[EnvChange, ...]:
    flat_old, flat_new = _flat_env(old), _flat_env(new)
    return tuple(EnvChange(*row) for row in _changes(flat_old, flat_new))


def model_diff(model: str, old_ref: str, new_ref: str, old_commit: str | None, new_commit: str | None,
               a: RecordDoc, b: RecordDoc, threshold: float | None = None,
               code: CodeChange | None = None, notes: tuple[str, ...] = ()) -> ModelDiff:
    """Two records of one model compared; ``code`` is what git says changed
    between their code commits (the caller asks git)."""
    from mlver.models.review import ModelDiff

    params = params_diff(a.params or {}, b.params or {})
    metrics = metrics_diff(a.metrics or {}, b.metrics or {})
    data = data_diff(a.data or (), b.data or (), threshold, (f"the record of {old_ref}", f"the record of {new_ref}"))
    artifact = artifact_diff(a.artifact, b.artifact)
    env = env_diff(a.env, b.env)
    changed = (
        params or artifact.changed or (code is not None and code.files)
        or any(d.status != "unchanged" for d in data)
        or any(m.changed for m in metrics)  # a metric-only change (a re-run evaluation) is a change
        or env  # another library version can change the model as much as the code
    )
    return ModelDiff(
        model=model, old_ref=old_ref, new_ref=new_ref, old_commit=old_commit, new_commit=new_commit,
        status="changed" if changed else "unchanged",
        params=params, metrics=metrics, data=data, code=code, artifact=artifact, env=env, notes=notes,
    )
