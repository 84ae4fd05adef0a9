"""The lineage graph, pure: which nodes and edges small records and dvc.lock stages give (shared
things drawn once), its mermaid and DOT forms exactly, and hostile labels that cannot break either."""
from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mlver.domain import lineage as ln
from mlver.domain.lineage import Trained, lineage_graph, to_dot, to_mermaid
from mlver.models import Lineage, LineageEdge, LineageNode

C1, C2, C3 = "1" * 40, "2" * 40, "3" * 40
TRAIN = {"path": "data/train.csv", "md5": "0123456789abcdef0123", "profile": {"rows": 100}}


def _pipeline_item() -> Trained:
    """v2: the model's stage `train` (a list command) fed by `featurize` (whose input is a plain
    file) and by the record's data, plus a data file the pipeline never reached."""
    doc = {"code": {"commit": "abcdef1234567890"}, "params": {"lr": 0.1, "depth": 3}, "digest": "dA",
           "data": [TRAIN, {"path": "extra.csv", "md5": "ffff"}, "not a mapping"],
           "metrics": {"auc": 0.912345678, "loss": 2}}
    pipeline = (
        {"name": "train", "cmd": ["python train.py", "echo done"], "outs": [{"path": "model.pkl", "md5": "m"}],
         "deps": [{"path": "feat.parquet", "md5": "m1"}, {"path": "data/train.csv", "md5": "0123"},
                  {"path": "model.pkl", "md5": "m"}]},  # its own output: not an edge from itself
        {"name": "featurize", "cmd": "python feat.py", "deps": [{"path": "raw.csv", "md5": "fedcba9876543210"}],
         "outs": [{"path": "feat.parquet", "md5": "m1"}]},
    )
    return Trained("v2", C2, doc, stages_now=("prod",), stages_before=("staging",), pipeline=pipeline)


def _items() -> list[Trained]:
    v1 = Trained("v1", C1, {"code": {"commit": "0011223344556677", "command": "python train.py"},
                            "params": {f"p{i}": i for i in range(7)}, "digest": "dB", "data": [TRAIN],
                            "metrics": {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}},
                 stages_before=("prod",))
    unreleased = Trained("", C3, {"data": None, "params": "not a mapping", "code": ["nor", "this"]})
    return [_pipeline_item(), v1, unreleased]


NODES = [
    ("t1", "training", "stage train at abcdef123456", ("python train.py && echo done", "depth=3", "lr=0.1")),
    ("s1", "stage", "stage featurize", ("python feat.py",)),
    ("d1", "data", "data/train.csv", ("md5 0123456789ab", "100 rows")),
    ("f1", "file", "model.pkl", ("md5 m",)),
    ("f2", "file", "raw.csv", ("md5 fedcba987654",)),
    ("d2", "data", "extra.csv", ("md5 ffff",)),
    ("v1", "version", "churn v2", ("auc=0.912346", "loss=2")),
    ("g1", "registry", "prod", ()),
    ("g2", "registry", "staging", ()),
    ("t2", "training", "training at 001122334455",
     ("python train.py", "p0=0", "p1=1", "p2=2", "p3=3", "p4=4", "p5=5", "+1 more params")),
    ("v2", "version", "churn v1", ("a=1", "b=2", "c=3", "d=4")),
    ("t3", "training", "training at -", ()),
    ("v3", "version", "churn record at 333333333333", ()),
]
EDGES = [("s1", "t1", "feat.parquet"), ("d1", "t1", ""), ("f1", "t1", ""), ("f2", "s1", ""), ("d2", "t1", ""),
         ("t1", "v1", ""), ("v1", "g1", "holds"), ("v1", "g2", "held"),
         ("d1", "t2", ""), ("t2", "v2", ""), ("v2", "g1", "held"), ("t3", "v3", "")]


def test_a_pipeline_a_plain_training_and_an_unreleased_record_share_their_data_and_stages() -> None:
    g = lineage_graph("churn", "churn", _items())
    assert (g.ref, g.model, g.versions) == ("churn", "churn", ("v2", "v1", ""))
    assert [(n.id, n.kind, n.label, n.detail) for n in g.nodes] == NODES
    assert [(e.source, e.target, e.label) for e in g.edges] == EDGES
    assert lineage_graph("churn", "churn", _items()) == g  # deterministic


def test_the_same_training_is_drawn_once_and_a_different_one_apart() -> None:
    doc = {"code": {"commit": "c0"}, "digest": "x", "data": [TRAIN]}
    twice = lineage_graph("m", "m", [Trained("v1", C1, doc), Trained("v1", C1, doc)])
    assert [n.id for n in twice.nodes] == ["t1", "d1", "v1"] and len(twice.edges) == 2
    # another digest (a record rewritten) or another commit: another training; the data stays one node
    other = lineage_graph("m", "m", [Trained("v1", C1, doc), Trained("v2", C1, {**doc, "digest": "y"}),
                                     Trained("v3", C2, doc)])
    assert [n.id for n in other.nodes] == ["t1", "d1", "v1", "t2", "v2", "t3", "v3"]
    # the same path at another md5 is another data version; an unreleased record is keyed by its commit
    moved = lineage_graph("m", "m", [Trained("", C1, {"data": [TRAIN]}),
                                     Trained("", C2, {"data": [{**TRAIN, "md5": "9999"}]})])
    assert [(n.id, n.label) for n in moved.nodes if n.kind in ("data", "version")] == [
        ("d1", "data/train.csv"), ("v1", "m record at 111111111111"), ("d2", "data/train.csv"),
        ("v2", "m record at 222222222222")]


def test_what_makes_two_things_one_node() -> None:
    # data: its path and its md5 (the same bytes at two paths are two inputs)
    g = lineage_graph("m", "m", [Trained("v1", C1, {"data": [{"path": "a", "md5": "1"}, {"path": "b", "md5": "1"}]})])
    assert [n.label for n in g.nodes if n.kind == "data"] == ["a", "b"]
    # a plain file: its path and its md5
    def fit(md5: str, out: str = "o", name: str = "prep", out_md5: str = "9") -> tuple[dict[str, Any], ...]:
        return ({"name": "fit", "deps": [{"path": "raw", "md5": md5}, {"path": out, "md5": out_md5}]},
                {"name": name, "deps": [{"path": "raw", "md5": md5}], "outs": [{"path": out, "md5": out_md5}]})
    g = lineage_graph("m", "m", [Trained("v1", C1, {}, pipeline=fit("1")), Trained("v2", C2, {}, pipeline=fit("2"))])
    assert [(n.id, n.detail) for n in g.nodes if n.kind == "file"] == [("f1", ("md5 1",)), ("f2", ("md5 2",))]
    assert [n.id for n in g.nodes if n.kind == "stage"] == ["s1"]  # same name, same outputs: one run
    # a stage: its name and its outputs' paths and md5s
    for other in (fit("1", out="p"), fit("1", name="clean"), fit("1", out_md5="8")):
        g = lineage_graph("m", "m", [Trained("v1", C1, {}, pipeline=fit("1")), Trained("v2", C2, {}, pipeline=other)])
        assert [n.id for n in g.nodes if n.kind == "stage"] == ["s1", "s2"], other
    # record data that an upstream stage reads is drawn into that stage only, not into the training too
    upstream = ({"name": "fit", "deps": [{"path": "o", "md5": "9"}]}, fit("1")[1])
    g = lineage_graph("m", "m", [Trained("v1", C1, {"data": [{"path": "raw", "md5": "1"}]}, pipeline=upstream)])
    assert [(e.source, e.target, e.label) for e in g.edges] == [("s1", "t1", "o"), ("d1", "s1", ""), ("t1", "v1", "")]
    # kinds never share a node: a stage and a version both named "prod", a data file and a plain file alike
    g = lineage_graph("m", "m", [Trained("prod", C1, {"data": [{"path": "raw", "md5": "1"}]}, stages_now=("prod",),
                                         pipeline=({"name": "fit", "deps": [{"path": "raw", "md5": "1"}]},))])
    assert [n.kind for n in g.nodes] == ["training", "data", "version", "registry"]


def test_data_details_read_only_what_is_well_formed() -> None:
    def detail(entry: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
        node = lineage_graph("m", "m", [Trained("v1", C1, {"data": [entry]})]).nodes[1]
        assert node.kind == "data"
        return node.label, node.detail

    assert detail({"path": "a", "md5": "abc", "profile": {"rows": 0}}) == ("a", ("md5 abc", "0 rows"))
    assert detail({"path": "a", "md5": "abc", "profile": {"rows": "5"}}) == ("a", ("md5 abc",))
    assert detail({"path": "a", "md5": "abc", "profile": {"rows": 5.0}}) == ("a", ("md5 abc",))
    assert detail({"path": "a", "md5": "abc", "profile": [("rows", 3)]}) == ("a", ("md5 abc",))
    assert detail({"path": "", "md5": None}) == ("?", ("md5 -",))
    assert detail({"md5": ""}) == ("?", ("md5 -",))


def test_six_params_fit_and_a_stage_command_is_the_fallback() -> None:
    six = {f"k{i}": i for i in range(6)}
    stage = {"name": "fit", "cmd": "python fit.py", "deps": [], "outs": []}
    g = lineage_graph("m", "m", [Trained("v1", C1, {"params": six, "code": {"commit": "c"}}, pipeline=(stage,))])
    assert (g.nodes[0].label, g.nodes[0].detail) == ("stage fit at c", ("python fit.py", *(f"k{i}={i}" for i in range(6))))
    # the record's own command wins over the stage's; an empty one falls back
    g = lineage_graph("m", "m", [Trained("v1", C1, {"code": {"command": "mine"}}, pipeline=(stage,))])
    assert g.nodes[0].detail == ("mine",)
    g = lineage_graph("m", "m", [Trained("v1", C1, {"code": {"command": ""}}, pipeline=({"name": "fit", "cmd": []},))])
    assert g.nodes[0].detail == ()


def test_a_stage_without_a_command_and_a_dep_two_stages_up() -> None:
    pipeline = ({"name": "train", "deps": [{"path": "b", "md5": "1"}]},
                {"name": "mid", "deps": [{"path": "a", "md5": "2"}], "outs": [{"path": "b", "md5": "1"}]},
                {"name": "first", "cmd": "", "outs": [{"path": "a", "md5": "2"}]})
    g = lineage_graph("m", "m", [Trained("v1", C1, {}, pipeline=pipeline)])
    assert [(n.id, n.label, n.detail) for n in g.nodes] == [
        ("t1", "stage train at -", ()), ("s1", "stage mid", ()), ("s2", "stage first", ()), ("v1", "m v1", ())]
    assert [(e.source, e.target, e.label) for e in g.edges] == [("s1", "t1", "b"), ("s2", "s1", "a"), ("t1", "v1", "")]
    # the same stage with other outputs (another run) is another node; with the same, one node
    again = lineage_graph("m", "m", [Trained("v1", C1, {}, pipeline=pipeline), Trained("v2", C2, {}, pipeline=pipeline)])
    assert [n.id for n in again.nodes if n.kind == "stage"] == ["s1", "s2"]
    changed = (pipeline[0], {**pipeline[1], "outs": [{"path": "b", "md5": "9"}]}, pipeline[2])
    apart = lineage_graph("m", "m", [Trained("v1", C1, {}, pipeline=pipeline), Trained("v2", C2, {}, pipeline=changed)])
    assert [(n.id, n.label) for n in apart.nodes if n.kind == "stage"] == [
        ("s1", "stage mid"), ("s2", "stage first"), ("s3", "stage mid")]


def test_labels_are_printable_and_cut_at_eighty_characters() -> None:
    assert ln._text("x" * 80) == "x" * 80
    assert ln._text("x" * 81) == "x" * 79 + "…"
    assert ln._text("a\nb\tc\x00") == "a?b?c?"
    assert ln._text(12) == "12"
    # The one text of a value (mlver/formats.py): booleans and lists as a params file writes them.
    assert (ln._value(0.123456789), ln._value(1234567), ln._value(True), ln._value(1e-7), ln._value(["a", 1])) == (
        "0.123457", "1234567", "true", "1e-07", '["a", 1]')
    assert (ln._short("abcdefghijk"), ln._short(None), ln._short(""), ln._short(123456789, 3)) == (
        "abcdefgh", "-", "-", "123")
    assert (ln._command(["a", 1]), ln._command("b"), ln._command(None), ln._command([])) == ("a && 1", "b", "", "")
    assert ln.as_map({"a": 1}) == {"a": 1} and ln.as_map(["a"]) == {} and ln.as_map(None) == {}
    g = lineage_graph("m", "m", [Trained("v" * 100, C1, {"metrics": {"m\n": "y" * 90}})])
    version = g.nodes[1]
    assert version.label == "m " + "v" * 77 + "…" and version.detail == ("m?=" + "y" * 76 + "…",)
    held = lineage_graph("m", "m", [Trained("v1", C1, {}, stages_now=("s\n" * 50,))])
    assert held.edges[-1].label == "holds" and held.nodes[-1].label == ("s?" * 40)[:79] + "…"


MERMAID = """\
flowchart LR
  t1("stage train at abcdef123456<br/>python train.py #38;#38; echo done<br/>depth=3<br/>lr=0.1")
  s1[["stage featurize<br/>python feat.py"]]
  d1[("data/train.csv<br/>md5 0123456789ab<br/>100 rows")]
  f1["model.pkl<br/>md5 m"]
  f2["raw.csv<br/>md5 fedcba987654"]
  d2[("extra.csv<br/>md5 ffff")]
  v1{{"churn v2<br/>auc=0.912346<br/>loss=2"}}
  g1(["prod"])
  g2(["staging"])
  t2("training at 001122334455<br/>python train.py<br/>p0=0<br/>p1=1<br/>p2=2<br/>p3=3<br/>p4=4<br/>p5=5<br/>+1 more params")
  v2{{"churn v1<br/>a=1<br/>b=2<br/>c=3<br/>d=4"}}
  t3("training at -")
  v3{{"churn record at 333333333333"}}
  s1 -->|"feat.parquet"| t1
  d1 --> t1
  f1 --> t1
  f2 --> s1
  d2 --> t1
  t1 --> v1
  v1 -->|"holds"| g1
  v1 -.->|"held"| g2
  d1 --> t2
  t2 --> v2
  v2 -.->|"held"| g1
  t3 --> v3
  classDef data fill:#e8f0fe,stroke:#4a6fa5
  class d1,d2 data
  classDef file fill:#f5f5f5,stroke:#999999
  class f1,f2 file
  classDef stage fill:#fff4e0,stroke:#b07a1e
  class s1 stage
  classDef training fill:#fff4e0,stroke:#b07a1e
  class t1,t2,t3 training
  classDef version fill:#e6f4ea,stroke:#2e7d32
  class v1,v2,v3 version
  classDef registry fill:#fce8e6,stroke:#c5221f
  class g1,g2 registry
"""

DOT = """\
digraph lineage {
  rankdir=LR;
  node [fontname="Helvetica", fontsize=10];
  t1 [label="stage train at abcdef123456\\npython train.py && echo done\\ndepth=3\\nlr=0.1", shape=box, style="rounded"];
  s1 [label="stage featurize\\npython feat.py", shape=box];
  d1 [label="data/train.csv\\nmd5 0123456789ab\\n100 rows", shape=cylinder];
  f1 [label="model.pkl\\nmd5 m", shape=note];
  f2 [label="raw.csv\\nmd5 fedcba987654", shape=note];
  d2 [label="extra.csv\\nmd5 ffff", shape=cylinder];
  v1 [label="churn v2\\nauc=0.912346\\nloss=2", shape=hexagon];
  g1 [label="prod", shape=ellipse];
  g2 [label="staging", shape=ellipse];
  t2 [label="training at 001122334455\\npython train.py\\np0=0\\np1=1\\np2=2\\np3=3\\np4=4\\np5=5\\n+1 more params", shape=box, style="rounded"];
  v2 [label="churn v1\\na=1\\nb=2\\nc=3\\nd=4", shape=hexagon];
  t3 [label="training at -", shape=box, style="rounded"];
  v3 [label="churn record at 333333333333", shape=hexagon];
  s1 -> t1 [label="feat.parquet"];
  d1 -> t1;
  f1 -> t1;
  f2 -> s1;
  d2 -> t1;
  t1 -> v1;
  v1 -> g1 [label="holds"];
  v1 -> g2 [label="held", style=dashed];
  d1 -> t2;
  t2 -> v2;
  v2 -> g1 [label="held", style=dashed];
  t3 -> v3;
}
"""


def test_mermaid_and_dot_of_every_kind_of_node_and_edge() -> None:
    g = lineage_graph("churn", "churn", _items())
    assert to_mermaid(g) == MERMAID
    assert to_dot(g) == DOT
    empty = Lineage("m", "m", (), (), ())
    assert (to_mermaid(empty), to_dot(empty)) == ("flowchart LR\n", DOT.split("  t1", 1)[0] + "}\n")


def test_hostile_labels_are_escaped_for_each_language() -> None:
    hostile = 'a"]) --> x; click x "js:alert(1)" | `<b>#1;\\'
    assert ln.mermaid_text("az AZ 09 .,_:/=+-") == "az AZ 09 .,_:/=+-"
    assert ln.mermaid_text(hostile) == ("a#34;#93;#41; --#62; x#59; click x #34;js:alert#40;1#41;#34; #124; "
                                        "#96;#60;b#62;#35;1#59;#92;")
    assert ln.mermaid_text("é\U0001f600") == "#233;#128512;"
    assert ln.dot_text(hostile) == 'a\\"]) --> x; click x \\"js:alert(1)\\" | `<b>#1;\\\\'
    assert ln.dot_text('\\"') == '\\\\\\"'  # a backslash before a quote cannot unescape it
    node = LineageNode("d1", "data", hostile)
    g = Lineage("m", "m", ("v1",), (node, LineageNode("v1", "version", "v")), (LineageEdge("d1", "v1", hostile),))
    assert to_mermaid(g).splitlines()[1:4] == [
        f'  d1[("{ln.mermaid_text(hostile)}")]', '  v1{{"v"}}', f'  d1 -->|"{ln.mermaid_text(hostile)}"| v1']
    assert to_dot(g).splitlines()[3:6] == [
        f'  d1 [label="{ln.dot_text(hostile)}", shape=cylinder];', '  v1 [label="v", shape=hexagon];',
        f'  d1 -> v1 [label="{ln.dot_text(hostile)}"];']


# --- properties: any record text, any shape of stages -------------------------------------------------

anything = st.text(max_size=100)
scalars = st.one_of(anything, st.integers(), st.floats(allow_nan=True), st.booleans(), st.none())
dep = st.fixed_dictionaries({"path": st.sampled_from(["a", "b", "c", "d"]) | anything, "md5": scalars})
stage = st.fixed_dictionaries({"name": st.sampled_from(["s1", "s2", "s3"]) | anything},
                              optional={"cmd": st.one_of(anything, st.lists(anything, max_size=3)),
                                        "deps": st.lists(dep, max_size=3), "outs": st.lists(dep, max_size=2)})
entry = st.fixed_dictionaries({"path": st.sampled_from(["a", "b"]) | anything, "md5": scalars},
                              optional={"profile": st.fixed_dictionaries({"rows": scalars})})
doc = st.fixed_dictionaries({}, optional={
    "code": st.fixed_dictionaries({}, optional={"commit": scalars, "command": st.one_of(anything, st.lists(anything))}),
    "params": st.dictionaries(anything, scalars, max_size=8), "metrics": st.dictionaries(anything, scalars, max_size=5),
    "data": st.lists(entry, max_size=3), "digest": anything})
trained = st.builds(Trained, st.sampled_from(["", "v1", "v2"]) | anything, st.sampled_from([C1, C2]),
                    doc, st.lists(anything, max_size=2).map(tuple), st.lists(anything, max_size=2).map(tuple),
                    st.lists(stage, max_size=3).map(tuple))

_MERMAID_NODE = re.compile(r'  ([dfstvg][0-9]+)(\[\("|\["|\[\["|\("|\{\{"|\(\[")((?:[A-Za-z0-9 .,_:/=+\-]|#[0-9]+;|<br/>)*)'
                           r'("\)\]|"\]|"\]\]|"\)|"\}\}|"\]\))')
_MERMAID_EDGE = re.compile(r'  ([dfstvg][0-9]+) (-->|-\.->)(?:\|"((?:[A-Za-z0-9 .,_:/=+\-]|#[0-9]+;)*)"\|)? ([dfstvg][0-9]+)')
_MERMAID_CLASS = re.compile(r"  classDef [a-z]+ fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6}|  class [dfstvg0-9,]+ [a-z]+")
_DOT_NODE = re.compile(r'  ([dfstvg][0-9]+) \[label="((?:[^"\\]|\\.)*)", shape=[a-z]+(?:, style="rounded")?\];')
_DOT_EDGE = re.compile(r'  ([dfstvg][0-9]+) -> ([dfstvg][0-9]+)(?: \[label="((?:[^"\\]|\\.)*)"(?:, style=dashed)?\])?;')


def _unmermaid(text: str) -> str:
    return re.sub(r"#([0-9]+);", lambda m: chr(int(m.group(1))), text)


def _undot(text: str) -> list[str]:
    lines, current, i = [], "", 0
    while i < len(text):
        if text[i] == "\\":
            nxt = text[i + 1]
            if nxt == "n":
                lines.append(current)
                current = ""
            else:
                assert nxt in '\\"', text
                current += nxt
            i += 2
        else:
            current += text[i]
            i += 1
    return [*lines, current]


@given(st.lists(trained, max_size=3))
def test_any_records_give_a_well_formed_graph_whose_text_forms_round_trip(items: list[Trained]) -> None:
    g = lineage_graph("m", "m", items)
    ids = [n.id for n in g.nodes]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[dfstvg][1-9][0-9]*", i) for i in ids)
    for kind in ("d", "f", "s", "t", "v", "g"):  # numbered in order, from 1
        numbers = [int(i[1:]) for i in ids if i[0] == kind]
        assert numbers == list(range(1, len(numbers) + 1))
    assert all(e.source in ids and e.target in ids for e in g.edges)
    assert len({(e.source, e.target, e.label) for e in g.edges}) == len(g.edges)
    assert sum(n.kind == "version" for n in g.nodes) == len({i.version or i.commit for i in items})
    assert sum(n.kind == "training" for n in g.nodes) == len({(i.commit, i.doc.get("digest")) for i in items})
    for n in g.nodes:
        for text in (n.label, *n.detail):
            assert len(text) <= ln.LABEL_MAX and text.isprintable()
    assert lineage_graph("m", "m", items) == g

    mermaid = to_mermaid(g).splitlines()
    assert mermaid[0] == "flowchart LR"
    node_lines, edge_lines = mermaid[1:1 + len(g.nodes)], mermaid[1 + len(g.nodes):1 + len(g.nodes) + len(g.edges)]
    for line, n in zip(node_lines, g.nodes, strict=True):
        m = _MERMAID_NODE.fullmatch(line)
        assert m and m.group(1) == n.id, line
        assert [_unmermaid(part) for part in m.group(3).split("<br/>")] == [n.label, *n.detail]
    for line, e in zip(edge_lines, g.edges, strict=True):
        m = _MERMAID_EDGE.fullmatch(line)
        assert m and (m.group(1), m.group(4), _unmermaid(m.group(3) or "")) == (e.source, e.target, e.label), line
        assert (m.group(2) == "-.->") == (e.label == "held")
    assert all(_MERMAID_CLASS.fullmatch(line) for line in mermaid[1 + len(g.nodes) + len(g.edges):])

    dot = to_dot(g).splitlines()
    assert dot[:3] == ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    assert dot[-1] == "}" and len(dot) == 4 + len(g.nodes) + len(g.edges)
    for line, n in zip(dot[3:3 + len(g.nodes)], g.nodes, strict=True):
        m = _DOT_NODE.fullmatch(line)
        assert m and m.group(1) == n.id and _undot(m.group(2)) == [n.label, *n.detail], line
    for line, e in zip(dot[3 + len(g.nodes):-1], g.edges, strict=True):
        m = _DOT_EDGE.fullmatch(line)
        assert m and (m.group(1), m.group(2)) == (e.source, e.target), line
        assert (_undot(m.group(3))[0] if m.group(3) is not None else "") == e.label


@given(st.text())
def test_any_text_escapes_to_the_plain_alphabet_and_back(text: str) -> None:
    escaped = ln.mermaid_text(text)
    assert re.fullmatch(r"(?:[A-Za-z0-9 .,_:/=+\-]|#[0-9]+;)*", escaped) and _unmermaid(escaped) == text
    assert _undot(ln.dot_text(text)) == [text]
