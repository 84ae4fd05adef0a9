"""Generate a synthetic mlver/GTO registry repository with `git fast-import`.

    python bench/gen_registry.py --models 100 --versions 10000 --out /tmp/reg

The result is a real git repository that both mlver and gto can read:

* one root commit with ``mlver.yaml``, ``dvc.yaml`` (``artifacts:``) and an
  empty ``.dvc/config``;
* one commit per version, each rewriting one model's lineage record
  ``.mlver/records/<model>.json`` (sealed with mlver's own digest code, with
  ``parent`` pointing at the model's previous record commit);
* an annotated version tag ``<model>@v<semver>`` on every such commit and,
  on every ``--stage-every``-th version of each model, an annotated stage tag
  ``<model>#<stage>#<n>`` on the same commit (dev/staging/prod rotation).

Commits go through one `git fast-import` stream, which writes a single
pack (with deltas) instead of thousands of loose objects and tens of
thousands of `git` processes. Commit ids are computed here as the stream is
written (checked against git's at the end), so records can name them without
a round trip per commit. Annotated tags are written as one more pack plus a
`packed-refs` file, as in a fresh clone; fast-import's own `tag` command
would create one loose ref file per tag, which alone took ~4 s for 11,000
tags on the 2-core benchmark machine. 10,000 versions take a few seconds.
Record fields that would need real files (md5s, sizes) are fake but well
formed: this repository is for registry reads only, never for `pull`.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import shutil
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mlver.domain import record as rec

STAGES = ("dev", "staging", "prod")
# 2026-01-01T00:00:00Z: a fixed epoch keeps the repository reproducible
# (same seed -> same objects -> same commit ids).
EPOCH = 1767225600
AUTHOR = ("Bench Bot", "bench@example.com")
REMOTE = "mlver-local"
BLOB, TREE = b"100644", b"40000"  # git tree entry modes


@dataclass(frozen=True)
class Stats:
    out: Path
    models: int
    versions: int
    stage_tags: int
    seconds: float


def model_name(i: int) -> str:
    # Zero-padded so `ls` order equals numeric order; matches mlver's strict name rule.
    return f"m{i:03d}"


def semver(k: int) -> str:
    """The k-th (0-based) version of a model: strictly increasing, starting at v0.1.0.

    Mixes patch, minor and major bumps so that version sorting must be
    numeric (v0.10.0 > v0.9.4), as in a real registry.
    """
    return f"v{k // 50}.{(k // 5) % 10 + 1}.{k % 5}"


def iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _data(fh: IO[bytes], payload: bytes) -> None:
    """A fast-import ``data`` block with an exact byte count (no delimiter games)."""
    fh.write(b"data %d\n" % len(payload))
    fh.write(payload)
    fh.write(b"\n")


def _ident(ts: int) -> bytes:
    return f"{AUTHOR[0]} <{AUTHOR[1]}> {ts} +0000".encode()


def _config_files(names: list[str]) -> dict[str, bytes]:
    mlver_yaml = "version: 1\nmodels:\n" + "".join(f"  {n}:\n    path: models/{n}.pkl\n" for n in names)
    dvc_yaml = "artifacts:\n" + "".join(f"  {n}:\n    path: models/{n}.pkl\n    type: model\n" for n in names)
    return {
        "mlver.yaml": mlver_yaml.encode(),
        "dvc.yaml": dvc_yaml.encode(),
        ".dvc/config": b"",
        # Model files are never present; ignore them as DVC would.
        "models/.gitignore": b"".join(f"/{n}.pkl\n".encode() for n in names),
    }


def _record(rng: random.Random, name: str, k: int, ts: int, code_commit: str,
            parent: dict[str, str] | None) -> dict[str, object]:
    duration = round(rng.uniform(5, 600), 3)
    size = rng.randrange(10_000, 50_000_000)
    return rec.seal({
        "schema": rec.SCHEMA,
        "model": name,
        "artifact": {
            "path": f"models/{name}.pkl",
            "md5": f"{rng.getrandbits(128):032x}",
            "size": size,
            "nfiles": 1,
            "remote": REMOTE,
        },
        "code": {
            "commit": code_commit,
            "clean": True,
            "dirty_files": [],
            "diff_sha256": None,
            "command": "python train.py",
            "exit_code": 0,
            "started": iso(ts - int(duration) - 1),
            "duration_s": duration,
        },
        "data": [{
            "path": "data/train.csv",
            "md5": f"{rng.getrandbits(128):032x}",
            "size": rng.randrange(1_000_000, 900_000_000),
            "nfiles": 1,
            "profile": None,
        }],
        "params": {"train.lr": round(rng.choice([0.3, 0.1, 0.03, 0.01, 0.003]), 4),
                   "train.n_estimators": rng.choice([50, 100, 200, 400]),
                   "train.seed": k},
        "metrics": {"accuracy": round(rng.uniform(0.7, 0.99), 4),
                    "f1": round(rng.uniform(0.6, 0.98), 4)},
        "env": {"python": "3.11.9", "platform": "Linux-6.1-x86_64", "packages": {}},
        "created": iso(ts),
        "author": {"name": AUTHOR[0], "email": AUTHOR[1]},
        "parent": parent,
    })


def _oid(kind: bytes, body: bytes) -> bytes:
    """A git object id (binary sha1), computed the way git does."""
    return hashlib.sha1(b"%s %d\0" % (kind, len(body)) + body).digest()


def _tree(entries: dict[str, tuple[bytes, bytes]]) -> bytes:
    """A tree object's body from name -> (mode, binary oid), in git's order.

    Git sorts a subtree as if its name ended in '/', so a tree '.dvc' comes
    after a file '.dvc.yaml' ('/' > '.'); any other order gives a tree that
    `git fsck` rejects and ids that differ from git's.
    """
    def key(name: str) -> bytes:
        return (name + "/" if entries[name][0] == TREE else name).encode()

    return b"".join(b"%s %s\0%s" % (entries[n][0], n.encode(), entries[n][1]) for n in sorted(entries, key=key))


class Tree:
    """The work tree as git objects, so each commit's id is known before git writes it.

    Knowing ids up front lets the stream run without a round trip per commit
    (fast-import's get-mark): Python and fast-import then use both cores.
    Subtree ids are cached and only the directories on a changed path are
    rehashed, so a commit costs one records/ tree, not the whole tree.
    """

    def __init__(self, files: dict[str, bytes]) -> None:
        self.root: dict[str, Any] = {}
        self.cache: dict[str, bytes] = {}  # directory path ("" = root) -> tree oid
        for path, content in files.items():
            self.set(path, content)

    def set(self, path: str, content: bytes) -> None:
        *dirs, leaf = path.split("/")
        node, prefix = self.root, ""
        self.cache.pop(prefix, None)
        for d in dirs:
            node = node.setdefault(d, {})
            prefix = f"{prefix}/{d}"
            self.cache.pop(prefix, None)
        node[leaf] = _oid(b"blob", content)

    def oid(self, node: dict[str, Any] | None = None, prefix: str = "") -> bytes:
        node = self.root if node is None else node
        cached = self.cache.get(prefix)
        if cached is None:
            entries = {
                name: (TREE, self.oid(child, f"{prefix}/{name}")) if isinstance(child, dict) else (BLOB, child)
                for name, child in node.items()
            }
            cached = self.cache[prefix] = _oid(b"tree", _tree(entries))
        return cached


def _commit_body(tree: bytes, parent: str | None, ts: int, message: bytes) -> bytes:
    # Exactly what fast-import writes for a commit with raw dates and no encoding.
    ident = _ident(ts)
    head = b"tree %s\n" % tree.hex().encode()
    if parent:
        head += b"parent %s\n" % parent.encode()
    return head + b"author %s\ncommitter %s\n\n" % (ident, ident) + message


def _tag_body(name: str, commit: str, ts: int, message: bytes) -> bytes:
    return b"object %s\ntype commit\ntag %s\ntagger %s\n\n" % (commit.encode(), name.encode(), _ident(ts)) + message


def _pack(bodies: list[bytes], kind: int) -> bytes:
    """A version-2 pack of whole (undeltified) objects of one type."""
    parts = [b"PACK" + struct.pack(">II", 2, len(bodies))]
    for body in bodies:
        size = len(body)
        header = bytearray([(kind << 4) | (size & 0x0F)])
        size >>= 4
        while size:
            header[-1] |= 0x80
            header.append(size & 0x7F)
            size >>= 7
        parts.append(bytes(header) + zlib.compress(body, 1))
    data = b"".join(parts)
    return data + hashlib.sha1(data).digest()


def _write_tags(repo: Path, tags: list[tuple[str, str, int, bytes]], loose: bool = False) -> None:
    """Write annotated tags as one pack plus one packed-refs file.

    fast-import's own `tag` command would leave one loose ref file per tag;
    creating 11,000 files costs ~4 s on this disk (plus `git pack-refs`),
    more than everything else together. A clone has packed refs anyway.
    ``loose`` writes one file per ref instead: a repository whose tags were
    made locally and never packed, where packed-refs' peeled ids are missing.
    """
    bodies, refs = [], []
    for name, commit, ts, message in tags:
        body = _tag_body(name, commit, ts, message)
        bodies.append(body)
        refs.append((f"refs/tags/{name}", _oid(b"tag", body).hex(), commit))
    subprocess.run(["git", "index-pack", "--stdin"], cwd=repo, input=_pack(bodies, 4),
                   check=True, stdout=subprocess.DEVNULL)
    if loose:
        for ref, oid, _ in refs:
            (repo / ".git" / ref).write_text(oid + "\n")
        return
    refs.sort(key=lambda r: r[0].encode())  # git compares refnames as bytes
    lines = ["# pack-refs with: peeled fully-peeled sorted \n"]
    lines += [f"{oid} {ref}\n^{peeled}\n" for ref, oid, peeled in refs]
    packed = repo / ".git" / "packed-refs"
    tmp = packed.with_suffix(".tmp")
    tmp.write_text("".join(lines))
    tmp.replace(packed)


def root_commit(w: IO[bytes], files: dict[str, bytes], clock: int, message: bytes) -> tuple[Tree, str]:
    """The first commit of a fast-import stream (``files`` and nothing else): its tree and id."""
    tree = Tree(files)
    w.write(b"commit refs/heads/main\nauthor %s\ncommitter %s\n" % (_ident(clock), _ident(clock)))
    _data(w, message)
    for path, content in files.items():
        w.write(f"M 100644 inline {path}\n".encode())
        _data(w, content)
    return tree, _oid(b"commit", _commit_body(tree.oid(), None, clock, message)).hex()


def generate(out: Path, models: int, versions: int, stage_every: int = 10, seed: int = 0,
             loose_refs: bool = False) -> Stats:
    start = time.perf_counter()
    rng = random.Random(seed)
    names = [model_name(i) for i in range(models)]
    out.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(out)], check=True)

    # --done: a truncated stream (e.g. we crash) must fail, not import half a repo.
    proc = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=out, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    w: IO[bytes] = proc.stdin
    w.write(b"feature done\n")
    clock = EPOCH  # one distinct second per commit and per tag: GTO orders by time

    # Root commit: project configuration only.
    tree, head = root_commit(w, _config_files(names), clock, b"Set up the project\n")

    per_model = [0] * models                                    # versions so far
    last_record: list[dict[str, str] | None] = [None] * models  # parent pointer
    numbers = [0] * models                                      # max numbered tag per model
    tags: list[tuple[str, str, int, bytes]] = []
    stage_tags = 0
    for i in range(versions):
        m = i % models
        name, k = names[m], per_model[m]
        per_model[m] += 1
        version = semver(k)
        clock += 1
        doc = _record(rng, name, k, clock, head, last_record[m])
        metrics = doc["metrics"]
        assert isinstance(metrics, dict)
        # Same message shape mlver's `record` writes.
        message = (f"mlver: record {name} (accuracy={metrics['accuracy']:.4g}, f1={metrics['f1']:.4g})"
                   f"\n\nTrained at {head[:12]}.\nRecord digest: {doc['digest']}\n").encode()
        content = rec.dumps(doc).encode()
        path = rec.record_path(name)
        w.write(b"commit refs/heads/main\nauthor %s\ncommitter %s\n" % (_ident(clock), _ident(clock)))
        _data(w, message)
        w.write(f"M 100644 inline {path}\n".encode())
        _data(w, content)
        tree.set(path, content)
        head = _oid(b"commit", _commit_body(tree.oid(), head, clock, message)).hex()
        last_record[m] = {"commit": head, "digest": str(doc["digest"])}

        # Version tag, as `mlver release` writes it.
        clock += 1
        tags.append((f"{name}@{version}", head, clock,
                     (f"Registering artifact {name} version {version}\n\n"
                      f"mlver-record: {path}\n"
                      f"mlver-digest: {doc['digest']}\n").encode()))

        # Every stage_every-th version of each model, staggered by model so
        # that all models (not only every tenth one) carry stages, and the
        # stage rotates globally so small repositories see all three.
        if (k + m) % stage_every == stage_every - 1:
            stage = STAGES[stage_tags % len(STAGES)]
            numbers[m] += 1  # GTO's counter: max + 1 over the model's numbered tags
            clock += 1
            tags.append((f"{name}#{stage}#{numbers[m]}", head, clock,
                         f"Assigning stage {stage} to artifact {name} version {version}\n".encode()))
            stage_tags += 1
    w.write(b"done\n")
    w.close()
    if proc.wait() != 0:
        raise SystemExit(f"git fast-import failed (exit {proc.returncode})")

    # Our ids are baked into records and tags: they must be git's ids.
    actual = subprocess.run(["git", "rev-parse", "main"], cwd=out, check=True,
                            capture_output=True, text=True).stdout.strip()
    if actual != head:
        raise SystemExit(f"commit id mismatch: computed {head}, git wrote {actual}")
    _write_tags(out, tags, loose_refs)
    # fast-import leaves the work tree empty; mlver reads mlver.yaml from it.
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=out, check=True)
    return Stats(out, models, versions, stage_tags, time.perf_counter() - start)


def fsck(repo: Path) -> None:
    proc = subprocess.run(["git", "fsck", "--no-progress", "--strict"], cwd=repo,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"git fsck failed in {repo}:\n{proc.stdout}{proc.stderr}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--stage-every", type=int, default=10, help="a stage tag on every N-th version of each model (staggered)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")
    parser.add_argument("--loose-refs", action="store_true",
                        help="one file per tag ref instead of packed-refs (tags made locally, never packed)")
    parser.add_argument("--fsck", action="store_true", help="run `git fsck --strict` afterwards")
    args = parser.parse_args(argv)
    if args.models < 1 or args.versions < 0 or args.stage_every < 1:
        parser.error("--models and --stage-every must be >= 1, --versions >= 0")
    if args.out.exists():
        if not args.force:
            parser.error(f"{args.out} exists (use --force to replace it)")
        shutil.rmtree(args.out)
    stats = generate(args.out, args.models, args.versions, args.stage_every, args.seed, args.loose_refs)
    if args.fsck:
        fsck(args.out)
    print(f"{stats.out}: {stats.models} models, {stats.versions} versions, "
          f"{stats.stage_tags} stage tags in {stats.seconds:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
