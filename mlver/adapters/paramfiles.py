"""Reading params and metrics files (YAML, JSON or TOML) into flat dicts."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlver.domain.record import flatten
from mlver.errors import MetricNotFinite, ParamsFileInvalid, ParamsFileMissing, ParamsKeyMissing


def read_tree(root: Path, file: str, what: str) -> Any:
    """The content of the work tree's ``file`` (a regular file of the project, of a
    size a real one has: adapters/repofile.py)."""
    from mlver.adapters import repofile

    try:
        text = repofile.read(root, file, f"the {what} file {file}").decode("utf-8")
    except (FileNotFoundError, NotADirectoryError):
        raise ParamsFileMissing(what, Path(file).name) from None
    except UnicodeDecodeError as exc:
        raise ParamsFileInvalid(what, Path(file).name, f"is not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise ParamsFileInvalid(what, Path(file).name, f"cannot be read: {exc.strerror or exc}") from exc
    return parse_tree(text, Path(file).name, what)


def parse_tree(text: str, name: str, what: str) -> Any:
    """A params or metrics file's content (``name`` picks the parser)."""
    suffix = Path(name).suffix.lower()
    try:
        if suffix == ".json":
            return json.loads(text)
        if suffix == ".toml":
            import tomllib

            return tomllib.loads(text)
        from mlver.adapters.yamlfile import safe_load

        return safe_load(text, name)  # an alias bomb or a 1,000-deep nesting is malformed too
    except Exception as exc:  # every parser has its own error type
        reason = " ".join(str(exc).split())[:160]
        raise ParamsFileInvalid(what, name, f"is malformed: {reason}") from exc


def read_params(root: Path, spec: str) -> tuple[str, dict[str, Any]]:
    """``file[:key1,key2]`` -> (file, flat params restricted to the keys)."""
    file, _, keys = spec.partition(":")
    tree = read_tree(root, file, "params")
    if tree is None:
        tree = {}
    if not isinstance(tree, dict):
        raise ParamsFileInvalid("params", file, "must hold a mapping of names to values")
    flat = flatten(tree)
    if keys:
        wanted = [k.strip() for k in keys.split(",") if k.strip()]
        picked: dict[str, Any] = {}
        for key in wanted:
            matched = {k: v for k, v in flat.items() if k == key or k.startswith(key + ".")}
            if not matched:
                raise ParamsKeyMissing(file, key, spec)
            picked.update(matched)
        flat = picked
    return file, flat


def read_metrics(root: Path, file: str) -> dict[str, float | int]:
    return metrics_from_tree(read_tree(root, file, "metrics"), file)


def metrics_from_tree(tree: Any, file: str) -> dict[str, float | int]:
    if not isinstance(tree, dict):
        raise ParamsFileInvalid("metrics", file, "must hold a mapping of names to numbers")
    flat = flatten(tree)
    metrics: dict[str, float | int] = {}
    for key, value in flat.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue  # metrics files often carry labels or timestamps beside the numbers
        if value != value or value in (float("inf"), float("-inf")):
            raise MetricNotFinite(file, key)
        metrics[key] = value
    return metrics
