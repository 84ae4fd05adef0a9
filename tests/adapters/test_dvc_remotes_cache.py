"""``dvc.remotes`` keeps DVC's answer in ``.git/mlver/cache/`` so a pull need
not import dvc: it is reused only while nothing DVC's answer depends on has
changed. After each change below it is DVC's answer again (DVC's Config,
asked in the same process, is the oracle); files that hold what they held
(a rewrite with the same text too) are answered without importing dvc, and
a configuration with credentials is never copied into the cache."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ASK = """
import json, sys
from pathlib import Path
from typing import Any
from mlver.adapters import dvc
root = Path(sys.argv[1])
found, default = dvc.remotes(root)
ours = {"default": default, "remotes": {n: [r.url, r.options] for n, r in sorted(found.items())}}
imported = "dvc.config" in sys.modules
from dvc.config import Config
config = Config(dvc_dir=str(root / ".dvc"))
theirs = {"default": config["core"].get("remote"),
          "remotes": {n: [str(o["url"]), dict(o)] for n, o in sorted(config["remote"].items())}}
print(json.dumps({"ours": ours, "theirs": theirs, "imported": imported}))
"""


def _ask(root: Path, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", ASK, str(root)], env=env, check=True, capture_output=True, text=True)
    answer: dict = json.loads(out.stdout)
    return answer


def _project(base: Path, name: str) -> tuple[Path, dict[str, str]]:
    root = base / name / "project"
    (root / ".git").mkdir(parents=True)  # where statcache keeps its files
    (root / ".dvc").mkdir()
    (root / ".dvc" / "config").write_text("['remote \"a\"']\n    url = ../store-a\n['remote \"h\"']\n    url = ~/h\n")
    (root / ".dvc" / "config.local").write_text("[core]\n    remote = B\n['remote \"b\"']\n    url = /tmp/bb\n")
    glob = base / name / "global"
    glob.mkdir()
    (glob / "config").write_text("['remote \"g\"']\n    url = /tmp/g\n    verify = true\n")
    (base / name / "home").mkdir()
    env = {**os.environ, "DVC_GLOBAL_CONFIG_DIR": str(glob), "DVC_SYSTEM_CONFIG_DIR": str(base / name / "system"),
           "HOME": str(base / name / "home")}
    return root, env


def test_cached_remotes_are_dvcs_answer_after_every_change(tmp_path: Path) -> None:
    changes = {
        "same-size-edit": lambda root, env: (root / ".dvc" / "config.local").write_text(
            "[core]\n    remote = B\n['remote \"b\"']\n    url = /tmp/cc\n"),
        "repo-config-deleted": lambda root, env: (root / ".dvc" / "config").unlink(),
        "system-config-created": lambda root, env: (
            Path(env["DVC_SYSTEM_CONFIG_DIR"]).mkdir(),
            (Path(env["DVC_SYSTEM_CONFIG_DIR"]) / "config").write_text("['remote \"s\"']\n    url = /tmp/s\n")),
        "global-dir-moved": lambda root, env: env.update(DVC_GLOBAL_CONFIG_DIR=str(root.parent / "elsewhere")),
        "home-changed": lambda root, env: env.update(HOME=str(root.parent / "other-home")),
        "cache-damaged": lambda root, env: _damage(root),
    }
    projects = {name: _project(tmp_path, name) for name in [*changes, "unchanged"]}
    (tmp_path / "global-dir-moved" / "elsewhere").mkdir()
    (tmp_path / "global-dir-moved" / "elsewhere" / "config").write_text("[core]\n    remote = g\n")
    for name, (root, env) in projects.items():
        first = _ask(root, env)
        assert first["imported"] and first["ours"] == first["theirs"], name  # computed by DVC, then cached
        assert first["ours"]["default"] == "b" and first["ours"]["remotes"]["a"][0] == str(root / "store-a")
    again = _ask(*projects["unchanged"])
    assert not again["imported"] and again["ours"] == again["theirs"]  # the cache answered
    local = projects["unchanged"][0] / ".dvc" / "config.local"
    local.write_text(local.read_text())  # rewritten with the same text (as `dvc remote add -f` does)
    assert not _ask(*projects["unchanged"])["imported"]
    for name, change in changes.items():
        root, env = projects[name]
        before = _ask(root, env)
        assert not before["imported"], name  # answered from the cache until the change
        change(root, env)
        after = _ask(root, env)
        assert after["imported"] and after["ours"] == after["theirs"], name
        assert (after["ours"] == before["ours"]) == (name == "cache-damaged"), name
    # A moved repository resolves its relative URLs from its new place.
    root, env = projects["unchanged"]
    moved = root.parent / "deeper" / "project"
    moved.parent.mkdir()
    shutil.move(root, moved)
    after = _ask(moved, env)
    assert after["imported"] and after["ours"] == after["theirs"]
    assert after["ours"]["remotes"]["a"][0] == str(moved / "store-a")


def _damage(root: Path) -> None:
    path = root / ".git" / "mlver" / "cache" / "dvc-remotes-2.json"
    doc = json.loads(path.read_text())
    doc["data"]["remotes"]["b"] = ["/tmp/bb", {"url": {"not": "a plain value"}}]
    path.write_text(json.dumps(doc))


def test_a_configuration_with_credentials_is_not_cached(tmp_path: Path) -> None:
    root, env = _project(tmp_path, "secret")
    (root / ".dvc" / "config.local").write_text(
        "['remote \"b\"']\n    url = s3://bucket/x\n    secret_access_key = hunter2\n    access_key_id = AKIA\n")
    for _ in range(2):
        answer = _ask(root, env)
        assert answer["imported"] and answer["ours"] == answer["theirs"]
    assert not any("hunter2" in f.read_text() for f in (root / ".git").rglob("*") if f.is_file())


def test_remote_add_leaves_dvcs_answer_cached(project: Any) -> None:
    # The next push or pull reads the remotes without importing dvc (bench_s3 adds each remote so).
    project.ok("remote", "add", "--local", "fresh", "s3://bucket/fresh", "--endpoint-url", "http://127.0.0.1:9")
    answer = _ask(project.root, dict(os.environ))
    assert "fresh" in answer["ours"]["remotes"] and answer["ours"] == answer["theirs"]
    assert not answer["imported"]
