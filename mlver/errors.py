"""Every error mlver raises on purpose, and the exit codes they map to.

Each error is one of six families (usage, not found, conflict, integrity,
storage, git), keeps the arguments it was raised with as attributes, and
builds its one-line message and hint from them. Only ``mlver.cli`` turns
them into output (text, or a JSON document with ``--json``).
"""
from __future__ import annotations

from enum import IntEnum
from typing import Any, ClassVar


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # the command ran and its check failed (like diff/grep)
    ERROR = 2  # bad usage or input, something missing, storage or git failing
    BUG = 4
    INTERRUPTED = 130


def interrupted_within(exc: BaseException) -> bool:
    """Whether a Ctrl-C is what ``exc`` wraps. Python 3.11 turns an exception
    raised by ``__set_name__`` while a class is built (a dataclass's fields,
    at import) into ``RuntimeError`` with the KeyboardInterrupt as its cause:
    that is an interruption, not a bug."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def interruption_doc(message: str, verb: str | None) -> dict[str, Any]:
    """What --json prints when Ctrl-C ends a command: an error's shape (MlverError.to_doc),
    so a script reads every ending alike, in a seventh family of its own."""
    return {"family": "interrupted", "class": "KeyboardInterrupt", "message": message, "hint": "",
            "exit_code": int(ExitCode.INTERRUPTED), "fields": {"verb": verb}}


class MlverError(Exception):
    """A user-facing error: a message, a hint, and an exit code."""

    exit_code: ExitCode = ExitCode.ERROR
    family: ClassVar[str] = ""  # set by the six family classes below

    def __init__(self, message: str, hint: str = "") -> None:
        from mlver.formats import redact

        # A URL's userinfo never reaches a message, whoever shows it (the CLI, a notebook, a log).
        message, hint = redact(message), redact(hint)
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def fields(self) -> dict[str, Any]:
        """The arguments this error was raised with, by name (its constructor's parameters)."""
        import inspect

        names = [n for n in inspect.signature(type(self).__init__).parameters if n not in ("self", "message", "hint")]
        return {name: getattr(self, name) for name in names}

    def to_doc(self) -> dict[str, Any]:
        """What ``--json`` prints for this error."""
        return {"family": self.family, "class": type(self).__name__, "message": self.message, "hint": self.hint,
                "exit_code": int(self.exit_code), "fields": {k: _plain(v) for k, v in self.fields().items()}}


def _plain(value: Any) -> Any:
    """A field as JSON has it (paths and other objects as their text)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in (sorted(value, key=str) if isinstance(value, (set, frozenset)) else value)]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


# The six families: every error below derives from exactly one of them.


class UsageError(MlverError):
    """The command, its options, mlver.yaml or an input file asks for something mlver cannot do."""

    family = "usage"


class NotFoundError(MlverError):
    """A model, version, stage, record, revision or file that is not there."""

    family = "not-found"


class ConflictError(MlverError):
    """The request contradicts the repository's state or its policy (exists already, dirty, forbidden)."""

    family = "conflict"


class IntegrityError(MlverError):
    """Stored or received content that is not what it claims to be (tampered, corrupt, crafted)."""

    family = "integrity"


class StorageError(MlverError):
    """The cache, a remote or a destination on disk failed or refused."""

    family = "storage"


class GitError(MlverError):
    """git failed, or the repository is in a state git operations cannot proceed from."""

    family = "git"


FAMILIES: tuple[type[MlverError], ...] = (UsageError, NotFoundError, ConflictError, IntegrityError, StorageError,
                                          GitError)


class NotARepository(UsageError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"not a git repository (or any parent up to /): {path}",
            "run `mlver init` here, or cd into your project",
        )


class NotInitialised(UsageError):
    def __init__(self, root: str) -> None:
        self.root = root
        super().__init__(
            f"no mlver.yaml in {root}: this repository is not an mlver project",
            "run `mlver init`",
        )


class ConfigError(UsageError):
    """mlver.yaml, params or metrics files that cannot be read."""


class ConfigInvalid(ConfigError):
    """mlver.yaml breaks its schema at one key: ``where`` is the file (and
    the commit it was read at), ``key`` the dotted path (``policy.gates``)."""

    def __init__(self, where: str, key: str, problem: str, hint: str = "") -> None:
        self.where = where
        self.key = key
        self.problem = problem
        super().__init__(f"{where}: {key} {problem}" if key else f"{where}: {problem}",
                         hint or f"fix {key or 'it'} in {where} (the README shows every setting)")


class ConfigUnknownKey(ConfigInvalid):
    """A key the schema does not have: a typo would otherwise switch a safeguard off."""

    def __init__(self, where: str, key: str, known: list[str], problem: str = "is not a setting mlver knows") -> None:
        import difflib

        self.known = known
        name = key.rsplit(".", 1)[-1]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        suggestion = f"did you mean {close[0]!r}? " if close else ""
        super().__init__(where, key, problem, f"{suggestion}known here: {', '.join(known)}")


class ConfigTooNew(ConfigError):
    """mlver.yaml written for a newer mlver: its settings may mean what this one cannot enforce."""

    def __init__(self, where: str, version: int, supported: int, running: str) -> None:
        self.running = running
        self.where = where
        self.version = version
        self.supported = supported
        super().__init__(
            f"{where} is version {version}; this mlver ({running}) reads versions up to {supported}",
            "upgrade mlver (the version the project's CI installs: see `mlver ci github`)",
        )


class InvalidName(UsageError):
    def __init__(self, kind: str, name: str) -> None:
        self.kind, self.name = kind, name
        shown = repr(name) if name else "(empty)"
        examples = "`prod`, `staging`" if kind == "stage" else "`churn`, `churn-v2`"
        super().__init__(
            f"invalid {kind} name {shown}: use lowercase letters, digits and '-' "
            "(starting and ending with a letter or digit)",
            f"e.g. {examples}; no '/', '..', '@', '#' or spaces",
        )


class InvalidVersion(UsageError):
    def __init__(self, version: str) -> None:
        self.version = version
        super().__init__(
            f"invalid version {version!r}: versions are semver with a 'v', like v1.2.0",
            "pass e.g. `--version v1.0.0`, or use `--bump major|minor|patch`",
        )


class InvalidReference(UsageError):
    def __init__(self, ref: str, why: str = "") -> None:
        self.ref, self.why = ref, why
        super().__init__(
            f"cannot read model reference {ref!r}" + (f": {why}" if why else ""),
            "use NAME, NAME@v1.2.0, NAME#stage or NAME@<git-rev>",
        )


class UnknownModel(NotFoundError):
    def __init__(self, name: str, known: list[str] | None = None) -> None:
        self.name, self.known = name, known
        listed = f" (known: {', '.join(known)})" if known else ""
        super().__init__(
            f"unknown model {name!r}{listed}",
            f"declare it with `mlver model add {name} --path ...`, or see `mlver ls`",
        )


class ModelExists(ConflictError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"model {name!r} is already declared in mlver.yaml",
            "pick another name, or edit mlver.yaml to change it",
        )


class VersionNotFound(NotFoundError):
    def __init__(self, model: str, version: str) -> None:
        self.model, self.version = model, version
        super().__init__(
            f"{model} has no version {version}",
            f"see its versions with `mlver log {model}`",
        )


class StageNotFound(NotFoundError):
    def __init__(self, model: str, stage: str) -> None:
        self.model, self.stage = model, stage
        super().__init__(
            f"no version of {model} is in stage {stage!r}",
            f"see its stages with `mlver ls`, or assign one with `mlver promote {model}@vX.Y.Z {stage}`",
        )


class VersionExists(ConflictError):
    def __init__(self, model: str, version: str) -> None:
        self.model, self.version = model, version
        super().__init__(
            f"{model}@{version} already exists; a released version is never moved",
            f"release a new version with `mlver release {model} --bump patch`",
        )


class AlreadyReleased(ConflictError):
    def __init__(self, model: str, version: str, commit: str) -> None:
        self.model, self.version, self.commit = model, version, commit
        super().__init__(
            f"commit {commit[:12]} is already released as {model}@{version}",
            f"record a new training with `mlver run {model}` before releasing again",
        )


class RecordNotFound(NotFoundError):
    def __init__(self, model: str, rev: str) -> None:
        self.model, self.rev = model, rev
        super().__init__(
            f"no record of {model} at {rev}",
            f"record a training first with `mlver run {model}` or `mlver record {model}`",
        )


class NoArtifactHash(NotFoundError):
    """A version with no record whose commit does not say the artifact's hash."""

    def __init__(self, label: str, path: str, commit: str) -> None:
        self.label, self.path, self.commit = label, path, commit
        super().__init__(
            f"{label} has no mlver record, and its commit {commit[:12]} has no DVC hash for {path} "
            "(no .dvc file, no dvc.lock output)",
            f"track it with DVC (`dvc add {path}`) and register a new version, or get it from where {path} lives",
        )


class RecordTampered(IntegrityError):
    def __init__(self, model: str, rev: str, path: str) -> None:
        self.model, self.rev, self.path = model, rev, path  # path: where the record is (domain.record.record_path)
        super().__init__(
            f"the record of {model} at {rev} does not match its digest: it was edited by hand",
            f"restore it with `git checkout {rev} -- {path}` or re-record",
        )


class RecordSchemaError(UsageError):
    def __init__(self, model: str, found: object, supported: int) -> None:
        self.model, self.found, self.supported = model, found, supported
        super().__init__(
            f"the record of {model} has schema {found}, this mlver reads schema {supported}",
            "upgrade mlver (`pip install -U mlver`)",
        )


class DirtyTree(ConflictError):
    def __init__(self, files: list[str]) -> None:
        self.files = files
        shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        super().__init__(
            f"tracked files have uncommitted changes: {shown}",
            "commit them (`git commit -am ...`), or pass --allow-dirty to record the diff",
        )


class InsideExperiment(ConflictError):
    def __init__(self, model: str, experiment: str) -> None:
        self.model, self.experiment = model, experiment
        super().__init__(
            f"cannot record {model} inside `dvc exp run` (experiment {experiment}): DVC commits the experiment "
            "itself and puts HEAD back, so a record's commit would be on no branch",
            f"record outside DVC's stages, once the experiment is in the workspace (`dvc exp apply {experiment}`) "
            f"and committed: `mlver record {model}`",
        )


class DataChanged(ConflictError):
    def __init__(self, path: str, why: str) -> None:
        self.path, self.why = path, why
        super().__init__(
            f"data {path} {why}",
            f"track the new version with `mlver data add {path}` and commit it, "
            f"or restore it with `dvc checkout {path}`",
        )


class DataNotPulled(NotFoundError):
    def __init__(self, path: str, model: str) -> None:
        self.path, self.model = path, model
        super().__init__(
            f"data {path} is not pulled yet (its .dvc file is committed; the data is not in the workspace or the cache)",
            f"fetch it with `dvc pull {path}`, or `mlver pull {model} --with-data` for the data of {model}'s record",
        )


class DataNotTracked(NotFoundError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"data {path} is not tracked by DVC",
            f"track it with `mlver data add {path}` and commit the .dvc file",
        )


class TrainingFailed(UsageError):
    def __init__(self, command: str, code: int) -> None:
        self.command = command
        self.code = code
        super().__init__(
            f"training command failed with exit code {code}: {command}; nothing was recorded",
            "fix the error above and run `mlver run` again",
        )


class ArtifactMissing(NotFoundError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"model file {path} does not exist; nothing was recorded",
            "check that the training writes the path declared with `mlver model add --path`",
        )


class PulledArtifact(ConflictError):
    """The model file in the workspace is an earlier version's (a pull), not one trained on HEAD's inputs."""

    def __init__(self, model: str, path: str, version: str, differs: list[str], back: str) -> None:
        self.back = back
        self.model, self.path, self.version, self.differs = model, path, version, differs
        super().__init__(
            f"{path} is {model}@{version}'s model (pulled?), but HEAD's {' and '.join(differs)} differ from its "
            "record: recording it would claim it was trained on them; nothing was recorded",
            f"train on HEAD with `mlver run {model}`, or put HEAD's model back: {back}",
        )


class PipelineError(ConfigError):
    """A stage model's declaration that its DVC pipeline (dvc.yaml, dvc.lock) contradicts."""


class PipelineInvalid(PipelineError):
    def __init__(self, file: str, detail: str) -> None:
        self.file, self.detail = file, detail
        super().__init__(f"{file} cannot be read: {detail}", f"fix {file}; `dvc status` shows the same problem")


class PipelineStageNotFound(PipelineError):
    def __init__(self, stage: str, known: list[str]) -> None:
        self.stage, self.known = stage, known
        listed = f" (stages: {', '.join(known)})" if known else " (it has no stages)"
        super().__init__(f"dvc.yaml has no stage {stage!r}{listed}",
                         "pass one of its stages to --stage, or add the stage with `dvc stage add`")


class StageDoesNotOutput(PipelineError):
    def __init__(self, stage: str, path: str, outs: list[str]) -> None:
        self.stage, self.path, self.outs = stage, path, outs
        listed = ", ".join(outs) if outs else "none"
        super().__init__(f"stage {stage} does not output {path} (its outputs: {listed})",
                         f"pass --path with one of its outputs, or add {path} to the stage's outs in dvc.yaml")


class MetricsNotProduced(PipelineError):
    def __init__(self, path: str, why: str) -> None:
        self.path, self.why = path, why
        super().__init__(f"metrics file {path} {why}",
                         "declare the metrics file a stage downstream of the model writes (`--metrics`), "
                         "listed in its outs or metrics in dvc.yaml")


class NotAnInput(PipelineError):
    def __init__(self, model: str, path: str, stage: str, inputs: list[str]) -> None:
        self.model, self.path, self.stage, self.inputs = model, path, stage, inputs
        listed = ", ".join(inputs) if inputs else "none"
        super().__init__(f"model {model} (stage {stage}) does not depend on {path}; its inputs: {listed}",
                         "leave --data out (every input upstream is recorded), or pass one of its inputs")


class LockOutOfDate(PipelineError):
    def __init__(self, model: str, changes: list[str]) -> None:
        self.model, self.changes = model, changes
        shown = "; ".join(changes[:3]) + (f" and {len(changes) - 3} more" if len(changes) > 3 else "")
        super().__init__(f"dvc.lock is out of date with dvc.yaml or the workspace: {shown}",
                         f"reproduce and record in one step with `mlver run {model}`")


class OutputInGit(PipelineError):
    def __init__(self, out: str, files: list[str]) -> None:
        self.out, self.files = out, files
        shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        super().__init__(f"git tracks {shown}, inside the DVC output {out}: `dvc repro` would refuse it",
                         f"stop tracking it in git (`git rm -r --cached {out}`) and commit; DVC keeps it")


class ArtifactConflict(PipelineError):
    def __init__(self, name: str, why: str) -> None:
        self.name, self.why = name, why
        super().__init__(f"dvc.yaml already declares artifact {name!r} {why}",
                         "pick another model name, or change that artifact in dvc.yaml")


class IndexLocked(GitError):
    """Another git process holds the index: writing around it would let the
    user's next `git commit` undo ours."""

    def __init__(self, lock: str) -> None:
        self.lock = lock
        super().__init__(
            f"another git process is using the index ({lock} exists); nothing was changed",
            f"wait for it (an IDE or another terminal) and run again; if no git is running, remove {lock}",
        )


class TagExists(GitError):
    """A tag mlver was about to write appeared first (a race with another process)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        super().__init__(
            f"tag {tag} was written by someone else first; nothing was changed",
            f"run the command again: it reads the registry anew (a lightweight tag is not in the registry: "
            f"`git tag -d {tag}`)",
        )


class RegistryBusy(GitError):
    def __init__(self, lock: str) -> None:
        self.lock = lock
        super().__init__(
            "another mlver registry write (release, promote, rollback, deprecate) is running in this clone",
            f"wait for it to finish and run again (the lock is {lock}; it is free once that process ends)",
        )


class DvcError(StorageError):
    pass


class DvcLockCorrupt(DvcError):
    """DVC's `.dvc/tmp/rwlock` is unreadable (a DVC command was killed while
    writing it) and a live process may still depend on it."""

    def __init__(self, lock: str, pids: list[int]) -> None:
        self.lock, self.pids = lock, pids
        who = ", ".join(str(p) for p in pids)
        super().__init__(
            f"DVC's lock file {lock} is corrupt (a dvc or mlver command was killed while writing it)",
            f"once process {who} has finished, remove {lock} and run again",
        )


class RemoteError(StorageError):
    pass


class CredentialsInUrl(RemoteError):
    """A remote or endpoint URL with ``user:password@``: .dvc/config is shared through git."""

    def __init__(self, name: str, what: str) -> None:
        self.name, self.what = name, what
        super().__init__(
            f"the {what} of remote {name} carries credentials (user:***@host); mlver does not write them "
            "to .dvc/config, which git shares",
            f"drop them from the URL and set them on this machine only: `dvc remote modify --local {name} "
            "access_key_id ID` and `secret_access_key`, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        )


class OutputNotWritable(StorageError):
    """A file the user asked for (-o) cannot go where they said."""

    def __init__(self, path: str, why: str, hint: str) -> None:
        self.why = why
        self.path = path
        super().__init__(f"cannot write {path}: {why}", hint)


class FolderNotEmpty(ConflictError):
    """A directory pulled into a folder the user named would delete their files."""

    def __init__(self, where: str, path: str, count: int, example: str) -> None:
        self.where, self.path, self.count, self.example = where, path, count, example
        super().__init__(
            f"{where}: {path} holds {count} file(s) this version does not have (e.g. {example}); nothing was changed",
            "pull into a new or empty folder with -o, or move those files away first")


class DiskFull(StorageError):
    """A write into the cache or a destination ran out of space (or hit a file-size limit)."""

    def __init__(self, path: str, where: str, why: str) -> None:
        self.why = why
        self.path, self.where = path, where
        super().__init__(f"{where}: cannot write {path}: {why}; nothing was replaced",
                         "free some space there (or choose another place with -o / `dvc cache dir`) and run it again")


class UntrustedModel(IntegrityError):
    """A model file that would run code nobody vouched for when loaded."""

    def __init__(self, ref: str, reason: str) -> None:
        self.ref = ref
        self.reason = reason
        super().__init__(
            f"refusing to load {ref}: {reason}",
            f"loading it can run any code its author chose; only if you trust them, pass "
            f"`mlver.sklearn.load({ref!r}, trusted=True)`",
        )


class VersionNotNewer(ConflictError):
    def __init__(self, model: str, version: str, highest: str) -> None:
        self.model, self.version, self.highest = model, version, highest
        super().__init__(
            f"{model}@{version} would be older than the highest version {highest}",
            f"pass a higher --version, or use `mlver release {model} --bump patch`",
        )


class DataError(UsageError):
    """A data file that cannot be read or profiled (a malformed CSV, a bad Parquet)."""


class NotAnEstimator(UsageError):
    def __init__(self, obj: object) -> None:
        self.obj = obj
        super().__init__(
            f"{type(obj).__name__} is not a scikit-learn estimator (it has no fit/get_params)",
            "pass a fitted estimator or Pipeline, or save the model yourself and use `mlver record`",
        )


class NotFitted(UsageError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"the {name} has not been fitted yet",
            "call .fit(X, y) before recording it",
        )


class InvalidMetric(UsageError):
    def __init__(self, key: str, value: object) -> None:
        self.key, self.value = key, value
        super().__init__(
            f"metric {key!r} is {value!r}, not a finite number",
            "pass metrics as a mapping of names to numbers, e.g. {'accuracy': 0.91}",
        )


class UnknownMetric(NotFoundError):
    """A metric asked for by name (``ls NAME --sort-by``) that no version of the model recorded."""

    def __init__(self, model: str, metric: str, known: tuple[str, ...] | list[str]) -> None:
        self.model, self.metric, self.known = model, metric, tuple(known)
        names = ", ".join(self.known) if self.known else "none"
        super().__init__(f"no version of {model} recorded a metric {metric!r} (its metrics: {names})",
                         f"sort by one of its metrics, e.g. `mlver ls {model} --sort-by {self.known[0] if self.known else 'METRIC'}`")


class StageNotAllowed(UsageError):
    def __init__(self, stage: str, allowed: tuple[str, ...]) -> None:
        self.stage, self.allowed = stage, allowed
        super().__init__(
            f"stage {stage!r} is not in the policy (allowed: {', '.join(allowed)})",
            "use one of the allowed stages, or add it to policy.stages in mlver.yaml",
        )


class PolicyViolation(ConflictError):
    """A promotion the policy forbids (order, an unknown gate metric)."""


class GateFailed(ConflictError):
    exit_code = ExitCode.CHECK_FAILED


class StagePinned(PolicyViolation):
    """A stage event that lost to another one: a tag dated in the future, or in
    the same second (where GTO's tie rules may favour it), keeps the stage."""

    def __init__(self, model: str, stage: str, version: str, holder: str | None, blocker: str, when: str) -> None:
        self.model, self.stage, self.version, self.holder, self.blocker, self.when = model, stage, version, holder, blocker, when
        super().__init__(
            f"{model}@{version} did not get stage {stage}: it stays with {holder or 'nobody'}, "
            f"because tag {blocker} is dated {when}, not before the new assignment",
            f"check who made {blocker} (`git tag -v {blocker}`); if it is bogus, delete it "
            f"(`git tag -d {blocker}`, and `git push --delete origin {blocker}`) and promote again",
        )


class TagNotTrusted(IntegrityError):
    """With signing required: the registry tag a reference resolves through does not verify."""

    def __init__(self, ref: str, tag: str, detail: str) -> None:
        self.ref, self.tag, self.detail = ref, tag, detail
        super().__init__(
            f"{ref} resolves through tag {tag}, which is not signed by an allowed signer ({detail})",
            f"check who made it (`git tag -v {tag}`); the trust root is gpg.ssh.allowedSignersFile in your git config",
        )


class NothingToRollBack(NotFoundError):
    def __init__(self, model: str, stage: str) -> None:
        self.model, self.stage = model, stage
        super().__init__(
            f"no earlier version of {model} held stage {stage!r}, so there is nothing to roll back to",
            f"assign one explicitly with `mlver promote {model}@vX.Y.Z {stage}`",
        )


class CodeNotFound(NotFoundError):
    def __init__(self, label: str, commit: str) -> None:
        self.label, self.commit = label, commit
        super().__init__(
            f"the code commit of {label}, {commit[:12]}, is not in this repository",
            "fetch it (`git fetch --all`) from the repository it was trained in",
        )


class RevisionNotFound(NotFoundError):
    def __init__(self, rev: str, what: str = "revision") -> None:
        self.rev, self.what = rev, what
        super().__init__(
            f"{what} {rev!r} does not exist in this repository",
            f"check the name (`git branch -a`); in CI fetch it first: `git fetch origin {rev.removeprefix('origin/')}` "
            "(a shallow clone has no base branch: check out with full history)",
        )


class NoCommonHistory(NotFoundError):
    def __init__(self, base: str, head: str) -> None:
        self.base, self.head = base, head
        super().__init__(
            f"{base} and {head} have no common ancestor, so there is no pull request to review",
            f"compare them directly with `mlver diff {base} {head}`, or fetch the full history (`git fetch --unshallow`)",
        )


class RecordVersionError(UsageError):
    def __init__(self, model: str, where: str, writer: str | None, schema: object, this: str, supported: int) -> None:
        self.model, self.where, self.writer, self.schema, self.this, self.supported = model, where, writer, schema, this, supported
        by = f"mlver {writer}" if writer else "an unknown mlver"
        newer = isinstance(schema, int) and schema > supported
        super().__init__(
            f"the record of {model} at {where} was written by {by} (record schema {schema}); "
            f"this is mlver {this}, which reads schema {supported}, and cannot make sense of it",
            "upgrade mlver (`pip install -U mlver`)" if newer or schema is None
            else f"re-record it with this mlver: `mlver record {model}`",
        )


class ColumnsMismatch(UsageError):
    def __init__(self, data: str, ref: str, missing: list[str], extra: list[str]) -> None:
        self.data, self.ref, self.missing, self.extra = data, ref, missing, extra
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        more = f" (it has {len(extra)} columns the training data did not: {', '.join(extra[:5])})" if extra else ""
        super().__init__(
            f"{data} lacks columns of the training data of {ref}: {shown}{more}",
            "pass a file with the same columns as the training data (extra columns are fine)",
        )


_OTHER_FAILURE = ("the request failed", "run `mlver remote check {name}`; add --traceback for details")


def _could_not(name: str, url: str, action: str, what: str, detail: str) -> str:
    """The message of a remote's refusal (RemoteAccessError, RemoteFsError)."""
    return f"remote {name} ({url}): could not {action}: {what}" + (f" ({detail})" if detail else "")


class RemoteAccessError(RemoteError):
    """S3 (or another network remote) refused or could not be reached; ``kind`` says why."""

    KINDS = {
        "no-credentials": ("no AWS credentials were found",
                           "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, run `aws configure`, "
                           "or `dvc remote modify --local {name} access_key_id ...`"),
        "bad-credentials": ("the credentials were rejected",
                            "check the access key and secret (env, ~/.aws or .dvc/config.local) for this endpoint"),
        "no-bucket": ("the bucket does not exist",
                      "create it (`aws s3 mb s3://{bucket}{endpoint_option}`) or fix the URL with "
                      "`mlver remote add -f {name} s3://...{endpoint_option}`"),
        "access-denied": ("access denied",
                          "ask for s3:ListBucket, s3:GetObject and s3:PutObject on {bucket}, or use other credentials"),
        "unreachable": ("the endpoint cannot be reached",
                        "check the network and the endpoint URL{endpoint}; then run `mlver remote check {name}`"),
        "timeout": ("the endpoint accepted the connection but did not answer",
                    "check that the endpoint URL{endpoint} is an S3 server; for a slow one raise "
                    "`dvc remote modify {name} read_timeout SECONDS`"),
        "wrong-region": ("the bucket is in another region",
                         "set the bucket's region: AWS_DEFAULT_REGION=... or `dvc remote modify {name} region REGION`"),
        "other": _OTHER_FAILURE,
    }
    # Only gc deletes, and reading and writing do not need the right to.
    DELETE_DENIED = "ask for s3:DeleteObject on {bucket} (what `mlver gc --cloud --force` needs), or use other credentials"

    def __init__(self, name: str, url: str, kind: str, action: str, detail: str = "",
                 endpoint: str | None = None) -> None:
        self.name, self.url, self.action, self.detail, self.endpoint = name, url, action, detail, endpoint
        what, hint = self.KINDS.get(kind, self.KINDS["other"])
        self.kind = kind
        bucket = url[len("s3://"):].split("/", 1)[0] if url.startswith("s3://") else url
        if kind == "access-denied" and action.startswith("delete"):
            hint = self.DELETE_DENIED
        super().__init__(_could_not(name, url, action, what, detail),
                         hint.format(name=name, bucket=bucket, endpoint=f" ({endpoint})" if endpoint else "",
                                     endpoint_option=f" --endpoint-url {endpoint}" if endpoint else ""))


class RemoteFsError(RemoteError):
    """A remote reached through DVC's filesystem layer (ssh, azure, http, ...)
    refused or could not be reached; ``kind`` says why."""

    KINDS = {
        "credentials": ("the credentials were rejected",
                        "set them as DVC reads them: `dvc remote modify --local {name} user|keyfile|password|"
                        "connection_string ...`, then `mlver remote check {name}`"),
        "access-denied": ("access denied", "ask for read and write access to {url}, or use other credentials"),
        "unreachable": ("the server cannot be reached",
                        "check the host and port in {url} and the network; then run `mlver remote check {name}`"),
        "timeout": ("the server did not answer in time",
                    "check that {url} is the right server; a slow one can be given more time with "
                    "`dvc remote modify {name} timeout SECONDS` (ssh) or read_timeout (http, webdav)"),
        "not-found": ("the container or folder does not exist", "create it, or fix the URL with `mlver remote add -f {name} URL`"),
        "other": _OTHER_FAILURE,
    }

    def __init__(self, name: str, url: str, scheme: str, action: str, kind: str, detail: str = "") -> None:
        self.detail = detail
        what, hint = self.KINDS.get(kind, self.KINDS["other"])
        self.name, self.url, self.scheme, self.action, self.kind = name, url, scheme, action, kind
        super().__init__(_could_not(name, url, action, what, detail), hint.format(name=name, url=url))


class HostKeyNotTrusted(RemoteError):
    """An ssh server a repository named (``pull --repo``, a commit's config)
    showed a host key that is not the one the user's known_hosts lists for it,
    or the user's known_hosts has none: nothing was sent to it."""

    def __init__(self, name: str, url: str, host: str, port: int) -> None:
        self.name, self.url, self.host, self.port = name, url, host, port
        scan = f"ssh-keyscan -p {port} {host}" if port != 22 else f"ssh-keyscan {host}"
        super().__init__(
            f"remote {name} ({url}): its host key is not in your ~/.ssh/known_hosts for {host}:{port}, or differs "
            "from the one there; nothing was sent to it",
            f"if you trust that server, check its key's fingerprint with its owner and add it: "
            f"`{scan} >> ~/.ssh/known_hosts`; or pass --trust-endpoint to skip the check as `dvc pull` does",
        )


class ListingNeverEnds(RemoteError):
    """A remote's listing that keeps asking to be continued: a repeated continuation
    token, "more" without a token, or more pages than any real remote holds."""

    def __init__(self, name: str, url: str, why: str) -> None:
        self.name, self.url, self.why = name, url, why
        super().__init__(f"remote {name} ({url}): its listing does not end: {why}",
                         f"the endpoint of remote {name} does not page as S3 does (a broken proxy or gateway, "
                         f"or a server not to trust): check it with `mlver remote check {name}`")


class TransferTooSlow(RemoteError):
    """A download that fell under the least average rate once its grace period was
    over: a server that trickles (a byte every few seconds never trips a read
    timeout) would otherwise hold the command for days."""

    def __init__(self, name: str, url: str, action: str, got: int, seconds: int, rate: int) -> None:
        self.name, self.url, self.action, self.got, self.seconds, self.rate = name, url, action, got, seconds, rate
        super().__init__(f"remote {name} ({url}): gave up trying to {action}: {got:,} bytes in {seconds} s, "
                         f"under the least average rate of {rate:,} bytes a second",
                         f"the network or the endpoint is this slow (or trickles on purpose): check it with "
                         f"`mlver remote check {name}`; for a slow link, set MLVER_MIN_RATE (bytes a second, "
                         f"0: no bound) or MLVER_RATE_GRACE (seconds before the rate counts)")


class RemotePluginMissing(RemoteError):
    """A remote type whose DVC plugin is not installed with this mlver."""

    def __init__(self, name: str, scheme: str, package: str) -> None:
        self.name, self.scheme, self.package = name, scheme, package
        super().__init__(f"remote {name} uses {scheme}://, and DVC's plugin for it ({package}) is not installed",
                         f"install it next to mlver (`pip install {package}`), or use another remote")


class NotAGitRepository(GitError):
    def __init__(self, url: str, detail: str = "") -> None:
        self.url, self.detail = url, detail
        super().__init__(
            f"{url} is not a git repository that can be read" + (f": {detail}" if detail else ""),
            "pass the URL you would `git clone` (a path, file://, https:// or ssh), and check access with `git ls-remote URL`",
        )


class RepositoryNotAnswering(NotAGitRepository):
    """A git server that accepted the connection and then sent nothing for ``seconds``."""

    def __init__(self, url: str, seconds: int) -> None:
        self.url, self.seconds = url, seconds
        MlverError.__init__(
            self, f"{url} did not answer: no data for {seconds} s",
            "check that the URL is a git server (`git ls-remote URL`); give a slow one more time with "
            "GIT_HTTP_LOW_SPEED_TIME=SECONDS",
        )


class ModelNotInRepository(NotFoundError):

    def __init__(self, model: str, url: str, known: list[str]) -> None:
        self.model, self.url, self.known = model, url, known
        listed = f" (it has: {', '.join(known)})" if known else " (it has no mlver/GTO tags)"
        super().__init__(f"{url} has no released model {model!r}{listed}",
                         "check the model name and the repository URL; release it there with `mlver release`")


class UntrustedInput(IntegrityError):
    """Something read from a record, ``.dvc`` file, ``dvc.lock``, manifest or
    remote that mlver refuses to act on (a path that would leave its place, a
    hash that is not a hash, a document nested or sized past reason).

    ``what`` names the field, ``value`` is what was found, ``where`` the
    document it came from."""

    def __init__(self, what: str, value: object, where: str, why: str,
                 hint: str = "it was edited by hand or crafted: inspect it (`git log -p`) before trusting it") -> None:
        self.what = what
        self.value = value
        self.where = where
        self.why = why
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:60] + "..." + shown[-12:]
        super().__init__(f"{where}: {what} {shown} is refused: {why}", hint)


class UnsafePath(UntrustedInput):
    """A path that is absolute, climbs out with '..', or resolves (through a symlink) outside its destination."""


class BadHash(UntrustedInput):
    """A content hash that is not DVC's md5 (32 lowercase hex digits, '.dir' for a directory)."""


class InputTooLarge(UntrustedInput):
    """A document deeper or larger than any mlver writes."""


class RecordShapeError(UntrustedInput):
    """A record field of the wrong JSON type (a string where an object belongs)."""


class NameTooLong(InvalidName):
    def __init__(self, kind: str, name: str, limit: int) -> None:
        self.kind, self.name, self.limit = kind, name, limit
        MlverError.__init__(
            self,
            f"invalid {kind} name {name[:40]!r}...: it has {len(name)} characters, at most {limit} are allowed",
            f"pick a shorter name (e.g. `{name[:20].rstrip('-')}`)",
        )


class ManifestInvalid(UntrustedInput):
    """A gc manifest in a remote that is not what ``mlver push`` writes: gc
    cannot tell which objects it protects, so it deletes nothing there."""

    def __init__(self, where: str, why: str) -> None:
        self.why = why
        self.what, self.value, self.where = "manifest", None, where
        MlverError.__init__(
            self,
            f"{where} is refused: {why}; gc deletes nothing from this remote while it is there",
            "inspect it; if no project's `mlver push` wrote it, delete it, then run gc again",
        )


class GcRefused(StorageError):
    """gc cannot tell safely what a store's objects belong to (a cache or a
    remote other projects use without manifests)."""

    def __init__(self, where: str, why: str, hint: str) -> None:
        self.why = why
        self.where = where
        super().__init__(f"gc leaves {where} alone: {why}", hint)


# -- usage: options, arguments and values ----------------------------------


class UnsavedFiles(ConflictError):
    """Files in the project a pull would replace or remove whose content no
    cache object holds: work that exists nowhere else (DVC refuses them too)."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        more = f" and {len(paths) - 1} more" if len(paths) > 1 else ""
        super().__init__(f"pull would replace or remove unsaved work: {paths[0] if paths else '?'}{more} "
                         "holds changes no cache or record has",
                         "save it first (`mlver record MODEL`, `mlver data add PATH`, or move it aside), "
                         "or pass --force to replace it, as `dvc pull --force` does")


class BadUsage(UsageError):
    """What the command line's parser refused (an unknown option or verb, a
    missing argument, a value of the wrong type or range), in the words of
    every other error: ``problem`` is the parser's, ``usage`` the verb's synopsis."""

    def __init__(self, command: str, problem: str, usage: str) -> None:
        self.command, self.problem, self.usage = command, problem, usage
        said = " ".join(problem.split()).rstrip(".")
        super().__init__(said[:1].lower() + said[1:], f"usage: {usage}; see `{command} --help`")


class EmptyValue(UsageError):
    """An option or optional argument given as the empty string: in a script
    that is an unset variable (`-r "$REMOTE"`), never a wish for the default."""

    def __init__(self, command: str, option: str) -> None:
        self.command, self.option = command, option
        super().__init__(f"{option} is empty",
                         f"give {option} a value, or leave it out for the default (see `{command} --help`)")


class OptionsExclusive(UsageError):
    """Two options (or arguments) that each pick the same thing another way."""

    def __init__(self, first: str, second: str, hint: str = "pass only one of them") -> None:
        self.first, self.second = first, second
        super().__init__(f"pass {first} or {second}, not both", hint)


class OptionsContradict(UsageError):
    def __init__(self, first: str, second: str, hint: str) -> None:
        self.first, self.second = first, second
        super().__init__(f"{first} and {second} contradict each other", hint)


class OptionNeeds(UsageError):
    """An option that means something only beside another one."""

    def __init__(self, option: str, needs: str, why: str, hint: str) -> None:
        self.option, self.needs, self.why = option, needs, why
        super().__init__(f"{option} is for {needs}: {why}", hint)


class ArgumentsTogether(UsageError):
    def __init__(self, names: list[str], purpose: str, example: str) -> None:
        self.names, self.purpose, self.example = names, purpose, example
        super().__init__(f"pass both {' and '.join(names)} {purpose}, or neither", f"e.g. {example}")


class ArgumentsNotApplicable(UsageError):
    def __init__(self, names: list[str], when: str, hint: str) -> None:
        self.names, self.when = names, when
        super().__init__(f"{', '.join(sorted(names))} only apply when {when}", hint)


class ArgumentMissing(UsageError):
    def __init__(self, argument: str, purpose: str, example: str) -> None:
        self.argument, self.purpose, self.example = argument, purpose, example
        super().__init__(f"pass {argument} {purpose}", f"e.g. `{example}`")


class UnknownChoice(UsageError):
    """A value that must be one of a few words (a bump part, a forge, a model format)."""

    def __init__(self, what: str, value: str, choices: list[str]) -> None:
        self.what, self.value, self.choices = what, value, choices
        super().__init__(f"unknown {what} {value!r}", f"use one of: {', '.join(choices)}")


class UnreadableValue(UsageError):
    """An option's value that does not parse (a time, an age, an expiry, KEY=VALUE)."""

    def __init__(self, what: str, value: str, example: str) -> None:
        self.what, self.value, self.example = what, value, example
        super().__init__(f"cannot read {what} {value!r}", f"use {example}")


class ValueOutOfRange(UsageError):
    def __init__(self, what: str, value: str, allowed: str, hint: str) -> None:
        self.what, self.value, self.allowed = what, value, allowed
        super().__init__(f"{what} {value} is out of range: {allowed}", hint)


class InvalidRemoteName(UsageError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"invalid remote name {name!r}", "use letters, digits, '_', '.' or '-', e.g. `storage`")


class PathOutsideRepository(UsageError):
    def __init__(self, path: str, root: str) -> None:
        self.path, self.root = path, root
        super().__init__(f"{path} is outside the repository {root}", "use a path inside the project")


class ArtifactOutsideProject(UsageError):
    """A model dvc.yaml's ``artifacts:`` declares at a URL (example-gto's
    ``s3://mycorp/...``): GTO versions it, nothing here can train or hash it."""

    def __init__(self, model: str, path: str, verb: str) -> None:
        self.model, self.path, self.verb = model, path, verb
        super().__init__(f"cannot {verb} {model}: its path {path} (dvc.yaml artifacts) is not a file of this project",
                         f"its versions and stages work as they are (`mlver ls {model}`, `mlver promote "
                         f"{model}@vX.Y.Z STAGE`); to {verb} it, point its `path` in dvc.yaml at a file in the project")


class PackageMissing(UsageError):
    """An optional Python package a feature needs is not installed."""

    def __init__(self, package: str, purpose: str, alternative: str) -> None:
        self.package, self.purpose, self.alternative = package, purpose, alternative
        super().__init__(f"{purpose} needs the {package} package", f"pip install {package}, or {alternative}")


# -- usage: what a model's declaration allows ------------------------------


def _bind_to_stage(model: str, path: str, stage: str, then: str) -> str:
    """The hint that binds a declared model to the DVC stage that writes it (a
    second `mlver model add` of a declared name is refused: mlver.yaml is edited)."""
    return (f"bind it to the stage that writes {path}: add `stage: {stage}` to model {model} in mlver.yaml "
            f"(what `mlver model add {model} --path {path} --stage {stage}` declares), commit, then `{then}`")


class NothingToRun(UsageError):
    def __init__(self, model: str, path: str | None = None, stage: str | None = None) -> None:
        self.model, self.path, self.stage = model, path, stage
        hint = (_bind_to_stage(model, path, stage, f"mlver run {model}") if stage and path else
                f"pass one: `mlver run {model} -- python train.py`, or use `mlver record {model}`")
        super().__init__(f"model {model} has no command or stage to run", hint)


class StageOutputUnbound(UsageError):
    """A model declared without ``--stage`` whose path a dvc.yaml stage writes:
    DVC tracks it through that stage's dvc.lock and refuses a .dvc file of its own."""

    def __init__(self, model: str, path: str, stage: str, verb: str) -> None:
        self.model, self.path, self.stage, self.verb = model, path, stage, verb
        super().__init__(f"{path} is an output of DVC stage {stage!r}, and model {model} is declared without it",
                         _bind_to_stage(model, path, stage, f"mlver {verb} {model}"))


class DataIsStageOutput(UsageError):
    """`data add` of what a dvc.yaml stage writes: DVC versions it in dvc.lock
    and refuses a .dvc file of its own ("overlaps with an output of stage")."""

    def __init__(self, path: str, stage: str) -> None:
        self.path, self.stage = path, stage
        super().__init__(f"{path} is an output of DVC stage {stage!r}: DVC versions it in dvc.lock, not in a .dvc file",
                         f"reproduce it with `dvc repro {stage}` and commit dvc.lock; a stage model's record "
                         f"names it as data with `mlver model add NAME --stage STAGE --data {path}`")


class NothingToReproduce(UsageError):
    def __init__(self, model: str, label: str, commit: str, config: str) -> None:
        self.model, self.label, self.commit, self.config = model, label, commit, config
        super().__init__(
            f"{config} at the code commit {commit[:12]} of {label} declares no command or stage for {model}",
            f"reproduce runs only what is committed with the code: declare it (`mlver model add {model} --command ...` "
            f"or `--stage ...`), commit, and `mlver run {model}`",
        )


class TrainedByStage(UsageError):
    def __init__(self, model: str, stage: str) -> None:
        self.model, self.stage = model, stage
        super().__init__(f"model {model} is trained by stage {stage}", f"record it with `mlver run {model}`")


class FormatNotLoadable(UsageError):
    def __init__(self, ref: str, format: str, formats: list[str]) -> None:
        self.ref, self.format, self.formats = ref, format, formats
        super().__init__(f"{ref} was saved as {format!r}, which mlver cannot load", f"use one of: {', '.join(formats)}")


class InputAmbiguous(UsageError):
    """A record with several profiled inputs, and no --input to say which one new data stands for."""

    def __init__(self, label: str, inputs: list[str], data: str) -> None:
        self.label, self.inputs, self.data = label, inputs, data
        super().__init__(f"{label} has several profiled inputs ({', '.join(inputs)}); which one is {data}?",
                         "name it with --input PATH")


class NotTabular(DataError):
    def __init__(self, path: str, suffix: str, suffixes: list[str]) -> None:
        self.path, self.suffix, self.suffixes = path, suffix, suffixes
        super().__init__(f"cannot read {path} as a table: unknown suffix {suffix!r}",
                         f"tabular files end in {', '.join(suffixes)}")


class DataUnreadable(DataError):
    """A data file the reader for its format refuses (a malformed CSV, a bad Parquet)."""

    def __init__(self, path: str, what: str, reason: str) -> None:
        self.path, self.what, self.reason = path, what, reason
        super().__init__(f"cannot read {path} as {what}: {reason}",
                         "check the file; until it can be read, mlver versions it by its hash only, with no profile")


# -- usage: mlver.yaml and the files it names ------------------------------


class YamlInvalid(ConfigError):
    """A YAML file mlver reads or edits that is not YAML, or not the shape it must have."""

    def __init__(self, where: str, problem: str) -> None:
        self.where, self.problem = where, problem
        super().__init__(f"{where} {problem}", f"fix {where}")


class YamlEditRefused(ConfigError):
    """An edit that could not be made without changing what the rest of the file means."""

    def __init__(self, where: str, key: str, problem: str) -> None:
        self.where, self.key, self.problem = where, key, problem
        super().__init__(f"{where}: {key} {problem}" if key else f"could not edit {where} safely",
                         f"fix {where}" if key else f"add the entry to {where} by hand")


class ParamsFileMissing(ConfigError):
    def __init__(self, what: str, file: str) -> None:
        self.what, self.file = what, file
        super().__init__(f"{what} file {file} does not exist", f"create {file} or fix the path in mlver.yaml")


class ParamsFileInvalid(ConfigError):
    """A params or metrics file that cannot be read, or does not hold what it must."""

    def __init__(self, what: str, file: str, problem: str) -> None:
        self.what, self.file, self.problem = what, file, problem
        super().__init__(f"{what} file {file} {problem}", f"fix {file}")


class ParamsKeyMissing(ConfigError):
    def __init__(self, file: str, key: str, spec: str) -> None:
        self.file, self.key, self.spec = file, key, spec
        super().__init__(f"params file {file} has no key {key!r}", f"fix the params spec {spec!r} in mlver.yaml")


class MetricNotFinite(ConfigError):
    def __init__(self, file: str, key: str) -> None:
        self.file, self.key = file, key
        super().__init__(f"metric {key} in {file} is not a finite number", f"fix {file}")


class GateNamesUnknown(ConfigError):
    """review.gates names a model or metric nothing records: the gate could never fail."""

    def __init__(self, key: str, what: str, name: str, why: str, known: list[str], known_as: str) -> None:
        self.key, self.what, self.name, self.why, self.known, self.known_as = key, what, name, why, known, known_as
        listed = f" ({known_as}: {', '.join(sorted(known))})" if known else ""
        super().__init__(f"{key} names {what}{name!r}, which {why}{listed}",
                         "fix review.gates in mlver.yaml (see the README's review section)")


class DvcConfigInvalid(ConfigError):
    def __init__(self, detail: str, files: str) -> None:
        self.detail, self.files = detail, files
        super().__init__(f"DVC config is invalid: {detail}", f"fix {files}")


# -- not found -------------------------------------------------------------


class NoDefaultBranch(NotFoundError):
    def __init__(self, purpose: str, hint: str) -> None:
        self.purpose = purpose
        super().__init__(f"there is no default branch (no origin/HEAD, main or master) to {purpose}", hint)


class DataNotFound(NotFoundError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"data {path} does not exist", "check the path")


class InputNotRecorded(NotFoundError):
    def __init__(self, label: str, wanted: str, inputs: list[str]) -> None:
        self.label, self.wanted, self.inputs = label, wanted, inputs
        super().__init__(f"{label} has no data input {wanted!r} (inputs: {', '.join(inputs) or 'none'})",
                         "pass one of the recorded inputs with --input")


class ProfileMissing(NotFoundError):
    """A record that keeps no profile drift could compare new data with."""

    def __init__(self, label: str, path: str, why: str) -> None:
        self.label, self.path, self.why = label, path, why
        if path:
            message = f"the record of {label} keeps no profile of {path} ({why}), so there is nothing to compare with"
            hint = "drift compares tabular data (CSV, TSV, Parquet) recorded with a profile"
        else:
            message = f"{label} keeps no profile of tabular training data ({why})"
            hint = "drift needs a CSV/TSV/Parquet input recorded with a profile; re-record after `mlver data add`"
        super().__init__(message, hint)


# -- conflict --------------------------------------------------------------


class TrackedByGit(ConflictError):
    """A file DVC is asked to track that git tracks already."""

    def __init__(self, what: str, path: str) -> None:
        self.what, self.path = what, path
        super().__init__(f"{what} {path} is tracked by git, so DVC cannot track it",
                         f"stop tracking it in git: `git rm -r --cached {path}` and commit")


class RecordIgnored(ConflictError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"{path} is gitignored, so its record cannot be committed",
                         f"remove the pattern that matches it from .gitignore (`git check-ignore -v {path}`)")


class DeclarationMismatch(ConflictError):
    """The Python API was given other data or paths than mlver.yaml declares for the model."""

    def __init__(self, model: str, what: str, declared: str, given: str, config: str) -> None:
        self.model, self.what, self.declared, self.given, self.config = model, what, declared, given, config
        super().__init__(f"model {model} is declared with {what} {declared}" + (f", not {given}" if given else ""),
                         f"pass the same {what}, or change it in {config}")


class AlreadyInStage(PolicyViolation):
    def __init__(self, label: str, stage: str, model: str) -> None:
        self.label, self.stage, self.model = label, stage, model
        super().__init__(f"{label} already holds stage {stage}", f"see `mlver log {model}`")


class AlreadyDeprecated(PolicyViolation):
    def __init__(self, model: str) -> None:
        self.model = model
        super().__init__(f"{model} is already deprecated", f"see `mlver log {model}`")


class GateMetricMissing(PolicyViolation):
    def __init__(self, stage: str, metric: str, label: str, recorded: list[str]) -> None:
        self.stage, self.metric, self.label, self.recorded = stage, metric, label, recorded
        super().__init__(f"the {stage} gate names metric {metric!r}, which {label} does not record",
                         f"fix policy.gates.{stage} in mlver.yaml (recorded metrics: {', '.join(sorted(recorded)) or 'none'})")


class StageOrderViolated(PolicyViolation):
    def __init__(self, label: str, stage: str, previous: str) -> None:
        self.label, self.stage, self.previous = label, stage, previous
        super().__init__(f"{label} never held stage {previous}, which comes before {stage} in the policy",
                         f"promote it to {previous} first (`mlver promote {label} {previous}`), or pass --force")


class GateNotMet(GateFailed):
    """A promotion whose record fails the stage's gate (a check: exit 1)."""

    def __init__(self, label: str, stage: str, breach: str) -> None:
        self.label, self.stage, self.breach = label, stage, breach
        super().__init__(f"{label} fails the {stage} gate: {breach}", "improve the model, or pass --force to override")


# -- integrity -------------------------------------------------------------


class RecordUnreadable(IntegrityError):
    def __init__(self, model: str, why: str, path: str) -> None:
        self.model, self.why, self.path = model, why, path
        super().__init__(f"the record of {model} {why}", f"restore it from git: `git checkout HEAD -- {path}`, or re-record")


# -- git -------------------------------------------------------------------


class GitMissing(GitError):
    def __init__(self) -> None:
        super().__init__("git is not installed or not on PATH", "install git")


class GitFailed(GitError):
    def __init__(self, command: str, detail: str, hint: str) -> None:
        self.command, self.detail = command, detail
        super().__init__(f"git {command} failed" + (f": {detail}" if detail else ""), hint)


class NoCommits(GitError):
    def __init__(self) -> None:
        super().__init__("the repository has no commit yet",
                         "commit your code first: `git add -A && git commit -m 'initial'`")


# -- storage ---------------------------------------------------------------


class ProfileSpillFailed(StorageError):
    """Profiling a large table keeps column values in a temporary folder, and writing there failed."""

    def __init__(self, folder: str, why: str) -> None:
        self.folder, self.why = folder, why
        super().__init__(f"cannot keep a column's numbers in {folder} while profiling: {why}",
                         "free space there, or point TMPDIR at a disk with room")


class NotARevision(NotFoundError):
    def __init__(self, rev: str) -> None:
        self.rev = rev
        super().__init__(f"{rev!r} is not a git revision", "pass a branch, tag or commit, e.g. HEAD")


class WriteFailed(StorageError):
    """A file mlver writes (a record, a plot) could not be written where it belongs."""

    def __init__(self, path: str, why: str, hint: str) -> None:
        self.path, self.why = path, why
        super().__init__(f"could not write {path}: {why}", hint)


class RemoteAltersData(StorageError):
    """`remote check` read back other bytes than it wrote."""

    def __init__(self, name: str, hint: str) -> None:
        self.name = name
        super().__init__(f"remote {name} returned different bytes than were written", hint)


class UnknownRemote(RemoteError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name, self.known = name, known
        listed = f" (configured: {', '.join(sorted(known))})" if known else ""
        super().__init__(f"unknown remote {name!r}{listed}", "see `mlver remote list`")


class NoDefaultRemote(RemoteError):
    def __init__(self, hint: str) -> None:
        super().__init__("no default remote is configured", hint)


class RemoteOutsideProject(RemoteError):
    def __init__(self, name: str, url: str) -> None:
        self.name, self.url = name, url
        super().__init__(f"remote {name} is a relative path ({url}) outside its project",
                         "give the remote an absolute path or an s3:// URL")


class RemoteNotWritable(RemoteError):
    def __init__(self, label: str, why: str) -> None:
        self.label, self.why = label, why
        super().__init__(f"remote {label} is not writable: {why}",
                         "check the directory's permissions, or set another remote with "
                         "`dvc remote add -d --local NAME PATH`")


class RemoteWriteFailed(RemoteError):
    def __init__(self, what: str, name: str, why: str) -> None:
        self.what, self.name, self.why = what, name, why
        super().__init__(f"could not write {what} to remote {name}: {why}",
                         "check the remote's free space and permissions, then run `mlver push` again")


class RemoteSettingInvalid(RemoteError):
    def __init__(self, name: str, url: str, detail: str) -> None:
        self.name, self.url, self.detail = name, url, detail
        super().__init__(f"remote {name} ({url}) has an invalid setting: {detail}",
                         f"fix it with `dvc remote modify {name} ...` (see `dvc remote modify --help`)")


class RemoteCannotList(RemoteError):
    def __init__(self, label: str, kind: str) -> None:
        self.label, self.kind = label, kind
        super().__init__(f"remote {label} cannot be listed ({kind}:// has no listing)",
                         "collect it where it is served from (e.g. its directory), not over this remote")


class UnsupportedRemote(RemoteError):
    def __init__(self, url: str, kind: str) -> None:
        self.url, self.kind = url, kind
        super().__init__(f"unsupported remote URL {url!r}: DVC has no {kind}:// remote type",
                         "use a URL of a DVC remote type (s3, ssh, azure, gs, http(s), webdav, hdfs, ...) or a directory")


class MalformedUrl(RemoteError):
    """A remote or endpoint URL that cannot be what it says (not s3://, a bucket name S3 forbids)."""

    def __init__(self, what: str, url: str, why: str, example: str) -> None:
        self.what, self.url, self.why, self.example = what, url, why, example
        super().__init__(f"malformed {what} {url!r}" + (f": {why}" if why else ""), f"use {example}")


def _it_has(remotes: list[str]) -> str:
    return f" (it has: {', '.join(remotes)})" if remotes else ""


class RemoteNotShared(RemoteError):
    """A repository pulled from with --repo that does not share the remote asked for in its .dvc/config."""

    def __init__(self, git_url: str, remote: str, shared: list[str]) -> None:
        self.git_url, self.remote, self.shared = git_url, remote, shared
        super().__init__(f"{git_url} shares no remote {remote!r} in .dvc/config"
                         + _it_has(shared),
                         "pick one of its remotes with -r, or give one with --remote-config url=...")


class NoSharedDefault(RemoteError):
    """--repo without -r: neither the record's remote nor a default is in that repository's .dvc/config."""

    def __init__(self, git_url: str, label: str, what: str, remote: str, shared: list[str]) -> None:
        self.git_url, self.label, self.what, self.remote, self.shared = git_url, label, what, remote, shared
        super().__init__(f"{what} of {label} names remote {remote!r}, and {git_url} shares no default remote in "
                         ".dvc/config, at that commit or on its default branch"
                         + _it_has(shared),
                         "pull from one of its remotes with -r NAME, or give one with --remote-config url=...")


class RemoteCannotSign(RemoteError):
    def __init__(self, name: str, kind: str, label: str) -> None:
        self.name, self.kind, self.label = name, kind, label
        super().__init__(f"remote {name} is {kind}, not S3, so it cannot sign an HTTPS URL",
                         f"push to an S3 remote (`mlver push -r NAME`) and ask for its URL with `mlver url {label} -r NAME`")


class DvcFailed(DvcError):
    def __init__(self, action: str, detail: str, hint: str) -> None:
        self.action, self.detail = action, detail
        super().__init__(f"dvc could not {action}" + (f": {detail}" if detail else ""), hint)


class DvcCommandFailed(DvcError):
    def __init__(self, command: str, detail: str) -> None:
        self.command, self.detail = command, detail
        super().__init__(f"{command} failed: {detail}",
                         "run it by hand to see the problem; `dvc status` shows what changed")


class DvcRefusedRemote(DvcError):
    def __init__(self, name: str, detail: str) -> None:
        self.name, self.detail = name, detail
        super().__init__(f"DVC refused the remote {name}: {detail}", "check the URL and options; see `dvc remote add --help`")


# -- not found: objects ----------------------------------------------------


class ObjectNotInRemote(NotFoundError):
    """A content-addressed object a store was asked for and does not hold."""

    def __init__(self, md5: str, store: str) -> None:
        self.md5, self.store = md5, store
        super().__init__(f"object {md5} is not in {store}", "push it first with `mlver push`")


class ObjectMissing(NotFoundError):
    """An object a record or .dvc file names that is in none of the places looked in."""

    def __init__(self, what: str, md5: str, places: list[str], hint: str) -> None:
        self.what, self.md5, self.places = what, md5, places
        where = f"neither in {places[0]} nor in {places[1]}" if len(places) == 2 else f"not in {' or '.join(places)}"
        super().__init__(f"{what} ({md5}) is {where}", hint)


class ObjectsMissing(NotFoundError):
    def __init__(self, sent: int, missing: list[str], remote: str) -> None:
        self.sent, self.missing, self.remote = sent, missing, remote
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        super().__init__(f"sent {sent} objects, but {len(missing)} referenced objects are neither in the "
                         f"local cache nor in remote {remote}: {shown}",
                         "push them from the machine that recorded them with `mlver push`")


class RecordHasNoArtifact(NotFoundError):
    def __init__(self, label: str, model: str) -> None:
        self.label, self.model = label, model
        super().__init__(f"the record of {label} has no artifact hash", f"re-record it with `mlver record {model}`")


# -- usage: what a URL can name --------------------------------------------


class UrlOfDirectory(UsageError):
    def __init__(self, label: str, path: str) -> None:
        self.label, self.path = label, path
        super().__init__(f"{label} is a directory ({path}); a URL names one file", f"pull it with `mlver pull {label}` instead")


# -- conflict: what is in the way ------------------------------------------


class RemoteExists(ConflictError):
    def __init__(self, name: str, url: str) -> None:
        self.name, self.url = name, url
        super().__init__(f"remote {name!r} already exists ({url})", "pass --force to replace it, or pick another name")


class WrongKindInTheWay(ConflictError):
    """A pull whose destination holds a file where a folder goes, or a folder where a file goes."""

    def __init__(self, where: str, path: str, found: str, expected: str) -> None:
        self.where, self.path, self.found, self.expected = where, path, found, expected
        super().__init__(f"{where}: {path} is a {found}, the record says a {expected} goes there",
                         f"move the {found} away, or pull with -o to another place")


class FileInTheWay(ConflictError):
    def __init__(self, where: str, path: str) -> None:
        self.where, self.path = where, path
        super().__init__(f"{where}: cannot write {path}: a file is in the way of its folder",
                         "move that file away, or pull with -o to another place")


# -- integrity: objects ----------------------------------------------------


PUSH_AGAIN = "push a good copy again with `mlver push` from a machine that has it"


class ObjectCorrupt(IntegrityError):
    """Content read from the cache or a remote that does not hash to what names it."""

    def __init__(self, where: str, copy: str, got: str, expected: str, hint: str) -> None:
        self.where, self.copy, self.got, self.expected = where, copy, got, expected
        super().__init__(f"{where}: the {copy} is corrupt" + (f" (md5 {got}, recorded {expected})" if got else ""), hint)


CHANGED_HINT = "the cache copy is corrupt or changed while it was sent: run `dvc status`, then `mlver push` again"


class ObjectChanged(IntegrityError):
    """A file being sent that does not hash to its name (it is corrupt in the cache, or changed meanwhile)."""

    def __init__(self, path: str, got: str, expected: str, hint: str) -> None:
        self.path, self.got, self.expected = path, got, expected
        super().__init__(f"{path} does not hash to its name (md5 {got}, expected {expected}); "
                         "nothing was kept in the remote", hint)
