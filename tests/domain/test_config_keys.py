"""mlver.yaml refusals name the exact key and show the value; defaults are what the README says."""
from __future__ import annotations

import pytest

from mlver import __version__
from mlver.domain.config import Config
from mlver.errors import ConfigInvalid, ConfigTooNew, ConfigUnknownKey


def _refusal(doc: object) -> ConfigInvalid:
    with pytest.raises(ConfigInvalid) as info:
        Config.from_doc(doc, "mlver.yaml at abc")
    err = info.value
    assert err.where == "mlver.yaml at abc" and err.message.startswith("mlver.yaml at abc: ")
    return err


@pytest.mark.parametrize("doc, key, problem", [
    ("text", "", "must be a mapping at the top, not 'text'"),
    ({"models": []}, "models", "must be a mapping, not a list"),
    ({"models": {"m": {"path": "m.pkl", "data": ["ok", "/abs"]}}}, "models.m.data", "'/abs' is refused: it is absolute"),
    ({"models": {"m": {"path": "m.pkl", "data": 3}}}, "models.m.data", "must be a list (or one text), not 3"),
    ({"models": {"m": {"path": "m.pkl", "labels": "a"}}}, "models.m.labels", "must be a list, not 'a'"),
    ({"models": {"m": {"path": "m.pkl", "labels": ["a", 2]}}}, "models.m.labels[1]", "must be text, not 2"),
    ({"models": {"m": {"path": 5}}}, "models.m.path", "must be text, not 5"),
    ({"models": {"m": {"path": "m.pkl", "params": 1}}}, "models.m.params", "must be text, not 1"),
    ({"models": {"m": {"path": "m.pkl", "metrics": "../m.json"}}}, "models.m.metrics",
     "'../m.json' is refused: it climbs out of its folder with '..'"),
    ({"models": {"m": {"path": "m.pkl", "command": ["python"]}}}, "models.m.command", "must be text, not a list"),
    ({"models": {"m": {"path": "m.pkl", "desc": {}}}}, "models.m.desc", "must be text, not a mapping"),
    ({"models": {"m": {"path": "m.pkl", "x-note": 1}}}, "models.m.x-note", "is not a setting mlver knows"),  # x- is top-level only
    ({"review": {"gates": {"m": {"metrics": []}}}}, "review.gates.m.metrics", "must be a mapping, not a list"),
    ({"review": {"gates": {"m": {"max_drift": "high"}}}}, "review.gates.m.max_drift", "must be a number, not 'high'"),
    ({"review": {"gates": {"m": {"in_remote": 1}}}}, "review.gates.m.in_remote", "must be true or false, not 1"),
    ({"review": {"gates": []}}, "review.gates", "must be a mapping, not a list"),
    ({"review": {"gates": {"m": {"metrics": {"acc": {"max_drop": "%"}}}}}}, "review.gates.m.metrics.acc.max_drop",
     "must be a number or a percentage like '2%', not '%'"),
    ({"review": {"gates": {"m": {"metrics": {"acc": {"max_drop": "inf%"}}}}}}, "review.gates.m.metrics.acc.max_drop",
     "must be a number or a percentage like '2%', not 'inf%'"),
    ({"review": {"gates": {"m": {"metrics": {"acc": {"min": "5%"}}}}}}, "review.gates.m.metrics.acc.min", "must be a number, not '5%'"),
    ({"policy": {"gates": []}}, "policy.gates", "must be a mapping, not a list"),
    ({"policy": {"gates": {"prod": {"acc": {"max": [1]}}}}}, "policy.gates.prod.acc.max", "must be a number, not a list"),
    ({"policy": {"stages": ["dev", 3]}}, "policy.stages[1]", "must be text, not 3"),
    ({"allowed_signers": 1}, "allowed_signers", "must be text, not 1"),
    ({"version": 1.5}, "version", "must be a whole number from 1 (this mlver writes 1), not 1.5"),
    ({"version": True}, "version", "must be a whole number from 1 (this mlver writes 1), not True"),
    ({"models": {"m": "x" * 100}}, "models.m", "must be a mapping, not '" + "x" * 47 + "...xxxxxxx'"),
])
def test_each_refusal_names_its_key(doc: object, key: str, problem: str) -> None:
    err = _refusal(doc)
    assert (err.key, err.problem) == (key, problem)
    assert err.message == f"mlver.yaml at abc: {key} {problem}" if key else f"mlver.yaml at abc: {problem}"


def test_a_long_value_is_shown_by_its_ends() -> None:
    sixty = "y" * 58  # repr adds the quotes: 60 characters are shown whole
    assert _refusal({"signing": sixty}).problem == f"must be true or false, not '{sixty}'"
    long = "a" * 30 + "b" * 40 + "z" * 10
    assert _refusal({"signing": long}).problem == "must be true or false, not '" + "a" * 30 + "b" * 17 + "...zzzzzzz'"


def test_bad_model_names_under_models_and_gates() -> None:
    err = _refusal({"models": {"Bad Name": {"path": "m.pkl"}}})
    assert err.key == "models" and err.problem.startswith("names 'Bad Name': invalid model name 'Bad Name'")
    err = _refusal({"review": {"gates": {"../x:y": {}}}})
    assert err.key == "review.gates" and err.problem.startswith("names '../x:y': invalid model name")


def test_a_model_without_a_path_says_how_to_add_it() -> None:
    err = _refusal({"models": {"m": {"data": "d.csv"}}})
    assert (err.key, err.problem) == ("models.m", "needs a 'path' (the model file it trains)")
    assert err.hint == "add `path:` to models.m in mlver.yaml at abc, or re-add it with `mlver model add`"


def test_a_gate_for_a_stage_the_policy_lacks() -> None:
    with pytest.raises(ConfigUnknownKey) as info:
        Config.from_doc({"policy": {"stages": ["dev", "prod"], "gates": {"qa": {"a": {"min": 1}}}}})
    assert info.value.key == "policy.gates.qa" and info.value.problem == "is not a stage in policy.stages"
    assert info.value.known == ["dev", "prod"]
    assert Config.from_doc({"policy": {"gates": {"qa": {"a": {"min": 1}}}}}).policy.gates["qa"][0].min == 1.0


def test_a_newer_file_names_this_mlver() -> None:
    with pytest.raises(ConfigTooNew) as info:
        Config.from_doc({"version": 2})
    assert __version__ in info.value.message


def test_optional_fields_default_to_empty_and_params_keep_their_keys() -> None:
    m = Config.from_doc({"models": {"m": {"path": "m.pkl", "params": "p.yaml"}}}).models["m"]
    assert (m.params, m.desc, m.intended_use, m.limitations, m.labels, m.data) == ("p.yaml", "", "", "", (), ())
    assert (m.metrics, m.command, m.stage) == (None, None, None)
    keyed = Config.from_doc({"models": {"m": {"path": "m.pkl", "params": "conf/p.yaml:a.b,c:d"}}}).models["m"]
    assert keyed.params == "conf/p.yaml:a.b,c:d"
    gates = Config.from_doc({"review": {"gates": {"m": {"max_drift": 0.1}}}}).review.gates["m"]
    assert (gates.in_remote, gates.intact, gates.max_drift) == (False, False, 0.1)
    assert Config.from_doc({"x-anchors": {"a": 1}, "models": {"m": {"path": "m.pkl"}}}).models["m"].path == "m.pkl"


def test_to_doc_writes_whole_numbers_as_integers() -> None:
    doc = Config.from_doc({"review": {"drift_threshold": 0.5, "gates": {"m": {"max_drift": 1, "metrics": {"a": {"min": 2.5, "max_drop": "3%"}}}}},
                           "policy": {"gates": {"prod": {"a": {"min": 1, "max": 2.5}}}}}).to_doc()
    assert doc["review"] == {"drift_threshold": 0.5, "gates": {"m": {"max_drift": 1, "metrics": {"a": {"min": 2.5, "max_drop": "3%"}}}}}
    assert isinstance(doc["review"]["gates"]["m"]["max_drift"], int)
    assert doc["policy"] == {"gates": {"prod": {"a": {"min": 1, "max": 2.5}}}} and isinstance(doc["policy"]["gates"]["prod"]["a"]["min"], int)
    flags = Config.from_doc({"review": {"gates": {"m": {"in_remote": True, "intact": False}}}}).to_doc()
    assert flags["review"] == {"gates": {"m": {"in_remote": True}}}
