"""Round-trip YAML edits that keep the user's comments and key order."""
from __future__ import annotations

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
    import io

    from mlver.adapters.atomic import write_text

    buffer = io.StringIO()
    _yaml().dump(doc, buffer)
    write_text(path, buffer.getvalue())


def new_map() -> Any:
    from ruamel.yaml.comments import CommentedMap

    return CommentedMap()
