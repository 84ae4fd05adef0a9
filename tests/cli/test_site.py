"""`mlver site`: the registry site opened in a real headless Chromium."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

from fixtures.browser import Browser, StaticServer

from conftest import Project

SCREENSHOT = Path(__file__).resolve().parents[2] / "bench" / "out" / "site-model.png"  # gitignored

# What a page offers: its links and pictures, and the versions table as numbers.
PROBE = """(() => ({
  title: document.title,
  h1: [...document.querySelectorAll('h1')].map(h => h.textContent),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  assets: [...document.querySelectorAll('img[src], link[href]')].map(e => e.src || e.href),
  images: [...document.images].map(i => ({src: i.src, alt: i.alt, ok: i.complete && i.naturalWidth > 0})),
  scripts: document.scripts.length,
  headers: [...document.querySelectorAll('th')].filter(t => !t.getAttribute('scope')).length,
  rows: [...document.querySelectorAll('#versions ~ div table tbody tr')].map(tr => ({
    version: tr.querySelector('th').textContent.trim().split(' ')[0],
    metrics: Object.fromEntries([...tr.querySelectorAll('td[data-metric]')].map(
      td => [td.dataset.metric, td.querySelector('.value') ? Number(td.querySelector('.value').textContent) : null])),
  })),
  text: document.body.innerText,
}))()"""


def _crawl(browser: Browser, server: StaticServer, screenshot: str = "") -> dict[str, dict]:
    """Every page reachable from the index, each loaded in the browser: it must
    load (200) with no console error, no failed request, nothing fetched from
    elsewhere, no script, every table header scoped, one h1, every image
    drawn and described; every internal link must resolve to a file."""
    start = server.url + "index.html"
    seen: dict[str, dict] = {}
    todo = [start]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        visit = browser.visit(url, PROBE, screenshot=bool(screenshot) and url.endswith(screenshot))
        assert visit.status == 200, (url, visit.status)
        assert visit.errors == [], (url, visit.errors)
        page = visit.probe
        assert all(urlparse(r).netloc == urlparse(start).netloc or r.startswith("data:") for r in visit.requests), \
            (url, visit.requests)
        assert page["scripts"] == 0 and page["headers"] == 0 and len(page["h1"]) == 1, url
        assert all(i["ok"] and i["alt"] for i in page["images"]), (url, page["images"])
        for link in page["links"] + page["assets"]:
            if link.startswith(server.url):
                assert (server.root / urlparse(link).path.lstrip("/")).is_file(), (url, link)
                if link.endswith(".html"):
                    todo.append(link.split("#")[0])
        seen[url] = page
        if visit.screenshot:
            shot = server.root.parent / "site-model.png"
            shot.write_bytes(visit.screenshot)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, SCREENSHOT)
    return seen


def test_the_site_in_a_real_browser(three_versions: Project, browser: Browser, static_server: StaticServer) -> None:
    p = three_versions
    # A hostile param value: unescaped, it would run (a console error) and fetch (a failed request).
    p.set_params(lr=0.15, note="<img src=x onerror=\"console.error('xss')\"><script>console.error('xss')</script>")
    p.commit_all("hostile param")
    p.ok("run", "churn")
    p.ok("release", "churn")
    p.ok("promote", "churn@v0.4.0", "dev")
    docs = {v: p.ok("show", f"churn@{v}", "--json").json()["record"]["doc"] for v in ("v0.1.0", "v0.2.0", "v0.3.0", "v0.4.0")}

    # A version tagged by hand on a commit that says nothing of it: listed, no page to link to.
    p.git("tag", "-a", "ghost@v1.0.0", "-m", "Registering artifact ghost version v1.0.0")
    out = static_server.root
    result = p.ok("site", "-o", str(out), "--json").json()
    assert result["models"] == 2 and result["versions"] == 5 and result["pages"] == 7  # index, 2 models, 4 version pages
    assert (out / "index.html").is_file() and (out / "m/churn/index.html").is_file()

    seen = _crawl(browser, static_server, screenshot="m/churn/index.html")
    pages = {urlparse(u).path for u in seen}
    assert pages == {"/index.html", "/m/churn/index.html", "/m/ghost/index.html", *{f"/m/churn/{v}.html" for v in docs}}
    assert "v1.0.0" in seen[static_server.url + "m/ghost/index.html"]["text"]
    assert SCREENSHOT.stat().st_size > 10_000

    start = static_server.url + "index.html"
    model = seen[urljoin(static_server.url, "m/churn/index.html")]
    assert [r["version"] for r in model["rows"]] == ["v0.4.0", "v0.3.0", "v0.2.0", "v0.1.0"]
    for row in model["rows"]:
        assert row["metrics"] == {k: docs[row["version"]]["metrics"][k] for k in ("accuracy", "rows")}
    assert "<img src=x" in model["text"] or "onerror" in seen[urljoin(static_server.url, "m/churn/v0.4.0.html")]["text"]
    assert "prod" in model["text"] and "staging" in model["text"] and "dev" in model["text"]
    index = seen[start]
    assert "churn" in index["text"] and "v0.4.0" in index["text"]

    # A second site replaces the first whole; a folder of someone's files is refused.
    (out / "m/churn/stale.html").write_text("old")
    p.ok("site", "-o", str(out))
    assert not (out / "m/churn/stale.html").exists() and (out / "index.html").is_file()
    mine = static_server.root.parent / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    err = p.fails("site", "-o", str(mine)).stderr
    assert "no `mlver site` wrote" in err and (mine / "notes.txt").read_text() == "keep me"
    assert "it is a file" in p.fails("site", "-o", str(mine / "notes.txt")).stderr


def test_a_site_of_a_registry_gto_wrote(gto_registry: tuple[Project, Any], browser: Browser,
                                        static_server: StaticServer) -> None:
    """Versions with no record (derived lineage), a monorepo name, a dataset, a deregistered holder."""
    p, _ = gto_registry
    p.ok("site", "-o", str(static_server.root))
    seen = _crawl(browser, static_server)
    pages = {urlparse(u).path for u in seen}
    assert {"/m/churn/v0.0.1.html", "/m/churn/v0.1.0.html", "/m/sub_proj.nested/v0.0.1.html",
            "/m/customers/v1.0.0.html"} <= pages
    assert "/m/churn/v0.1.1.html" not in pages  # deregistered: not a released version any more
    index = seen[static_server.url + "index.html"]["text"]
    assert "sub/proj:nested" in index and "customers (dataset)" in index
    churn = seen[static_server.url + "m/churn/index.html"]
    assert [r["version"] for r in churn["rows"]] == ["v0.1.0", "v0.0.1"] and "derived" in churn["text"]
