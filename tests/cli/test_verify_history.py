"""verify replays the registry's history without signatures: hand-made stage
tags that skip the policy, tags dated in the future or out of counter order,
and version tags re-made on a re-sealed record. One test per attack."""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
import yaml

from conftest import Project

POLICY = {"stages": ["dev", "staging", "prod"], "gates": {"prod": {"accuracy": {"min": 0.52}}}}


def _findings(p: Project, *args: str) -> dict[str, str]:
    run = p.mlver("verify", "--offline", "--json", *args)
    assert run.exit_code == 1, run.stdout + run.stderr
    found: dict[str, str] = {}
    for f in run.json()["findings"]:
        found[f["ref"]] = (found[f["ref"]] + " | " if f["ref"] in found else "") + f["problem"]
    return found


def _hand_tag(p: Project, tag: str, target: str, message: str, date: str | None = None) -> None:
    """``git tag -a`` (replacing a tag of that name), dated ``date`` when given."""
    env = {**os.environ, **({"GIT_COMMITTER_DATE": date} if date else {})}
    subprocess.run(["git", "tag", "-f", "-a", tag, "-m", message, target], cwd=p.root, check=True, env=env, capture_output=True)


def _in(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))


@pytest.fixture
def two(trained: Project) -> Project:
    """churn v0.1.0 (accuracy 0.5102) and v0.2.0 (0.5202)."""
    trained.set_params(lr=0.2)
    trained.commit_all("lr 0.2")
    trained.ok("run", "churn")
    trained.ok("release", "churn")
    return trained


def test_hand_made_stage_tag_that_skips_the_policy(two: Project) -> None:
    config = yaml.safe_load((two.root / "mlver.yaml").read_text())
    config["policy"] = POLICY
    two.write("mlver.yaml", yaml.safe_dump(config))
    two.commit_all("policy")
    two.ok("promote", "churn@v0.2.0", "dev")
    assert two.ok("verify", "--offline").stdout.startswith("OK")
    # The attack: prod given by hand, past staging and below the prod gate, saying nothing.
    _hand_tag(two, "churn#prod#2", "churn@v0.1.0^{}", "Assigning stage prod to artifact churn version v0.1.0")
    found = _findings(two)
    assert found == {"churn#prod#2": "it gives prod to v0.1.0 outside the policy (skipped staging; "
                                     "gate accuracy 0.5102 < min 0.52) and carries no --force note"}
    # The policy comes from the default branch: a branch that drops it does not excuse the tag.
    two.git("checkout", "-q", "-b", "loose")
    del config["policy"]
    two.write("mlver.yaml", yaml.safe_dump(config))
    two.commit_all("no policy")
    assert set(_findings(two)) == {"churn#prod#2"}
    two.git("checkout", "-q", "main")
    # A stage the policy does not know, by hand.
    _hand_tag(two, "churn#qa#3", "churn@v0.2.0^{}", "Assigning stage qa")
    assert "stage qa is not in the policy" in _findings(two)["churn#qa#3"]
    two.git("tag", "-d", "churn#prod#2", "churn#qa#3")
    # What promote --force writes is in the open: verify accepts it, log says "forced".
    forced = two.ok("promote", "churn@v0.2.0", "prod", "--force", "--json").json()["tag"]
    # A hand-made tag that says what it overrode is "forced" too.
    _hand_tag(two, "churn#staging#4", "churn@v0.1.0^{}", "Assigning stage staging\n\nmlver-forced: skipped dev")
    assert two.ok("verify", "--offline").stdout.startswith("OK")
    notes = {e["tag"]: e["note"] for e in two.ok("log", "churn", "--json").json() if e["tag"]}
    assert notes[forced] == "forced: skipped staging"
    assert notes["churn#staging#4"] == "forced: skipped dev"
    # A "rollback" to a version that never held the stage is judged like any assignment.
    _hand_tag(two, "churn#prod#5", "churn@v0.1.0^{}", "Assigning stage prod\n\nmlver-rollback-from: v0.2.0")
    assert "(gate accuracy 0.5102 < min 0.52)" in _findings(two)["churn#prod#5"]


def test_a_policy_merged_into_the_default_branch_is_the_policy(two: Project) -> None:
    """A first verify reads mlver.yaml's history on the default branch from its one walk of the
    branches where that history has no merge; a policy that came in by a merge is git log's to
    find (its simplification follows the branch that brought it, which a walk of first parents misses)."""
    import shutil

    two.git("checkout", "-q", "-b", "policy")
    config = yaml.safe_load((two.root / "mlver.yaml").read_text())
    config["policy"] = POLICY
    two.write("mlver.yaml", yaml.safe_dump(config))
    two.commit_all("policy")
    two.git("checkout", "-q", "main")
    two.write("notes.txt", "main moves on\n")
    two.commit_all("main moves on")
    two.git("merge", "-q", "--no-ff", "--no-edit", "policy")
    two.git("branch", "-q", "-D", "policy")
    two.ok("promote", "churn@v0.2.0", "dev")
    _hand_tag(two, "churn#prod#2", "churn@v0.1.0^{}", "Assigning stage prod to artifact churn version v0.1.0")
    shutil.rmtree(two.root / ".git" / "mlver")  # nothing kept: the first verify's walks
    assert _findings(two) == {"churn#prod#2": "it gives prod to v0.1.0 outside the policy (skipped staging; "
                                              "gate accuracy 0.5102 < min 0.52) and carries no --force note"}


def test_policy_tightened_later_does_not_condemn_older_promotions(two: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    config = yaml.safe_load((two.root / "mlver.yaml").read_text())
    config["policy"] = {"gates": {"prod": {"accuracy": {"min": 0.5}}}}
    two.write("mlver.yaml", yaml.safe_dump(config))
    two.commit_all("a lenient gate")
    monkeypatch.setenv("GIT_COMMITTER_DATE", _in(10))
    two.ok("promote", "churn@v0.1.0", "prod")  # 0.5102 passes min 0.5
    config["policy"]["gates"]["prod"]["accuracy"]["min"] = 0.52
    two.write("mlver.yaml", yaml.safe_dump(config))
    monkeypatch.setenv("GIT_AUTHOR_DATE", _in(20))
    two.commit_all("a stricter gate")
    assert two.ok("verify", "--offline").stdout.startswith("OK")
    # Under today's gate, the same assignment by hand is out of policy.
    _hand_tag(two, "churn#prod#2", "churn@v0.1.0^{}", "Assigning stage prod", date=_in(30))
    assert "gate accuracy 0.5102 < min 0.52" in _findings(two)["churn#prod#2"]


def test_future_dated_stage_tag_pins_the_stage(two: Project) -> None:
    two.ok("promote", "churn@v0.1.0", "prod")
    # The attack: a stage tag dated 2099 keeps prod on v0.1.0 whatever comes later.
    _hand_tag(two, "churn#prod#2", "churn@v0.1.0^{}", "Assigning stage prod", date="2099-01-01T00:00:00Z")
    run = two.fails("promote", "churn@v0.2.0", "prod", "--force")  # no "is now in prod": exit 2, its own tag taken back
    assert "churn@v0.2.0 did not get stage prod: it stays with v0.1.0, because tag churn#prod#2 is dated 2099-01-01" in run.stderr
    assert "git tag -d churn#prod#2" in run.stderr
    assert "in the future" in _findings(two)["churn#prod#2"]
    assert "in the future" in _findings(two, "churn@v0.1.0")["churn#prod#2"]  # verify REF replays the history too
    assert two.ok("verify", "churn@v0.2.0", "--offline").stdout.startswith("OK")  # ...and reports only that version's tags
    two.git("tag", "-d", "churn#prod#2")
    assert two.ok("promote", "churn@v0.2.0", "prod", "--json").json()["tag"] == "churn#prod#2"
    assert two.ok("ls", "--json").json()[0]["stages"] == {"prod": "v0.2.0"}
    # The same holds for an un-assignment and a rollback.
    _hand_tag(two, "churn#prod#3", "churn@v0.2.0^{}", "Assigning stage prod", date="2099-01-01T00:00:00Z")
    assert "churn#prod#3 is dated 2099" in two.fails("deprecate", "churn#prod").stderr
    assert "churn#prod#3 is dated 2099" in two.fails("rollback", "churn", "prod").stderr


def test_stage_tag_in_the_same_second_is_not_called_later(two: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    # A hand-made prod tag and mlver's own in one second: GTO's tie rule gives the
    # stage to the version registered first, so the new tag loses without being earlier.
    when = "2099-01-01T00:00:00Z"
    _hand_tag(two, "churn#prod#1", "churn@v0.1.0^{}", "Assigning stage prod", date=when)
    monkeypatch.setenv("GIT_COMMITTER_DATE", when)  # dates the tag mlver writes
    run = two.fails("promote", "churn@v0.2.0", "prod", "--force")
    assert "it stays with v0.1.0, because tag churn#prod#1 is dated 2099-01-01T00:00:00Z, not before the new assignment" in run.stderr
    assert "later than" not in run.stderr
    assert two.git("tag", "-l", "churn#prod#*").split() == ["churn#prod#1"]  # its own tag taken back


def test_stage_tag_out_of_counter_order(two: Project) -> None:
    two.ok("promote", "churn@v0.1.0", "prod")
    two.ok("promote", "churn@v0.2.0", "dev")
    # The attack: a tag with a low counter made later (by hand: mlver counts up), a minute ahead.
    _hand_tag(two, "churn#staging#1", "churn@v0.2.0^{}", "Assigning stage staging", date=_in(60))
    found = _findings(two)
    assert list(found) == ["churn#staging#1"] and "counter #1 is out of order" in found["churn#staging#1"]


def test_version_tag_force_moved_to_a_resealed_record(two: Project) -> None:
    from mlver.domain import record as rec

    # The attack: a new commit with a re-sealed record (better metrics), and
    # churn@v0.1.0 re-made on it with the new digest in a new message.
    path = two.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    doc["metrics"]["accuracy"] = 0.99
    path.write_text(rec.dumps(rec.seal(doc)))
    commit = two.commit_all("better numbers")
    digest = json.loads(path.read_text())["digest"]
    message = f"Registering artifact churn version v0.1.0\n\nmlver-record: .mlver/records/churn.json\nmlver-digest: {digest}\n"
    _hand_tag(two, "churn@v0.1.0", commit, message, date=_in(2))  # made after v0.2.0, as an attack is
    found = _findings(two)
    assert "mlver never releases below an existing version, so this tag was re-made or moved" in found["churn@v0.1.0"]
    # Forging the tag's date back to the original release does not hide it: the tag predates its commit.
    _hand_tag(two, "churn@v0.1.0", commit, message, date="2026-01-01T00:00:00Z")
    found = _findings(two)
    assert "before its commit" in found["churn@v0.1.0"]
    # What verify cannot prove without signing, it says.
    assert "cannot prove who made a tag" in two.mlver("verify", "--offline").stderr


def test_version_tag_moved_to_a_commit_no_branch_holds(two: Project) -> None:
    from mlver.domain import record as rec

    # The attack: the re-sealed record goes on a detached commit that only the moved tag reaches.
    two.git("checkout", "-q", "--detach")
    path = two.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    doc["metrics"]["accuracy"] = 0.99
    path.write_text(rec.dumps(rec.seal(doc)))
    commit = two.commit_all("better numbers")
    digest = json.loads(path.read_text())["digest"]
    _hand_tag(two, "churn@v0.2.0", commit, f"Registering artifact churn version v0.2.0\n\nmlver-digest: {digest}\n")
    two.git("checkout", "-q", "main")
    found = _findings(two)
    assert "was never on any branch" in found["churn@v0.2.0"]


def test_version_tag_that_disappeared_or_changed(two: Project) -> None:
    assert two.ok("verify", "--offline").stdout.startswith("OK")  # this clone now knows v0.1.0 and v0.2.0
    original = two.git("rev-parse", "refs/tags/churn@v0.1.0").strip()
    # The attack: a released version's tag is deleted (the record it named stays in history).
    two.git("tag", "-d", "churn@v0.1.0")
    found = _findings(two)
    assert list(found) == ["churn@v0.1.0"] and "disappeared since this clone last verified it" in found["churn@v0.1.0"]
    # ...or re-made elsewhere with its old message: changed, whatever its digest says.
    message = two.git("tag", "-l", "--format=%(contents)", "churn@v0.2.0")
    _hand_tag(two, "churn@v0.1.0", "churn@v0.2.0^{}", message.replace("v0.2.0", "v0.1.0"))
    found = _findings(two)
    assert "changed since this clone last verified it" in found["churn@v0.1.0"]
    # Put back as it was: nothing to report.
    two.git("update-ref", "refs/tags/churn@v0.1.0", original)
    assert two.ok("verify", "--offline").stdout.startswith("OK")


def test_a_first_verifys_shortcuts_find_what_the_general_way_finds(two: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """orjson's parse and encoding (the digest), records passed at a glance (their rows and cache lines) and the one walk of
    the branches, against json's scanner, the field-by-field rules and rev-list with git log: the
    same findings, word for word, on a registry with a record edited after sealing, a version tag
    moved to another record, a stage tag outside the policy and one dated in the future."""
    import shutil

    from mlver.adapters import git
    from mlver.domain import record as rec
    from mlver.domain import validate

    config = yaml.safe_load((two.root / "mlver.yaml").read_text())
    config["policy"] = POLICY
    two.write("mlver.yaml", yaml.safe_dump(config))
    two.commit_all("policy")
    two.ok("promote", "churn@v0.2.0", "dev")
    _hand_tag(two, "churn#prod#2", "churn@v0.1.0^{}", "Assigning stage prod to artifact churn version v0.1.0")
    _hand_tag(two, "churn#staging#3", "churn@v0.2.0^{}", "Assigning stage staging", date=_in(10 * 86400))
    moved = two.git("cat-file", "-p", "churn@v0.1.0").split("\n\n", 1)[1]
    path = two.root / ".mlver" / "records" / "churn.json"
    doc = json.loads(path.read_text())
    doc["metrics"] = {**doc["metrics"], "accuracy": 0.99}  # edited after it was sealed
    path.write_text(rec.dumps(doc))
    two.commit_all("a better number")
    _hand_tag(two, "churn@v0.1.0", "HEAD", moved)

    def first_run() -> dict[str, str]:
        shutil.rmtree(two.root / ".git" / "mlver", ignore_errors=True)
        return _findings(two)

    fast = first_run()
    with monkeypatch.context() as m:
        m.setattr(rec, "_fast", [None])  # json's scanner only, and no orjson encoding for the digest
        m.setattr(validate, "_TABLES", {})  # no record passes at a glance
        m.setattr(git, "branch_walk_ahead", lambda root, path, tip: lambda: None)  # rev-list, git log
        general = first_run()
    assert fast == general
    assert {"churn#prod#2", "churn#staging#3", "churn@v0.1.0", "churn (HEAD)"} <= set(fast), fast
