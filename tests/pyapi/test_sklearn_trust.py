"""mlver.sklearn.load runs no stranger's code by default: pickles need an
intact record (and, with signing on, a verified tag); skops files load with
the allow-list recorded at save time and nothing else."""
from __future__ import annotations

import json
import operator
from pathlib import Path

import joblib
import numpy as np
import pytest
import yaml
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import mlver
import mlver.sklearn
from conftest import Project, ssh_key
from mlver.domain import record as rec
from mlver.errors import UntrustedModel


class Evil:
    """Unpickling this writes a marker file: proof that loading ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').write('ran')",)


def _edit_record(p: Project, name: str, change, reseal: bool) -> None:
    path = p.root / f".mlver/records/{name}.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(rec.dumps(rec.seal(doc)) if reseal else json.dumps(doc, indent=2, sort_keys=True) + "\n")
    p.commit_all(f"edit the record of {name}")


def _plant_pickle(p: Project, marker: Path) -> None:
    """What someone with push access can do: record a malicious file as reg."""
    joblib.dump(Evil(marker), p.root / "models/reg.joblib")
    mlver.record("reg", repo=p.root)


@pytest.fixture
def released(project: Project) -> tuple[Project, np.ndarray]:
    X, y = load_diabetes(return_X_y=True)
    mlver.sklearn.record(Ridge(alpha=0.5).fit(X, y), "reg", repo=project.root)
    mlver.release("reg", repo=project.root)
    return project, X


def test_pickle_of_a_tampered_record_is_never_run(released, isolate: Path) -> None:
    project, X = released
    marker = isolate / "ran"
    _plant_pickle(project, marker)
    _edit_record(project, "reg", lambda d: d["metrics"].update(r2=0.99), reseal=False)
    with pytest.raises(UntrustedModel, match="does not match its digest") as caught:
        mlver.sklearn.load("reg@HEAD", repo=project.root)
    assert "trusted=True" in caught.value.hint and "run any code" in caught.value.hint
    assert not marker.exists()
    # The genuine release still loads by default; the planted file only on explicit trust.
    assert mlver.sklearn.load("reg@v0.1.0", repo=project.root).predict(X[:2]).shape == (2,)
    mlver.sklearn.load("reg@HEAD", repo=project.root, trusted=True)
    assert marker.read_text() == "ran"  # the file is malicious: the refusal above mattered


def test_with_signing_a_pickle_needs_a_verified_tag(released, isolate: Path) -> None:
    project, X = released
    key, public = ssh_key(isolate, "alice")
    other, _ = ssh_key(isolate, "mallory")
    project.git("config", "gpg.format", "ssh")
    project.git("config", "user.signingkey", key)
    # The trust root lives outside the tree (mlver.api.trust): the user's git config.
    (isolate / "allowed_signers").write_text(f"test@example.com namespaces=\"git\" {public}\n")
    project.git("config", "gpg.ssh.allowedSignersFile", str(isolate / "allowed_signers"))
    config = yaml.safe_load((project.root / "mlver.yaml").read_text())
    config.update(signing=True)
    project.write("mlver.yaml", yaml.safe_dump(config))
    project.commit_all("sign tags")
    with pytest.raises(UntrustedModel, match="tag reg@v0.1.0 is not signed"):
        mlver.sklearn.load("reg@v0.1.0", repo=project.root)  # released before signing was on

    mlver.record("reg", repo=project.root)  # the same genuine model, recorded and released signed
    mlver.release("reg", repo=project.root)
    assert mlver.sklearn.load("reg", repo=project.root).predict(X[:2]).shape == (2,)

    marker = isolate / "ran"
    _plant_pickle(project, marker)  # an intact, re-sealed record: the digest cannot tell
    with pytest.raises(UntrustedModel, match="not a released version"):
        mlver.sklearn.load("reg@HEAD", repo=project.root)
    project.git("tag", "-a", "reg@v0.3.0", "-m", "Registering version", "HEAD")
    project.git("-c", f"user.signingkey={other}", "tag", "-s", "reg@v0.4.0", "-m", "Registering version", "HEAD")
    for ref in ("reg@v0.3.0", "reg@v0.4.0", "reg"):
        with pytest.raises(UntrustedModel, match="is not signed, or not by an allowed signer"):
            mlver.sklearn.load(ref, repo=project.root)
    assert not marker.exists()
    mlver.sklearn.load("reg@v0.3.0", repo=project.root, trusted=True)
    assert marker.exists()


def test_skops_loads_only_the_types_recorded_at_save(project: Project) -> None:
    X, y = load_diabetes(return_X_y=True)
    custom = make_pipeline(FunctionTransformer(operator.neg), Ridge()).fit(X, y)
    mlver.sklearn.record(custom, "neg", format="skops", path="models/neg.skops", repo=project.root)
    neg = json.loads((project.root / ".mlver/records/neg.json").read_text())
    assert neg["framework"]["trusted_types"] == ["_operator.neg"]
    assert np.allclose(mlver.sklearn.load("neg@HEAD", repo=project.root).predict(X[:3]), custom.predict(X[:3]))

    mlver.sklearn.record(Ridge().fit(X, y), "safe", format="skops", path="models/safe.skops", repo=project.root)
    assert json.loads((project.root / ".mlver/records/safe.json").read_text())["framework"]["trusted_types"] == []
    # safe's record re-sealed around a file that needs a type it never allowed.
    _edit_record(project, "safe", lambda d: d["artifact"].update(md5=neg["artifact"]["md5"], size=neg["artifact"]["size"]),
                 reseal=True)
    with pytest.raises(UntrustedModel, match="needs types its record does not allow: _operator.neg"):
        mlver.sklearn.load("safe@HEAD", repo=project.root)
    # A record without an allow-list (an older mlver) is no licence to trust what the file names.
    _edit_record(project, "neg", lambda d: d["framework"].pop("trusted_types"), reseal=True)
    with pytest.raises(UntrustedModel, match="no skops allow-list"):
        mlver.sklearn.load("neg@HEAD", repo=project.root)
    assert mlver.sklearn.load("neg@HEAD", repo=project.root, trusted=True).predict(X[:1]).shape == (1,)
    # The adapter is a second lock, not a formality: it hands skops exactly the allow-list it is given.
    from mlver.adapters import sklearn as sk

    with pytest.raises(UntrustedModel, match="outside the allow-list"):
        sk.load(project.root / "models/neg.skops", "skops", [])


def test_a_record_with_null_packages_loads_without_a_version_check(released, isolate: Path) -> None:
    # No recorded scikit-learn version anywhere: nothing to warn about, and no AttributeError.
    project, X = released
    _edit_record(project, "reg", lambda d: (d["framework"].pop("version"), d["env"].update(packages=None)), reseal=True)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert mlver.sklearn.load("reg@HEAD", repo=project.root).predict(X[:1]).shape == (1,)
    assert not [w for w in caught if issubclass(w.category, mlver.sklearn.VersionMismatchWarning)]
