"""A crafted record (re-sealed, so its digest passes) whose fields have the
wrong JSON type is refused where it is read, by every command, never met as
an internal error in whichever renderer reads it first; what reproduce
shows before it runs cannot rewrite the terminal line."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from conftest import Project
from mlver.domain import record as rec

RECORD = ".mlver/records/churn.json"


def _write(p: Project, doc: dict[str, Any], seal: bool = True, message: str = "crafted") -> None:
    (p.root / RECORD).write_text(rec.dumps(rec.seal(doc)) if seal else json.dumps(doc, indent=2, sort_keys=True) + "\n")
    p.commit_all(message)


def _column(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        for column in doc["data"][0]["profile"]["columns"]:
            column[field] = value
    return change


CRAFTED: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("params", lambda d: d.update(params="lr=0.1")),
    ("metrics", lambda d: d.update(metrics=[0.9])),
    ("code", lambda d: d.update(code="python train.py")),
    ("env.packages", lambda d: d["env"].update(packages="sklearn")),
    ("author", lambda d: d.update(author="Mallory")),
    ("parent", lambda d: d.update(parent="HEAD~1")),
    ("artifact.size", lambda d: d["artifact"].update(size="big")),
    ("data[0].path", lambda d: d["data"][0].pop("path")),
    ("data[0].profile.columns", lambda d: d["data"][0]["profile"].update(columns="age,income")),
    ("data[0].profile.columns[0].histogram", _column("histogram", "x")),
    ("data[0].profile.columns[0].name", _column("name", 5)),
]


def test_a_resealed_record_with_fields_of_the_wrong_type_is_refused_never_a_crash(trained: Project) -> None:
    trained.ok("push")
    trained.write("new.csv", (trained.root / "data/train.csv").read_text())
    good = trained.commit_all("new data to compare")
    base = json.loads((trained.root / RECORD).read_text())
    for field, change in CRAFTED:
        doc = json.loads(json.dumps(base))
        change(doc)
        _write(trained, doc, message=f"crafted {field}")
        for args in (("show", "churn@HEAD"), ("diff", "churn@v0.1.0", "churn@HEAD"), ("card", "churn@HEAD"),
                     ("pull", "churn@HEAD", "--with-data"), ("drift", "churn@HEAD", "new.csv"),
                     ("review", "--base", good), ("release", "churn")):
            run = trained.mlver(*args)
            assert run.exit_code == 2, (field, args, run.stdout, run.stderr)
            assert f"{field} " in run.stderr and "is refused" in run.stderr and "internal error" not in run.stderr, (field, args, run.stderr)
        findings = trained.mlver("verify", "--json")
        assert findings.exit_code == 1 and any(field in f["problem"] for f in findings.json()["findings"]), (field, findings.stdout)
        trained.ok("log", "churn")
        trained.ok("ls")
    # A record of another schema is read "as far as it is understood", and checked like one of this schema.
    doc = json.loads(json.dumps(base))
    doc["schema"] = 2
    doc["env"]["packages"] = "sklearn"
    _write(trained, doc, message="another mlver's record")
    run = trained.mlver("diff", "churn@v0.1.0", "churn@HEAD")
    assert run.exit_code == 2 and "env.packages" in run.stderr and "internal error" not in run.stderr, run.stderr


def _of(kind: str, field: str, value: Any = None, drop: bool = False) -> Callable[[dict[str, Any]], None]:
    """Set (or drop) ``field`` of the first column of ``kind`` in the first input's profile."""
    def change(doc: dict[str, Any]) -> None:
        column = next(c for c in doc["data"][0]["profile"]["columns"] if c["kind"] == kind)
        if drop:
            column.pop(field)
        else:
            column[field] = value
    return change


# Of the right JSON type (or null, which the type check lets through), and still
# nothing PSI can be computed from: each was an internal error in drift and diff.
UNCOMPARABLE: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("columns[2].top[0]", _of("categorical", "top", [5, "x"])),
    ("columns[2].top[0]", _of("categorical", "top", [["a", "many"]])),
    ("columns[2].top", _of("categorical", "top", None)),
    ("columns[2].other", _of("categorical", "other", None)),
    ("columns[0].name", _of("numeric", "name", None)),
    ("columns[0].nulls", _of("numeric", "nulls", None)),
    ("columns[0].histogram.edges", _of("numeric", "histogram", {"edges": None, "counts": [1]})),
    ("columns[0].histogram.counts", _of("numeric", "histogram", {"edges": [0, 1, 2], "counts": ["a", "b"]})),
    ("columns[0].histogram.edges", _of("numeric", "histogram", {"edges": [0, 1], "counts": [1, 2, 3]})),
    ("columns[0].histogram", _of("numeric", "histogram", drop=True)),
    ("data[0].profile.rows", lambda d: d["data"][0]["profile"].update(rows=None)),
]


def test_a_profile_that_cannot_be_compared_is_refused_by_drift_and_diff(trained: Project) -> None:
    trained.write("new.csv", (trained.root / "data/train.csv").read_text())
    trained.commit_all("new data to compare")
    base = json.loads((trained.root / RECORD).read_text())
    assert [c["kind"] for c in base["data"][0]["profile"]["columns"]][:3] == ["numeric", "numeric", "categorical"]
    for field, change in UNCOMPARABLE:
        doc = json.loads(json.dumps(base))
        change(doc)
        doc["data"][0]["md5"] = "0" * 32  # another data version, so diff compares the profiles
        _write(trained, doc, message=f"crafted {field}")
        for args in (("drift", "churn@HEAD", "new.csv"), ("diff", "churn@v0.1.0", "churn@HEAD"),
                     ("diff", "churn@HEAD", "churn@v0.1.0", "--json")):
            run = trained.mlver(*args)
            assert run.exit_code == 2, (field, args, run.stdout, run.stderr)
            assert "the record of churn@" in run.stderr and f"{field} " in run.stderr and "is refused" in run.stderr, (field, args, run.stderr)
    trained.git("reset", "-q", "--hard", "HEAD~" + str(len(UNCOMPARABLE)))
    assert trained.ok("drift", "churn@HEAD", "new.csv", "--json").json()["ok"] is True


# Null (or absent) where a part belongs: the record check lets it through as "nothing
# recorded", so every reader must show nothing there, not stop (each was exit 4).
NOTHING: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("env null", lambda d: d.update(env=None)),
    ("env absent", lambda d: d.pop("env")),
    ("data null", lambda d: d.update(data=None)),
    ("columns null", lambda d: d["data"][0]["profile"].update(columns=None)),
    ("params and metrics null", lambda d: d.update(params=None, metrics=None)),
    ("dirty_files null", lambda d: d["code"].update(clean=False, dirty_files=None)),
]


def test_a_record_with_null_parts_is_shown_as_nothing_recorded(trained: Project, tmp_path: Path) -> None:
    base = json.loads((trained.root / RECORD).read_text())
    for field, change in NOTHING:
        doc = json.loads(json.dumps(base))
        change(doc)
        doc["created"] = f"crafted {field}"  # another record, so it can be released
        _write(trained, doc, message=f"crafted {field}")
        trained.ok("release", "churn")
        for args in (("card", "churn"), ("card", "churn", "--html"), ("show", "churn"), ("site", "-o", str(tmp_path / "site"))):
            run = trained.mlver(*args)
            assert run.exit_code == 0, (field, args, run.stderr)
    # An input whose hash is null: drift still compares its profile, and says it has no hash.
    doc = json.loads(json.dumps(base))
    doc["data"][0]["md5"] = None
    _write(trained, doc, message="an input without its hash")
    trained.write("new.csv", (trained.root / "data/train.csv").read_text())
    assert trained.ok("drift", "churn@HEAD", "new.csv").stdout
    # A profile whose columns are null: drift has nothing to compare with, diff compares no columns.
    doc["data"][0].update(md5="0" * 32)
    doc["data"][0]["profile"]["columns"] = None
    _write(trained, doc, message="a profile without columns")
    assert "keeps no profile of data/train.csv (its profile lists no columns)" in trained.fails("drift", "churn@HEAD", "new.csv").stderr
    assert trained.ok("diff", "churn@v0.1.0", "churn@HEAD", "--json").json()


def test_reproduce_shows_a_command_with_control_characters_escaped(project: Project, isolate: Path) -> None:
    config = yaml.safe_load((project.root / "mlver.yaml").read_text())
    # A carriage return (or a cursor move) would print an innocent command over the one that runs.
    config["models"]["churn"]["command"] = "python train.py; true \rpython train.py"
    project.write("mlver.yaml", yaml.safe_dump(config))
    project.commit_all("a command that hides itself")
    project.ok("run", "churn")
    run = project.mlver("reproduce", "churn@HEAD")
    assert "reproduce: running `python train.py; true \\x0dpython train.py`" in run.stderr, repr(run.stderr)
    assert "\r" not in run.stderr


def test_nan_or_infinity_in_a_record_still_gives_standard_json(trained: Project) -> None:
    # Python's json reads NaN and Infinity in a record from git, and wrote them back out
    # under --json: not JSON, and jq or JSON.parse refused the whole document.
    import math

    p = trained
    path = p.root / ".mlver/records/churn.json"
    doc = json.loads(path.read_text())
    doc["metrics"].update(accuracy=math.nan, rows=math.inf)
    doc["digest"] = rec.compute_digest(doc)
    path.write_text(rec.dumps(doc))
    p.commit_all("a record with NaN and Infinity")

    def strict(text: str) -> Any:
        def refuse(constant: str) -> None:
            raise AssertionError(f"{constant} is not JSON")
        return json.loads(text, parse_constant=refuse)

    shown = strict(p.ok("show", "churn@HEAD", "--json").stdout)
    assert shown["record"]["doc"]["metrics"] == {"accuracy": None, "rows": None}
    strict(p.ok("diff", "churn@v0.1.0", "churn@HEAD", "--json").stdout)


def test_line_breaks_in_a_records_values_cannot_print_forged_lines(trained: Project) -> None:
    # Control characters were escaped on the way to the terminal, but not line breaks: a
    # re-sealed record whose command ended in "\nmetrics   accuracy=0.99" printed that as
    # show's own metrics line, and a param named "lr\n..." started a row of diff's table.
    doc = json.loads((trained.root / RECORD).read_text())
    doc["code"]["command"] = "python train.py\nmetrics   accuracy=0.99"
    doc["author"]["name"] = "Eve\r\nverified  by the release manager"
    doc["params"]["lr\nforged"] = "1\tv"
    doc["metrics"]["accuracy\nrows"] = 1
    _write(trained, doc)
    shown = trained.ok("show", "churn@HEAD").stdout
    diffed = trained.ok("diff", "churn@v0.1.0", "churn@HEAD").stdout
    lines = shown.splitlines() + diffed.splitlines()
    assert not [line for line in lines if line.startswith(("metrics   accuracy=0.99", "verified", "forged", "  forged"))]
    assert len([line for line in diffed.splitlines() if line.startswith("  rows ")]) == 1, diffed  # the real metric
    assert "command   python train.py\\nmetrics   accuracy=0.99" in shown and "by Eve\\r\\nverified" in shown
    assert "params    lr\\nforged=1\\tv" in shown and "accuracy\\nrows=1" in shown
    assert any(line.split()[:3] == ["lr\\nforged", "-", "1\\tv"] for line in diffed.splitlines()), diffed
    assert any(line.split()[0] == "accuracy\\nrows" for line in diffed.splitlines()), diffed
