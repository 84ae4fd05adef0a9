"""ARCHITECTURE.md's invariants, read from the source: who imports what, who
prints, and that every verb mlver.api serves is typed for checkers."""
from __future__ import annotations

import ast
from pathlib import Path

import mlver

ROOT = Path(mlver.__file__).parent
# Each library behind its one door (mlver/adapters/); profiling reads frames in domain/profile*.py.
ADAPTED = {"dvc", "boto3", "botocore", "sklearn", "skops", "joblib", "ruamel", "yaml", "matplotlib", "subprocess",
           "pandas", "pyarrow", "git"}
TABLES = {"pandas", "pyarrow"}


def _modules() -> dict[str, ast.Module]:
    return {p.relative_to(ROOT).as_posix(): ast.parse(p.read_text()) for p in ROOT.rglob("*.py")}


def _imports(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_layers_import_only_downwards_and_libraries_only_through_adapters() -> None:
    for path, tree in _modules().items():
        imports = _imports(tree)
        tops = {name.split(".")[0] for name in imports}
        if not path.startswith("adapters/"):
            wrong = {t for t in tops & ADAPTED if not (path.startswith("domain/profile") and t in TABLES)}
            assert not wrong, f"mlver/{path} imports {sorted(wrong)}: that is mlver/adapters/' job"
        if not path.startswith("cli/"):
            assert "click" not in tops, f"mlver/{path} imports click: only mlver/cli/ parses and renders"
            if path != "__main__.py":  # `python -m mlver` is the command line
                assert not any(n == "mlver.cli" or n.startswith("mlver.cli.") for n in imports), f"mlver/{path} imports the cli"
        if path.startswith("domain/"):
            assert not any(n.startswith(("mlver.adapters", "mlver.api")) for n in imports), f"mlver/{path} is not pure"


def test_nothing_below_the_cli_prints() -> None:
    for path, tree in _modules().items():
        if path.startswith("cli/"):
            continue
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
        assert not [c for c in calls if c.func.id == "print"], f"mlver/{path} prints: return a result for cli/render.py"


def test_every_api_verb_is_typed_for_checkers() -> None:
    from mlver import api

    tree = ast.parse((ROOT / "api" / "__init__.py").read_text())
    typed = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.If)
             for stmt in node.body if isinstance(stmt, ast.ImportFrom) for alias in stmt.names}
    assert typed == set(api._VERBS), "add the verb to mlver/api/__init__.py's TYPE_CHECKING imports"
    for verb, module in api._VERBS.items():
        assert callable(getattr(api, verb)), f"mlver.api.{verb} (from mlver.api.{module})"


def _module_name(path: str) -> str:
    parts = ["mlver", *path.removesuffix(".py").split("/")]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: str, tree: ast.Module) -> list[tuple[str, str, int]]:
    """(module, name, line) of every mlver import the module runs, at its top or inside a
    function (a lazy import only hides a cycle); ``if TYPE_CHECKING:`` blocks never run."""
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
               and node.test.id == "TYPE_CHECKING" for stmt in node.body for n in ast.walk(stmt)}
    package = _module_name(path) if path.endswith("__init__.py") else _module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, "", node.lineno) for alias in node.names if alias.name.startswith("mlver")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base == "mlver" or base.startswith("mlver."):
                found += [(base, alias.name, node.lineno) for alias in node.names]
    return found


def _import_graph() -> tuple[dict[str, set[str]], list[str]]:
    """Which mlver module imports which, and every private name imported from another module."""
    trees = _modules()
    modules = {_module_name(path) for path in trees}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    private = []
    for path, tree in trees.items():
        here = _module_name(path)
        for base, name, line in _runtime_imports(path, tree):
            target = f"{base}.{name}" if f"{base}.{name}" in modules else base
            if target in modules and target != here:
                graph[here].add(target)
            if name.startswith("_") and not name.startswith("__") and f"{base}.{name}" not in modules:
                private.append(f"mlver/{path}:{line} imports {name} from {base}")
    return graph, private


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycles_even_through_lazy_imports() -> None:
    graph, _ = _import_graph()
    cycles = _cycles(graph)
    assert not cycles, "modules that import each other (move what both need into a module below them):\n" + "\n".join(
        " <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_cycles() -> None:
    # The check above passes on a graph it cannot read, too; prove it sees one.
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_private_name_is_imported_from_another_module() -> None:
    _, private = _import_graph()
    assert not private, "a name other modules need is public (no leading '_'):\n" + "\n".join(private)
