"""`mlver ls` on a registry GTO wrote (1,000 versions, no mlver anywhere) vs `gto show`.

    .venv/bin/python bench/bench_gto_registry.py [--runs 5] [--regenerate]

The repository is what a team that used GTO for a while has: no mlver.yaml,
no records; a ``dvc.yaml`` whose ``artifacts:`` declare the models (and a few
datasets), a monorepo folder with its own ``dvc.yaml`` (artifacts
``services/api:<name>``, tags ``services/api=<name>@...``), one commit per
version that updates the model's ``.dvc`` file, and tags exactly as
``gto`` writes them: annotated, GTO's messages, counters on stage tags
(``name#prod#3``), simple tags for deregistrations and deprecations
(``name@v1.2.0!``, ``name@deprecated``), one distinct second per tag.

It is written in one ``git fast-import`` stream plus one tag pack (the
primitives of bench/gen_registry.py), in about a second; before timing, the
real ``gto show --json`` is compared with ``mlver ls --json`` on every model
(latest version, stage holders, which models are hidden as deprecated), so
the two are timed reading the same answer. mlver runs before `mlver init`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import benchlib as bl
import gen_registry as gr

VERSIONS = 1000
MODELS = 90        # in dvc.yaml (type: model)
DATASETS = 5       # in dvc.yaml (type: dataset)
NESTED = 5         # in services/api/dvc.yaml: GTO names services/api:<name>
STAGE_EVERY = 10
DEREGISTER_EVERY = 25
DEPRECATED = 3     # the last few models: deprecated, hidden by `gto show` and `mlver ls`
GTO_TIMEOUT = 600.0
STAMP = "mlver-bench-stamp.json"


def names() -> list[str]:
    return ([f"model-{i:02d}" for i in range(MODELS)] + [f"data-{i}" for i in range(DATASETS)]
            + [f"services/api:svc-{i}" for i in range(NESTED)])


def _path(name: str) -> str:
    """Where an artifact's file is (its .dvc file changes with every version)."""
    if name.startswith("services/api:"):
        return f"services/api/models/{name.split(':', 1)[1]}.pkl"
    return f"data/{name}.csv" if name.startswith("data-") else f"models/{name}.pkl"


def _dvc_yamls() -> dict[str, bytes]:
    root = ["artifacts:"]
    for i in range(MODELS):
        root += [f"  model-{i:02d}:", f"    path: models/model-{i:02d}.pkl", "    type: model",
                 f"    desc: Model {i}", "    labels: [tabular]"]
    for i in range(DATASETS):
        root += [f"  data-{i}:", f"    path: data/data-{i}.csv", "    type: dataset"]
    nested = ["artifacts:"]
    for i in range(NESTED):
        nested += [f"  svc-{i}:", f"    path: models/svc-{i}.pkl", "    type: model"]
    return {"dvc.yaml": ("\n".join(root) + "\n").encode(),
            "services/api/dvc.yaml": ("\n".join(nested) + "\n").encode(),
            ".dvc/config": b"", ".dvcignore": b""}


def _dvcfile(md5: str, size: int, path: str) -> bytes:
    return f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: {Path(path).name}\n".encode()


def generate(out: Path, seed: int = 0) -> dict[str, int]:
    """The GTO-written repository; returns counts of what it holds."""
    rng = random.Random(seed)
    all_names = names()
    out.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(out)], check=True)
    proc = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=out, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    w: IO[bytes] = proc.stdin
    w.write(b"feature done\n")
    clock = gr.EPOCH
    tree, head = gr.root_commit(w, _dvc_yamls(), clock, b"Declare the artifacts\n")

    tags: list[tuple[str, str, int, bytes]] = []
    counters = dict.fromkeys(all_names, 0)
    done = dict.fromkeys(all_names, 0)
    stats = {"versions": 0, "stage_tags": 0, "deregistered": 0, "deprecated": 0}
    for i in range(VERSIONS):
        name = all_names[i % len(all_names)]
        in_tag = name.replace(":", "=")  # GTO's monorepo form
        k = done[name]
        done[name] += 1
        version = gr.semver(k)
        path = _path(name)
        md5, size = f"{rng.getrandbits(128):032x}", rng.randrange(10_000, 50_000_000)
        content = _dvcfile(md5, size, path)
        clock += 1
        message = f"Update {name}\n".encode()
        w.write(b"commit refs/heads/main\nauthor %s\ncommitter %s\n" % (gr._ident(clock), gr._ident(clock)))
        gr._data(w, message)
        w.write(f"M 100644 inline {path}.dvc\n".encode())
        gr._data(w, content)
        tree.set(f"{path}.dvc", content)
        head = gr._oid(b"commit", gr._commit_body(tree.oid(), head, clock, message)).hex()
        clock += 1
        tags.append((f"{in_tag}@{version}", head, clock, f"Registering artifact {name} version {version}\n".encode()))
        stats["versions"] += 1
        if (k + i) % STAGE_EVERY == 0:
            stage = gr.STAGES[stats["stage_tags"] % len(gr.STAGES)]
            counters[name] += 1
            clock += 1
            tags.append((f"{in_tag}#{stage}#{counters[name]}", head, clock,
                         f"Assigning stage {stage} to artifact {name} version {version}\n".encode()))
            stats["stage_tags"] += 1
            if (k + i) % (STAGE_EVERY * DEREGISTER_EVERY // 5) == 0 and k > 0:
                # A released version pulled back while it holds the stage: GTO hands the stage back.
                clock += 1
                tags.append((f"{in_tag}@{version}!", head, clock,
                             f"Deregistering artifact {name} version {version}\n".encode()))
                stats["deregistered"] += 1
    for name in all_names[MODELS - DEPRECATED:MODELS]:
        clock += 1
        tags.append((f"{name}@deprecated", head, clock, f"Deprecating artifact {name}\n".encode()))
        stats["deprecated"] += 1
    w.write(b"done\n")
    w.close()
    if proc.wait() != 0:
        raise SystemExit(f"git fast-import failed (exit {proc.returncode})")
    actual = subprocess.run(["git", "rev-parse", "main"], cwd=out, check=True, capture_output=True, text=True).stdout.strip()
    if actual != head:
        raise SystemExit(f"commit id mismatch: computed {head}, git wrote {actual}")
    gr._write_tags(out, tags)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=out, check=True)
    return stats


def ensure_repo(regenerate: bool) -> tuple[Path, dict[str, int]]:
    repo = bl.OUT / "gto-registry-1000"
    stamp_file = repo / ".git" / STAMP
    source = hashlib.sha256(Path(__file__).read_bytes() + Path(gr.__file__).read_bytes()).hexdigest()
    if not regenerate and stamp_file.exists():
        try:
            stamp = json.loads(stamp_file.read_text())
            if stamp.get("source") == source:
                return repo, stamp["stats"]
        except ValueError:
            pass
    if repo.exists():
        shutil.rmtree(repo)
    start = time.perf_counter()
    stats = generate(repo)
    gr.fsck(repo)
    stamp_file.write_text(json.dumps({"source": source, "stats": stats}))
    print(f"generated {repo} ({stats}) in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return repo, stats


def agreement(gto_out: str, mlver_out: str) -> tuple[bool, str]:
    g, m = json.loads(gto_out), {r["model"]: r for r in json.loads(mlver_out)}
    differ = [n for n in set(g) | set(m)
              if n not in g or n not in m or g[n]["version"] != m[n]["latest"]
              or {s: v for s, v in g[n]["stage"].items() if v} != m[n]["stages"]]
    if differ:
        return False, f"DISAGREE on {len(differ)} of {len(g)} artifacts (e.g. {', '.join(sorted(differ)[:3])})"
    return True, (f"agree on the latest version and stage holders of all {len(m)} artifacts "
                  f"(deprecated ones hidden by both)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mlver ls vs gto show on a GTO-written registry")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    mlver, gto = bl.tool("mlver"), bl.tool("gto")
    if mlver is None or gto is None:
        print("skip bench_gto_registry: needs mlver and gto", file=sys.stderr)
        return 0
    home = bl.temp_home("gto-registry")
    env = bl.isolated_env(home)
    header = bl.machine()
    try:
        repo, stats = ensure_repo(args.regenerate)
        print("  gto show --json (once, also the agreement check) ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            shown = subprocess.run([gto, "show", "--json"], cwd=repo, env=env, capture_output=True, text=True,
                                   timeout=GTO_TIMEOUT)
            gto_json_s: float | None = time.perf_counter() - start
            gto_json = shown.stdout if shown.returncode == 0 else None
        except subprocess.TimeoutExpired:
            gto_json_s, gto_json = None, None
        ours = subprocess.run([mlver, "ls", "--json"], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout
        agree, said = agreement(gto_json, ours) if gto_json else (False, "not checked: gto show failed or timed out")
        plain = [("git for-each-ref refs/tags", ["git", "for-each-ref", "refs/tags"]),
                 ("mlver ls", [mlver, "ls"]), ("mlver ls --json", [mlver, "ls", "--json"])]
        print(f"  {len(plain)} commands x {args.runs} runs ...", file=sys.stderr, flush=True)
        timings = bl.measure_many(plain, repo, env, runs=args.runs)
        print("  gto show (table, once) ...", file=sys.stderr, flush=True)
        timings["gto show"] = bl.measure("gto show", [gto, "show"], repo, env, runs=1, warmup=0, timeout=GTO_TIMEOUT)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    ls, gto_t, floor = timings["mlver ls"], timings["gto show"], timings["git for-each-ref refs/tags"]
    rows = []
    for label, t in timings.items():
        rows.append([f"`{label}`", t.note or bl.fmt_s(t.median), bl.fmt_s(t.best), bl.fmt_s(t.median_cpu),
                     str(len(t.runs)), bl.fmt_ratio(t.median, floor.median)])
    rows.append(["`gto show --json`", bl.fmt_s(gto_json_s), "-", "-", "1", bl.fmt_ratio(gto_json_s, floor.median)])
    ratio = gto_t.median / ls.median if gto_t.median and ls.median else None
    ok = None if ratio is None else (ratio >= 50 and agree)
    text = "\n".join([
        "## A registry GTO wrote: `mlver ls` vs `gto show` (1,000 versions)",
        "",
        f"Machine: {header}. `bench/bench_gto_registry.py`: {stats['versions']:,} versions of "
        f"{len(names())} artifacts ({MODELS} models and {DATASETS} datasets in dvc.yaml, {NESTED} in "
        f"services/api/dvc.yaml), {stats['stage_tags']} stage tags, {stats['deregistered']} deregistrations, "
        f"{stats['deprecated']} deprecated models; GTO's tag formats and messages, no mlver.yaml, no records. "
        f"mlver: median of {args.runs} runs after one warm-up, interleaved; GTO: one run each "
        f"({GTO_TIMEOUT:.0f} s limit).",
        "",
        bl.table(["command", "median s", "min s", "cpu s", "runs", "x floor"], rows),
        "",
        f"GTO and mlver {said}.",
        "",
        "| target | result |",
        "|---|---|",
        f"| `mlver ls` >= 50x faster than `gto show` on a GTO-written registry of 1,000 versions "
        f"({bl.fmt_ratio(gto_t.median, ls.median) if not gto_t.note else gto_t.note}; same answer: {'yes' if agree else 'no'}) "
        f"| {bl.verdict(ok)} |",
    ])
    bl.report("gto_registry", text)
    return 0 if ok is not False else 1


if __name__ == "__main__":
    sys.exit(main())
