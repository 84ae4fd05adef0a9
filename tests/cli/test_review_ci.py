"""The CI workflows `mlver ci` prints: no expression pasted into a script,
and the comment they update is their own bot's, run against real jq and a
local stand-in for GitLab's notes API."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import yaml

from conftest import Project

MARKER = "<!-- mlver-review -->"


def test_github_workflow_passes_refs_through_the_environment_and_picks_the_bots_comment(project: Project) -> None:
    doc = yaml.safe_load(project.ok("ci", "github").stdout)
    steps = doc["jobs"]["review"]["steps"]
    scripts = [s["run"] for s in steps if "run" in s]
    assert len(scripts) >= 4
    for script in scripts:  # `${{ github.base_ref }}` in a script is the pull request author's code
        assert "${{" not in script, script
    assert next(s for s in steps if s.get("id") == "review")["env"]["BASE_REF"] == "${{ github.base_ref }}"
    comment = next(s for s in steps if "gh api" in s.get("run", ""))
    jq = re.search(r"--jq '([^']+)'", comment["run"]).group(1)
    comments = [
        {"id": 1, "user": {"login": "mallory"}, "body": f"{MARKER}\n## ✅ mlver review: all gates passed"},
        {"id": 2, "user": {"login": "github-actions[bot]"}, "body": "an unrelated bot comment"},
        {"id": 3, "user": {"login": "github-actions[bot]"}, "body": f"{MARKER}\n## ❌ mlver review"},
    ]
    out = subprocess.run(["jq", "-r", jq], input=json.dumps(comments), capture_output=True, text=True, check=True,
                         env={**os.environ, "BOT": comment["env"]["BOT"]})
    assert out.stdout.split() == ["3"]


class _GitLab(BaseHTTPRequestHandler):
    notes: list[dict] = []
    calls: list[tuple[str, str, dict | None]] = []

    def _reply(self, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        assert self.headers["PRIVATE-TOKEN"] == "bot-token"
        self.calls.append(("GET", self.path, None))
        if self.path == "/api/v4/user":
            self._reply({"id": 7, "username": "project_1_bot"})
        else:
            page = int(re.search(r"[?&]page=(\d+)", self.path).group(1))
            self._reply(self.notes if page == 1 else [])

    def _write(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append((self.command, self.path, body))
        self._reply({"id": 99})

    do_PUT = do_POST = _write

    def log_message(self, *args: object) -> None:
        pass


def _gitlab_note_script(project: Project) -> str:
    job = yaml.safe_load(project.ok("ci", "gitlab").stdout)["mlver-review"]
    block = next(line for line in job["script"] if "<<'PY'" in line)
    return block.split("<<'PY'\n", 1)[1].split("\nPY\n", 1)[0]


def test_gitlab_job_updates_only_the_note_its_own_token_wrote(project: Project, tmp_path: Path) -> None:
    script = _gitlab_note_script(project)
    (tmp_path / "mlver-review.md").write_text(f"{MARKER}\nthe new report\n")
    server = HTTPServer(("127.0.0.1", 0), _GitLab)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**os.environ, "CI_API_V4_URL": f"http://127.0.0.1:{server.server_port}/api/v4", "CI_PROJECT_ID": "5",
           "CI_MERGE_REQUEST_IID": "12", "MLVER_GITLAB_TOKEN": "bot-token"}
    notes = "/api/v4/projects/5/merge_requests/12/notes"
    try:
        forged = {"id": 1, "author": {"id": 666}, "body": f"{MARKER}\n## ✅ mlver review: all gates passed"}
        _GitLab.notes, _GitLab.calls = [forged, {"id": 2, "author": {"id": 7}, "body": f"{MARKER}\nold report"}], []
        subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, check=True)
        assert _GitLab.calls[-1] == ("PUT", f"{notes}/2", {"body": f"{MARKER}\nthe new report\n"})
        _GitLab.notes, _GitLab.calls = [forged], []  # only somebody else's note has the marker: a new note
        subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, check=True)
        assert _GitLab.calls[-1] == ("POST", notes, {"body": f"{MARKER}\nthe new report\n"})
        assert not any(c[0] == "PUT" for c in _GitLab.calls)
    finally:
        server.shutdown()


def test_pages_workflows_build_the_site_on_every_registry_tag(project: Project) -> None:
    import fnmatch

    doc = yaml.safe_load(project.ok("ci", "github", "--pages").stdout)
    tags = doc[True]["push"]["tags"]  # YAML 1.1 reads the key `on` as True
    for tag in ("churn@v1.2.0", "churn#prod#3", "sub/proj=nested@v0.1.0", "churn@v1.0.0!#2"):
        assert any(fnmatch.fnmatch(tag, pattern.replace("**", "*")) for pattern in tags), tag
    assert not any(fnmatch.fnmatch("release-1.0", pattern.replace("**", "*")) for pattern in tags)
    assert doc["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    steps = doc["jobs"]["build"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    run = [s["run"] for s in steps if s.get("name") == "Build the site"][0]
    assert run == 'mlver site -o _site --title "$TITLE"'  # the repository's name reaches it through env:, never pasted
    assert [s["uses"] for s in steps if "upload-pages" in s.get("uses", "")] == ["actions/upload-pages-artifact@v3"]
    assert next(s for s in steps if "upload-pages" in s.get("uses", ""))["with"]["path"] == "_site"
    assert doc["jobs"]["deploy"]["steps"][0]["uses"] == "actions/deploy-pages@v4"
    assert doc["jobs"]["deploy"]["environment"]["name"] == "github-pages"
    assert project.ok("ci", "github", "--pages", "--json").json()["path"] == ".github/workflows/mlver-pages.yml"

    gitlab = yaml.safe_load(project.ok("ci", "gitlab", "--pages").stdout)
    assert set(gitlab) == {"mlver-review", "pages"}  # the review's job stays: GitLab has one file
    job = gitlab["pages"]
    assert job["artifacts"]["paths"] == ["public"] and job["variables"]["GIT_DEPTH"] == "0"
    assert any(line.startswith("mlver site -o public") for line in job["script"])
    assert "pages" not in yaml.safe_load(project.ok("ci", "gitlab").stdout)
