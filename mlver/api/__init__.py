"""One function per verb; each returns dataclasses from mlver.models and never prints."""
from mlver.api.diff import diff
from mlver.api.registry import log, ls, release, show
from mlver.api.setup import data_add, init, model_add
from mlver.api.storage import pull, push
from mlver.api.training import record, run

__all__ = ["data_add", "diff", "init", "log", "ls", "model_add", "pull", "push", "record", "release", "run", "show"]
