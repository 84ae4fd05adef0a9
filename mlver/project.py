"""The project: where its root is, what mlver.yaml declares."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from mlver.adapters import git
from mlver.domain.tags import check_name
from mlver.errors import ConfigError, NotInitialised, UnknownModel

CONFIG = "mlver.yaml"
PathLike = str | Path | None  # where to look for the project; None: the current directory
CONFIG_VERSION = 1


@dataclass(frozen=True)
class ModelSpec:
    name: str
    path: str
    data: tuple[str, ...] = ()
    params: str | None = None
    metrics: str | None = None
    command: str | None = None
    stage: str | None = None
    desc: str = ""
    labels: tuple[str, ...] = field(default_factory=tuple)


def spec_from(name: str, raw: Any) -> ModelSpec:
    if not isinstance(raw, dict) or not raw.get("path"):
        raise ConfigError(f"model {name} in {CONFIG} needs a 'path'", f"fix {CONFIG} or re-add it with `mlver model add`")
    data = raw.get("data") or []
    if isinstance(data, str):
        data = [data]
    return ModelSpec(
        name=name,
        path=str(raw["path"]),
        data=tuple(str(d) for d in data),
        params=raw.get("params"),
        metrics=raw.get("metrics"),
        command=raw.get("command"),
        stage=raw.get("stage"),
        desc=str(raw.get("desc") or ""),
        labels=tuple(raw.get("labels") or ()),
    )


def parse_config(content: bytes | str, where: str = CONFIG) -> dict[str, Any]:
    """mlver.yaml's content (of the work tree or of any commit) as a mapping."""
    from mlver.adapters.yamlfile import safe_load

    doc = safe_load(content, where) or {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{where} must be a mapping", f"fix {CONFIG}")
    return doc


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def find(cls, cwd: PathLike = None, require_config: bool = True) -> "Project":
        root = git.toplevel(Path(cwd) if cwd else Path.cwd())
        project = cls(root)
        if require_config and not (root / CONFIG).exists():
            raise NotInitialised(str(root))
        return project

    @cached_property
    def config(self) -> dict[str, Any]:
        path = self.root / CONFIG
        if not path.exists():
            return {}
        return parse_config(path.read_bytes())

    def models(self) -> dict[str, ModelSpec]:
        raw = self.config.get("models") or {}
        if not isinstance(raw, dict):
            raise ConfigError(f"'models' in {CONFIG} must be a mapping", f"fix {CONFIG}")
        return {name: spec_from(name, spec) for name, spec in raw.items()}

    def model(self, name: str) -> ModelSpec:
        check_name(name)
        models = self.models()
        if name not in models:
            raise UnknownModel(name, sorted(models))
        return models[name]

    def rel(self, path: str | Path) -> str:
        """A user path as a repo-relative posix path.

        Relative paths are taken from the current directory when it is inside
        the project (as git does), else from the project root (a script or
        notebook that passed ``repo=``).
        """
        p = Path(path)
        cwd = Path.cwd().resolve()
        base = cwd if cwd.is_relative_to(self.root.resolve()) else self.root
        absolute = p if p.is_absolute() else base / p
        try:
            return absolute.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError as exc:
            raise ConfigError(f"{path} is outside the repository {self.root}", "use a path inside the project") from exc
