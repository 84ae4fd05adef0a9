"""One diff, three formats: the terminal (`mlver diff`), markdown (`--md`)
and HTML (the site's version page) lay out mlver/diffview.py's view, so
they show the same rows, deltas and verdicts as the `--json` document.
Issue 13's seeded bugs stay caught in every format: a higher loss or
latency is worse, a metric-only change is a change, and a package
upgrade shows."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from conftest import Project
from mlver.domain.record import compute_digest, dumps
from mlver.models.record import RecordDoc

METRICS = ("accuracy", "p95_latency_ms", "rows", "val_loss")


def _record(p: Project, metrics: dict[str, float]) -> None:
    p.write("metrics.json", json.dumps(metrics))
    p.ok("record", "churn")
    p.ok("release", "churn")


def _terminal(text: str) -> dict[str, tuple[str, str, str]]:
    """metric -> (delta, %, verdict) from the METRIC table of `mlver diff`."""
    rows = {}
    for line in text.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells[0] in METRICS:
            delta, pct, mark = cells[3], cells[4], cells[5] if len(cells) > 5 else ""
            rows[cells[0]] = (delta, pct, m.group(1) if (m := re.search(r"\((better|worse)\)", mark)) else "")
    return rows


def _markdown(text: str) -> dict[str, tuple[str, str, str]]:
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].strip("`") in METRICS:
            rows[cells[0].strip("`")] = (cells[3], cells[4], cells[5].split(" ")[-1] if " " in cells[5] else "")
    return rows


def _html(page: str) -> dict[str, tuple[str, str, str]]:
    rows = {}
    for key, body in re.findall(r'<tr data-metric="([^"]+)"[^>]*>(.*?)</tr>', page):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", body)]
        verdict = re.search(r'data-verdict="(\w+)"', body)
        assert verdict is not None
        rows[key] = (cells[3], cells[4], verdict.group(1) if verdict.group(1) in ("better", "worse") else "")
    return rows


def test_terminal_markdown_and_html_show_the_same_diff(trained: Project, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _record(trained, {"accuracy": 0.6, "val_loss": 0.40, "p95_latency_ms": 10.0, "rows": 200})  # v0.2.0
    site = tmp_path / "upgraded-site"  # numpy upgraded before the next training
    (site / "numpy-99.1.0.dist-info").mkdir(parents=True)
    (site / "numpy-99.1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy\nVersion: 99.1.0\n")
    monkeypatch.syspath_prepend(str(site))
    _record(trained, {"accuracy": 0.7, "val_loss": 0.45, "p95_latency_ms": 12.5, "rows": 200})  # v0.3.0: only metrics and env

    a, b = "churn@v0.2.0", "churn@v0.3.0"
    [doc] = trained.ok("diff", a, b, "--json").json()
    assert doc["status"] == "changed" and not doc["params"] and not doc["artifact"]["changed"]
    want = {}
    for m in doc["metrics"]:
        verdict = "" if m["better"] is None else "better" if m["better"] else "worse"
        want[m["key"]] = (f"{m['delta']:+.6g}", f"{m['pct']:+.2f}%", verdict)
    assert want["val_loss"][2] == want["p95_latency_ms"][2] == "worse" and want["accuracy"][2] == "better"
    assert want["rows"] == ("+0", "+0.00%", "")  # unchanged: neither better nor worse

    text = trained.ok("diff", a, b).stdout
    md = trained.ok("diff", a, b, "--md").stdout
    trained.ok("site", "-o", str(tmp_path / "site"))
    page = (tmp_path / "site" / "m" / "churn" / "v0.3.0.html").read_text()
    section = page[page.index('<section class="diff"'):page.index("</section>")]
    assert _terminal(text) == _markdown(md) == _html(section) == want

    # The model page's versions table colours the same verdicts (v0.3.0 is its first row).
    index = (tmp_path / "site" / "m" / "churn" / "index.html").read_text()
    newest = index[index.index("<tbody>"):].split("</tr>")[0]
    cells = dict(re.findall(r'data-metric="([^"]+)">.*?<span class="(better|worse|delta)">', newest))
    assert cells == {k: v[2] or "delta" for k, v in want.items()}
    # A metric-only change is not "unchanged" in any format.
    assert "no changes" not in text.lower() and "no changes" not in md.lower() and 'data-status="changed"' in section
    # The package upgrade is in every format, old -> new.
    numpy = next(e for e in doc["env"] if e["key"] == "numpy")
    assert numpy["new"] == "99.1.0" and numpy["old"] != "99.1.0"
    assert f"numpy {numpy['old']} -> 99.1.0" in text
    assert f"| numpy | {numpy['old']} | 99.1.0 |" in md
    assert f"<th scope=\"row\">numpy</th><td>{numpy['old']}</td><td>99.1.0</td>" in section
    # The record mlver wrote, typed and back: the same document, the same bytes.
    written = (trained.root / ".mlver" / "records" / "churn.json").read_text()
    typed = RecordDoc.from_doc(json.loads(written))
    assert dumps(typed.to_doc()) == written and typed.env is not None and typed.env.packages is not None
    assert typed.env.packages["numpy"] == "99.1.0" and compute_digest(typed.to_doc()) == typed.digest
    # The first version's page has nothing to compare with.
    assert '<section class="diff"' not in (tmp_path / "site" / "m" / "churn" / "v0.1.0.html").read_text()
