"""Record and load scikit-learn models from Python.

    import mlver.sklearn
    mlver.sklearn.record(model, "churn", data=["data/train.csv"], X=X_test, y=y_test)
    mlver.release("churn")
    model = mlver.sklearn.load("churn@v0.1.0")

``record`` saves the estimator, captures ``get_params(deep=True)`` as the
params, computes the task's standard metrics on a held-out ``X``/``y``,
stores the input signature, and writes the record exactly as
``mlver record`` does (same checks, same all-or-nothing commit).
"""
from __future__ import annotations

import math
import os
import sys
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlver.adapters import git
from mlver.adapters import sklearn as sk
from mlver.adapters.atomic import Snapshot
from mlver.domain.record import flatten
from mlver.domain.tags import check_name
from mlver.errors import (
    ArgumentsTogether,
    DeclarationMismatch,
    FormatNotLoadable,
    InvalidMetric,
    UnknownChoice,
    UntrustedModel,
)
from mlver.models import Record, RecordResult
from mlver.project import CONFIG, ModelSpec, PathLike, Project

if TYPE_CHECKING:
    from mlver.api.recording import CodeState

__all__ = ["record", "load", "VersionMismatchWarning"]


class VersionMismatchWarning(UserWarning):
    """The installed scikit-learn is not the one the model was trained with."""


def _check_metrics(metrics: Mapping[str, Any] | None) -> dict[str, float | int]:
    if metrics is None:
        return {}
    if not isinstance(metrics, Mapping):
        raise InvalidMetric("metrics", metrics)
    flat = flatten(metrics)
    for key, value in flat.items():
        if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
            value = flat[key] = value.item()  # numpy scalars are numbers too
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidMetric(key, value)
    return flat


def _caller_file(root: Path) -> str | None:
    """The script or notebook doing the recording, when it lives in the project."""
    candidates: list[str] = []
    main = sys.modules.get("__main__")
    if main is not None and (script := getattr(main, "__file__", None)):
        candidates.append(script)
    for var in ("JPY_SESSION_NAME", "__vsc_ipynb_file__"):
        if os.environ.get(var):
            candidates.append(os.environ[var])
    for candidate in candidates:
        path = Path(candidate).resolve()
        if path.is_file() and path.is_relative_to(root.resolve()):
            return path.relative_to(root.resolve()).as_posix()
    return None


def record(
    estimator: Any,
    name: str,
    *,
    data: Sequence[str] | None = None,
    metrics: Mapping[str, Any] | None = None,
    X: Any = None,
    y: Any = None,
    path: str | None = None,
    format: str = "joblib",
    allow_dirty: bool = False,
    repo: PathLike = None,
) -> RecordResult:
    """Save a fitted estimator and record it as model ``name``.

    A model not yet in mlver.yaml is declared on the way (path defaults to
    ``models/<name>.joblib``) and the declaration is part of the record
    commit. Raises the same MlverError the CLI would print.
    """
    from mlver.api.setup import model_add
    from mlver.api.training import check_code

    user_metrics = _checked_arguments(estimator, name, format, metrics, X, y)
    project = Project.find(repo)
    declared = project.models().get(name)
    spec = _spec(project, name, declared, data, path)
    caller = _caller_file(project.root)
    code = check_code(project, spec, allow_dirty, also=(caller,) if caller else ())
    declaration = (CONFIG, "dvc.yaml")
    snapshot = Snapshot(project.root, declaration)
    try:
        if declared is None:
            model_add(name, spec.path, data=list(spec.data), repo=project.root)
            project = Project(project.root)  # mlver.yaml changed under the cached config
        return _save_and_record(project, spec, code, estimator, format, (X, y), user_metrics,
                                also_commit=declaration if declared is None else ())
    except BaseException:
        if declared is None:  # take our declaration back, in the files and the index
            snapshot.restore()
            git.run(project.root, "reset", "-q", "--", *declaration, check=False)
        raise


def _checked_arguments(estimator: Any, name: str, format: str, metrics: Mapping[str, Any] | None,
                       X: Any, y: Any) -> dict[str, float | int]:
    """``record``'s arguments checked before the project is touched; the caller's metrics."""
    check_name(name)
    sk.check_estimator(estimator)
    if format not in sk.FORMATS:
        raise UnknownChoice("model format", format, list(sk.FORMATS))
    user_metrics = _check_metrics(metrics)
    if (X is None) != (y is None):
        raise ArgumentsTogether(["X", "y"], "(a held-out set) to compute metrics", "X=X_test, y=y_test")
    return user_metrics


def _save_and_record(project: Project, spec: ModelSpec, code: CodeState, estimator: Any, format: str,
                     held_out: tuple[Any, Any], user_metrics: dict[str, float | int],
                     also_commit: tuple[str, ...]) -> RecordResult:
    """The data checked, the estimator saved at the model's path, and its record written and committed."""
    from mlver.api.recording import Execution, write_record
    from mlver.api.training import check_data

    X, y = held_out
    check_data(project, spec)
    trusted_types = sk.save(estimator, project.root / spec.path, format)
    all_metrics = {**(sk.standard_metrics(estimator, X, y) if X is not None else {}), **user_metrics}
    extra = {"signature": sk.signature(estimator, X), "framework": _framework(estimator, format, trusted_types)}
    return write_record(
        project, spec, code, Execution(None, None, None, None),
        params=sk.params_of(estimator), metrics=all_metrics, extra=extra, also_commit=also_commit,
        extra_packages=("joblib", "skops") if format == "skops" else ("joblib",),
    )


def _spec(project: Project, name: str, declared: ModelSpec | None, data: Sequence[str] | None,
          path: str | None) -> ModelSpec:
    """The model's declaration: mlver.yaml's, which the arguments must agree with, or a new one from them."""
    data_paths = tuple(project.rel(d) for d in data or ())
    if declared is None:
        return ModelSpec(name=name, path=project.rel(path or f"models/{name}.joblib"), data=data_paths)
    if data is not None and set(data_paths) != set(declared.data):
        raise DeclarationMismatch(name, "data", str(list(declared.data)), str(list(data_paths)), CONFIG)
    if path is not None and project.rel(path) != declared.path:
        raise DeclarationMismatch(name, "path", declared.path, project.rel(path), CONFIG)
    return declared


def _framework(estimator: Any, format: str, trusted_types: list[str] | None) -> dict[str, Any]:
    framework: dict[str, Any] = {
        "name": "scikit-learn", "version": sk.version(),
        "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}", "format": format,
    }
    if trusted_types is not None:
        framework["trusted_types"] = trusted_types  # the allow-list `load` will use, and nothing more
    return framework


def _refusal(project: Project, record: Record, tag: str | None, fmt: str, allowed: Any, ref: str) -> str | None:
    """Why loading this version could run code nobody vouched for, or None.

    A record's digest is an unkeyed checksum: anyone who can push can re-seal
    one. So an intact record is the least we ask for, and with signing on the
    version's tag must verify too, before a pickle (or a skops file with
    types beyond skops' safe set) is loaded.
    """
    if not record.intact:
        return "its record does not match its digest (it was edited after it was written)"
    if fmt == "skops":
        if not isinstance(allowed, list) or not all(isinstance(t, str) for t in allowed):
            return "its record carries no skops allow-list (it was recorded by an older mlver)"
        if not allowed:
            return None  # skops' own safe types only: nothing can run
    from mlver.api.trust import unsigned_reason

    return unsigned_reason(project, tag, ref, record.commit)


def load(ref: str, *, repo: PathLike = None, remote: str | None = None, trusted: bool = False) -> Any:
    """Pull a recorded estimator (md5-verified) and load it.

    Loading a pickle (joblib, the default format) runs whatever code the file
    holds. So a pickle loads only from an intact record and, with signing on,
    a version whose tag verifies; a skops file loads with exactly the types
    recorded when it was saved, and is refused if it needs any other.
    Anything else raises UntrustedModel unless you pass ``trusted=True``,
    which trusts the file entirely.

    Warns with VersionMismatchWarning when the installed scikit-learn is not
    the version the model was recorded with.
    """
    from mlver.api._common import resolve_record

    project = Project.find(repo)
    parsed, record, version = resolve_record(project, ref)
    typed = record.typed
    framework = typed.framework or {}
    fmt = framework.get("format", "joblib")
    if fmt not in sk.FORMATS:
        raise FormatNotLoadable(ref, fmt, list(sk.FORMATS))
    allowed = framework.get("trusted_types")
    if not trusted:
        reason = _refusal(project, record, f"{parsed.model}@{version}" if version else None, fmt, allowed, ref)
        if reason:
            raise UntrustedModel(ref, reason)
    packages = (typed.env.packages if typed.env else None) or {}  # null as absent: the record check lets it through
    recorded = framework.get("version") or packages.get("scikit-learn")
    estimator = _pull_and_load(project, record, ref, fmt, allowed, remote, trusted)
    installed = sk.version()
    if recorded and recorded != installed:
        warnings.warn(
            f"{ref} was trained with scikit-learn {recorded}; {installed} is installed: predictions may differ",
            VersionMismatchWarning,
            stacklevel=2,
        )
    return estimator


def _pull_and_load(project: Project, record: Record, ref: str, fmt: str, allowed: Any, remote: str | None,
                   trusted: bool) -> Any:
    """The estimator of exactly ``record``, pulled md5-verified into a temporary
    folder; a skops file loads with the types its record allows, and no other
    unless ``trusted``."""
    from mlver.api.storage import pull

    with tempfile.TemporaryDirectory(prefix="mlver-load-") as tmp:
        target = Path(tmp) / "model"
        # Exactly the record checked by the caller, by its commit: not ref resolved a second time.
        pull(f"{record.model}@{record.commit}", out=str(target), remote=remote, repo=project.root,
             allow_tampered=trusted)
        types = None
        if fmt == "skops":
            found = sk.skops_types(target)
            permitted = sorted(allowed or ())  # without trusted=True, _refusal has refused a record without them
            if not trusted and found != permitted:
                extra = sorted(set(found) - set(permitted))
                raise UntrustedModel(ref, "its skops file needs types its record does not allow: "
                                     + (", ".join(extra) if extra else f"{found} instead of {permitted}"))
            types = found if trusted else permitted
        return sk.load(target, fmt, types)
