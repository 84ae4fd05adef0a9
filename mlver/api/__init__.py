"""One function per verb; each returns dataclasses from mlver.models and never prints.

Verbs load their module on first use (PEP 562), so a command imports only
what it runs; the CLI imports each verb's module itself (typed, lazily).
"""
from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing costs start-up time; type checkers know this idiom
if TYPE_CHECKING:
    from mlver.api.audit import verify
    from mlver.api.cards import card
    from mlver.api.collection import gc
    from mlver.api.diffs import diff
    from mlver.api.lineages import lineage
    from mlver.api.monitoring import drift
    from mlver.api.pending import status
    from mlver.api.registry import log, ls, release, show
    from mlver.api.remotes import remote_add, remote_check, remote_list, url
    from mlver.api.reproduction import reproduce
    from mlver.api.reviews import ci, review
    from mlver.api.setup import data_add, init, model_add
    from mlver.api.sites import site
    from mlver.api.stages import deprecate, promote, rollback
    from mlver.api.storage import pull, push
    from mlver.api.training import record, run
    from mlver.api.views import versions

_VERBS = {
    "init": "setup", "data_add": "setup", "model_add": "setup",
    "run": "training", "record": "training",
    "release": "registry", "ls": "registry", "log": "registry", "show": "registry",
    "diff": "diffs",
    "promote": "stages", "rollback": "stages", "deprecate": "stages",
    "verify": "audit",
    "reproduce": "reproduction", "card": "cards",
    "push": "storage", "pull": "storage",
    "review": "reviews", "ci": "reviews", "drift": "monitoring",
    "status": "pending", "gc": "collection", "versions": "views", "lineage": "lineages", "site": "sites",
    "remote_add": "remotes", "remote_list": "remotes", "remote_check": "remotes", "url": "remotes",
}
__all__ = sorted(_VERBS)


def __getattr__(name: str) -> object:
    if name not in _VERBS:
        raise AttributeError(f"module 'mlver.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mlver.api.{_VERBS[name]}"), name)
    globals()[name] = value
    return value
