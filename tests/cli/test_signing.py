"""Signing: every registry tag kind is checked, against a trust root outside
the tree; the tree cannot switch checking off; every consumer resolves
versions and stages through verified tags only. One test per attack."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml

import mlver.sklearn
from conftest import Project
from mlver.errors import UntrustedModel


def _ssh_key(dir_: Path, name: str) -> tuple[str, str]:
    key = dir_ / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return str(key), (dir_ / f"{name}.pub").read_text().strip()


def _config(p: Project, **changes: object) -> None:
    config = yaml.safe_load((p.root / "mlver.yaml").read_text())
    config.update(changes)
    p.write("mlver.yaml", yaml.safe_dump(config))


class Keys:
    def __init__(self, base: Path) -> None:
        base.mkdir()
        self.alice, self.alice_pub = _ssh_key(base, "alice")
        self.mallory, self.mallory_pub = _ssh_key(base, "mallory")
        # The trust root: the user's own file, outside every repository.
        self.allowed = base / "allowed_signers"
        self.allowed.write_text(f'alice@example.com namespaces="git" {self.alice_pub}\n')


def _unsigned(p: Project, tag: str, target: str, message: str = "made by hand") -> None:
    p.git("tag", "-a", tag, "-m", message, target)


def _signed_by(p: Project, key: str, tag: str, target: str, message: str = "made by hand") -> None:
    p.git("-c", f"user.signingkey={key}", "tag", "-s", tag, "-m", message, target)


def _findings(p: Project, *args: str) -> list[dict]:
    run = p.mlver("verify", "--offline", "--json", *args)
    assert run.exit_code == 1, run.stdout + run.stderr
    return run.json()["findings"]


@pytest.fixture
def signed(trained: Project, isolate: Path) -> tuple[Project, Keys]:
    """churn v0.1.0 (released unsigned by the `trained` fixture, re-made signed
    here), v0.2.0 and prod on v0.1.0, all signed by alice."""
    keys = Keys(isolate / "keys")
    p = trained
    for key, value in (("gpg.format", "ssh"), ("user.signingkey", keys.alice),
                       ("gpg.ssh.allowedSignersFile", str(keys.allowed))):
        p.git("config", "--global", key, value)
    message = p.git("tag", "-l", "--format=%(contents)", "churn@v0.1.0")
    p.git("tag", "-f", "-s", "churn@v0.1.0", "-m", message, "churn@v0.1.0^{}")
    _config(p, signing=True)
    p.set_params(lr=0.2)
    p.commit_all("sign tags; lr 0.2")
    p.ok("run", "churn")
    p.ok("release", "churn")
    p.ok("promote", "churn@v0.1.0", "prod")
    return p, keys


def test_every_tag_kind_is_checked_and_unsigned_unassign_or_deregister_is_caught(signed: tuple[Project, Keys]) -> None:
    p, keys = signed
    p.ok("promote", "churn@v0.2.0", "prod")
    p.ok("rollback", "churn", "prod")
    p.ok("deprecate", "churn#prod")
    p.ok("deprecate", "churn@v0.2.0")
    p.ok("deprecate", "churn")
    result = p.ok("verify", "--offline", "--json").json()
    # register x2, assign x2, rollback, unassign, deregister, deprecate: every one signed and checked.
    assert result["signatures"] == 8 and result["ok"]
    assert "signatures checked against git config gpg.ssh.allowedSignersFile" in result["notes"][0]
    log = p.ok("log", "churn", "--json").json()
    assert {e["signer"] for e in log if e["kind"] != "record"} == {"alice@example.com"}
    assert "SIGNED BY" in p.ok("log", "churn").stdout
    # The attack: un-assign and deregistration tags made by hand, unsigned or by a stranger's key.
    _unsigned(p, "churn#prod!#9", "churn@v0.1.0^{}")
    _unsigned(p, "churn@v0.1.0!#10", "churn@v0.1.0^{}")
    _signed_by(p, keys.mallory, "churn@deprecated#11", "churn@v0.1.0^{}")
    bad = {f["ref"]: f["problem"] for f in _findings(p)}
    assert set(bad) >= {"churn#prod!#9", "churn@v0.1.0!#10", "churn@deprecated#11"}
    assert "no signature found" in bad["churn#prod!#9"]
    text = p.mlver("log", "churn").stdout
    assert "NOT VERIFIED" in text


def test_in_repo_allowed_signers_is_not_the_trust_root(signed: tuple[Project, Keys], isolate: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    p, keys = signed
    # The attack: one commit adds mallory's key to the team's published list and points mlver at it.
    p.write(".mlver/allowed_signers", f'mallory@example.com namespaces="git" {keys.mallory_pub}\n')
    _config(p, allowed_signers=".mlver/allowed_signers")
    p.commit_all("add a key")
    time.sleep(1)  # in the second of the team's promote, GTO (and mlver) would keep prod with the older version
    _signed_by(p, keys.mallory, "churn#prod#7", "churn@v0.2.0^{}")
    findings = _findings(p)
    assert [f["ref"] for f in findings] == ["churn#prod#7"]
    assert "not by an allowed signer" in findings[0]["problem"]
    # ...and neither `pull` nor `url` follows it: prod is still v0.1.0 for every consumer.
    pulled = p.ok("pull", "churn#prod", "-o", str(isolate / "prod.pkl"), "--json").json()
    assert pulled["version"] == "v0.1.0"
    with pytest.raises(UntrustedModel, match="only through a tag that is not signed"):
        mlver.sklearn.load("churn#prod", repo=p.root)  # v0.2.0's own tag is signed; the stage tag is not
    # The in-repo file changed since the last signed release: said, as a warning.
    p.git("tag", "-d", "churn#prod#7")
    result = p.ok("verify", "--offline", "--json").json()
    assert any(n.startswith("warning: .mlver/allowed_signers changed since churn@v0.2.0") for n in result["notes"])
    # With no trust root outside the tree, SSH signatures cannot be checked at all: said once, plainly.
    p.git("config", "--global", "--unset", "gpg.ssh.allowedSignersFile")
    findings = _findings(p)
    assert findings[0]["ref"] == "signing" and "no allowed-signers file outside the tree" in findings[0]["problem"]
    # --allowed-signers names the trust root for one run, $MLVER_ALLOWED_SIGNERS for a session (CI).
    assert p.ok("verify", "--offline", "--allowed-signers", str(keys.allowed)).stdout.startswith("OK")
    monkeypatch.setenv("MLVER_ALLOWED_SIGNERS", str(keys.allowed))
    assert "signatures checked against $MLVER_ALLOWED_SIGNERS" in p.ok("verify", "--offline").stderr


def test_tree_cannot_switch_signing_off(signed: tuple[Project, Keys], monkeypatch: pytest.MonkeyPatch) -> None:
    p, keys = signed
    # The attack: one commit on a branch says `signing: false`, then an unsigned stage tag.
    p.git("checkout", "-q", "-b", "sneaky")
    _config(p, signing=False)
    p.commit_all("no more signing")
    _unsigned(p, "churn#prod#7", "churn@v0.2.0^{}")
    # The default branch still says `signing: true`: checking stays on.
    refs = [f["ref"] for f in _findings(p)]
    assert refs == ["mlver.yaml", "churn#prod#7"]
    pulled = p.ok("pull", "churn#prod", "-o", str(p.root.parent / "prod.pkl"), "--json").json()
    assert pulled["version"] == "v0.1.0"
    # On main too, once the flip is merged: the user's own git config requires signing.
    p.git("checkout", "-q", "main")
    p.git("merge", "-q", "--ff-only", "sneaky")
    assert p.ok("verify", "--offline").stdout.startswith("OK")  # nothing outside the tree asks for signatures
    assert "cannot prove who made a tag" in p.ok("verify", "--offline").stderr
    p.git("config", "--global", "mlver.requireSignatures", "true")
    findings = _findings(p)
    assert findings[0]["ref"] == "mlver.yaml" and "git config mlver.requireSignatures" in findings[0]["problem"]
    p.git("config", "--global", "--unset", "mlver.requireSignatures")
    monkeypatch.setenv("MLVER_REQUIRE_SIGNATURES", "1")
    assert [f["ref"] for f in _findings(p)] == ["mlver.yaml", "churn#prod#7"]
    monkeypatch.delenv("MLVER_REQUIRE_SIGNATURES")
    assert [f["ref"] for f in _findings(p, "--require-signatures")] == ["mlver.yaml", "churn#prod#7"]


def test_consumers_resolve_only_through_verified_tags(signed: tuple[Project, Keys], isolate: Path) -> None:
    p, keys = signed
    # The card says who signed each stage event.
    card = p.ok("card", "churn@v0.1.0").stdout
    assert "(signed by alice@example.com)" in card and "| Release signed by | alice@example.com |" in card
    # The attack: an unsigned stage tag gives prod to v0.2.0, an unsigned version tag
    # names a third version, an unsigned deregistration hides v0.1.0.
    time.sleep(1)  # in the second of the signed promote, GTO (and mlver) would keep prod with the older version
    _unsigned(p, "churn#prod#7", "churn@v0.2.0^{}")
    _unsigned(p, "churn@v0.3.0", "churn@v0.2.0^{}")
    assert p.ok("ls", "--json").json()[0]["stages"] == {"prod": "v0.3.0"}  # the unverified view
    out = isolate / "out.pkl"
    assert p.ok("pull", "churn#prod", "-o", str(out), "--json").json()["version"] == "v0.1.0"
    assert p.ok("pull", "churn", "-o", str(out), "--json").json()["version"] == "v0.2.0"
    refused = p.fails("pull", "churn@v0.3.0", "-o", str(out))
    assert "resolves through tag churn@v0.3.0, which is not signed by an allowed signer" in refused.stderr
    assert "not signed by an allowed signer" in p.fails("url", "churn@v0.3.0").stderr
    assert "| Release signed by | **nobody verified** |" in p.ok("card", "churn@v0.3.0").stdout
    with pytest.raises(UntrustedModel, match="churn@v0.3.0 is not signed"):
        mlver.sklearn.load("churn@v0.3.0", repo=p.root)
    drift = p.mlver("drift", "churn#prod", "data/train.csv", "--json")
    assert drift.exit_code == 0 and drift.json()["version"] == "v0.1.0", drift.stderr
    # pull --repo: the same rule on a repository that is not checked out (file:// remote, user's git config).
    p.git("config", "--global", "mlver.requireSignatures", "true")
    # (this project's remote is per-user, not shared: the error names what prod resolved to)
    assert "the record of churn@v0.1.0 names remote" in p.fails("pull", "churn#prod", "--repo", str(p.root)).stderr
    assert "not signed" in p.fails("pull", "churn@v0.3.0", "--repo", str(p.root), "-o", str(out)).stderr
    # Deregistering v0.1.0 without a signature does not take prod away from it.
    _unsigned(p, "churn@v0.1.0!#8", "churn@v0.1.0^{}")
    assert p.ok("pull", "churn#prod", "-o", str(out), "--json").json()["version"] == "v0.1.0"
    # A stage that only unsigned tags ever gave: refused, naming the tag.
    _unsigned(p, "churn#qa#9", "churn@v0.2.0^{}")
    assert "churn#qa#9" in p.fails("pull", "churn#qa", "-o", str(out)).stderr
