"""mlver: git-native data and model versioning.

The Python API mirrors the command line; every function returns the same
dataclasses the CLI renders (see ``mlver.models``) and raises the same
``mlver.errors.MlverError`` it prints::

    import mlver
    mlver.record("churn")                       # like `mlver record churn`
    mlver.record("churn", model=estimator, data=["data/train.csv"], X=X_test, y=y_test)
    mlver.release("churn", bump="minor")
    mlver.ls(); mlver.log("churn"); mlver.show("churn@v0.1.0")
    mlver.diff("churn@v0.1.0", "churn@v0.2.0")
    mlver.pull("churn@v0.1.0", out="model.pkl")
    model = mlver.sklearn.load("churn#prod")

Importing mlver is cheap: dvc, pandas and scikit-learn load only when a
function needs them.
"""
from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing costs ~5 ms of every start-up; type checkers know this idiom

__version__ = "0.1.0"

_VERBS = {
    "init": "mlver.api.setup",
    "data_add": "mlver.api.setup",
    "model_add": "mlver.api.setup",
    "run": "mlver.api.training",
    "record": "mlver._public",
    "release": "mlver.api.registry",
    "ls": "mlver.api.registry",
    "log": "mlver.api.registry",
    "show": "mlver.api.registry",
    "diff": "mlver.api.diffs",
    "promote": "mlver.api.stages",
    "rollback": "mlver.api.stages",
    "deprecate": "mlver.api.stages",
    "verify": "mlver.api.audit",
    "reproduce": "mlver.api.reproduction",
    "card": "mlver.api.cards",
    "push": "mlver.api.storage",
    "pull": "mlver.api.storage",
    "review": "mlver.api.reviews",
    "ci": "mlver.api.reviews",
    "drift": "mlver.api.monitoring",
    "remote_add": "mlver.api.remotes",
    "remote_list": "mlver.api.remotes",
    "remote_check": "mlver.api.remotes",
    "url": "mlver.api.remotes",
    "gc": "mlver.api.collection",
}
_MODULES = ("sklearn", "models", "errors")

__all__ = [*_VERBS, *_MODULES]

if TYPE_CHECKING:
    from mlver import errors, models, sklearn
    from mlver._public import record
    from mlver.api.audit import verify
    from mlver.api.cards import card
    from mlver.api.collection import gc
    from mlver.api.diffs import diff
    from mlver.api.monitoring import drift
    from mlver.api.registry import log, ls, release, show
    from mlver.api.remotes import remote_add, remote_check, remote_list, url
    from mlver.api.reproduction import reproduce
    from mlver.api.reviews import ci, review
    from mlver.api.setup import data_add, init, model_add
    from mlver.api.stages import deprecate, promote, rollback
    from mlver.api.storage import pull, push
    from mlver.api.training import run


def __getattr__(name: str) -> object:
    # PEP 562: load a verb's module on first use, so `import mlver` stays cheap.
    if name in _VERBS:
        value = getattr(importlib.import_module(_VERBS[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(f"mlver.{name}")
    else:
        raise AttributeError(f"module 'mlver' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
