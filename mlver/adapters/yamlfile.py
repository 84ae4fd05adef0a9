"""Round-trip YAML edits that keep the user's comments and key order."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from mlver.errors import ConfigError


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def load(path: Path) -> Any:
    from ruamel.yaml import YAMLError

    if not path.exists():
        return None
    try:
        return _yaml().load(path.read_text())
    except YAMLError as exc:
        raise ConfigError(f"{path.name} is not valid YAML: {' '.join(str(exc).split())[:200]}", f"fix {path.name}") from exc


def dump(path: Path, doc: Any) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            _yaml().dump(doc, fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def new_map() -> Any:
    from ruamel.yaml.comments import CommentedMap

    return CommentedMap()
