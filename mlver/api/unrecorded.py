"""What verify says of versions with no mlver record (GTO, Studio, by hand):
the note for each, and the remote its commit pushed its objects to."""
from __future__ import annotations

from collections.abc import Callable, Mapping

from mlver.adapters import git
from mlver.domain import record as rec
from mlver.models import Record
from mlver.project import Project


def derived_lineage(project: Project, model: str, commit: str) -> Record | None:
    """Lineage derived from ``commit`` for a version with no mlver record (None: nothing to derive it from)."""
    from mlver.api.derived import derive_record

    return derive_record(project, model, commit)


def derived_note(labels: list[str], commit: str, record: Record | None, offline: bool = False,
                 elsewhere: tuple[str, tuple[str, str], list[str]] | None = None) -> str:
    """What verify says of tags with no mlver record. ``elsewhere``: (the
    remote asked, the (name, url) their commit shares, the paths not in the
    one asked): those are that remote's to keep, and were not checked."""
    md5 = (record.doc["artifact"].get("md5") if record else None)
    in_git = bool(record and rec.artifact_in_git(record.doc))
    artifact = record.doc["artifact"].get("path") if record else None
    what = ("its artifact is committed to git there, so no remote holds it" if in_git
            else "its artifact object is checked in the remote" if md5 and not offline
            else "its artifact object is not checked (--offline)" if md5
            else "its commit names no DVC hash for the artifact, so nothing can be checked in the remote")
    if elsewhere is not None:
        asked, (name, url), paths = elsewhere
        kept = (f"{', '.join(paths)}: not in remote {asked}; its commit keeps its objects in remote {name} ({url}), "
                "which verify did not ask: not checked")
        what = kept if artifact in paths or not md5 else f"{what}; {kept}"
    return (f"{', '.join(labels)}: no lineage record (made by GTO or by hand); the tag points at commit "
            f"{commit[:12]}, lineage derived from it: {what}")


def commit_remote(project: Project, commit: str) -> tuple[str, str] | None:
    """(name, url) of the default remote ``.dvc/config`` shares at ``commit``:
    where whoever made a version there pushed its objects."""
    from mlver.adapters import dvc

    text = git.read_blob_bounded(project.root, commit, ".dvc/config")  # (one past any real size: no remote named)
    remotes, default = dvc.remotes_in_text(text.decode(errors="replace")) if isinstance(text, bytes) else ({}, None)
    return (default, remotes[default].url) if default and default in remotes else None


def kept_elsewhere(project: Project, remote_name: str, shared: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """The specs of derived lineage whose commit shares a default remote other
    than the one asked (by URL): an object missing here is where that commit
    pushed it (example-get-started's public remote), not lost."""
    if not shared:
        return {}
    here = _url(project, remote_name)
    return {spec: (name, url) for spec, (name, url) in shared.items() if url.rstrip("/") != here}


def elsewhere_of(project: Project, remote_name: str, commits: Mapping[str, str]) -> Callable[[str], tuple[str, str] | None]:
    """``kept_elsewhere`` of one spec of derived lineage at a time (``commits``:
    spec -> its commit), each commit's ``.dvc/config`` read when first asked:
    verify asks only for a version with an object missing from the remote."""
    found: dict[str, tuple[str, str] | None] = {}
    here: list[str | None] = []

    def of(spec: str) -> tuple[str, str] | None:
        commit = commits.get(spec)
        if commit is None:
            return None
        if commit not in found:
            shared = commit_remote(project, commit)
            if shared and not here:
                here.append(_url(project, remote_name))
            found[commit] = shared if shared and shared[1].rstrip("/") != here[0] else None
        return found[commit]

    return of


def _url(project: Project, remote_name: str) -> str | None:
    from mlver.adapters import dvc

    asked = dvc.remotes(project.root)[0].get(remote_name)
    return asked.url.rstrip("/") if asked else None
