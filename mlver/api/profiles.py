"""Data profiles, cached by content hash so each version is read only once."""
from __future__ import annotations

import json
from typing import Any

from mlver.adapters import dvc
from mlver.adapters.atomic import write_text
from mlver.adapters.dvc import Out
from mlver.errors import MlverError
from mlver.project import Project


def profile_for(project: Project, out: Out) -> tuple[dict[str, Any] | None, str | None]:
    """(profile, why not) for a tracked file; directories and other files get none."""
    from mlver.adapters import tabular

    if out.is_dir or not tabular.is_tabular(out.path):
        return None, None
    from mlver.domain.profile_stream import SCHEMA

    # By schema too: a profile cached by an older mlver is computed again, not mixed in.
    cache = project.root / dvc.PROFILE_CACHE / f"{out.md5}.v{SCHEMA}.json"
    if cache.exists():
        try:
            return json.loads(cache.read_text()), None
        except ValueError:
            cache.unlink(missing_ok=True)
    path = project.root / out.path
    if not path.exists():
        return None, "not in the workspace"
    try:
        profile = tabular.profile_file(path)
    except MlverError as exc:
        return None, exc.message
    write_text(cache, json.dumps(profile))
    return profile, None
