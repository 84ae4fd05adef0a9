"""One function per verb; each returns dataclasses from mlver.models and never prints.

Verbs load their module on first use (PEP 562), so a command imports only
what it runs.
"""
from __future__ import annotations

import importlib

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
    "status": "pending", "gc": "collection",
    "remote_add": "remotes", "remote_list": "remotes", "remote_check": "remotes", "url": "remotes",
}
__all__ = sorted(_VERBS)


def __getattr__(name: str) -> object:
    if name not in _VERBS:
        raise AttributeError(f"module 'mlver.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mlver.api.{_VERBS[name]}"), name)
    globals()[name] = value
    return value
