"""Who stands behind a registry event: signatures checked against a trust
root that lives outside the tree being checked.

The record digest is an unkeyed sha256: it catches an accident or a careless
edit, not someone who can recompute it. Only a signed tag binds a registry
event to a person, and only if the keys it is checked against do not come
from the repository itself (one commit could add a key there). So the trust
root is ``--allowed-signers FILE``, ``$MLVER_ALLOWED_SIGNERS`` or git's own
``gpg.ssh.allowedSignersFile`` (GPG: the user's keyring), and whether
signing is required is decided by the user's git config
(``mlver.requireSignatures``), ``$MLVER_REQUIRE_SIGNATURES``, a flag, or
``signing: true`` in mlver.yaml (the tree's or the default branch's): the
tree can switch checking on, never off.

Every consumer that turns a stage or version into a commit (pull, pull
--repo, url, mlver.sklearn.load, drift) goes through ``resolve_trusted``:
with signing required it folds the registry from verified tags only.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from mlver.adapters import git
from mlver.api._common import load_registry, resolve, resolve_record
from mlver.domain.refs import Ref, parse_ref
from mlver.domain.registry import Event, Registry, fold
from mlver.domain.tags import Action
from mlver.errors import StageNotFound, TagNotTrusted, UnknownModel, VersionNotFound
from mlver.models import Record
from mlver.project import CONFIG, Config, Project, parse_config

REQUIRE_ENV = "MLVER_REQUIRE_SIGNATURES"
SIGNERS_ENV = "MLVER_ALLOWED_SIGNERS"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Trust:
    required: bool
    why: tuple[str, ...]  # what requires signing, for the output
    allowed_signers: str | None  # an SSH allowed-signers file outside the tree (None: git's own setting)
    signers_from: str | None  # where that file was named
    tree_off: bool = False  # mlver.yaml says `signing: false` although something else requires signing


def settings(root: Path, tree: Config | None = None, base: tuple[str, Config] | None = None,
             require: bool = False, allowed_signers: str | None = None) -> Trust:
    """The signing settings; ``tree`` is mlver.yaml of the checkout, ``base``
    (branch, mlver.yaml there) that of the default branch."""
    why = []
    if require:
        why.append("--require-signatures")
    if os.environ.get(REQUIRE_ENV, "").strip().lower() in _TRUE:
        why.append(f"${REQUIRE_ENV}")
    config = git.config_values(root, "mlver.requireSignatures", "gpg.ssh.allowedSignersFile")
    setting = config["mlver.requireSignatures"]
    if setting is not None and setting.strip().lower() not in _FALSE:  # a typo requires signing: fail closed
        why.append("git config mlver.requireSignatures")
    if tree and tree.signing is True:
        why.append(f"signing: true in {CONFIG}")
    elif base and base[1].signing is True:
        why.append(f"signing: true in {CONFIG} on {base[0]}")
    tree_off = bool(why) and tree is not None and tree.signing is False
    signers, source = allowed_signers, "--allowed-signers" if allowed_signers else None
    if not signers and os.environ.get(SIGNERS_ENV):
        signers, source = os.environ[SIGNERS_ENV], f"${SIGNERS_ENV}"
    if signers:
        signers = str(Path(signers).expanduser().resolve())
    elif config["gpg.ssh.allowedSignersFile"]:
        source = "git config gpg.ssh.allowedSignersFile"  # git reads it itself, with its own path rules
    return Trust(bool(why), tuple(why), signers, source, tree_off)


def base_config(project: Project) -> tuple[str, Config] | None:
    """mlver.yaml on the default branch: what a branch under review cannot change."""
    branch = git.default_branch(project.root)
    content = git.read_blob(project.root, branch, CONFIG) if branch else None
    if not branch or not content:
        return None
    return branch, parse_config(content, f"{CONFIG} on {branch}")


def project_trust(project: Project, require: bool = False, allowed_signers: str | None = None) -> Trust:
    return settings(project.root, project.config, base_config(project), require, allowed_signers)


def signs(project: Project) -> bool:
    """Whether the registry tags mlver writes here are signed (``git tag -s``)."""
    return project_trust(project).required


def check(root: Path, events: Iterable[Event], trust: Trust) -> dict[str, git.TagSignature]:
    """Each event's tag verified against the trust root."""
    return git.verify_tags(root, [e.name for e in events], trust.allowed_signers)


def signers(project: Project, events: Iterable[Event]) -> dict[str, str] | None:
    """Tag name -> the principal that signed it ("" when it does not verify);
    None when signing is not required here (then nothing is checked)."""
    signing = project_trust(project)
    if not signing.required:
        return None
    return {name: s.principal or "" if s.ok else "" for name, s in check(project.root, events, signing).items()}


def untrusted_answer(ref: Ref, full: Registry, signatures: Mapping[str, git.TagSignature]) -> TagNotTrusted | None:
    """The error to give when ``ref`` resolves in the full registry but not in
    its verified part: names the tag it would have resolved through."""
    state = full.model(ref.model)
    if state is None:
        return None
    tag = None
    if ref.version and ref.version in state.versions:
        tag = state.versions[ref.version].name
    elif ref.stage and (held := state.stages.get(ref.stage)):
        assigned = [e for e in state.events if e.tag.stage == ref.stage and e.tag.action is Action.ASSIGN
                    and (state.version_of(e.commit) or e.commit) == held]
        tag = max(assigned, key=lambda e: e.order).name if assigned else None
        if tag and signatures.get(tag, git.TagSignature(True, None, "")).ok and held in state.versions:
            tag = state.versions[held].name  # the stage tag is good; the version tag it names is not
    elif not ref.stage and not ref.version and (latest := state.latest()):
        tag = state.versions[latest].name
    if tag is None:
        return None
    signature = signatures.get(tag)
    return TagNotTrusted(str(ref), tag, signature.detail if signature else "not checked")


def _relevant(events: list[Event], ref: Ref) -> list[Event]:
    """The tags that can change what ``ref`` resolves to: only they are verified
    (about 10 ms each), so a stage does not pay for every other stage's history."""
    if ref.version:
        return [e for e in events if e.tag.version == ref.version]
    if ref.stage:
        staged = [e for e in events if e.tag.stage == ref.stage]
        state = fold(events).model(ref.model)
        there = {v for e in staged for v in (state.by_commit.get(e.commit, ()) if state else ())}
        return staged + [e for e in events if e.tag.version in there]
    return [e for e in events if e.tag.action in (Action.REGISTER, Action.DEREGISTER)]


def verified_fold(root: Path, events: list[Event], ref: Ref, trust: Trust) -> tuple[Registry, TagNotTrusted | None]:
    """The registry folded from the verified tags that decide ``ref`` (a
    version needs only its own tags checked), and the refusal to give when
    it does not answer ``ref`` but the full registry does (None: nothing to
    refuse). Local resolving and ``pull --repo`` both fold through here."""
    relevant = _relevant(events, ref)
    signatures = check(root, relevant, trust)
    return fold([e for e in relevant if signatures[e.name].ok]), untrusted_answer(ref, fold(events), signatures)


def resolve_trusted(project: Project, text: str | Ref, registry: Registry | None = None) -> tuple[Ref, str, str | None]:
    """``resolve``, but with signing required only through verified tags:
    an unsigned stage, version or deregistration tag is ignored, and a
    reference that only an unverified tag answers is refused (TagNotTrusted)."""
    ref = parse_ref(text) if isinstance(text, str) else text
    trust = project_trust(project)
    if not trust.required or ref.rev:
        return resolve(project, ref, registry)  # a git revision names a commit itself, no tag vouches for it
    events = load_registry(project, ref.model, detail=True).model(ref.model)
    if events is None:
        return resolve(project, ref)  # no registry tags at all: NAME is the record at HEAD, as without signing
    trusted, refusal = verified_fold(project.root, list(events.events), ref, trust)
    try:
        parsed, commit, version = resolve(project, ref, trusted)
    except (StageNotFound, VersionNotFound, UnknownModel):
        if refusal:
            raise refusal from None
        raise
    state = trusted.model(ref.model)
    if not ref.stage and not ref.version and version is None and (state is None or not state.latest()) and refusal:
        raise refusal  # every version is unverified: do not fall back to HEAD's record
    return parsed, commit, version


def resolve_record_trusted(project: Project, text: str | Ref) -> tuple[Ref, Record, str | None]:
    """``resolve_record`` through ``resolve_trusted``."""
    return resolve_record(project, text, resolver=resolve_trusted)


def remote_trust() -> Trust:
    """Signing settings for a repository that is not checked out (pull --repo):
    the user's own git config and environment only."""
    return settings(Path.home() if Path.home().is_dir() else Path("/"))


def unsigned_reason(project: Project, tag: str | None, ref: str | None = None, commit: str | None = None) -> str | None:
    """Why, with signing required, ``tag`` (the version ``ref`` resolved to,
    at ``commit``) is not vouched for by verified tags; None when it is, or
    when signing is not required. For consumers that refuse rather than
    resolve around an unverified tag (loading a pickle runs its code)."""
    signing = project_trust(project)
    if not signing.required:
        return None
    if tag is None:
        return "it is not a released version, so no signed tag vouches for it"
    if not git.verify_tags(project.root, [tag], signing.allowed_signers)[tag].ok:
        return f"its tag {tag} is not signed, or not by an allowed signer"
    if ref is not None and commit is not None:
        try:
            _, trusted_commit, _ = resolve_trusted(project, ref)
        except TagNotTrusted as exc:
            return exc.message
        if trusted_commit != commit:
            return f"{ref} names {tag} only through a tag that is not signed by an allowed signer"
    return None
