"""What verify says of versions with no mlver record (GTO, Studio, by hand):
the note for each, and the remote its commit pushed its objects to."""
from __future__ import annotations

from mlver.adapters import git
from mlver.domain import record as rec
from mlver.models import Record
from mlver.project import Project


def derived_lineage(project: Project, model: str, commit: str, labels: list[str],
                    offline: bool = False) -> tuple[Record | None, str]:
    """(derived lineage or None, the note saying so) for tags with no mlver record."""
    from mlver.api.derived import derive_record

    record = derive_record(project, model, commit)
    md5 = (record.doc["artifact"].get("md5") if record else None)
    in_git = bool(record and rec.artifact_in_git(record.doc))
    what = ("its artifact is committed to git there, so no remote holds it" if in_git
            else "its artifact object is checked in the remote" if md5 and not offline
            else "its artifact object is not checked (--offline)" if md5
            else "its commit names no DVC hash for the artifact, so nothing can be checked in the remote")
    return record, (f"{', '.join(labels)}: no lineage record (made by GTO or by hand); the tag points at commit "
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
    from mlver.adapters import dvc

    asked = dvc.remotes(project.root)[0].get(remote_name)
    here = asked.url.rstrip("/") if asked else None
    return {spec: (name, url) for spec, (name, url) in shared.items() if url.rstrip("/") != here}
