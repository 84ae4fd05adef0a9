"""Comparing two lineage records: params, metrics, data, artifact, env (the rows of mlver/models/diff.py)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, TypeGuard

from mlver.models.diff import ArtifactChange, CodeChange, DataChange, EnvChange, MetricChange, ParamChange

TYPE_CHECKING = False
if TYPE_CHECKING:
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


def _number(x: Any) -> TypeGuard[float]:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def metrics_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[MetricChange, ...]:
    """Every metric on either side, with delta, percent change, direction
    (up/down/same) and, where the metric's name tells, whether it got better."""
    rows = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        delta = pct = direction = better = None
        if _number(a) and _number(b):
            delta = b - a
            pct = (delta / abs(a) * 100.0) if a else None
            direction = "up" if delta > 0 else "down" if delta < 0 else "same"
            goal = higher_is_better(key)
            if goal is not None and delta:
                better = (delta > 0) == goal
        rows.append(MetricChange(key, a, b, delta, pct, direction, better))
    return tuple(rows)


def data_diff(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]],
              threshold: float | None = None) -> tuple[DataChange, ...]:
    """Per data input: hash, size, files and, for tabular data, what the
    profiles say changed (rows, columns, per-column shift and PSI, flagged
    at ``threshold``)."""
    from mlver.domain.drift import DEFAULT_THRESHOLD, compare_profiles

    by_old = {d["path"]: d for d in old}
    by_new = {d["path"]: d for d in new}
    rows = []
    for path in sorted(set(by_old) | set(by_new)):
        a, b = by_old.get(path), by_new.get(path)
        if a is None:
            status = "added"
        elif b is None:
            status = "removed"
        else:
            status = "unchanged" if a.get("md5") == b.get("md5") else "changed"
        profile, note = None, None
        pa, pb = (a or {}).get("profile"), (b or {}).get("profile")
        if status == "changed" and (pa or pb):
            profile = compare_profiles(pa, pb, DEFAULT_THRESHOLD if threshold is None else threshold)
            if not (pa and pb):
                note = f"no profile on the {'old' if not pa else 'new'} side: columns are compared with nothing"
        elif status == "changed":  # not tabular: the hash is all there is to compare
            why = (a or {}).get("profile_error") or (b or {}).get("profile_error")
            note = f"no profile ({why}): hash-only comparison" if why else "not tabular: hash-only comparison"
        was, now = a or {}, b or {}
        rows.append(DataChange(
            path=path, status=status, old_md5=was.get("md5"), new_md5=now.get("md5"),
            old_size=was.get("size"), new_size=now.get("size"), old_nfiles=was.get("nfiles"), new_nfiles=now.get("nfiles"),
            profile=profile, note=note,
        ))
    return tuple(rows)


def artifact_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> ArtifactChange:
    return ArtifactChange(
        path=new.get("path") or old.get("path"),
        old_md5=old.get("md5"), new_md5=new.get("md5"),
        old_size=old.get("size"), new_size=new.get("size"),
        changed=old.get("md5") != new.get("md5"),
    )


def env_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[EnvChange, ...]:
    flat_old = {"python": old.get("python"), "platform": old.get("platform"), **(old.get("packages") or {})}
    flat_new = {"python": new.get("python"), "platform": new.get("platform"), **(new.get("packages") or {})}
    return tuple(EnvChange(*row) for row in _changes(flat_old, flat_new))


def model_diff(model: str, old_ref: str, new_ref: str, old_commit: str | None, new_commit: str | None,
               a: Mapping[str, Any], b: Mapping[str, Any], threshold: float | None = None,
               code: CodeChange | None = None, notes: tuple[str, ...] = ()) -> ModelDiff:
    """Two record documents of one model compared; ``code`` is what git says
    changed between their code commits (the caller asks git)."""
    from mlver.models.review import ModelDiff

    params = params_diff(a.get("params") or {}, b.get("params") or {})
    metrics = metrics_diff(a.get("metrics") or {}, b.get("metrics") or {})
    data = data_diff(a.get("data") or [], b.get("data") or [], threshold)
    artifact = artifact_diff(a.get("artifact") or {}, b.get("artifact") or {})
    env = env_diff(a.get("env") or {}, b.get("env") or {})
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
