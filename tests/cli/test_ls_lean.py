"""`mlver ls` as a user runs it (the installed command, not click's test
runner): the lean start-up path says exactly what click's path says, imports
nothing it does not need, and the dvc.yaml declarations it caches are never stale."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from fixtures.gto_registry import GtoRegistry

from conftest import Project

CACHE = Path(".git/mlver/cache/dvc-yaml-artifacts-2.json")


def _mlver(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlver", *args], cwd=cwd, capture_output=True, text=True)


# The entry point as installed, with what it imported written to stderr at exit
# (-X importtime misses importlib.import_module, which the lazy facades use).
MODULES = ("import sys, atexit; atexit.register(lambda: sys.stderr.write(' '.join(sorted(sys.modules)))); "
           "sys.argv = ['mlver', 'ls']; from mlver.cli import main; main()")


def _age(path: Path) -> None:
    """Wait out the racy window: a file changed in the last 2 s is never cached."""
    while time.time() - max(path.stat().st_mtime, path.stat().st_ctime) < 2.1:
        time.sleep(0.1)


def test_lean_ls_says_what_click_says_and_imports_little(gto_registry: tuple[Project, GtoRegistry]) -> None:
    p, _ = gto_registry
    _age(p.root / "sub/proj/dvc.yaml")
    _age(p.root / "dvc.yaml")
    for args in (["ls"], ["ls", "--json"], ["ls", "-d", "--json"], ["ls", "--deprecated"]):
        lean = _mlver(p.root, *args)
        assert lean.returncode == 0 and lean.stderr == ""
        assert lean.stdout == p.ok(*args).stdout, args  # click's path (CliRunner)
    assert (p.root / CACHE).is_file()
    # Warm: neither click nor PyYAML, and no model class ls does not return.
    warm = subprocess.run([sys.executable, "-c", MODULES], cwd=p.root, capture_output=True, text=True)
    assert warm.returncode == 0 and warm.stdout == p.ok("ls").stdout
    loaded = set(warm.stderr.split())
    assert "mlver.api.registry" in loaded and "mlver.models.registry" in loaded
    heavy = {m for m in loaded if m.split(".")[0] in ("click", "yaml", "ruamel", "jinja2", "pandas", "dvc", "gto",
                                                      "numpy", "boto3", "tempfile")}
    assert heavy == set() and not {m for m in loaded if m.startswith("mlver.models.") and m != "mlver.models.registry"}

    # Anything else is click's: help, a usage error, --traceback.
    assert "List models and datasets" in _mlver(p.root, "ls", "--help").stdout
    bad = _mlver(p.root, "ls", "--bogus")
    assert bad.returncode == 2 and bad.stderr.startswith("error: no such option '--bogus'\nhint: usage: mlver ls")
    assert _mlver(p.root, "--traceback", "ls").stdout == p.ok("ls").stdout
    # The lean path's errors are the boundary's: one line, a hint, exit 2.
    outside = _mlver(p.root.parent.parent, "ls")
    assert outside.returncode == 2 and outside.stderr.startswith("error: ") and "\nhint: " in outside.stderr
    assert "Traceback" not in outside.stderr


def test_cached_declarations_follow_every_change(gto_registry: tuple[Project, GtoRegistry]) -> None:
    p, _ = gto_registry
    dvc_yaml = p.root / "dvc.yaml"
    _age(dvc_yaml)
    _age(p.root / "sub/proj/dvc.yaml")
    assert _mlver(p.root, "ls").returncode == 0
    cached = json.loads((p.root / CACHE).read_text())["data"]
    assert set(cached) == {"dvc.yaml", "sub/proj/dvc.yaml"}

    def types() -> dict[str, str]:
        out = _mlver(p.root, "ls", "--json")
        assert out.returncode == 0, out.stderr
        return {m["model"]: m["type"] for m in json.loads(out.stdout)}

    assert types()["customers"] == "dataset"
    # Same size, same mtime, other content: the cache must not answer.
    before = dvc_yaml.stat()
    text = dvc_yaml.read_text()
    swapped = text.replace("    type: dataset\n", "    type: model  \n", 1)
    assert len(swapped) == len(text)
    dvc_yaml.write_text(swapped)
    os.utime(dvc_yaml, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert types()["customers"] == "model"
    _age(dvc_yaml)
    assert types()["customers"] == "model"  # now from the cache, rewritten with the change

    # A nested dvc.yaml removed, one added; a broken cache file is ignored, not believed.
    (p.root / "sub/proj/dvc.yaml").unlink()
    (p.root / "other").mkdir()
    (p.root / "other/dvc.yaml").write_text("artifacts:\n  thing:\n    path: thing.bin\n    type: model\n")
    assert "sub/proj:nested" in types()  # still in the registry's tags, no longer declared
    assert types()["other:thing"] == "model"
    (p.root / CACHE).write_text('{"format": 1, "data": {"dvc.yaml": {"key": "x", "rows": 3}}')
    assert types()["customers"] == "model"
    (p.root / CACHE).write_text("not json")
    assert types()["customers"] == "model"
    # A dvc.yaml made invalid is an error, not the cached declarations.
    dvc_yaml.write_text("artifacts: [unclosed\n")
    broken = _mlver(p.root, "ls")
    assert broken.returncode == 2 and "dvc.yaml is not valid YAML" in broken.stderr


def test_the_ls_cache_follows_every_tag_operation(gto_registry: tuple[Project, GtoRegistry], isolate: Path) -> None:
    """The registry rows are cached under the exact tag listing: adding,
    deleting, moving, fetching and packing tags can never show stale rows."""
    p, reg = gto_registry
    c1, c2, _ = reg.commits
    cache = p.root / ".git/mlver/cache/ls-registry-2.bin"

    def ls() -> dict[str, dict]:
        out = _mlver(p.root, "ls", "--json", "-d")
        assert out.returncode == 0, out.stderr
        return {m["model"]: m for m in json.loads(out.stdout)}

    def cold() -> dict[str, dict]:
        cache.unlink(missing_ok=True)
        return ls()

    def tag(*args: str) -> None:
        p.git("tag", *args)

    first = ls()
    assert cache.is_file() and ls() == first == cold()
    tag("-a", "churn@v0.2.0", "-m", "Registering artifact churn version v0.2.0", c2)  # added
    added = ls()
    assert added["churn"]["latest"] == "v0.2.0" and added["churn"]["latest_commit"] == c2 and added == cold()
    tag("-f", "-a", "churn@v0.2.0", "-m", "Registering artifact churn version v0.2.0", c1)  # moved
    moved = ls()
    assert moved["churn"]["latest_commit"] == c1 and moved == cold()
    tag("-f", "-a", "churn#prod#9", "-m", "Assigning stage prod to artifact churn version v0.2.0", c1)
    assert ls()["churn"]["stages"]["prod"] == "v0.2.0"
    p.git("tag", "-d", "churn#prod#9", "churn@v0.2.0")  # deleted
    assert ls() == first
    p.git("pack-refs", "--all")  # the same tags, stored another way
    assert ls() == first == cold()

    other = isolate / "other"
    subprocess.run(["git", "clone", "-q", str(p.root), str(other)], check=True)
    subprocess.run(["git", "tag", "-a", "customers@v1.1.0", "-m", "Registering artifact customers version v1.1.0", c2],
                   cwd=other, check=True)
    ls()
    p.git("fetch", "-q", str(other), "refs/tags/*:refs/tags/*")  # fetched
    fetched = ls()
    assert fetched["customers"]["latest"] == "v1.1.0" and fetched["customers"]["versions"] == 2 and fetched == cold()
    # A cache file edited by hand for this very listing is checked, then ignored.
    key_end = cache.read_bytes().rindex(b"{")
    cache.write_bytes(cache.read_bytes()[:key_end] + b'{"churn": [1, 2, 3]}')
    assert ls() == fetched


def test_the_ls_cache_keyed_by_the_refs_stat_is_never_stale(gto_registry: tuple[Project, GtoRegistry],
                                                            isolate: Path) -> None:
    """Once the refs are 2 s old, a warm `ls` is keyed by the stat of
    packed-refs and the loose tag files (no git run): in a clone per
    operation, each change of the tags (added, loose or in a folder,
    deleted, moved packed or loose, fetched, packed, a ref file rewritten in
    place with its size and mtime kept, packed-refs replaced by another tool) gives what a cold `ls` gives, the
    cache then answers with no rewrite, and a damaged cache is ignored."""
    p, reg = gto_registry
    c1, c2, _ = reg.commits
    base = isolate / "base"
    subprocess.run(["git", "clone", "-q", str(p.root), str(base)], check=True)
    subprocess.run(["git", "tag", "-a", "churn@v0.3.0", "-m", "Registering artifact churn version v0.3.0", c2],
                   cwd=base, check=True)  # a loose tag, beside the packed ones a clone has
    cache = Path(".git/mlver/cache/ls-registry-2.bin")

    def git(root: Path, *args: str) -> None:
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    def ls(root: Path) -> dict[str, dict]:  # in-process (click's CliRunner): 60 runs
        return {m["model"]: m for m in json.loads(Project(root).ok("ls", "--json", "-d").stdout)}

    def cold(root: Path) -> dict[str, dict]:
        (root / cache).unlink(missing_ok=True)
        return ls(root)

    def retag_in_place(root: Path) -> None:
        """Point a loose tag at another tag object, keeping its file's size and mtime."""
        ref = root / ".git/refs/tags/churn@v0.3.0"
        other = subprocess.run(["git", "rev-parse", "refs/tags/churn@v0.0.1"], cwd=root, check=True,
                               capture_output=True, text=True).stdout
        before = ref.stat()
        ref.write_text(other)
        os.utime(ref, ns=(before.st_atime_ns, before.st_mtime_ns))

    def rewrite_packed_refs(root: Path) -> None:
        """Another tool (libgit2, JGit) replaces packed-refs alone, leaving refs/tags as it was."""
        packed = root / ".git/packed-refs"
        other = subprocess.run(["git", "rev-parse", "refs/tags/churn@v0.0.1"], cwd=root, check=True,
                               capture_output=True, text=True).stdout.strip()
        lines = packed.read_text().splitlines(keepends=True)
        at = next(i for i, line in enumerate(lines) if line.endswith(" refs/tags/customers@v1.0.0\n"))
        lines[at] = f"{other} refs/tags/customers@v1.0.0\n"
        if lines[at + 1].startswith("^"):
            lines[at + 1] = f"^{c2}\n"
        (root / ".git/packed-refs.new").write_text("".join(lines))
        os.replace(root / ".git/packed-refs.new", packed)

    changes = {
        "packed-refs replaced": rewrite_packed_refs,
        "added": lambda r: git(r, "tag", "-a", "churn@v0.4.0", "-m", "Registering artifact churn version v0.4.0", c1),
        "added in a folder": lambda r: git(r, "tag", "-a", "team/m@v1.0.0", "-m", "Registering artifact team/m", c1),
        "deleted packed": lambda r: git(r, "tag", "-d", "customers@v1.0.0"),
        "deleted loose": lambda r: git(r, "tag", "-d", "churn@v0.3.0"),
        "moved packed": lambda r: git(r, "tag", "-f", "-a", "customers@v1.0.0", "-m", "Registering artifact", c2),
        "moved loose": lambda r: git(r, "tag", "-f", "-a", "churn@v0.3.0", "-m", "Registering artifact", c1),
        "fetched": lambda r: git(r, "fetch", "-q", str(base / "fetch-from"), "refs/tags/*:refs/tags/*"),
        "packed": lambda r: git(r, "pack-refs", "--all"),
        "rewritten in place": retag_in_place,
    }
    clones = {}
    for label in changes:
        clones[label] = isolate / label.replace(" ", "-")
        subprocess.run(["cp", "-a", str(base), str(clones[label])], check=True)
    git(base, "clone", "-q", str(base), "fetch-from")
    git(base / "fetch-from", "tag", "-a", "segment@v0.5.0", "-m", "Registering artifact segment version v0.5.0", c2)
    _age(base / "fetch-from/.git/refs/tags")
    before = {}
    for label, root in clones.items():
        _age(root / ".git/packed-refs")
        _age(root / ".git/refs/tags")
        before[label] = ls(root)
        assert (root / cache).is_file() and before[label] == next(iter(before.values())), label  # cached, under the refs' stat
    for label, change in changes.items():
        change(clones[label])
    time.sleep(2.1)  # (within 2 s of a change the key is the listing: the test above)
    for label, root in clones.items():
        after = ls(root)  # the old rows are still cached, under the old stat: never believed
        stamp = (root / cache).stat().st_mtime_ns
        assert ls(root) == after and (root / cache).stat().st_mtime_ns == stamp, label  # a warm hit
        assert after == cold(root), label
        assert (after == before[label]) == (label == "packed"), label
    root = clones["packed"]
    (root / cache).write_bytes((root / cache).read_bytes()[:-3] + b"]]]")
    assert ls(root) == before["packed"]
