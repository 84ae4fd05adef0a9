"""A DVC pipeline project adopted by mlver: the model bound to its stage.

The project is DVC's tutorial layout (tests/fixtures/pipeline.py): the
metrics come from the evaluate stage, downstream of train, into the DVC
output folder eval/; the raw data is `dvc add`ed upstream of prepare.
"""
from __future__ import annotations

import difflib
import json

import yaml
from fixtures.pipeline import PIPELINE_DATASET, PIPELINE_MODEL, declare, dvc

from conftest import Project

RECORD = f".mlver/records/{PIPELINE_MODEL}.json"


def _record(p: Project) -> dict:
    return json.loads((p.root / RECORD).read_text())


def _params(p: Project, section: str, **values: object) -> None:
    doc = yaml.safe_load((p.root / "params.yaml").read_text())
    doc.setdefault(section, {}).update(values)
    p.write("params.yaml", yaml.safe_dump(doc, sort_keys=False))


def _dvc_still_works(p: Project) -> None:
    """What a DVC user runs next must work as before mlver touched the project."""
    assert p.git("status", "--porcelain") == ""
    assert "up to date" in dvc(p.root, "status")
    dvc(p.root, "repro")
    assert p.git("status", "--porcelain") == ""
    dvc(p.root, "exp", "run")  # fails with "output 'eval' is already tracked by SCM" when git holds eval/


def _added_lines_only(before: str, after: str) -> list[str]:
    diff = [d for d in difflib.ndiff(before.splitlines(), after.splitlines()) if d[:1] in "+-"]
    assert all(d.startswith("+ ") for d in diff), "\n".join(diff)
    return [d[2:] for d in diff]


def test_fixture_is_a_dvc_users_project(pipeline: Project) -> None:
    """What every pipeline test starts from: clean, reproduced, metrics in a DVC output."""
    assert pipeline.git("status", "--porcelain") == ""
    assert "up to date" in dvc(pipeline.root, "status")
    assert json.loads((pipeline.root / "eval/metrics.json").read_text())["test_rows"] == 60
    assert pipeline.git("check-ignore", "eval/metrics.json").strip() == "eval/metrics.json"
    doc = yaml.safe_load((pipeline.root / "dvc.yaml").read_text())
    assert doc["artifacts"][PIPELINE_DATASET]["type"] == "dataset"
    assert doc["artifacts"][PIPELINE_MODEL]["labels"] == ["nlp", "classification"]
    assert list(doc["stages"]) == ["prepare", "featurize", "train", "evaluate"]


def test_run_records_the_whole_pipeline_and_leaves_dvc_working(pipeline: Project) -> None:
    p = pipeline
    dvc_yaml = (p.root / "dvc.yaml").read_text()
    declare(p, "--data", "data/questions.csv", "--data", "data/features", "--params", "params.yaml")
    # The tutorial already declares the artifact and its metrics: dvc.yaml is untouched.
    assert (p.root / "dvc.yaml").read_text() == dvc_yaml
    # What an older mlver did: eval/metrics.json forced into git. Refused with the fix,
    # which the user makes; it must not come back.
    p.git("add", "-f", "eval/metrics.json")
    p.commit_all("metrics committed by an old mlver")
    run = p.fails("run", PIPELINE_MODEL)
    assert "git tracks eval/metrics.json, inside the DVC output eval" in run.stderr
    assert "git rm -r --cached eval" in run.stderr
    p.git("rm", "-q", "--cached", "eval/metrics.json")
    p.commit_all("untrack eval/metrics.json")
    # An upstream stage's param (prepare), and a key no stage declares but the user did (--params).
    _params(p, "prepare", split=0.5)
    _params(p, "tuning", budget=3)
    code_commit = p.commit_all("bigger test split")

    run = p.ok("run", PIPELINE_MODEL, "--json")
    result = run.json()
    assert result["notes"] == [] and "note:" not in run.stderr  # evaluate ran: nothing left out of date
    record = _record(p)
    assert record["code"]["commit"] == code_commit and record["code"]["command"] == "dvc repro train evaluate"
    # The metrics of this run: evaluate (downstream of train) ran on the new split.
    metrics = json.loads((p.root / "eval/metrics.json").read_text())
    assert metrics["test_rows"] == 120 and record["metrics"] == metrics == result["metrics"]
    lock = yaml.safe_load((p.root / "dvc.lock").read_text())["stages"]
    assert record["artifact"]["md5"] == lock["train"]["outs"][0]["md5"]
    # Every stage's params on the way to the model and its metrics, and the declared file's.
    assert record["params"]["prepare.split"] == 0.5 and record["params"]["featurize.ngrams"] == 2
    assert record["params"]["train.n_est"] == 50 and record["params"]["tuning.budget"] == 3
    # The raw data two stages upstream, profiled, and the intermediate output declared as data.
    raw, features = record["data"]
    assert raw["path"] == "data/questions.csv" and raw["profile"]["rows"] == 240
    assert raw["md5"] == yaml.safe_load((p.root / "data/questions.csv.dvc").read_text())["outs"][0]["md5"]
    assert features["path"] == "data/features" and features["md5"] == lock["featurize"]["outs"][0]["md5"]
    # The commit a DVC user would make: dvc.lock, never a DVC output or a gitignored file.
    assert set(p.git("show", "--name-only", "--format=", "HEAD").split()) == {RECORD, "dvc.lock"}
    assert p.git("ls-files", "eval") == "" and "eval/metrics.json" not in record["code"]["outputs"]
    assert p.git("show", "HEAD:dvc.lock") == (p.root / "dvc.lock").read_text()
    _dvc_still_works(p)
    p.ok("release", PIPELINE_MODEL)
    p.ok("push")
    # Nothing changed: DVC reproduces nothing, and the record says the same params and metrics.
    again = p.ok("run", PIPELINE_MODEL, "--json").json()
    assert again["metrics"] == metrics and _record(p)["params"] == record["params"]
    _dvc_still_works(p)


def test_record_refuses_a_stale_lock_and_run_reproduces_it(pipeline: Project) -> None:
    p = pipeline
    declare(p)
    _params(p, "featurize", ngrams=3)
    p.commit_all("trigrams")
    run = p.fails("record", PIPELINE_MODEL)
    assert "dvc.lock is out of date" in run.stderr and "featurize" in run.stderr
    assert "stage featurize: changed deps (params.yaml: featurize.ngrams modified)" in run.stderr  # as `dvc status` says it
    assert "{" not in run.stderr
    assert f"mlver run {PIPELINE_MODEL}" in run.stderr
    p.ok("run", PIPELINE_MODEL)
    assert _record(p)["params"]["featurize.ngrams"] == 3
    # After the run the lock is current: recording again is allowed and says the same (nothing new to write).
    again = p.ok("record", PIPELINE_MODEL, "--json").json()
    assert again["unchanged"] and _record(p)["params"]["featurize.ngrams"] == 3
    _dvc_still_works(p)


def test_recording_with_nothing_trained_since_writes_no_second_record(pipeline: Project) -> None:
    """example-get-started after `dvc exp run`: `mlver record` committed the
    experiment's dvc.lock with its record, and a second `mlver record` (or a
    `mlver run` whose `dvc repro` has nothing to do) wrote the same training
    again, on the record commit: `mlver log` listed two trainings where one
    happened. It says so and writes nothing; a change since is recorded."""
    p = pipeline
    declare(p)
    _params(p, "train", n_est=5)
    p.commit_all("n_est 5")
    dvc(p.root, "repro")  # the experiment's way: DVC trained, dvc.lock left for the record to commit
    first = p.ok("record", PIPELINE_MODEL, "--json").json()
    assert not first["unchanged"]
    head = p.git("rev-parse", "HEAD").strip()
    assert head == first["commit"]
    for verb in ("record", "run"):
        again = p.ok(verb, PIPELINE_MODEL, "--json").json()
        assert again["unchanged"] and (again["commit"], again["digest"]) == (head, first["digest"])
        assert p.git("rev-parse", "HEAD").strip() == head and p.git("status", "--porcelain") == ""
    said = p.ok("record", PIPELINE_MODEL)
    assert said.stdout.strip() == f"{PIPELINE_MODEL} is already recorded in {head[:12]}, and nothing changed since: no new record"
    trainings = [e for e in p.ok("log", PIPELINE_MODEL, "--json").json() if e["kind"] == "record"]
    assert [e["commit"] for e in trainings] == [head]
    p.ok("release", PIPELINE_MODEL)  # the record at HEAD is the one released
    _dvc_still_works(p)
    # A commit since the record (another param, reproduced): a new training, recorded.
    _params(p, "train", n_est=6)
    p.commit_all("n_est 6")
    newer = p.ok("run", PIPELINE_MODEL, "--json").json()
    assert not newer["unchanged"] and newer["commit"] != head and _record(p)["parent"]["commit"] == head


def test_run_says_which_later_stages_it_left_out_of_date(pipeline: Project) -> None:
    """A model declared without evaluate's metrics: `run` reproduces up to train only,
    and says that evaluate, which `dvc status` now lists, was not run."""
    p = pipeline
    p.ok("model", "add", PIPELINE_MODEL, "--path", "model.pkl", "--stage", "train")
    p.commit_all(f"declare {PIPELINE_MODEL} without metrics")
    _params(p, "train", n_est=60)
    p.commit_all("more trees")
    run = p.ok("run", PIPELINE_MODEL, "--json")
    assert run.json()["notes"] == ["not run, and now out of date: evaluate (after train in the pipeline); "
                                   "`dvc repro` runs it"]
    assert "note: not run, and now out of date: evaluate" in run.stderr
    assert _record(p)["code"]["command"] == "dvc repro train"
    status = dvc(p.root, "status")
    assert "evaluate:" in status and "train:" not in status
    # Once DVC has run it, nothing is left behind and nothing is said.
    dvc(p.root, "repro")
    p.commit_all("evaluated")
    again = p.ok("run", PIPELINE_MODEL, "--json")
    assert again.json()["notes"] == [] and "note:" not in again.stderr


def test_model_add_bad_input_changes_nothing(pipeline: Project) -> None:
    p = pipeline
    files = {f: (p.root / f).read_bytes() for f in ("dvc.yaml", "mlver.yaml", "dvc.lock")}
    base = ["model", "add", PIPELINE_MODEL, "--path", "model.pkl"]
    cases = [
        (["--stage", "nope"], "dvc.yaml has no stage 'nope' (stages: prepare, featurize, train, evaluate)"),
        (["--stage", "featurize"], "stage featurize does not output model.pkl (its outputs: data/features)"),
        (["--stage", "train", "--metrics", "metrics.json"],
         "metrics file metrics.json is written by no stage of dvc.yaml and not tracked by git"),
        (["--stage", "train", "--metrics", "data/prepared/test.csv"],
         "is written by stage prepare, which does not depend on the model model.pkl"),
        (["--stage", "train", "--data", "data/other.csv"],
         f"model {PIPELINE_MODEL} (stage train) does not depend on data/other.csv; "
         "its inputs: data/questions.csv, data/prepared, data/features"),
    ]
    for args, message in cases:
        assert message in p.fails(*base, *args).stderr, args
    run = p.fails("model", "add", PIPELINE_DATASET, "--path", "data/questions.csv", "--command", "python x.py")
    assert f"dvc.yaml already declares artifact '{PIPELINE_DATASET}' as a dataset, not a model" in run.stderr
    run = p.fails("model", "add", PIPELINE_MODEL, "--path", "other.pkl", "--command", "python x.py")
    assert "with path model.pkl, not other.pkl" in run.stderr
    assert {f: (p.root / f).read_bytes() for f in files} == files
    # A dvc.yaml that does not parse: refused for a declaration and for a run.
    declare(p)
    p.write("dvc.yaml", files["dvc.yaml"].decode().replace("  train:\n", "  train: [\n", 1))
    p.commit_all("broken dvc.yaml")
    for args in (["run", PIPELINE_MODEL], ["record", PIPELINE_MODEL],
                 ["model", "add", "other", "--path", "model.pkl", "--stage", "train"]):
        first = p.fails(*args).stderr.splitlines()[0]
        assert first.startswith("error: dvc.yaml ") and ("not valid YAML" in first or "cannot be read" in first), first


def test_a_stage_output_declared_without_its_stage_is_told_how_to_bind_it(pipeline: Project) -> None:
    p = pipeline
    p.ok("model", "add", PIPELINE_MODEL, "--path", "model.pkl", "--metrics", "eval/metrics.json")
    p.commit_all("declare without the stage")
    model = (p.root / "model.pkl").stat()
    bind = (f"hint: bind it to the stage that writes model.pkl: add `stage: train` to model {PIPELINE_MODEL} in "
            f"mlver.yaml (what `mlver model add {PIPELINE_MODEL} --path model.pkl --stage train` declares), commit, then ")
    said = f"error: model.pkl is an output of DVC stage 'train', and model {PIPELINE_MODEL} is declared without it"
    # Not DVC's "overlaps with an output of stage" and "see dvc status", after the fact.
    assert p.fails("record", PIPELINE_MODEL).stderr.splitlines()[-2:] == [said, bind + f"`mlver record {PIPELINE_MODEL}`"]
    # Refused before the training runs, not after it.
    run = p.fails("run", PIPELINE_MODEL, "--", "python", "src/train.py", "data/features", "model.pkl")
    assert run.stderr.splitlines()[-2:] == [said, bind + f"`mlver run {PIPELINE_MODEL}`"]
    assert (p.root / "model.pkl").stat().st_mtime_ns == model.st_mtime_ns
    assert p.fails("run", PIPELINE_MODEL).stderr.splitlines()[-1] == bind + f"`mlver run {PIPELINE_MODEL}`"
    # The hint is the true next step: done, the record works.
    config = yaml.safe_load((p.root / "mlver.yaml").read_text())
    config["models"][PIPELINE_MODEL]["stage"] = "train"
    p.write("mlver.yaml", yaml.safe_dump(config, sort_keys=False))
    p.commit_all("bind the model to its stage")
    p.ok("record", PIPELINE_MODEL)
    assert _record(p)["artifact"]["path"] == "model.pkl"


def test_run_refuses_what_the_pipeline_did_not_produce(pipeline: Project) -> None:
    p = pipeline
    # Raw data changed in the workspace but not committed: `dvc repro` would hash it in.
    declare(p)
    p.write("data/questions.csv", (p.root / "data/questions.csv").read_text() + "999,plot,1,1\n")
    run = p.fails("run", PIPELINE_MODEL)
    assert "data data/questions.csv has changed since it was committed" in run.stderr
    dvc(p.root, "checkout", "-q", "--force", "data/questions.csv")
    # --data edited into mlver.yaml by hand: checked at run time too.
    p.write("mlver.yaml", (p.root / "mlver.yaml").read_text().replace("stage: train", "stage: train\n    data: [src/train.py, README.md]"))
    p.commit_all("hand edit")
    assert "does not depend on README.md" in p.fails("run", PIPELINE_MODEL).stderr
    p.git("revert", "--no-edit", "HEAD")
    # A metrics file in git that no stage writes: stale once the model is retrained.
    p.write("old-metrics.json", '{"accuracy": 0.99}\n')
    p.commit_all("hand-written metrics")
    p.ok("model", "add", "stale", "--path", "model.pkl", "--stage", "train", "--metrics", "old-metrics.json")
    _params(p, "train", n_est=20)
    p.commit_all("declare stale, fewer stumps")
    run = p.fails("run", "stale", outputs=("dvc.lock",))
    assert "metrics file old-metrics.json predates the model model.pkl" in run.stderr
    # The evaluate stage stops writing eval/metrics.json: no record of someone else's numbers.
    src = (p.root / "src/evaluate.py").read_text()
    p.write("src/evaluate.py", src.replace('open("eval/metrics.json", "w")', 'open("eval/scores.json", "w")'))
    p.commit_all("metrics renamed")
    run = p.fails("run", PIPELINE_MODEL, outputs=("dvc.lock",))
    assert "metrics file eval/metrics.json does not exist: this run did not write it" in run.stderr


def test_model_add_edits_dvc_yaml_and_declares_metrics_to_dvc(pipeline: Project) -> None:
    p = pipeline
    declare(p)
    before = {f: (p.root / f).read_text() for f in ("dvc.yaml", "mlver.yaml")}
    p.write("score.py", "import json; open('scores.json', 'w').write(json.dumps({'auc': 0.75}))\n")
    p.write("scores.json", '{"auc": 0.75}\n')
    p.commit_all("a scorer")
    p.ok("model", "add", "scorer", "--path", "scorer.pkl", "--command", "python score.py",
         "--metrics", "scores.json", "--desc", "Scores questions", "--label", "nlp")
    added = _added_lines_only(before["dvc.yaml"], (p.root / "dvc.yaml").read_text())
    assert added == ["- scores.json", "  scorer:", "    path: scorer.pkl", "    type: model",
                     "    desc: Scores questions", "    labels:", "    - nlp"]
    added = _added_lines_only(before["mlver.yaml"], (p.root / "mlver.yaml").read_text())
    assert added[0] == "  scorer:" and "    metrics: scores.json" in added
    # DVC's own tools see the new metrics file, and the tutorial's artifact kept its desc, labels, meta.
    shown = json.loads(dvc(p.root, "metrics", "show", "--json"))
    assert "scores.json" in json.dumps(shown) and "eval/metrics.json" in json.dumps(shown)
    artifact = yaml.safe_load((p.root / "dvc.yaml").read_text())["artifacts"][PIPELINE_MODEL]
    assert artifact == {"path": "model.pkl", "desc": "Detect whether a question should carry the R tag",
                        "type": "model", "labels": ["nlp", "classification"], "meta": {"owner": "ml-team"}}
    p.commit_all("declare scorer")
    _dvc_still_works(p)


def test_model_add_says_what_it_staged_when_dvc_yaml_declares_it_all(pipeline: Project) -> None:
    """example-get-started's dvc.yaml already declares the model and its
    metrics: `model add` leaves it as it is, says only mlver.yaml was staged,
    and does not stage the user's own edit of dvc.yaml."""
    p = pipeline
    p.write("dvc.yaml", (p.root / "dvc.yaml").read_text() + "# the user's note, not ready to commit\n")
    said = p.ok("model", "add", PIPELINE_MODEL, "--path", "model.pkl", "--stage", "train",
                "--metrics", "eval/metrics.json")
    assert said.stdout.strip().endswith("(stage: train); mlver.yaml staged")
    assert p.git("diff", "--cached", "--name-only").split() == ["mlver.yaml"]
    assert p.git("diff", "--name-only").split() == ["dvc.yaml"]
    p.git("checkout", "--", "dvc.yaml")
    said = p.ok("model", "add", "scorer", "--path", "scorer.pkl", "--command", "python score.py", "--json").json()
    assert said["staged"] == ["mlver.yaml", "dvc.yaml"]
    assert sorted(p.git("diff", "--cached", "--name-only").split()) == ["dvc.yaml", "mlver.yaml"]


def test_record_commits_the_outs_git_keeps_with_dvc_lock(pipeline: Project, isolate) -> None:
    """example-dvc-experiments: train's metrics and plots are `cache: false`
    outs in git. After `dvc exp run -S` and a commit of params.yaml, `mlver
    record` refused them as uncommitted changes (then, given them, could not
    stage a folder); a record commit of dvc.lock without them leaves a clone's
    `dvc status` saying they changed. They go into the record commit."""
    from fixtures.pipeline import keep_train_outputs_in_git

    p = pipeline
    keep_train_outputs_in_git(p.root)
    p.ok("model", "add", "stumps", "--path", "model.pkl", "--stage", "train", "--metrics", "train_metrics.json")
    p.commit_all("declare stumps")
    p.ok("run", "stumps")
    dvc(p.root, "exp", "run", "-q", "-S", "train.n_est=7")
    p.git("commit", "-qm", "n_est 7", "params.yaml")
    [model] = [m for m in p.fails("status", "--json", code=1).json()["models"] if m["model"] == "stumps"]
    assert {x["fix"] for x in model["pending"] if x["kind"] == "trained"} == {
        "`mlver record stumps`, or `mlver run stumps` to train and record"}
    recorded = p.ok("record", "stumps", "--json").json()
    written = set(p.git("show", "--name-only", "--format=", recorded["commit"]).split())
    assert {"dvc.lock", "train_metrics.json", "train_plots/stumps.csv"} <= written
    assert p.git("status", "--porcelain") == ""
    record = json.loads((p.root / ".mlver/records/stumps.json").read_text())
    assert record["params"]["train.n_est"] == 7
    assert record["metrics"] == json.loads((p.root / "train_metrics.json").read_text())
    assert "up to date" in dvc(p.root, "status")
    clone = isolate / "clone"
    p.git("clone", "-q", str(p.root), str(clone))
    shown = json.loads(dvc(clone, "status", "--json", "train"))  # (nothing pulled: the cached outs are missing)
    changed = {path for e in shown.get("train", []) if isinstance(e, dict) for path in e.get("changed outs", {})}
    assert changed == {"model.pkl"}, shown  # what git keeps is as dvc.lock says


def test_data_add_in_a_pipeline_says_what_it_added(pipeline: Project) -> None:
    """A dvc.yaml with stages (example-get-started, example-dvc-experiments)
    sends `data add` through DVC's own add, whose bytes nobody counted: the
    summary said "add: 0 B in 1 path" of a 600 KB file."""
    from fixtures.pipeline import questions_csv

    p = pipeline
    p.write("data/questions.csv", questions_csv(300, seed=3))
    size = (p.root / "data/questions.csv").stat().st_size
    added = p.ok("data", "add", "data/questions.csv")
    assert f"add: {size / 1000:.1f} KB in 1 path, " in added.stderr, added.stderr


def test_data_add_of_a_stage_output_says_how_dvc_versions_it(pipeline: Project) -> None:
    """example-get-started's data/prepared is prepare's output: DVC's own
    refusal ("overlaps with an output of stage") came with the hint "check
    the path"; mlver names the stage and the commands that version it."""
    p = pipeline
    for path in ("data/prepared", "data/prepared/train.csv"):
        failed = p.fails("data", "add", path)
        assert failed.exit_code == 2
        error, hint = failed.stderr.strip().splitlines()
        assert error == f"error: {path} is an output of DVC stage 'prepare': DVC versions it in dvc.lock, not in a .dvc file"
        assert hint.startswith("hint: reproduce it with `dvc repro prepare` and commit dvc.lock;") and f"--data {path}`" in hint
    assert p.git("status", "--porcelain") == "" and not (p.root / "data/prepared.dvc").exists()
    p.ok("data", "add", "data/questions.csv")  # the .dvc-tracked source is data


def test_imported_data_upstream_is_recorded(pipeline: Project, tmp_path) -> None:
    """Data brought in with `dvc import-url` is a data source like `dvc add`ed data."""
    p = pipeline
    external = tmp_path / "elsewhere" / "stopwords.csv"
    external.parent.mkdir()
    external.write_text("word,weight\nthe,1\na,1\nof,2\n")
    dvc(p.root, "import-url", "-q", str(external), "data/stopwords.csv")
    dvc_yaml = (p.root / "dvc.yaml").read_text()
    p.write("dvc.yaml", dvc_yaml.replace("    - src/featurize.py\n", "    - src/featurize.py\n    - data/stopwords.csv\n", 1))
    p.commit_all("stopwords imported, used by featurize")
    declare(p)
    p.ok("run", PIPELINE_MODEL)
    data = {d["path"]: d for d in _record(p)["data"]}
    imported = yaml.safe_load((p.root / "data/stopwords.csv.dvc").read_text())["outs"][0]["md5"]
    assert set(data) == {"data/questions.csv", "data/stopwords.csv"}
    assert data["data/stopwords.csv"]["md5"] == imported and data["data/stopwords.csv"]["profile"]["rows"] == 3
    _dvc_still_works(p)


SUB_DVC_YAML = """\
# A second project in a folder of its own, as DVC allows (wdir: sub/).
stages:
  train:
    cmd: python train.py ../data/questions.csv model.bin
    deps:
    - ../data/questions.csv
    - train.py
    params:
    - train.scale
    outs:
    - model.bin
  evaluate:
    cmd: python evaluate.py model.bin
    deps:
    - model.bin
    - evaluate.py
    outs:
    - results
"""
SUB_TRAIN = """\
import sys, yaml, hashlib
scale = yaml.safe_load(open("params.yaml"))["train"]["scale"]
rows = open(sys.argv[1]).read().splitlines()
open(sys.argv[2], "w").write(f"{scale} {len(rows)} {hashlib.md5(chr(10).join(rows).encode()).hexdigest()}\\n")
"""
SUB_EVALUATE = """\
import json, os, sys
scale, rows, _ = open(sys.argv[1]).read().split()
os.makedirs("results", exist_ok=True)
json.dump({"score": float(scale) * 0.1, "rows": int(rows)}, open("results/metrics.json", "w"))
"""


def test_a_stage_model_in_a_nested_dvc_yaml(pipeline: Project, isolate) -> None:
    """DVC's dvc.yaml in a subfolder: `model add --stage sub/dvc.yaml:train`, run,
    show and pull, and DVC (repro, status) works afterwards."""
    p = pipeline
    for path, text in {"sub/dvc.yaml": SUB_DVC_YAML, "sub/params.yaml": "train:\n  scale: 3\n",
                       "sub/train.py": SUB_TRAIN, "sub/evaluate.py": SUB_EVALUATE}.items():
        p.write(path, text)
    dvc(p.root, "repro", "-q", "sub/dvc.yaml")
    p.commit_all("a sub-project with its own pipeline")
    sub_before, root_before = (p.root / "sub/dvc.yaml").read_text(), (p.root / "dvc.yaml").read_text()
    missing = p.fails("model", "add", "sub-model", "--path", "sub/model.bin", "--stage", "sub/dvc.yaml:fit")
    assert "sub/dvc.yaml:fit" in missing.stderr and "sub/dvc.yaml:train" in missing.stderr  # names the real stages
    wrong = p.fails("model", "add", "sub-model", "--path", "sub/model.bin", "--stage", "sub/dvc.yaml:evaluate")
    assert "does not output sub/model.bin" in wrong.stderr
    p.ok("model", "add", "sub-model", "--path", "sub/model.bin", "--stage", "sub/dvc.yaml:train",
         "--metrics", "sub/results/metrics.json")
    # Declared in the root dvc.yaml, so GTO's name is the model's (in sub/dvc.yaml it
    # would be sub:sub-model), by adding lines; DVC's metrics commands see the file.
    added = _added_lines_only(root_before, (p.root / "dvc.yaml").read_text())
    assert "- sub/results/metrics.json" in added and "    path: sub/model.bin" in added
    assert (p.root / "sub/dvc.yaml").read_text() == sub_before
    p.commit_all("declare sub-model")
    assert "sub/results/metrics.json" in dvc(p.root, "metrics", "show")

    p.write("sub/params.yaml", "train:\n  scale: 5\n")
    code = p.commit_all("scale 5")
    result = p.ok("run", "sub-model", "--json").json()
    record = json.loads((p.root / ".mlver/records/sub-model.json").read_text())
    assert record["code"]["commit"] == code
    assert record["metrics"] == result["metrics"] == {"score": 0.5, "rows": 241}
    assert record["params"] == {"train.scale": 5}
    assert [d["path"] for d in record["data"]] == ["data/questions.csv"]
    lock = yaml.safe_load((p.root / "sub/dvc.lock").read_text())["stages"]
    assert record["artifact"]["path"] == "sub/model.bin" and record["artifact"]["md5"] == lock["train"]["outs"][0]["md5"]
    assert set(p.git("show", "--name-only", "--format=", "HEAD").split()) == {".mlver/records/sub-model.json", "sub/dvc.lock"}
    _dvc_still_works(p)
    assert "up to date" in dvc(p.root, "status", "sub/dvc.yaml")

    p.ok("release", "sub-model")
    shown = p.ok("show", "sub-model@v0.1.0", "--json").json()
    assert shown["record"]["doc"]["code"]["command"] == "dvc repro sub/dvc.yaml:train sub/dvc.yaml:evaluate"
    p.ok("push")
    model = (p.root / "sub/model.bin").read_bytes()
    (p.root / "sub/model.bin").unlink()
    p.ok("pull", "sub-model@v0.1.0")  # to its own path, sub/model.bin
    assert (p.root / "sub/model.bin").read_bytes() == model
    p.ok("pull", "sub-model@v0.1.0", "-o", str(isolate / "copy.bin"))
    assert (isolate / "copy.bin").read_bytes() == model
    _dvc_still_works(p)
