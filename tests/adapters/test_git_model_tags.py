"""One model's tags, listed without reading the others (git.model_tag_refs),
are exactly what the full listing says for that model: packed and loose
refs, a loose ref over a packed one, tags added, moved and deleted, GTO
names with '/' and monorepo 'dir=name' tags, names sharing a prefix."""
from __future__ import annotations

import subprocess
from pathlib import Path

from mlver.adapters import git
from mlver.domain import tags

MODELS = ["churn", "churn-2", "nested", "sub/proj:nested", "team/model"]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def _same_as_full_listing(root: Path) -> None:
    full = git.tag_refs(root)
    for model in MODELS:
        want = sorted(r for r in full if (t := tags.parse(r[0])) is not None and t.model == model)
        got = sorted(r for r in git.model_tag_refs(root, tags.name_in_tag(model))
                     if (t := tags.parse(r[0])) is not None and t.model == model)
        assert got == want, model
        assert want, model  # every model has tags here: an empty answer would pass by accident
    # The tag objects the listing read (kept for tag_infos) say what git says of them.
    objects = [obj for _, obj, _ in full]
    kept = git.tag_infos(root, objects)
    git._TAG_BODIES.clear()
    assert kept == git.tag_infos(root, objects)


def three_commits(tmp_path: Path) -> Path:
    """A repository of three commits (the tag tests' playground)."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    for i in range(3):
        (root / "f").write_text(str(i))
        _git(root, "add", "f")
        _git(root, "commit", "-q", "-m", f"c{i}")
    return root


def test_one_models_tags_match_the_full_listing(tmp_path: Path) -> None:
    root = three_commits(tmp_path)
    first, second = _git(root, "rev-list", "--reverse", "HEAD").split()[:2]
    for model in MODELS:
        name = tags.name_in_tag(model)
        _git(root, "tag", "-a", f"{name}@v0.1.0", "-m", "v0.1.0", first)
        _git(root, "tag", "-a", f"{name}#prod#1", "-m", "prod", first)
    _git(root, "tag", "-a", "churn#team/prod#2", "-m", "a GTO stage with a slash", first)
    _git(root, "tag", "churn@v9.9.9", second)  # lightweight: listed, the registry drops it
    _same_as_full_listing(root)  # all loose
    _git(root, "pack-refs", "--all")
    _same_as_full_listing(root)  # all packed (fully peeled)
    # New loose tags next to packed ones; a packed tag moved (its loose file wins); one deleted.
    _git(root, "tag", "-a", "churn@v0.2.0", "-m", "v0.2.0", second)
    _git(root, "tag", "-f", "-a", "churn#prod#1", "-m", "moved", second)
    _git(root, "tag", "-d", "nested#prod#1")
    _git(root, "tag", "-a", "nested#prod#3", "-m", "again", second)
    # Loose tags git must peel: a tag of a tag, a tag of a tree.
    _git(root, "tag", "-a", "churn@v0.3.0", "-m", "nested", _git(root, "rev-parse", "churn@v0.2.0").strip())
    _git(root, "tag", "-a", "churn#tree#4", "-m", "a tree", f"{second}^{{tree}}")
    _same_as_full_listing(root)
    peeled = {r[0]: r[2] for r in git.model_tag_refs(root, "churn")}
    assert peeled["churn@v0.3.0"] == second and peeled["churn#tree#4"] == _git(root, "rev-parse", f"{second}^{{tree}}").strip()
    moved = [r for r in git.model_tag_refs(root, "churn") if r[0] == "churn#prod#1"]
    assert moved and moved[0][2] == second
    assert not [r for r in git.model_tag_refs(root, "nested") if r[0] == "nested#prod#1"]
    # packed-refs without peeled lines (an old git wrote it): git is asked for every tag.
    packed = root / ".git/packed-refs"
    packed.write_text("".join(line for line in packed.read_text().splitlines(keepends=True)
                              if not line.startswith(("#", "^"))))
    _same_as_full_listing(root)
    # From a linked worktree the tags are the common directory's.
    _git(root, "worktree", "add", "-q", "--detach", str(tmp_path / "wt"), first)
    assert sorted(git.model_tag_refs(tmp_path / "wt", "churn")) == sorted(git.model_tag_refs(root, "churn"))


def test_the_one_pass_listing_is_what_git_says_of_each_tag(tmp_path: Path) -> None:
    """The tag listing is read in one pass that pairs each tag with its peeled
    line: the answer equals git's own per-tag answer (rev-parse), for
    annotated and lightweight tags interleaved, in show-ref's and
    ls-remote's formats, and output whose peeled lines are out of place is
    read by name."""
    root = three_commits(tmp_path)
    # Lightweight tags sorted between annotated ones, before the first and
    # after the last, a tag of a tag, a name with '/' and '#'.
    _git(root, "tag", "a-light", "HEAD~1")
    _git(root, "tag", "-a", "-m", "x", "m@v0.1.0", "HEAD~2")
    _git(root, "tag", "m@v0.1.1", "HEAD")
    _git(root, "tag", "-a", "-m", "x", "m#prod#1", "HEAD")
    _git(root, "tag", "-a", "-m", "x", "team/m@v1.0.0", "HEAD")
    _git(root, "tag", "-a", "-m", "x", "nested", "m#prod#1")
    _git(root, "tag", "z-light", "HEAD")
    names = _git(root, "for-each-ref", "--format=%(refname:strip=2)", "refs/tags").split()
    want = sorted((name, _git(root, "rev-parse", f"refs/tags/{name}").strip(),
                   _git(root, "rev-parse", f"refs/tags/{name}^{{}}").strip()) for name in names)
    assert len(want) == 7 and sum(obj != peeled for _, obj, peeled in want) == 4
    for packed in (False, True):
        if packed:
            _git(root, "pack-refs", "--all")
        assert sorted(git.parse_tag_listing(git.tag_listing(root))) == want
        remote = _git(tmp_path, "ls-remote", "--tags", str(root))
        assert "\t" in remote and sorted(git.parse_tag_listing(remote)) == want
        # Peeled lines moved away from their tags: read by name, the same answer.
        lines = git.tag_listing(root).splitlines()
        shuffled = "\n".join([line for line in lines if not line.endswith("^{}")]
                             + [line for line in lines if line.endswith("^{}")]) + "\n"
        assert sorted(git.parse_tag_listing(shuffled)) == want
    assert git.parse_tag_listing("") == []


def test_git_output_through_memory_files_is_what_a_pipe_reads(tmp_path: Path) -> None:
    """git's answers read from memory files (memfd) equal the piped ones:
    no request, a small one (written to the pipe whole) and one larger than
    a pipe's buffer (through a temporary file), with missing objects in it."""
    root = three_commits(tmp_path)
    for i in range(3):
        _git(root, "tag", "-a", f"m@v0.{i}.0", "-m", f"v{i}", "HEAD")
    objects = [line.split()[0] for line in git.tag_listing(root).splitlines()]
    assert len(objects) == 6
    small = "".join(f"{o}\n" for o in objects).encode()
    large = small * 200 + b"0" * 40 + b"\n"
    assert len(large) > git._PIPE_BUFFER
    for args, request in ((["show-ref", "-d", "--tags"], b""), (["cat-file", "--batch"], small),
                          (["cat-file", "--batch"], large), (["cat-file", "--batch-check"], b"nothing\n")):
        status, out = git._output(root, args, request)
        assert (status, out) == git._output_piped(root, ["git", *args], request)
        assert status == 0 and out.count(b"\n") >= len(request.splitlines())
    assert git._output(root, ["show-ref", "--no-such-option"])[0] != 0
    later = git.tag_listing_ahead(root)  # started now, read after another git ran
    assert git.tag_listing(root).count("\n") == 6
    assert later() == git.tag_listing(root)


def test_the_running_cat_file_answers_as_a_new_one(tmp_path: Path, monkeypatch) -> None:
    """The cat-file a command keeps running for its small reads sees what a
    new git would: a commit, a tag added, a packed tag moved, a repack, made
    between two reads; it is one process until the environment changes or
    it has waited too long; a request larger than a pipe's buffer goes in
    parts, and one of very many objects to a new git."""
    root = three_commits(tmp_path)
    git._CatFile.close_open()

    def both(specs: list[str]) -> dict:
        kept = git._batch(root, specs)
        assert git._CatFile._open is not None
        for spec in specs:  # a new git, one spec at a time
            proc = subprocess.run(["git", "cat-file", "blob", spec], cwd=root, capture_output=True)
            assert kept[spec] == (("blob", proc.stdout) if proc.returncode == 0 else ("missing", None)), spec
        return kept

    assert both(["HEAD:f"])["HEAD:f"] == ("blob", b"2")
    first = git._CatFile._open.proc.pid  # type: ignore[union-attr]
    (root / "f").write_text("3")
    _git(root, "commit", "-qam", "c3")
    _git(root, "tag", "-a", "t", "-m", "one", "HEAD~1")
    _git(root, "pack-refs", "--all")
    assert both(["HEAD:f", "t^{}:f", "nothing:f"]) == {"HEAD:f": ("blob", b"3"), "t^{}:f": ("blob", b"2"),
                                                      "nothing:f": ("missing", None)}
    _git(root, "tag", "-f", "-a", "t", "-m", "moved", "HEAD")
    _git(root, "repack", "-adq")
    _git(root, "prune")
    assert both(["t^{}:f"]) == {"t^{}:f": ("blob", b"3")}
    assert git.tag_infos(root, [_git(root, "rev-parse", "t").strip()]).popitem()[1].message == "moved"
    assert git._CatFile._open.proc.pid == first  # type: ignore[union-attr]
    monkeypatch.setenv("GIT_NO_REPLACE_OBJECTS", "1")
    both(["HEAD:f"])
    assert git._CatFile._open.proc.pid != first  # type: ignore[union-attr]
    second = git._CatFile._open.proc.pid  # type: ignore[union-attr]
    chunked = ["HEAD:f", "HEAD~1:f"] * (git._PIPE_BUFFER // 16 + 1)  # more than a pipe's buffer: written in parts
    assert len("\n".join(chunked)) > git._PIPE_BUFFER
    assert git._batch(root, chunked) == {"HEAD:f": ("blob", b"3"), "HEAD~1:f": ("blob", b"2")}
    assert git._CatFile._open.proc.pid == second  # type: ignore[union-attr]
    big = ["HEAD:f"] * (git._CatFile.MAX_SPECS + 1)
    assert set(git._batch(root, big).values()) == {("blob", b"3")}
    git._CatFile.close_open()
    assert git._CatFile._open is None


def test_tag_objects_read_ahead_are_what_tag_infos_reads(tmp_path: Path) -> None:
    """Tag objects read by a git started ahead (a cold ls parses names
    meanwhile) say what tag_infos says, for the objects read ahead and for
    others asked later; asking for nothing still ends that git."""
    root = three_commits(tmp_path)
    for i in range(4):
        _git(root, "tag", "-a", f"m#prod#{i}", "-m", f"prod {i}", "HEAD")
        _git(root, "tag", "-a", f"m@v0.{i}.0", "-m", f"v{i}", "HEAD~1")
    refs = git.tag_refs(root)
    stage = [obj for name, obj, _ in refs if "#" in name]
    others = [obj for name, obj, _ in refs if "#" not in name]
    git._TAG_BODIES.clear()
    reader = git.tag_infos_ahead(root, stage + ["0" * 40])
    assert reader(stage[:2] + others[:1]) == git.tag_infos(root, stage[:2] + others[:1])
    assert reader(stage + others) == git.tag_infos(root, stage + others)
    assert {info.message for info in reader(stage).values()} == {f"prod {i}" for i in range(4)}
    git.tag_infos_ahead(root, stage)([])
    assert git.tag_infos_ahead(root, [])(others) == git.tag_infos(root, others)


def test_the_fact_cache_reads_tag_objects_ahead_as_tag_infos_reads_them(tmp_path: Path) -> None:
    """verify's reader of tag objects (FactCache.tag_infos_ahead: one git started
    before the names are parsed) gives each tag's tagger, date and marked lines
    as git.tag_infos reads them: read ahead, kept from an earlier run, kept
    on a damaged line, asked for without being read ahead, or missing; its
    ``then`` runs once, when git is done."""
    from mlver.api.facts import FactCache

    root = three_commits(tmp_path)
    for i in range(3):
        _git(root, "tag", "-a", f"m@v0.{i}.0", "-m", f"v{i}\n\nmlver-digest: sha256:{i}\nother", "HEAD")
        _git(root, "tag", "-a", f"m#prod#{i}", "-m", f"prod {i}", "HEAD~1")
    objects = [obj for _, obj, _ in git.tag_refs(root)]

    def wanted(objs: list[str]) -> dict[str, tuple[str, str, int, str]]:
        infos = git.tag_infos(root, objs)
        marks = {o: "\n".join(line for line in i.message.splitlines() if "mlver-" in line) for o, i in infos.items()}
        return {o: (i.tagger, i.email, i.timestamp, marks[o]) for o, i in infos.items()}

    def got(infos: dict[str, git.TagInfo]) -> dict[str, tuple[str, str, int, str]]:
        return {o: (i.tagger, i.email, i.timestamp, i.message) for o, i in infos.items()}

    called = []
    cache = FactCache(root)
    reader = cache.tag_infos_ahead(objects[:4], then=lambda: called.append(1))
    asked = objects[:2] + objects[4:]  # (the last two not read ahead)
    assert got(reader(asked + ["0" * 40])) == wanted(asked)
    assert got(reader(None)) == wanted(objects[:4]) and called == [1]
    cache.save()
    kept = FactCache(root)
    assert kept.raw["t"] and got(kept.tag_infos(objects)) == wanted(objects)
    damaged = FactCache(root)
    damaged.raw["t"][objects[0]] = "not a line this code writes"
    assert got(damaged.tag_infos(objects)) == wanted(objects)


def test_tag_objects_are_parsed_as_git_writes_them(tmp_path: Path) -> None:
    """verify parses tag objects while git is still writing them (a memory file
    read as it grows): an object larger than one read of it (9 MB), objects
    after it and a missing one come out as tag_infos reads them, and ``then``
    runs once, git being done."""
    root = three_commits(tmp_path)
    big = tmp_path / "big"
    big.write_text("v0\n\n" + "x" * 9_000_000 + "\nmlver-digest: sha256:0\n")
    _git(root, "tag", "-a", "m@v0.0.0", "-F", str(big), "HEAD")
    for i in range(1, 4):
        _git(root, "tag", "-a", f"m@v0.{i}.0", "-m", f"v{i}\n\nmlver-digest: sha256:{i}", "HEAD~1")
    objects = [obj for _, obj, _ in git.tag_refs(root)]
    asked = objects[:2] + ["0" * 40] + objects[2:]
    called: list[int] = []
    got = dict(git.tag_infos_streamed_ahead(root, asked, lambda: called.append(1))())
    assert got == git.tag_infos(root, objects) and len(got) == 4 and called == [1]
    # Past its first MiB a tag's message is read past, by every reader alike (the digest there is not seen).
    message = got[_git(root, "rev-parse", "refs/tags/m@v0.0.0").strip()].message
    assert message.startswith("v0\n\nxxx") and 1_040_000 < len(message) < git.MAX_TAG_BYTES and "digest" not in message
    assert git.tag_infos_ahead(root, asked)(objects) == got
    assert sorted(i.message[-1] for i in got.values() if "digest" in i.message) == ["1", "2", "3"]



def test_a_tag_info_made_fast_is_the_tag_info() -> None:
    """git.tag_info (verify makes 220,000) gives what TagInfo(...) gives: equal, the same
    hash and repr, and as frozen."""
    import dataclasses

    import pytest

    for fields in [("Bench Bot", "b@x", 1767225690, "mlver-digest: sha256:" + "0" * 64), ("", "", 0, ""), ("é\t", "<", -1, "\n")]:
        fast, slow = git.tag_info(*fields), git.TagInfo(*fields)
        assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
        assert (fast.tagger, fast.email, fast.timestamp, fast.message) == fields
        with pytest.raises(dataclasses.FrozenInstanceError):
            fast.message = "moved"  # type: ignore[misc]


def test_a_tag_object_past_the_bound_is_read_past_and_the_next_ones_read_right(tmp_path: Path) -> None:
    """A tag message past MAX_TAG_BYTES is cut there and the rest of it read
    past, not kept: the tags git writes after it still parse as tag_infos says."""
    root = three_commits(tmp_path)
    long = tmp_path / "long.txt"
    long.write_text("y" * (git.MAX_TAG_BYTES + 10))
    _git(root, "tag", "-a", "m@v0.1.0", "-m", "before", "HEAD")
    _git(root, "tag", "-a", "m@v0.2.0", "-F", str(long), "HEAD")
    _git(root, "tag", "-a", "m@v0.3.0", "-m", "after", "HEAD")
    objects = [obj for name, obj, _ in git.tag_refs(root) if name.startswith("m@")]
    git._TAG_BODIES.clear()
    streamed = dict(git.tag_infos_streamed_ahead(root, objects)())
    assert streamed == git.tag_infos(root, objects)
    assert [streamed[o].message[:6] for o in objects] == ["before", "yyyyyy", "after"]
