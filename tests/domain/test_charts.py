"""domain/charts.py: the SVG pictures of the site, the review and the card,
drawn exactly where the numbers say, every text from a record escaped."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from mlver.domain.charts import lineage_svg, metric_history
from mlver.models import Lineage
from mlver.models.views import LineageEdge, LineageNode

NS = "{http://www.w3.org/2000/svg}"


def _svg(text: str) -> ET.Element:
    assert text.endswith("</svg>\n")
    return ET.fromstring(text)  # well-formed: every record text escaped


def _all(root: ET.Element, tag: str) -> list[ET.Element]:
    return list(root.iter(NS + tag))


def test_a_metric_history_puts_each_value_where_it_belongs() -> None:
    # 640x240 with margins 56/44/28/44: the plot is x 56..596, y 28..196.
    svg = _svg(metric_history("auc <&>", ["v1", "v2", "v3"], [0.5, None, 1.0], marks={2: "prod"}))
    assert (svg.get("width"), svg.get("height"), svg.get("viewBox")) == ("640", "240", "0 0 640 240")
    assert svg.find(NS + "title").text == "auc <&>"
    texts = [(t.get("x"), t.get("y"), t.text) for t in _all(svg, "text")]
    assert texts[0] == ("56", "18", "auc <&>")
    assert ("50", "200.0", "0.5") in texts and ("50", "116.0", "0.75") in texts and ("50", "32.0", "1") in texts
    assert [t for t in texts if t[2] in ("v1", "v2", "v3")] == [("56.0", "212", "v1"), ("326.0", "212", "v2"),
                                                               ("596.0", "212", "v3")]
    assert ("596.0", "20.0", "prod") in texts  # the stage's name above its point
    assert _all(svg, "polyline")[0].get("points") == "56.0,196.0 596.0,28.0"  # the missing value is skipped
    dots = [(c.get("cx"), c.get("cy"), c.get("r"), c.get("fill"), c.find(NS + "title").text) for c in _all(svg, "circle")]
    assert dots == [("56.0", "196.0", "3", "#1a73e8", "v1: 0.5"), ("596.0", "28.0", "4", "#c5221f", "v3: 1 (prod)")]
    grid = [(g.get("y1"), g.get("y2")) for g in _all(svg, "line") if g.get("stroke") == "#eee"]
    assert grid == [("196.0", "196.0"), ("112.0", "112.0"), ("28.0", "28.0")]
    axes = [(a.get("x1"), a.get("y1"), a.get("x2"), a.get("y2")) for a in _all(svg, "line") if a.get("stroke") == "#999"]
    assert axes == [("56", "196", "596", "196"), ("56", "28", "56", "196")]


def test_flat_single_and_empty_histories() -> None:
    flat = _svg(metric_history("loss", ["v1", "v2"], [2.0, 2.0], width=200, height=100))
    # One value: the axis spans 5% either side of it; the line runs level through the middle.
    assert [t.text for t in _all(flat, "text")][1:4] == ["1.9", "2", "2.1"]
    assert _all(flat, "polyline")[0].get("points") == "56.0,42.0 156.0,42.0"
    zero = _svg(metric_history("x", ["v1"], [0.0]))
    assert [t.text for t in _all(zero, "text")][1:4] == ["-1", "0", "1"]  # 5% of nothing: one either side
    assert _all(zero, "circle")[0].get("cx") == "326.0"  # a single version sits in the middle
    empty = metric_history("auc", ["v1"], [None, float("nan")])
    assert "no numbers recorded" in empty and "<polyline" not in empty
    assert _all(_svg(empty), "text")[1].get("y") == "112"


def test_long_histories_thin_their_labels_and_dots() -> None:
    labels = [f"v{i}" for i in range(20)]
    svg = _svg(metric_history("auc", labels, [float(i) for i in range(20)]))
    shown = [t.text for t in _all(svg, "text") if t.text in labels]
    assert shown == ["v0", "v3", "v6", "v9", "v12", "v15", "v18", "v19"]  # every third, and the newest
    assert len(_all(svg, "circle")) == 20
    many = _svg(metric_history("auc", [str(i) for i in range(201)], [float(i) for i in range(201)], marks={7: "prod"}))
    assert [c.find(NS + "title").text for c in _all(many, "circle")] == ["7: 7 (prod)"]  # past 200, only the marks


def test_a_lineage_graph_is_laid_out_in_columns() -> None:
    graph = Lineage(
        ref="churn@v1", model="churn", versions=("v1",),
        nodes=(LineageNode("d1", "data", "data/train.csv", ("md5 0123", "rows 10", "dropped")),
               LineageNode("d2", "data", "x" * 40),
               LineageNode("t1", "training", "python train.py"),
               LineageNode("v1", "version", "churn@v1 <b>"),
               LineageNode("g1", "registry", "prod"),
               LineageNode("z1", "odd", "unknown kind")),
        edges=(LineageEdge("d1", "t1"), LineageEdge("d2", "t1", "features.parquet"), LineageEdge("t1", "v1"),
               LineageEdge("v1", "g1", "held")),
    )
    svg = _svg(lineage_svg(graph, "Lineage of churn@v1"))
    # Columns by longest path: d1, d2, z1 | t1 | v1 | g1; boxes 200x58, gaps 60 and 18, 16 of margin.
    assert (svg.get("width"), svg.get("height")) == ("1012", "242")
    boxes = {g.find(NS + "title").text.split(" | ")[0]: g.find(NS + "rect") for g in _all(svg, "g")}
    where = {label: (r.get("x"), r.get("y"), r.get("rx"), r.get("fill"), r.get("stroke")) for label, r in boxes.items()}
    assert where["data/train.csv"] == ("16", "16", "4", "#e8f0fe", "#4a6fa5")
    assert where["x" * 40] == ("16", "92", "4", "#e8f0fe", "#4a6fa5")
    assert where["unknown kind"] == ("16", "168", "4", "#ffffff", "#999999")
    assert where["python train.py"] == ("276", "16", "14", "#fff4e0", "#b07a1e")
    assert where["churn@v1 <b>"] == ("536", "16", "4", "#e6f4ea", "#2e7d32")
    assert where["prod"] == ("796", "16", "14", "#fce8e6", "#c5221f")
    titles = [g.find(NS + "title").text for g in _all(svg, "g")]
    assert titles[0] == "data/train.csv | md5 0123 | rows 10 | dropped"  # every line in the tooltip
    lines = [(t.get("y"), t.get("font-size"), t.text) for t in next(iter(_all(svg, "g"))).iter(NS + "text")]
    assert lines == [("33", "11", "data/train.csv"), ("48", "10", "md5 0123"), ("63", "10", "rows 10")]  # three lines
    marker = svg.find(f"{NS}defs/{NS}marker")
    assert {k: marker.get(k) for k in ("viewBox", "refX", "refY", "markerWidth", "markerHeight", "orient")} == {
        "viewBox": "0 0 10 10", "refX": "10", "refY": "5", "markerWidth": "7", "markerHeight": "7",
        "orient": "auto-start-reverse"}
    assert marker.find(NS + "path").get("d") == "M0,0 L10,5 L0,10 z"  # SVG's path commands are case-sensitive
    assert "x" * 29 + "…" in [t.text for t in _all(svg, "text")]  # clipped at 30 characters
    paths = [p for p in _all(svg, "path") if p.get("marker-end")]
    assert paths[0].get("d") == "M216,45 C246,45 246,45 276,45"
    assert paths[1].get("d") == "M216,121 C246,121 246,45 276,45"
    assert [p.get("stroke-dasharray") for p in paths] == [None, None, None, "5,4"]  # a stage once held: dashed
    edge_labels = [(t.get("x"), t.get("y"), t.text) for t in _all(svg, "text") if t.get("font-size") == "9"]
    assert edge_labels == [("246", "79", "features.parquet"), ("766", "41", "held")]
    bold = [t.text for t in _all(svg, "text") if t.get("font-weight") == "600"]
    assert bold[:2] == ["data/train.csv", "x" * 29 + "…"] and len(bold) == len(graph.nodes)


def test_an_empty_lineage_is_still_a_picture() -> None:
    svg = _svg(lineage_svg(Lineage(ref="m", model="m", versions=(), nodes=(), edges=()), "nothing"))
    assert (svg.get("width"), svg.get("height")) == ("232", "90")


def test_nothing_but_elements_and_their_text() -> None:
    # Between the elements of a picture there is nothing (no stray text a join or a tag would leave).
    pictures = [metric_history('say "hi"', ["v1", "v2"], [1.0, 2.0], marks={1: "prod"}),
                metric_history("none", ["v1"], [None]),
                lineage_svg(Lineage(ref="m", model="m", versions=(), nodes=(LineageNode("a", "data", "a"),), edges=()), "t")]
    for text in pictures:
        for element in _svg(text).iter():
            assert not (element.tail or "").strip(), text
            if element.tag in (NS + "g", NS + "svg", NS + "defs", NS + "marker", NS + "circle"):
                assert not (element.text or "").strip(), text
    assert "say &quot;hi&quot;" in pictures[0]  # quotes escaped too: the same text is safe in an attribute


def test_history_edges_labels_and_dots_at_their_limits() -> None:
    nine = _svg(metric_history("auc", [f"v{i}" for i in range(9)], [float(i) for i in range(9)]))
    assert [t.text for t in _all(nine, "text") if (t.text or "").startswith("v")] == ["v0", "v2", "v4", "v6", "v8"]
    assert [g.get("x2") for g in _all(nine, "line") if g.get("stroke") == "#eee"] == ["596"] * 3
    two_hundred = _svg(metric_history("auc", [str(i) for i in range(200)], [float(i) for i in range(200)]))
    assert len(_all(two_hundred, "circle")) == 200
    short = _svg(metric_history("auc", ["v1"], [1.0, 2.0]))  # more values than labels: the index names the point
    assert [c.find(NS + "title").text for c in _all(short, "circle")] == ["v1: 1", "1: 2"]


def test_lineage_layers_follow_the_longest_path_and_texts_sit_in_their_boxes() -> None:
    # d hangs below b, which c also feeds: b sits after c, and d after b (Kahn's order, not first reached).
    graph = Lineage(ref="m", model="m", versions=(), edges=(
        LineageEdge("a", "c"), LineageEdge("a", "b"), LineageEdge("c", "b"), LineageEdge("b", "d")), nodes=(
        LineageNode("a", "data", "a" * 30), LineageNode("b", "stage", "b"), LineageNode("c", "stage", "c"),
        LineageNode("d", "version", "d")))
    svg = _svg(lineage_svg(graph, "Lineage of m"))
    assert svg.find(NS + "title").text == "Lineage of m"
    boxes = {g.find(NS + "title").text: g for g in _all(svg, "g")}
    assert {k: g.find(NS + "rect").get("x") for k, g in boxes.items()} == {"a" * 30: "16", "c": "276", "b": "536", "d": "796"}
    first = boxes["a" * 30].find(NS + "text")
    assert (first.get("x"), first.get("y"), first.text) == ("24", "33", "a" * 30)  # 30 characters fit unclipped
