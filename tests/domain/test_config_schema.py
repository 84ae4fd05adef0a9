"""mlver.yaml's one schema (mlver/domain/config.py), as pure functions: every
key parsed into its dataclass, every typo and wrong type refused by its path."""
from __future__ import annotations

import pytest

from mlver.domain.config import CONFIG_VERSION, Config, ModelSpec
from mlver.errors import ConfigInvalid, ConfigTooNew, ConfigUnknownKey

FULL = {
    "version": 1,
    "models": {
        "churn": {"path": "models/churn.pkl", "data": ["data/train.csv"], "params": "params.yaml:train",
                  "metrics": "metrics.json", "command": "python train.py", "desc": "d", "labels": ["a", "b"],
                  "intended_use": "scoring", "limitations": "not for X"},
        "text": {"path": "model.pkl", "data": "data/one.csv", "stage": "train"},
    },
    "review": {"drift_threshold": 0.3, "gates": {
        "*": {"intact": True, "metrics": {"accuracy": {"min": 0.5}, "loss": {"max_rise": "5%"}}},
        "churn": {"metrics": {"accuracy": {"min": 0.8, "max_drop": 0.01}}, "max_drift": 0.25, "in_remote": True}}},
    "policy": {"stages": ["dev", "staging", "prod"], "gates": {"prod": {"accuracy": {"min": 0.99}, "latency_ms": {"max": 50}}}},
    "signing": True,
    "allowed_signers": ".mlver/allowed_signers",
    "x-defaults": {"anything": [1, 2]},
}


def test_every_key_is_parsed_into_its_type_and_reads_back_from_to_doc() -> None:
    config = Config.from_doc(FULL)
    churn = config.models["churn"]
    assert churn == ModelSpec("churn", "models/churn.pkl", ("data/train.csv",), "params.yaml:train", "metrics.json",
                              "python train.py", None, "d", ("a", "b"), "scoring", "not for X")
    assert config.models["text"].data == ("data/one.csv",) and config.models["text"].stage == "train"
    assert config.review.drift_threshold == 0.3
    merged = config.review.for_model("churn")
    assert merged.intact and merged.in_remote and merged.max_drift == 0.25
    assert [(r.metric, r.bound, r.limit, r.relative) for r in merged.metrics] == [
        ("loss", "max_rise", 5.0, True), ("accuracy", "min", 0.8, False), ("accuracy", "max_drop", 0.01, False)]
    assert config.review.for_model("other").metrics[0].limit == 0.5
    assert config.policy.stages == ("dev", "staging", "prod") and config.policy.previous("prod") == "staging"
    [acc, lat] = config.policy.gates["prod"]
    assert (acc.metric, acc.min, acc.max, lat.metric, lat.max) == ("accuracy", 0.99, None, "latency_ms", 50.0)
    assert config.signing is True and config.allowed_signers == ".mlver/allowed_signers"
    doc = config.to_doc()
    assert Config.from_doc(doc) == config
    assert "x-defaults" not in doc and doc["policy"]["gates"]["prod"]["latency_ms"] == {"max": 50}
    assert doc["review"]["gates"]["*"]["metrics"]["loss"] == {"max_rise": "5%"}


def test_an_empty_or_missing_file_is_the_defaults() -> None:
    for doc in (None, {}, {"version": 1, "models": {}}, {"models": None, "review": None, "policy": None}):
        config = Config.from_doc(doc)
        assert config == Config() and config.signing is None and config.review.drift_threshold == 0.2
        assert config.to_doc() == {"version": CONFIG_VERSION, "models": {}}
    assert Config.from_doc({"signing": False}).signing is False  # said false, not silent: trust tells them apart


@pytest.mark.parametrize("doc, key, hint", [
    ({"sigining": True}, "sigining", "did you mean 'signing'?"),
    ({"policy": {"gate": {"prod": {"accuracy": {"min": 0.99}}}}}, "policy.gate", "did you mean 'gates'?"),
    ({"policy": {"gates": {"prod": {"accuracy": {"minimum": 0.99}}}}}, "policy.gates.prod.accuracy.minimum", "did you mean 'min'?"),
    ({"policy": {"stages": ["dev", "prod"], "gates": {"prd": {"a": {"min": 1}}}}}, "policy.gates.prd", "did you mean 'prod'?"),
    ({"review": {"gate": {}}}, "review.gate", "did you mean 'gates'?"),
    ({"review": {"drift_treshold": 0.1}}, "review.drift_treshold", "did you mean 'drift_threshold'?"),
    ({"review": {"gates": {"churn": {"metric": {}}}}}, "review.gates.churn.metric", "did you mean 'metrics'?"),
    ({"review": {"gates": {"churn": {"metrics": {"acc": {"max_dorp": 1}}}}}}, "review.gates.churn.metrics.acc.max_dorp",
     "did you mean 'max_drop'?"),
    ({"models": {"churn": {"path": "m.pkl", "comand": "python t.py"}}}, "models.churn.comand", "did you mean 'command'?"),
    ({"allowed_signer": "x"}, "allowed_signer", "did you mean 'allowed_signers'?"),
    ({"zzz": 1}, "zzz", "known here: version, models, review, policy, signing, allowed_signers"),
])
def test_an_unknown_key_is_refused_with_the_closest_known_one(doc: dict, key: str, hint: str) -> None:
    with pytest.raises(ConfigUnknownKey) as caught:
        Config.from_doc(doc, "mlver.yaml at abc")
    assert caught.value.key == key and caught.value.message.startswith(f"mlver.yaml at abc: {key} ")
    assert hint in caught.value.hint
    if "did you mean" not in hint:
        assert "did you mean" not in caught.value.hint


@pytest.mark.parametrize("doc, message", [
    ([], "mlver.yaml: must be a mapping at the top, not a list"),
    ({"policy": {"gates": {"prod": {"accuracy": {"min": "high"}}}}}, "policy.gates.prod.accuracy.min must be a number, not 'high'"),
    ({"policy": {"gates": {"prod": {"accuracy": {"min": None}}}}}, "policy.gates.prod.accuracy.min must be a number, not None"),
    ({"policy": {"gates": {"prod": {"accuracy": {}}}}}, "policy.gates.prod.accuracy must set min and/or max"),
    ({"policy": {"gates": {"prod": [1]}}}, "policy.gates.prod must be a mapping, not a list"),
    ({"policy": {"stages": "prod"}}, "policy.stages must be a list, not 'prod'"),
    ({"policy": {"stages": ["Prod!"]}}, "policy.stages[0] invalid stage name 'Prod!'"),
    ({"policy": []}, "policy must be a mapping, not a list"),
    ({"signing": "yes"}, "signing must be true or false, not 'yes'"),
    ({"allowed_signers": "/etc/keys"}, "allowed_signers '/etc/keys' is refused: it is absolute"),
    ({"review": {"drift_threshold": "x"}}, "review.drift_threshold must be a number, not 'x'"),
    ({"review": {"drift_threshold": float("nan")}}, "review.drift_threshold must be a number, not nan"),
    ({"review": {"gates": {"m": {"metrics": {"acc": {"min": True}}}}}}, "review.gates.m.metrics.acc.min must be a number, not True"),
    ({"review": {"gates": {"m": {"metrics": {"acc": {"max_drop": "lots%"}}}}}}, "or a percentage like '2%', not 'lots%'"),
    ({"review": {"gates": {"m": {"intact": "yes"}}}}, "review.gates.m.intact must be true or false, not 'yes'"),
    ({"review": {"gates": {"m": {"metrics": {"acc": {}}}}}}, "review.gates.m.metrics.acc must set some of min, max"),
    ({"models": {"churn": {"data": ["d.csv"]}}}, "models.churn needs a 'path'"),
    ({"models": {"churn": "m.pkl"}}, "models.churn must be a mapping, not 'm.pkl'"),
    ({"models": {"churn": {"path": "../outside.pkl"}}}, "models.churn.path '../outside.pkl' is refused: it climbs out"),
    ({"models": {"churn": {"path": "m.pkl", "data": [1]}}}, "models.churn.data[0] must be text, not 1"),
    ({"models": {"churn": {"path": "m.pkl", "params": "/p.yaml:a"}}}, "models.churn.params '/p.yaml' is refused: it is absolute"),
    ({"models": {"churn": {"path": "m.pkl", "command": "x", "stage": "y"}}}, "models.churn has both a command and a stage"),
    ({"models": {"Bad Name": {"path": "m.pkl"}}}, "models names 'Bad Name'"),
    ({"version": "1"}, "version must be a whole number from 1"),
    ({"version": 0}, "version must be a whole number from 1"),
])
def test_a_wrong_type_is_named_by_its_path(doc: object, message: str) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        Config.from_doc(doc)
    assert message in caught.value.message
    assert "\n" not in caught.value.message and caught.value.hint


def test_a_newer_version_is_refused_before_its_keys_are_read() -> None:
    with pytest.raises(ConfigTooNew) as caught:
        Config.from_doc({"version": CONFIG_VERSION + 1, "a_key_from_the_future": {}}, "mlver.yaml on main")
    assert caught.value.version == CONFIG_VERSION + 1
    assert caught.value.message.startswith(f"mlver.yaml on main is version {CONFIG_VERSION + 1}; this mlver (")
    assert f"reads versions up to {CONFIG_VERSION}" in caught.value.message and "upgrade mlver" in caught.value.hint
