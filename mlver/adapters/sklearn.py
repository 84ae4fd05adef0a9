"""The only importer of scikit-learn (and joblib/skops): estimators in, JSON out."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from mlver.adapters.atomic import replacing
from mlver.errors import NotAnEstimator, NotFitted, PackageMissing, UnknownChoice, UntrustedModel

FORMATS = ("joblib", "skops")


def check_estimator(obj: Any) -> None:
    if not (hasattr(obj, "fit") and hasattr(obj, "get_params")):
        raise NotAnEstimator(obj)
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(obj)
    except NotFittedError as exc:
        raise NotFitted(type(obj).__name__) from exc
    except TypeError as exc:  # sklearn's own word that this is no estimator
        raise NotAnEstimator(obj) from exc


def _json_value(value: Any) -> Any:
    """A parameter as JSON: estimators by class name, numpy scalars as numbers."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if hasattr(value, "get_params") and hasattr(value, "fit"):
        return type(value).__name__
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return _json_value(value.item())  # a numpy scalar
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, (tuple, list)) and len(v) >= 2 and isinstance(v[0], str) for v in value):
            return [v[0] for v in value]  # Pipeline steps / ColumnTransformer transformers: their names
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if callable(value):
        return getattr(value, "__name__", type(value).__name__)
    return repr(value)


def params_of(estimator: Any) -> dict[str, Any]:
    """``get_params(deep=True)``: nested steps are already ``step__param`` keys."""
    return {key: _json_value(value) for key, value in sorted(estimator.get_params(deep=True).items())}


def task_of(estimator: Any) -> str | None:
    from sklearn.base import is_classifier, is_regressor

    if is_classifier(estimator):
        return "classification"
    if is_regressor(estimator):
        return "regression"
    return None


def _round(value: float) -> float:
    return float(f"{float(value):.6g}")


def standard_metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    """The usual held-out metrics for the estimator's task."""
    import numpy as np
    from sklearn import metrics as m

    task = task_of(estimator)
    predicted = estimator.predict(X)
    if task == "classification":
        labels = np.unique(np.asarray(y))
        binary = len(labels) == 2
        out = {
            "accuracy": _round(m.accuracy_score(y, predicted)),
            "f1": _round(m.f1_score(y, predicted, average="binary" if binary else "macro",
                                    pos_label=labels[-1] if binary else 1)),
        }
        if hasattr(estimator, "predict_proba"):
            try:
                proba = estimator.predict_proba(X)
                out["roc_auc"] = _round(
                    m.roc_auc_score(y, proba[:, 1]) if binary else m.roc_auc_score(y, proba, multi_class="ovr")
                )
            except ValueError:
                pass  # one class in y, or a class never predicted: roc_auc is undefined
        return out
    if task == "regression":
        return {
            "r2": _round(m.r2_score(y, predicted)),
            "mae": _round(m.mean_absolute_error(y, predicted)),
            "rmse": _round(math.sqrt(m.mean_squared_error(y, predicted))),
        }
    return {}


def signature(estimator: Any, X: Any = None) -> dict[str, Any]:
    """The inputs the estimator was fitted on: feature names and dtypes."""
    names = getattr(estimator, "feature_names_in_", None)
    dtypes = getattr(X, "dtypes", None)
    inputs = []
    if names is not None:
        for name in names:
            dtype = str(dtypes[name]) if dtypes is not None and name in dtypes.index else None
            inputs.append({"name": str(name), "dtype": dtype})
    return {
        "n_features": getattr(estimator, "n_features_in_", None),
        "inputs": inputs,
        "task": task_of(estimator),
        "classes": [_json_value(c) for c in getattr(estimator, "classes_", [])] or None,
    }


def version() -> str:
    import sklearn

    return sklearn.__version__


def save(estimator: Any, path: Path, fmt: str = "joblib") -> list[str] | None:
    """Write atomically so a failed save never leaves half a model. For skops,
    returns the types the file needs trusted (skops' own word), so the record
    can carry the allow-list its loader will use."""
    if fmt not in FORMATS:
        raise UnknownChoice("model format", fmt, list(FORMATS))
    types = None
    with replacing(path) as tmp:
        if fmt == "joblib":
            import joblib

            joblib.dump(estimator, str(tmp))
        else:
            sio = _skops()
            sio.dump(estimator, str(tmp))
            types = sorted(sio.get_untrusted_types(file=str(tmp)))
    return types


def skops_types(path: Path) -> list[str]:
    """The types a skops file would need trusted to load; reading them runs nothing."""
    return sorted(_skops().get_untrusted_types(file=path))


def load(path: Path, fmt: str = "joblib", trusted_types: list[str] | None = None) -> Any:
    """Load a model file. A pickle (joblib) runs whatever code it holds: the
    caller decides beforehand whether its provenance is trusted. skops trusts
    exactly ``trusted_types`` and refuses any other type itself."""
    if fmt == "skops":
        sio = _skops()
        try:
            return sio.load(path, trusted=list(trusted_types or []))
        except sio.exceptions.UntrustedTypesFoundException as exc:
            raise UntrustedModel(path.name, f"skops found types outside the allow-list ({exc})") from exc
    import joblib

    return joblib.load(path)


def _skops() -> Any:
    try:
        import skops.io as sio
    except ImportError as exc:
        raise PackageMissing("skops", "saving with skops", "use format='joblib'") from exc
    return sio
