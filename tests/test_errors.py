"""errors.py's contract, read by introspection: every error is in one family,
keeps the arguments it was raised with, and says what went wrong in one line."""
from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
from pathlib import Path

import mlver
from mlver import errors
from mlver.errors import FAMILIES, MlverError

ROOT = Path(mlver.__file__).parent


def _every_error() -> list[type[MlverError]]:
    # Import every module, so an error class defined outside errors.py is checked too.
    for info in pkgutil.walk_packages(mlver.__path__, "mlver."):
        importlib.import_module(info.name)
    found, todo = [], [MlverError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            todo.append(sub)
    return sorted(set(found), key=lambda c: c.__name__)


def _sample(name: str, annotation: str) -> object:
    """A distinct value of the parameter's annotated type."""
    kinds: dict[str, object] = {
        "str": f"v-{name}", "str | None": f"v-{name}", "int": 7, "object": f"o-{name}",
        "list[str]": [f"a-{name}", f"b-{name}"], "list[str] | None": [f"a-{name}"], "list[int]": [101, 102],
        "tuple[str, ...]": (f"a-{name}", f"b-{name}"), "tuple[str, ...] | list[str]": (f"a-{name}", f"b-{name}"),
    }
    assert annotation in kinds, f"give the test a sample of {annotation} ({name})"
    return kinds[annotation]


def _is_free_text(cls: type[MlverError]) -> bool:
    """Raised with a message and hint of the caller's own words, no fields."""
    return next(c for c in cls.__mro__ if "__init__" in vars(c)) is MlverError


def test_every_error_is_in_exactly_one_family() -> None:
    families = {f.family for f in FAMILIES}
    assert len(families) == 6 and "" not in families
    for cls in _every_error():
        if cls in FAMILIES:
            continue
        assert cls.__module__ == "mlver.errors", f"{cls.__name__}: errors live in mlver/errors.py"
        mine = [f for f in FAMILIES if issubclass(cls, f)]
        assert len(mine) == 1, f"{cls.__name__} derives from {[f.__name__ for f in mine] or 'no family'}"
        assert cls.family == mine[0].family


def test_every_error_keeps_its_arguments_and_says_it_in_one_line() -> None:
    checked = 0
    for cls in _every_error():
        if _is_free_text(cls):
            continue
        init = cls.__init__
        hints = {n: str(p.annotation) for n, p in inspect.signature(init).parameters.items() if n != "self"}
        given = {n: _sample(n, a) for n, a in hints.items()}
        exc = cls(**given)
        for name, value in given.items():
            if name == "hint":
                continue
            assert getattr(exc, name, None) == value, f"{cls.__name__} does not keep {name}"
        assert exc.fields() == {n: v for n, v in given.items() if n not in ("hint", "message")}
        assert exc.message and "\n" not in exc.message and "\n" not in exc.hint, cls.__name__
        doc = json.loads(json.dumps(exc.to_doc(), default=str))
        assert doc["class"] == cls.__name__ and doc["family"] == cls.family and doc["exit_code"] in (1, 2)
        checked += 1
    assert checked > 100


def _free_text_calls() -> list[str]:
    """Where a free-text error class is built (raised or returned) outside errors.py."""
    free = {c.__name__ for c in _every_error() if _is_free_text(c)} | {"MlverError"}
    sites = []
    for path in ROOT.rglob("*.py"):
        if path.name == "errors.py" and path.parent == ROOT:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                # errors.X(...) or X(...); click.UsageError is click's own
                in_errors = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "errors"
                name = func.id if isinstance(func, ast.Name) else func.attr if in_errors else ""
                if name in free:
                    sites.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    return sorted(sites)


def test_errors_are_raised_with_fields_not_free_text() -> None:
    # A family or a catch-all base (ConfigError, RemoteError, ...) raised with the caller's own words
    # has no fields to branch on: give the condition a class of its own.
    sites = _free_text_calls()
    assert not sites, "\n".join(sites)


def test_the_module_has_no_error_outside_a_family() -> None:
    # A class added to errors.py straight under MlverError fails here even before anything raises it.
    for name, value in vars(errors).items():
        if isinstance(value, type) and issubclass(value, MlverError) and value is not MlverError:
            assert value.family, name


def _build_a_class_interrupted() -> None:
    # What Python 3.11 does when Ctrl-C lands while a dataclass is built at
    # import: the KeyboardInterrupt from a field's __set_name__ comes out
    # wrapped in a RuntimeError (seen in CI: exit 4, "internal error").
    class Interrupting:
        def __set_name__(self, owner: type, name: str) -> None:
            raise KeyboardInterrupt

    type("Built", (), {"field": Interrupting()})


def test_a_ctrl_c_wrapped_by_class_creation_is_an_interruption_not_a_bug(capsys) -> None:
    import sys

    from mlver.cli.boundary import guarded
    from mlver.errors import ExitCode, interrupted_within

    try:
        _build_a_class_interrupted()
    except BaseException as exc:  # noqa: BLE001 - which one Python raises is the point
        wrapped = exc
    assert interrupted_within(wrapped)
    if sys.version_info < (3, 12):
        assert isinstance(wrapped, RuntimeError)
    assert not interrupted_within(RuntimeError("a plain bug"))
    chained = ValueError("outer")
    chained.__context__ = chained  # a cycle must not loop
    assert not interrupted_within(chained)

    assert guarded(_build_a_class_interrupted, network=False) == ExitCode.INTERRUPTED
    err = capsys.readouterr().err
    assert err.startswith("error: interrupted"), err
    assert "internal error" not in err and "bug" not in err
    assert guarded(lambda: _build_a_class_interrupted() if False else 1 / 0, network=False) == ExitCode.BUG
