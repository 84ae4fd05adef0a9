"""The project: where its root is, what mlver.yaml declares."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from mlver.adapters import git
from mlver.domain.config import CONFIG, CONFIG_VERSION, Config, ModelSpec
from mlver.domain.tags import DIR_SEPARATOR, check_artifact
from mlver.domain.validate import check_relpath
from mlver.errors import MlverError, NotInitialised, PathOutsideRepository, UnknownModel

__all__ = ["CONFIG", "CONFIG_VERSION", "GTO_INDEX", "ArtifactDecl", "Config", "ModelSpec", "PathLike", "Project", "artifacts_in",
           "parse_config"]

PathLike = str | Path | None  # where to look for the project; None: the current directory


def parse_config(content: bytes | str | None, where: str = CONFIG) -> Config:
    """mlver.yaml's content (of the work tree or of any commit) through the
    one schema; None (no such file there): the defaults."""
    if content is None:
        return Config()
    from mlver.adapters.yamlfile import safe_load

    return Config.from_doc(safe_load(content, where), where)


@dataclass(frozen=True)
class ArtifactDecl:
    """An entry of a ``dvc.yaml``'s ``artifacts:`` (DVC's own format)."""

    name: str  # GTO's full name: "churn", or "sub/proj:nested" for sub/proj/dvc.yaml
    type: str  # "model", "dataset", ... ("" when dvc.yaml gives none)
    path: str  # repo-relative, or a URL as written (s3://...)
    dvcfile: str  # the dvc.yaml it is declared in
    desc: str = ""
    labels: tuple[str, ...] = ()

    @property
    def is_model(self) -> bool:
        return self.type in ("model", "")  # DVC's type is optional; untyped artifacts are models to GTO too


GTO_INDEX = "artifacts.yaml"  # GTO's own declarations (before DVC had `artifacts:`), which GTO 1.x still reads


def artifacts_in(text: str | bytes, dvcfile: str = "dvc.yaml") -> dict[str, ArtifactDecl]:
    """The artifacts a ``dvc.yaml`` declares (or, for ``artifacts.yaml``, GTO's
    index: the same entries at the top level, ``description`` for ``desc``).
    Read from the work tree or any commit, so untrusted: entries that are not
    well-formed are skipped."""
    import posixpath

    from mlver.adapters.yamlfile import safe_load

    doc = safe_load(text, dvcfile) or {}
    gto_index = posixpath.basename(dvcfile.split(" ")[0]) == GTO_INDEX
    raw = doc if gto_index else doc.get("artifacts") if isinstance(doc, dict) else None
    folder = posixpath.dirname(dvcfile)
    found: dict[str, ArtifactDecl] = {}
    for key, entry in (raw.items() if isinstance(raw, dict) else ()):
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            continue
        name = f"{folder}{DIR_SEPARATOR}{key}" if folder else str(key)
        try:
            check_artifact(name)
        except MlverError:
            continue
        path = entry["path"]
        if "://" not in path:
            path = posixpath.normpath(posixpath.join(folder, path))
        if not _artifact_path(path):
            continue  # absolute, or climbing out of the project: no file of it is this artifact
        labels = entry.get("labels") or ()
        found[name] = ArtifactDecl(
            name=name, type=str(entry.get("type") or ""), path=path, dvcfile=dvcfile,
            desc=str(entry.get("description" if gto_index else "desc") or ""),
            labels=tuple(str(x) for x in labels) if isinstance(labels, (list, tuple)) else (),
        )
    return found


# The source that turns a dvc.yaml into its artifacts' rows (artifacts_in and the checks it calls).
_READERS = tuple(Path(__file__).parent / f for f in ("project.py", "domain/tags.py", "domain/validate.py",
                                                      "adapters/yamlfile.py"))


def _artifact_path(path: str) -> bool:
    """A URL, or a path that stays inside the project."""
    try:
        return "://" in path or bool(check_relpath(path, "an artifact"))
    except MlverError:
        return False


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def find(cls, cwd: PathLike = None, require_config: bool = True) -> Project:
        root = git.toplevel(Path(cwd) if cwd else Path.cwd())
        project = cls(root)
        if require_config and not (root / CONFIG).exists():
            raise NotInitialised(str(root))
        return project

    @cached_property
    def config(self) -> Config:
        """The work tree's mlver.yaml (the defaults when there is none)."""
        from mlver.adapters import repofile

        try:
            return parse_config(repofile.read(self.root, CONFIG))
        except FileNotFoundError:
            return parse_config(None)

    @cached_property
    def artifacts(self) -> dict[str, ArtifactDecl]:
        """Every artifact the work tree's dvc.yaml files declare (the root's and,
        in a monorepo, each folder's), and GTO's artifacts.yaml, as DVC and GTO
        read them (a name in both: dvc.yaml's)."""
        return {n: ArtifactDecl(name=n, type=t, path=p, dvcfile=dvcfile, desc=d, labels=tuple(ls))
                for dvcfile, rows in self._declarations.items() for n, t, p, d, ls in rows}

    @cached_property
    def gto_indexed(self) -> frozenset[str]:
        """The names GTO's artifacts.yaml declares: ``gto show`` lists them with
        no version too, where it leaves out what only a dvc.yaml declares."""
        return frozenset(str(row[0]) for row in self._declarations.get(GTO_INDEX, ()))

    @cached_property
    def _declarations(self) -> dict[str, list[list[Any]]]:
        """Each declaring file -> its artifacts' rows (name, type, path, desc, labels)."""
        files = [f for f in (GTO_INDEX, "dvc.yaml") if (self.root / f).is_file()]
        out = git.run(self.root, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                      "--", "*/dvc.yaml", check=False)
        files += sorted({f for f in out.split("\0") if f.endswith("/dvc.yaml") and (self.root / f).is_file()})
        from mlver.adapters import gitcache, repofile, statcache

        def rows(dvcfile: str) -> list[list[object]]:
            found = artifacts_in(repofile.read(self.root, dvcfile), dvcfile).values()
            return [[a.name, a.type, a.path, a.desc, list(a.labels)] for a in found]

        def valid(row: object) -> bool:
            return (isinstance(row, list) and len(row) == 5 and all(isinstance(x, str) for x in row[:4])
                    and isinstance(row[4], list) and all(isinstance(x, str) for x in row[4])
                    and _artifact_path(str(row[2])))

        # Cached by each file's stat and the code that reads them: parsing YAML
        # (and importing PyYAML) was most of a read-only command's start-up in a
        # GTO repository. (-2: rows cached before paths were checked are not taken.)
        code = gitcache.code_stamp(*_READERS) if files else ""
        cached = statcache.per_file(self.root, "dvc-yaml-artifacts-2", files, rows, valid, code)
        return {f: cached[f] for f in files}

    def models(self) -> dict[str, ModelSpec]:
        """Models declared in mlver.yaml (how each is trained)."""
        return dict(self.config.models)

    def declared_models(self) -> dict[str, ModelSpec]:
        """Every model the project knows: mlver.yaml's, and the ``type: model``
        artifacts of its dvc.yaml files (a DVC or GTO project adopted as it is)."""
        models = {
            a.name: ModelSpec(name=a.name, path=a.path, desc=a.desc, labels=a.labels)
            for a in self.artifacts.values() if a.is_model
        }
        models.update(self.models())
        return models

    def datasets(self) -> dict[str, ArtifactDecl]:
        """``type: dataset`` artifacts of dvc.yaml: listed and pulled, never trained."""
        return {n: a for n, a in self.artifacts.items() if a.type == "dataset"}

    def model(self, name: str) -> ModelSpec:
        check_artifact(name)
        models = self.declared_models()
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
            raise PathOutsideRepository(str(path), str(self.root)) from exc
