"""Editing the user's YAML (dvc.yaml, mlver.yaml) by adding lines, not rewriting.

Every edit inserts the new lines where they belong, in the file's own
indentation and list style; every other byte stays as it was (comments,
key order, quoting, blank lines). ruamel.yaml (installed with DVC) parses
the file and says where each key is; each edit is checked by parsing the
result and comparing it with what was asked for. Only when a collection is
written in flow style (``{a: 1}``) does the file go through ruamel's
round-trip dump, which still keeps comments and order.
"""
from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

from mlver.errors import YamlEditRefused, YamlInvalid

Keys = tuple[str, ...]


def _ruamel() -> Any:
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.width = 4096
    return y


def _plain(text: str, where: str) -> Any:
    from mlver.adapters.yamlfile import safe_load

    return safe_load(text, where)


def _scalar(value: Any) -> str:
    import yaml

    text = yaml.safe_dump(value, allow_unicode=True, width=10**6, default_flow_style=True)
    return text[: -len("\n...\n")] if text.endswith("\n...\n") else text.rstrip("\n")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


class Document:
    """One YAML file's text, edited in place; ``text`` is the result."""

    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.data = _plain(text, where)
        if self.data is not None and not isinstance(self.data, dict):
            raise YamlInvalid(where, "must be a mapping at the top")

    # -- reading -------------------------------------------------------------

    def get(self, keys: Keys) -> Any:
        node = self.data
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    def _tree(self) -> Any:
        from ruamel.yaml import YAMLError

        try:
            return _ruamel().load(self.text)
        except YAMLError as exc:
            raise YamlInvalid(self.where, f"is not valid YAML: {' '.join(str(exc).split())[:160]}") from exc

    def _style(self, tree: Any) -> tuple[int, int]:
        """(mapping indent, dash offset of a list under its key) as the file writes them."""
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        step, offset = None, None
        todo = [tree] if isinstance(tree, CommentedMap) else []
        while todo and (step is None or offset is None):
            node = todo.pop(0)
            for key in node:
                value = node[key]
                key_col = node.lc.key(key)[1]
                if isinstance(value, CommentedMap) and value and not value.fa.flow_style():
                    step = step if step is not None else value.lc.key(next(iter(value)))[1] - key_col
                    todo.append(value)
                elif isinstance(value, CommentedSeq) and value and not value.fa.flow_style():
                    line = self.text.splitlines()[value.lc.item(0)[0]]
                    offset = offset if offset is not None else line.index("-") - key_col
                    todo.extend(v for v in value if isinstance(v, CommentedMap))
        return (step if step and step > 0 else 2), (offset if offset is not None and offset >= 0 else 0)

    # -- rendering -----------------------------------------------------------

    def _render(self, key: str, value: Any, col: int, step: int, offset: int) -> list[str]:
        pad = " " * col
        if isinstance(value, dict):
            if not value:
                return [f"{pad}{_scalar(key)}: {{}}"]
            lines = [f"{pad}{_scalar(key)}:"]
            for k, v in value.items():
                lines += self._render(k, v, col + step, step, offset)
            return lines
        if isinstance(value, list):
            if not value:
                return [f"{pad}{_scalar(key)}: []"]
            return [f"{pad}{_scalar(key)}:"] + [f"{' ' * (col + offset)}- {_scalar(v)}" for v in value]
        return [f"{pad}{_scalar(key)}: {_scalar(value)}"]

    # -- editing -------------------------------------------------------------

    def _insert(self, after: int, new: list[str]) -> None:
        lines = self.text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines[after + 1:after + 1] = [line + "\n" for line in new]
        self.text = "".join(lines)

    def _block_end(self, start: int, col: int, sequence: bool) -> int:
        """The last line of the block whose entries start at ``start`` in column ``col``."""
        lines = self.text.splitlines()
        last = start
        for i in range(start + 1, len(lines)):
            line = lines[i]
            if not _content(line):
                if line.strip() and _indent(line) >= col:
                    last = i  # a comment inside the block stays inside it
                continue
            if _indent(line) < col or (sequence and _indent(line) == col and not line.lstrip().startswith("-")):
                break
            last = i
        return last

    def _commit(self, expected: Any, fallback: Any) -> None:
        """Keep the edit when the file now says exactly ``expected``, else let ruamel write it."""
        if _plain(self.text, self.where) != expected:
            tree = fallback()
            buffer = io.StringIO()
            _ruamel().dump(tree, buffer)
            self.text = buffer.getvalue()
            if _plain(self.text, self.where) != expected:
                raise YamlEditRefused(self.where, "", "")
        self.data = expected

    def set(self, keys: Keys, key: str, value: Any) -> None:
        """Add ``key: value`` to the mapping at ``keys`` (created when missing); ``key`` must be new."""
        expected = copy.deepcopy(self.data) if self.data is not None else {}
        node = expected
        for k in keys:
            if node.get(k) is None:
                node[k] = {}
            node = node[k]
            if not isinstance(node, dict):
                break
        if not isinstance(node, dict) or key in node:
            raise YamlEditRefused(self.where, ".".join((*keys, key)), "cannot be added")
        node[key] = value

        def fallback() -> Any:
            from ruamel.yaml.comments import CommentedMap

            tree = self._tree() or CommentedMap()
            node = tree
            for k in keys:
                if node.get(k) is None:
                    node[k] = CommentedMap()
                node = node[k]
            node[key] = value
            return tree

        self._add(keys, key, value)
        self._commit(expected, fallback)

    def append(self, keys: Keys, item: Any) -> None:
        """Add ``item`` to the end of the list at ``keys`` (created when missing)."""
        expected = copy.deepcopy(self.data) if self.data is not None else {}
        parent = expected
        for k in keys[:-1]:
            if parent.get(k) is None:
                parent[k] = {}
            parent = parent[k]
        if parent.get(keys[-1]) is None:
            parent[keys[-1]] = []
        if not isinstance(parent[keys[-1]], list):
            raise YamlEditRefused(self.where, ".".join(keys), "must be a list")
        parent[keys[-1]].append(item)

        def fallback() -> Any:
            from ruamel.yaml.comments import CommentedMap, CommentedSeq

            tree = self._tree() or CommentedMap()
            node = tree
            for k in keys[:-1]:
                if node.get(k) is None:
                    node[k] = CommentedMap()
                node = node[k]
            if node.get(keys[-1]) is None:
                node[keys[-1]] = CommentedSeq()
            node[keys[-1]].append(item)
            return tree

        tree = self._tree()
        seq = self._node(tree, keys)
        if seq is None and self._present(tree, keys):
            self._replace_empty(tree, keys, [item])
        elif seq is None:
            self._add(keys[:-1], keys[-1], [item])
        elif seq and not seq.fa.flow_style():
            step, offset = self._style(tree)
            line_no = seq.lc.item(0)[0]
            dash = self.text.splitlines()[line_no].index("-")
            end = self._block_end(line_no, dash, sequence=True)
            self._insert(end, [f"{' ' * dash}- {_scalar(item)}"])
        elif not seq:
            self._replace_empty(tree, keys, [item])
        self._commit(expected, fallback)

    # -- the text edits --------------------------------------------------------

    def _node(self, tree: Any, keys: Keys) -> Any:
        node = tree
        for k in keys:
            if node is None or not hasattr(node, "get"):
                return None
            node = node.get(k)
        return node

    def _present(self, tree: Any, keys: Keys) -> bool:
        parent = self._node(tree, keys[:-1])
        return hasattr(parent, "get") and keys[-1] in parent

    def _add(self, keys: Keys, key: str, value: Any) -> None:
        """Insert ``key: value`` as the last entry of the block mapping at ``keys``."""
        from ruamel.yaml.comments import CommentedMap

        tree = self._tree()
        step, offset = self._style(tree)
        node = self._node(tree, keys)
        if node is None and keys and self._present(tree, keys):
            self._replace_empty(tree, keys, {key: value})  # `key:` with no value yet
            return
        if node is None and keys:
            self._add(keys[:-1], keys[-1], {key: value})
            return
        if node is None or (isinstance(node, CommentedMap) and not node and keys):
            if keys:
                self._replace_empty(tree, keys, {key: value})
                return
            if self.text.strip():
                self._insert(len(self.text.splitlines()) - 1, self._render(key, value, 0, step, offset))
            else:
                self.text = "\n".join(self._render(key, value, 0, step, offset)) + "\n"
            return
        if not isinstance(node, CommentedMap) or node.fa.flow_style():
            return  # flow style: left to the round-trip fallback
        first = next(iter(node))
        line_no, col = node.lc.key(first)
        end = self._block_end(line_no, col, sequence=False) if keys else len(self.text.splitlines()) - 1
        if not keys:  # top level: after the last content line, before trailing comments
            lines = self.text.splitlines()
            while end > 0 and not _content(lines[end]):
                end -= 1
        self._insert(end, self._render(key, value, col, step, offset))

    def _replace_empty(self, tree: Any, keys: Keys, value: Any) -> None:
        """``key: {}`` / ``key: []`` / ``key:`` becomes ``key:`` followed by the new block."""
        parent = self._node(tree, keys[:-1])
        line_no, col = parent.lc.key(keys[-1])
        lines = self.text.splitlines(keepends=True)
        line = lines[line_no]
        head, sep, rest = line.partition(":")
        tail = rest.strip()
        comment = tail[tail.index("#"):] if "#" in tail else ""
        if tail.split("#")[0].strip() not in ("", "{}", "[]", "null", "~"):
            return  # not empty after all: left to the fallback
        lines[line_no] = head + ":" + (f"  {comment}" if comment else "") + "\n"
        self.text = "".join(lines)
        step, offset = self._style(tree)
        rendered = self._render(keys[-1], value, col, step, offset)[1:]
        self._insert(line_no, rendered)


def load(path: Path) -> Document:
    return Document(path.read_text() if path.exists() else "", path.name)


def save(path: Path, doc: Document) -> None:
    from mlver.adapters.atomic import write_text

    write_text(path, doc.text)
