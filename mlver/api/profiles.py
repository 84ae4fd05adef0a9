"""Data profiles, cached by content hash so each version is read only once."""
from __future__ import annotations

import json
from typing import Any

from mlver.adapters import git, gitcache, statcache
from mlver.adapters.atomic import write_text
from mlver.adapters.dvc import Out
from mlver.errors import MlverError
from mlver.project import Project

PROFILE_CACHE = "mlver/cache/profiles"  # in this clone's git directory


def profile_for(project: Project, out: Out) -> tuple[dict[str, Any] | None, str | None]:
    """(profile, why not) for a tracked file; directories and other files get none."""
    from mlver.adapters import tabular

    if out.is_dir or not tabular.is_tabular(out.path):
        return None, None
    from mlver.domain import profile as rules
    from mlver.domain import profile_stream

    # By the code that profiles too (not only its schema): a profile an older mlver
    # cached is computed again, not recorded as this one's (a clone without the cache
    # would record another). By how the bytes are parsed: the same bytes as .tsv and
    # as .csv are two profiles. In the git directory, never in the tree: a commit can
    # carry a file into .dvc/tmp, and a profile found there would be recorded as the data's.
    code = gitcache.code_stamp(tabular.__file__, profile_stream.__file__, rules.__file__)
    cache = git.private_path(
        project.root, f"{PROFILE_CACHE}/{out.md5}.{tabular.reading(out.path)}.{code}.v{profile_stream.SCHEMA}.json")
    cached = statcache.loads(statcache.read_bytes(cache))
    if cached is not None and _sound(cached):
        return cached, None
    path = project.root / out.path
    if not path.exists():
        return None, "not in the workspace"
    try:
        profile = tabular.profile_file(path)
    except MlverError as exc:
        return None, exc.message
    try:
        write_text(cache, json.dumps(profile))
    except OSError:
        pass  # a read-only git directory: correct, only slower next time
    return profile, None


def _sound(profile: Any) -> bool:
    """Whether a cached profile is one a record may carry: the cache is a file
    anyone with the clone can edit, and one it refuses is computed again (a
    damaged cache must not make every ``run`` of that data fail)."""
    from mlver.domain import validate

    try:
        validate.check_depth(profile, "the profile cache", validate.MAX_DEPTH - 3)  # (its place in a record)
        validate.check_profile(profile, "the profile cache")
    except MlverError:
        return False
    return True
