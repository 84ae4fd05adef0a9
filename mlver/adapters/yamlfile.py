"""YAML: the one safe loader for every file mlver reads (mlver.yaml, params,
dvc.yaml, .dvc files, dvc.lock, at any commit). Edits that keep the user's
comments and order are mlver/adapters/yamledit.py's."""
from __future__ import annotations

from typing import Any

from mlver.errors import ConfigError

# Aliases are legitimate (`<<: *defaults`), but nine nested ones expand a
# 200-byte file into a billion nodes for whoever walks the result (flatten,
# json.dumps): the growth they add is capped, as is the nesting depth that
# recursive readers of the result can follow.
MAX_ALIAS_GROWTH = 100_000
MAX_DEPTH = 100


def _check_nodes(root: Any, where: str, error: type[Exception]) -> None:
    """Depth and alias growth of a composed document. The common case, no
    collection shared through an alias, costs one pass over the nodes."""
    from yaml.nodes import MappingNode

    seen: set[int] = set()
    shared = False
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        value = node.value
        if isinstance(value, str):  # a scalar: an alias to it adds nothing
            continue
        if depth > MAX_DEPTH:
            raise error(f"{where} nests deeper than {MAX_DEPTH} levels", f"flatten {where}")
        if id(node) in seen:
            shared = True
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, item in value:
                stack.append((key, depth + 1))
                stack.append((item, depth + 1))
        else:
            stack.extend((item, depth + 1) for item in value)
    if shared:
        _check_growth(root, where, error)


def _check_growth(root: Any, where: str, error: type[Exception]) -> None:
    """Count the nodes the document expands to (shared alias nodes once per
    use), without expanding it: a post-order walk memoised by node."""
    from yaml.nodes import MappingNode, SequenceNode

    def children(node: Any) -> list[Any]:
        if isinstance(node, SequenceNode):
            return list(node.value)
        if isinstance(node, MappingNode):
            return [x for pair in node.value for x in pair]
        return []

    expanded: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            kids = children(node)
            expanded[key] = 1 + sum(expanded[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            on_path.discard(key)
            if depth[key] > MAX_DEPTH:
                raise error(f"{where} nests deeper than {MAX_DEPTH} levels", f"flatten {where}")
            continue
        if key in expanded:
            continue
        if key in on_path:
            raise error(f"{where} has a recursive YAML alias", f"remove the alias that refers to itself in {where}")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in children(node) if id(k) not in expanded)
    unique = len(expanded)
    if expanded[id(root)] - unique > MAX_ALIAS_GROWTH:
        raise error(f"{where}: its YAML aliases expand to {expanded[id(root)]:,} nodes (an alias bomb?)",
                    f"write {where} out without nested aliases (&anchor/*alias)")


def safe_load(text: str | bytes, where: str, error: type[Exception] = ConfigError) -> Any:
    """The document in ``text`` as plain Python data (YAML's safe subset),
    or ``error(message, hint)`` naming ``where`` for malformed YAML, an alias
    bomb or too deep a nesting."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml: 20x faster on big files
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, where, error)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise error(f"{where} is not valid YAML: {' '.join(str(exc).split())[:160]}", f"fix {where}") from exc
    finally:
        loader.dispose()
