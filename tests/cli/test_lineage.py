"""`mlver lineage`: the graph's edges against the records, its text forms against hostile records."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from fixtures.browser import Browser, StaticServer
from fixtures.pipeline import PIPELINE_MODEL, declare

from conftest import Project


def _graph(p: Project, ref: str) -> tuple[dict[str, dict], set[tuple[str, str, str]]]:
    g = p.ok("lineage", ref, "--json").json()
    nodes = {n["id"]: n for n in g["nodes"]}
    return nodes, {(nodes[e["source"]]["label"], nodes[e["target"]]["label"], e["label"]) for e in g["edges"]}


def test_lineage_of_a_model_joins_shared_data_and_shows_stages(three_versions: Project) -> None:
    p = three_versions
    docs = {v: p.ok("show", f"churn@{v}", "--json").json()["record"]["doc"] for v in ("v0.1.0", "v0.2.0", "v0.3.0")}
    nodes, edges = _graph(p, "churn")
    data = [n for n in nodes.values() if n["kind"] == "data"]
    # v0.1.0 and v0.2.0 trained on one data version: one node; v0.3.0 on another.
    assert sorted(n["detail"][0] for n in data) == sorted({f"md5 {d['data'][0]['md5'][:12]}" for d in docs.values()})
    assert {n["detail"][1] for n in data} == {"200 rows", "300 rows"}
    trainings = {n["label"]: n for n in nodes.values() if n["kind"] == "training"}
    assert set(trainings) == {f"training at {d['code']['commit'][:12]}" for d in docs.values()}
    for v, d in docs.items():
        training = f"training at {d['code']['commit'][:12]}"
        assert ("data/train.csv", training, "") in edges and (training, f"churn {v}", "") in edges
        assert "python train.py" in trainings[training]["detail"]
        assert f"train.lr={d['params']['train.lr']}" in trainings[training]["detail"]
    assert ("churn v0.2.0", "prod", "holds") in edges and ("churn v0.3.0", "staging", "holds") in edges
    versions = [n for n in nodes.values() if n["kind"] == "version"]
    assert len(versions) == 3 and f"accuracy={docs['v0.3.0']['metrics']['accuracy']}" in \
        next(n for n in versions if n["label"] == "churn v0.3.0")["detail"]

    p.ok("promote", "churn@v0.3.0", "prod")
    nodes, edges = _graph(p, "churn#prod")  # one version
    assert {n["label"] for n in nodes.values() if n["kind"] == "version"} == {"churn v0.3.0"}
    assert ("churn v0.3.0", "prod", "holds") in edges and ("churn v0.3.0", "staging", "holds") in edges
    _, edges = _graph(p, "churn@v0.2.0")
    assert ("churn v0.2.0", "prod", "held") in edges
    assert p.ok("lineage", "churn", "--last", "1", "--json").json()["versions"] == ["v0.3.0"]

    mermaid = p.ok("lineage", "churn", "--mermaid").stdout
    assert mermaid.startswith("flowchart LR\n") and "-.->|\"held\"|" in mermaid
    dot = p.ok("lineage", "churn", "--dot").stdout
    assert dot.startswith("digraph lineage {") and dot.rstrip().endswith("}") and "style=dashed" in dot
    human = p.ok("lineage", "churn@v0.3.0").stdout
    assert "data/train.csv (md5 " in human and "-holds-> prod" in human

    # The card and the review embed the graph as a mermaid block (GitHub and GitLab draw it).
    card = p.ok("card", "churn@v0.3.0").stdout
    assert "```mermaid\nflowchart LR\n" in card and "churn v0.3.0" in card
    review = p.ok("review", "--base", "HEAD~3").stdout
    assert "```mermaid\nflowchart LR\n" in review


def test_lineage_of_a_pipeline_walks_dvc_lock(pipeline: Project) -> None:
    p = pipeline
    declare(p)
    p.ok("run", PIPELINE_MODEL)
    p.ok("release", PIPELINE_MODEL)
    nodes, edges = _graph(p, PIPELINE_MODEL)
    kinds = {n["label"]: n["kind"] for n in nodes.values()}
    training = next(label for label, kind in kinds.items() if kind == "training")
    assert training.startswith("stage train at ")
    assert kinds["data/questions.csv"] == "data" and kinds["stage prepare"] == "stage"
    assert kinds["src/prepare.py"] == "file"
    assert ("data/questions.csv", "stage prepare", "") in edges
    assert ("stage prepare", "stage featurize", "data/prepared") in edges
    assert ("stage featurize", training, "data/features") in edges
    assert ("src/train.py", training, "") in edges
    assert (training, f"{PIPELINE_MODEL} v0.1.0", "") in edges


# A mermaid node line: id, a shape's opening, escaped text, its closing; an edge: two ids.
_NODE = re.compile(r'  [dfstvg]\d+(\[\("|\["|\[\["|\("|\{\{"|\(\[")[A-Za-z0-9 .,_:/=+\-#;]*(<br/>[A-Za-z0-9 .,_:/=+\-#;]*)*'
                   r'("\)\]|"\]|"\]\]|"\)|"\}\}|"\]\))')
_EDGE = re.compile(r'  [dfstvg]\d+ (-->|-\.->)(\|"[A-Za-z0-9 .,_:/=+\-#;]*"\|)? [dfstvg]\d+')
_DOT = re.compile(r'  [dfstvg]\d+ \[label="(?:[^"\\]|\\.)*", shape=\w+(, style="rounded")?\];'
                  r'|  [dfstvg]\d+ -> [dfstvg]\d+( \[label="(?:[^"\\]|\\.)*"(, style=dashed)?\])?;')


MERMAID = Path(__file__).resolve().parents[2] / ".cache" / "npm" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
# Parse and draw each text with the real mermaid (strict security, as GitHub's), then look at what it drew.
RENDER = """(async () => {
  mermaid.initialize({startOnLoad: false, securityLevel: 'strict'});
  const out = [];
  for (const [i, text] of JSON.parse(document.getElementById('texts').textContent).entries()) {
    try {
      const {svg} = await mermaid.render('graph' + i, text);
      const doc = document.createElement('div');  // into the page, as a forge shows it: an <img onerror> would fire
      doc.innerHTML = svg;
      document.body.append(doc);
      doc.querySelectorAll('style').forEach(e => e.remove());
      out.push({ok: true, nodes: doc.querySelectorAll('g.node').length, edges: doc.querySelectorAll('.edgePaths path').length,
                elements: [...doc.querySelectorAll('script, img, iframe, a, [onerror], [onload]')].map(e => e.outerHTML),
                text: doc.textContent});
    } catch (e) { out.push({ok: false, error: String(e)}); }
  }
  return out;
})()"""


def test_hostile_record_values_cannot_break_out_of_a_label(project: Project, browser: Browser,
                                                           static_server: StaticServer) -> None:
    p = project
    hostile = 'x"]) --> evil[("pwned")] %% `` ```\n</script><script>alert(1)</script> |x| \\" #quot;'
    p.set_params(lr=0.1, note=hostile)
    p.commit_all("hostile")
    p.ok("run", "churn")
    p.ok("release", "churn")
    mermaid = p.ok("lineage", "churn", "--mermaid").stdout
    lines = mermaid.splitlines()
    assert lines[0] == "flowchart LR"
    for line in lines[1:]:
        assert _NODE.fullmatch(line) or _EDGE.fullmatch(line) or re.fullmatch(r"  class [a-z0-9,]+ [a-z]+|  classDef [a-z]+ [a-z0-9:#,]+", line), line
    assert "#34;" in mermaid and "#60;/script#62;" in mermaid  # the value is there, as entity codes
    dot = p.ok("lineage", "churn", "--dot").stdout.splitlines()
    assert dot[:3] == ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];'] and dot[-1] == "}"
    for line in dot[3:-1]:
        assert _DOT.fullmatch(line), line
    card = p.ok("card", "churn").stdout
    block = card.split("```mermaid\n", 1)[1].split("\n```\n", 1)[0]  # the fence closes where mlver closes it
    assert block == mermaid.rstrip("\n")

    # The real mermaid draws it: every node and edge mlver wrote, no element from the value, the value as text.
    g = p.ok("lineage", "churn", "--json").json()
    assert MERMAID.is_file(), f"{MERMAID} is missing: ./scripts/setup installs mermaid with npm"
    shutil.copyfile(MERMAID, static_server.root / "mermaid.min.js")
    texts = json.dumps([mermaid]).replace("<", "\\u003c")
    (static_server.root / "index.html").write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>t</title>'
        f'<script src="mermaid.min.js"></script></head><body><script type="application/json" id="texts">{texts}'
        f'</script></body></html>')
    visit = browser.visit(static_server.url + "index.html", RENDER)
    assert visit.errors == [], visit.errors
    [drawn] = visit.probe
    assert drawn["ok"], drawn
    assert drawn["nodes"] == len(g["nodes"]) and drawn["edges"] == len(g["edges"])
    assert drawn["elements"] == []
    assert "`` ```?</script><script>alert(1)</script" in drawn["text"] and 'evil[("pwned")]' in drawn["text"]  # as text
