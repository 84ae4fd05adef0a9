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


# -- one walk over a record's object lists (api/objects.py's ``named``) -----------------------------------

_ENTRY_LISTS = {"artifact", "data"}
# Modules that read the md5 of a record's entries for another purpose than listing objects:
# the domain compares versions (diff, versions table), the cli and the site show them.
_NOT_LISTINGS = ("domain/", "cli/", "api/sites.py")


def _reads_entry_list(expr: ast.AST) -> bool:
    """``doc["data"]``, ``doc.get("artifact")``: a record's object lists."""
    for n in ast.walk(expr):
        if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant) and n.slice.value in _ENTRY_LISTS:
            return True
        if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get" and n.args
                and isinstance(n.args[0], ast.Constant) and n.args[0].value in _ENTRY_LISTS):
            return True
    return False


def _reads_md5(nodes: list[ast.AST], names: set[str]) -> bool:
    """``e["md5"]``, ``e.get("md5")`` or ``e.md5`` of a loop variable."""
    for node in nodes:
        for n in ast.walk(node):
            if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id in names \
                    and isinstance(n.slice, ast.Constant) and n.slice.value == "md5":
                return True
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get" \
                    and isinstance(n.func.value, ast.Name) and n.func.value.id in names and n.args \
                    and isinstance(n.args[0], ast.Constant) and n.args[0].value == "md5":
                return True
            if isinstance(n, ast.Attribute) and n.attr == "md5" and isinstance(n.value, ast.Name) and n.value.id in names:
                return True
    return False


def _object_walks(tree: ast.Module) -> list[int]:
    """Lines of loops and comprehensions that go over a record's artifact/data
    entries (directly, or through a name assigned from them in the same
    function) and read each entry's md5: a listing of the record's objects."""
    found = set()
    for scope in ast.walk(tree):
        if not isinstance(scope, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        assigned: dict[str, list[ast.AST]] = {}
        for n in ast.walk(scope):
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    if isinstance(t, ast.Name):
                        assigned.setdefault(t.id, []).append(n.value)
            elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.value is not None:
                assigned.setdefault(n.target.id, []).append(n.value)

        def from_entries(expr: ast.AST, assigned: dict[str, list[ast.AST]] = assigned) -> bool:
            return _reads_entry_list(expr) or any(isinstance(x, ast.Name) and any(map(_reads_entry_list, assigned.get(x.id, [])))
                                                   for x in ast.walk(expr))

        for n in ast.walk(scope):
            loops: list[tuple[ast.AST, ast.AST, list[ast.AST]]] = []
            if isinstance(n, ast.For):
                loops.append((n.target, n.iter, list(n.body)))
            elif isinstance(n, ast.DictComp):
                loops += [(g.target, g.iter, [n.key, n.value, *g.ifs]) for g in n.generators]
            elif isinstance(n, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
                loops += [(g.target, g.iter, [n.elt, *g.ifs]) for g in n.generators]
            for target, iterable, body in loops:
                names = {x.id for x in ast.walk(target) if isinstance(x, ast.Name)}
                if from_entries(iterable) and _reads_md5(body, names):
                    found.add(n.lineno)
    return sorted(found)


def test_only_api_objects_lists_a_records_objects() -> None:
    walks = [f"mlver/{path}:{line}" for path, tree in _modules().items()
             if path != "api/objects.py" and not path.startswith(_NOT_LISTINGS) for line in _object_walks(tree)]
    assert not walks, ("list a record's objects with mlver.api.objects.named / record_objects:\n" + "\n".join(walks))


def test_the_object_walk_finder_finds_walks() -> None:
    # The shapes the listings had before they moved to api/objects.py, and two that are not listings.
    walks = _object_walks(ast.parse(
        "def remote_missing(record):\n"
        "    entries = [record.doc.get('artifact') or {}] + list(record.doc.get('data') or [])\n"
        "    for entry in entries:\n"
        "        md5 = entry.get('md5')\n"
        "def recorded(doc):\n"
        "    return {d.get('path'): d.get('md5') for d in doc.get('data') or [] if isinstance(d, dict)}\n"
        "def pull(doc):\n"
        "    return [(e['md5'], e['path']) for e in doc.get('data') or []]\n"
        "def paths(doc):\n"
        "    return [d['path'] for d in doc.get('data') or []]\n"
        "def objects(refs):\n"
        "    return [o.md5 for o in refs]\n"))
    assert walks == [3, 6, 8]


def test_every_module_has_its_place_in_the_layers() -> None:
    # A module outside cli/, api/, domain/ and adapters/ is one ARCHITECTURE.md says the
    # job of; any other finds its layer (pure rendering such as the SVG charts is domain/).
    architecture = (ROOT.parent / "ARCHITECTURE.md").read_text()
    unnamed = sorted(p.name for p in ROOT.glob("*.py")
                     if not p.name.startswith("__") and f"`{p.name}`" not in architecture)
    assert not unnamed, f"mlver/{unnamed[0]} sits outside the layers: move it into one, or say its job in ARCHITECTURE.md"
