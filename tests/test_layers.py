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
