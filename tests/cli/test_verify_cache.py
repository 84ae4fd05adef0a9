"""verify's caches (facts by object id, the kept verdict) are never stale:
after a tag is added, moved or deleted, a record rewritten, a branch rewound
or an object replaced, a warm verify says what a cold one says. GIT_TRACE
shows the warm runs really skip the record reads."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import Project


def _verify(p: Project, trace: Path | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[dict[str, str], list[str]]:
    """(findings by ref, the git commands it ran), with the caches as they are."""
    if trace is not None and monkeypatch is not None:
        trace.unlink(missing_ok=True)
        monkeypatch.setenv("GIT_TRACE", str(trace))
    run = p.mlver("verify", "--offline", "--json")
    if monkeypatch is not None:
        monkeypatch.delenv("GIT_TRACE", raising=False)
    assert run.exit_code in (0, 1), run.stdout + run.stderr
    found: dict[str, str] = {}
    for f in run.json()["findings"]:
        found[f["ref"]] = (found[f["ref"]] + " | " if f["ref"] in found else "") + f["problem"]
    commands = [line.split("trace: built-in: ", 1)[1] for line in trace.read_text().splitlines()
                if "trace: built-in: " in line] if trace is not None and trace.exists() else []
    return found, commands


def _same_cold(p: Project) -> dict[str, str]:
    """The findings of a verify that keeps only the facts cache (the kept
    verdict removed), checked equal to one with every cache removed."""
    (p.root / ".git/mlver/cache/verdict.json").unlink(missing_ok=True)
    facts = _verify(p)[0]
    subprocess.run(["rm", "-rf", str(p.root / ".git/mlver/cache")], check=True)
    cold = _verify(p)[0]
    assert facts == cold
    return cold


def _tag(p: Project, name: str, target: str, message: str) -> None:
    subprocess.run(["git", "tag", "-f", "-a", name, "-m", message, target], cwd=p.root, check=True, capture_output=True)


def test_warm_verify_is_never_stale(released_twice: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    two = released_twice
    trace = tmp_path / "trace"
    found, cold = _verify(two, trace, monkeypatch)
    assert found == {}
    found, warm = _verify(two, trace, monkeypatch)
    assert found == {}
    # The kept verdict: no tag, record or commit is read (one blob is: the
    # signing settings of the default branch), no history walked.
    batches = [c for c in warm if c.startswith("git cat-file --batch")]
    assert len(batches) == 1 < len([c for c in cold if c.startswith("git cat-file --batch")]), (cold, warm)
    assert not [c for c in warm if c.startswith(("git log", "git rev-list"))], warm
    assert (two.root / ".git/mlver/cache/facts.json").is_file()
    digest2 = json.loads(two.git("show", "churn@v0.2.0:.mlver/records/churn.json"))["digest"]
    v1 = two.git("rev-parse", "churn@v0.1.0^{}").strip()

    # A tag added: a stage tag promising v0.2.0's record on v0.1.0's commit.
    _tag(two, "churn#prod#7", v1, f"Assigning stage prod\n\nmlver-digest: {digest2}")
    found = _verify(two)[0]
    assert list(found) == ["churn#prod#7"] and "it was moved or re-made" in found["churn#prod#7"]
    assert found == _same_cold(two)
    # Deleted again: clean, warm and cold.
    two.git("tag", "-d", "churn#prod#7")
    assert _verify(two)[0] == {} == _same_cold(two)

    # A version tag moved to another commit with its old message.
    original = two.git("rev-parse", "refs/tags/churn@v0.2.0").strip()
    _tag(two, "churn@v0.2.0", v1, two.git("tag", "-l", "--format=%(contents)", "churn@v0.2.0"))
    found = _verify(two)[0]
    assert "it was moved or re-made" in found["churn@v0.2.0"] and "changed since this clone" in found["churn@v0.2.0"]
    two.git("update-ref", "refs/tags/churn@v0.2.0", original)
    assert _verify(two)[0] == {}

    # The record rewritten by a new commit (re-sealed with a parent that never was), then rewound.
    from mlver.domain import record as rec

    path = two.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    doc["parent"]["digest"] = "sha256:" + "0" * 64
    path.write_text(rec.dumps(rec.seal(doc)))
    two.commit_all("rewrite the record")
    found, commands = _verify(two, trace, monkeypatch)
    assert any("parent record is missing or differs" in problem for problem in found.values())
    assert found == _same_cold(two)
    two.git("reset", "-q", "--hard", "HEAD~1")
    assert _verify(two)[0] == {}

    # An object replaced (git replace): what every commit holds changes without
    # any id changing, so nothing cached before may answer.
    v2 = two.git("rev-parse", "churn@v0.2.0^{}").strip()
    two.git("replace", v2, v1)
    found = _verify(two)[0]
    assert "it was moved or re-made" in found.get("churn@v0.2.0", ""), found
    assert found == _same_cold(two)
    two.git("replace", "-d", v2)
    assert _verify(two)[0] == {}


def test_a_crafted_record_is_read_again_every_time(released_twice: Project) -> None:
    two = released_twice
    """A record that fails its checks is never kept as a fact: each verify
    reads it and names the commit it is at, wherever it is reached from."""
    path = two.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    doc["params"] = "not an object"
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    two.commit_all("crafted")
    for _ in range(2):
        head = two.git("rev-parse", "HEAD").strip()
        found = _verify(two)[0]
        assert any(f"at {head[:12]}" in problem for problem in found.get("churn (HEAD)", "").split(" | ")), found
        two.write("notes.txt", head)  # the same record blob, now at another commit
        two.commit_all("another commit")


def test_metrics_a_stage_needs_are_read_when_the_cache_did_not_keep_them(released_twice: Project) -> None:
    """A record's metrics are kept only where a stage was assigned; a stage
    given later to another version's record reads that record again, so its
    gate is judged on its metrics, not on none."""
    import yaml

    two = released_twice
    assert _verify(two)[0] == {}
    v1 = two.git("rev-parse", "churn@v0.1.0^{}").strip()
    blob = two.git("rev-parse", f"{v1}:.mlver/records/churn.json").strip()
    rows = [line for line in (two.root / ".git/mlver/cache/facts.json").read_text().splitlines()
            if line.startswith(f"b\t{blob}\t")]
    assert rows and "\t" not in rows[0].split("\t", 2)[2]  # v0.1.0's record: kept without its metrics
    config = yaml.safe_load((two.root / "mlver.yaml").read_text())
    config["policy"] = {"gates": {"prod": {"accuracy": {"min": 0.52}}}}
    two.write("mlver.yaml", yaml.safe_dump(config))
    two.commit_all("a gate")
    _tag(two, "churn#prod#2", v1, "Assigning stage prod")
    found = _verify(two)[0]
    assert "gate accuracy 0.5102 < min 0.52" in found.get("churn#prod#2", ""), found
    assert found == _same_cold(two)


def test_damaged_fact_lines_are_read_again(released_twice: Project) -> None:
    """A facts file cut short, or with lines this code did not write, gives
    the verdict a cold verify gives: a record edited after it was sealed is
    still found, whatever its line says."""
    two = released_twice
    path = two.root / ".mlver/records/churn.json"
    from mlver.domain import record as rec

    doc = json.loads(path.read_text())
    doc["created"] = "2020-01-01T00:00:00Z"
    path.write_text(rec.dumps(doc))  # (not re-sealed)
    two.commit_all("edited by hand")
    cold = _verify(two)[0]
    assert "does not match its digest" in cold["churn (HEAD)"]
    facts = two.root / ".git/mlver/cache/facts.json"
    lines = facts.read_text().splitlines(keepends=True)
    header, blobs = lines[0], [line.split("\t")[1] for line in lines if line.startswith("b\t")]
    assert len(blobs) == 3
    damaged = ["1 sha256:" + "0" * 64, "1 x = - - a - -", "0 sha256:" + "0" * 64 + " = - - a - notanumber",
               "[1, 2", "2 sha256:" + "0" * 64 + " = - - a - -", "1 sha256:" + "0" * 64 + " = - - a - 5\t[1]"]
    for bad in damaged:
        facts.write_text(header + "".join(line for line in lines if not line.startswith("b\t"))
                         + "".join(f"b\t{b}\t{bad}\n" for b in blobs))
        (two.root / ".git/mlver/cache/verdict.json").unlink(missing_ok=True)
        assert _verify(two)[0] == cold, bad
    facts.write_text("".join(lines)[:-7])  # cut short in its last line
    (two.root / ".git/mlver/cache/verdict.json").unlink(missing_ok=True)
    assert _verify(two)[0] == cold


def test_a_record_edited_in_the_middle_of_history_is_caught_cold_and_kept(released_twice: Project) -> None:
    """A version whose record was edited (its digest left as it was) and then
    buried under later good commits: found on a first run (tag objects read
    ahead, history walks started while they are parsed), and found again on
    a run that keeps the facts (a tag added since), never cached as intact."""
    p = released_twice
    path = p.root / ".mlver/records/churn.json"
    good = path.read_text()
    doc = json.loads(good)
    doc["metrics"]["accuracy"] = 0.99  # (the declared digest is kept: the content no longer has it)
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    p.commit_all("better numbers")
    message = p.git("tag", "-l", "--format=%(contents)", "churn@v0.2.0").replace("v0.2.0", "v0.3.0")
    _tag(p, "churn@v0.3.0", "HEAD", message)
    path.write_text(good)
    p.commit_all("back to the recorded numbers")
    subprocess.run(["rm", "-rf", str(p.root / ".git/mlver")], check=True)
    first = _verify(p)[0]
    assert "edited after it was written" in first.get("churn@v0.3.0", ""), first
    assert "churn (HEAD)" not in first
    _tag(p, "churn#staging#9", "churn@v0.1.0", "staging, by hand")
    (p.root / ".git/mlver/cache/verdict.json").unlink(missing_ok=True)
    kept = _verify(p)[0]
    assert kept.get("churn@v0.3.0") == first["churn@v0.3.0"]
    assert kept == _same_cold(p)
