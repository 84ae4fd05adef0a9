"""What ``mlver.<verb>`` means from Python: the api verbs, plus ``record(model=...)``."""
from __future__ import annotations

from typing import Any

from mlver.errors import ArgumentsNotApplicable
from mlver.models import RecordResult
from mlver.project import PathLike


def record(name: str, *, model: Any = None, allow_dirty: bool = False, repo: PathLike = None, **kwargs: Any) -> RecordResult:
    """Record model ``name``.

    Without ``model``: the model file was written by your own code and is
    recorded exactly as ``mlver record NAME`` does. With a fitted
    scikit-learn estimator as ``model``: saved and recorded by
    :func:`mlver.sklearn.record`, which takes ``data``, ``metrics``, ``X``,
    ``y``, ``path`` and ``format`` too.
    """
    if model is None:
        if kwargs:
            raise ArgumentsNotApplicable(sorted(kwargs), "recording an estimator",
                                         "pass model=<fitted estimator>, or drop those arguments")
        from mlver.api.training import record as record_file

        return record_file(name, allow_dirty=allow_dirty, repo=repo)
    from mlver.sklearn import record as record_estimator

    return record_estimator(model, name, allow_dirty=allow_dirty, repo=repo, **kwargs)
