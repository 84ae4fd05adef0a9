"""Registry reads at 1,000 and 10,000 versions: mlver vs GTO vs raw git.

    .venv/bin/python bench/bench_registry.py [--runs 5] [--regenerate]

Repositories come from gen_registry.py (100 models) and are cached under
bench/out/registry-<versions>[-loose]/; a stamp of the generator's source
and parameters decides whether a cached copy is still valid. Besides the
packed-refs repositories a clone would have, 10,000 versions are also
measured with loose refs (tags made locally, never packed).

Floor: `git for-each-ref refs/tags`, the one git call every registry read
needs; mlver cannot be faster than that plus Python start-up. A second git
row reads what a registry cannot do without (tagger dates, so every tag
object), and `git log -- <record>` is the floor of `mlver log`. GTO is run
once per command with a time limit, because it is quadratic in the number
of tags (about 14 s at 1,000 versions).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import benchlib as bl
import gen_registry

# (versions, loose refs): the packed repositories are what a clone has; the
# loose one is a registry whose tags were made locally and never packed, so
# git has no peeled ids in packed-refs and must open every tag object.
VARIANTS = ((1000, False), (10000, False), (10000, True))
MODELS = 100
GTO_SIZE = 1000          # GTO at 10,000 versions would take tens of minutes
GTO_TIMEOUT = 120.0
MODEL = "m042"           # any model: all have the same number of versions
STAMP = "mlver-bench-stamp.json"


def _stamp(versions: int, loose: bool) -> dict[str, object]:
    source = Path(gen_registry.__file__).read_bytes()
    return {"models": MODELS, "versions": versions, "seed": 0, "loose_refs": loose,
            "generator": hashlib.sha256(source).hexdigest()}


def ensure_repo(versions: int, loose: bool, regenerate: bool, base: Path | None = None) -> Path:
    """The cached repository for ``versions`` (under ``base``, else bench/out),
    regenerated when stale."""
    repo = (base or bl.OUT) / f"registry-{versions}{'-loose' if loose else ''}"
    stamp_file = repo / ".git" / STAMP
    want = _stamp(versions, loose)
    if not regenerate and stamp_file.exists():
        try:
            if json.loads(stamp_file.read_text()) == want:
                return repo
        except ValueError:
            pass
    if repo.exists():
        shutil.rmtree(repo)
    stats = gen_registry.generate(repo, MODELS, versions, loose_refs=loose)
    gen_registry.fsck(repo)  # a benchmark on a corrupt repository would mean nothing
    stamp_file.write_text(json.dumps(want))
    print(f"generated {repo} ({versions} versions, {stats.stage_tags} stage tags) "
          f"in {stats.seconds:.1f} s", file=sys.stderr)
    return repo


# The least any GTO-format registry must read: each tag's name, the commit it
# points at and its tagger time (events are ordered by it). Unlike the bare
# floor, this makes git open every tag object.
REGISTRY_FORMAT = "%(refname:strip=2) %(*objectname) %(taggerdate:unix)"


def agreement(repo: Path, env: dict[str, str], gto: str, mlver: str) -> str:
    """Do GTO and mlver read the same registry (latest version and stages)?

    A speed comparison only means something if both tools give the same
    answer on the generated repository.
    """
    try:
        g = json.loads(subprocess.run([gto, "show", "--json"], cwd=repo, env=env, capture_output=True,
                                      check=True, timeout=GTO_TIMEOUT).stdout)
        m = json.loads(subprocess.run([mlver, "ls", "--json"], cwd=repo, env=env, capture_output=True,
                                      check=True).stdout)
    except (subprocess.SubprocessError, ValueError) as exc:
        return f"not checked ({type(exc).__name__})"
    differ = []
    for row in m:
        theirs = g.get(row["model"]) or {}
        stages = {k: v for k, v in (theirs.get("stage") or {}).items() if v}
        if theirs.get("version") != row["latest"] or stages != row["stages"]:
            differ.append(row["model"])
    if differ or len(g) != len(m):
        return f"DISAGREE on {len(differ)} of {len(m)} models (e.g. {', '.join(differ[:3])}); gto lists {len(g)}"
    return f"agree on the latest version and stages of all {len(m)} models"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="registry read benchmark")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--regenerate", action="store_true", help="rebuild the cached repositories")
    parser.add_argument("--no-check", action="store_true",
                        help="skip checking that gto and mlver agree (one more `gto show`)")
    args = parser.parse_args(argv)

    mlver, gto = bl.tool("mlver"), bl.tool("gto")
    if mlver is None:
        print("skip bench_registry: mlver is not installed", file=sys.stderr)
        return 0
    home = bl.temp_home("registry")
    env = bl.isolated_env(home)
    header = bl.machine()

    rows: list[list[str]] = []
    checks: list[str] = []
    results: dict[tuple[str, str], bl.Timing] = {}
    try:
        for versions, loose in VARIANTS:
            repo = ensure_repo(versions, loose, args.regenerate)
            size = f"{versions:,}" + (" loose refs" if loose else "")
            commands: list[tuple[str, list[str], bool]] = [
                ("git for-each-ref refs/tags", ["git", "for-each-ref", "refs/tags"], False),
                ("git for-each-ref (name, commit, tagger date)",
                 ["git", "for-each-ref", f"--format={REGISTRY_FORMAT}", "refs/tags"], False),
                (f"git log -- <{MODEL} record>",
                 ["git", "log", "--format=%H", "--", f".mlver/records/{MODEL}.json"], False),
                ("mlver ls", [mlver, "ls"], False),
                (f"mlver log {MODEL}", [mlver, "log", MODEL], False),
                (f"mlver show {MODEL}", [mlver, "show", MODEL], False),
            ]
            if gto and versions == GTO_SIZE and not loose:
                commands += [
                    ("gto show", [gto, "show"], True),
                    (f"gto history {MODEL}", [gto, "history", MODEL], True),
                ]
            print(f"  {size} versions: {len(commands)} commands x {args.runs} runs ...",
                  file=sys.stderr, flush=True)
            plain = [(label, a) for label, a, is_gto in commands if not is_gto]
            for label, t in bl.measure_many(plain, repo, env, runs=args.runs).items():
                results[(label, size)] = t
            for label, a, is_gto in commands:
                if is_gto:
                    # One cold run: at ~14 s a run, five would add a minute per command.
                    print(f"  {size} versions: {label} ...", file=sys.stderr, flush=True)
                    results[(label, size)] = bl.measure(label, a, repo, env, runs=1, warmup=0,
                                                            timeout=GTO_TIMEOUT)

            if gto and versions == GTO_SIZE and not loose and not args.no_check:
                print(f"  {size} versions: gto show --json vs mlver ls --json ...", file=sys.stderr, flush=True)
                checks.append(f"At {size} versions GTO and mlver {agreement(repo, env, gto, mlver)}.")

            floor = results[("git for-each-ref refs/tags", size)].median
            for label, _, is_gto in commands:
                t = results[(label, size)]
                vs = ""
                if is_gto:
                    mine = results.get(("mlver ls" if label == "gto show" else f"mlver log {MODEL}", size))
                    vs = bl.fmt_ratio(t.median, mine.median if mine else None)
                    if t.note.startswith("timeout") and mine and mine.median:
                        vs = f">{GTO_TIMEOUT / mine.median:.0f}x"
                rows.append([
                    f"`{label}`", size, t.note or bl.fmt_s(t.median), bl.fmt_s(t.best),
                    bl.fmt_s(t.median_cpu), str(len(t.runs)), bl.fmt_ratio(t.median, floor), vs,
                ])
    finally:
        shutil.rmtree(home, ignore_errors=True)

    ls10 = results.get(("mlver ls", "10,000"))
    floor10 = results.get(("git for-each-ref refs/tags", "10,000"))
    ls1 = results.get(("mlver ls", "1,000"))
    gto1 = results.get(("gto show", "1,000"))
    t1 = ls10 is not None and ls10.median is not None and ls10.median <= 1.0
    t2 = (None if ls10 is None or floor10 is None or not ls10.median or not floor10.median
          else ls10.median <= 5 * floor10.median)
    if gto1 is None or ls1 is None or not ls1.median:
        t3 = None
    elif gto1.note.startswith("timeout"):
        t3 = GTO_TIMEOUT / ls1.median >= 20  # at least this much faster
    else:
        t3 = gto1.median is not None and gto1.median >= 20 * ls1.median

    if gto1 is None:
        gto_vs_ls = "gto missing"
    elif gto1.note:
        gto_vs_ls = gto1.note
    else:
        gto_vs_ls = bl.fmt_ratio(gto1.median, ls1.median if ls1 else None)
    text = "\n".join([
        "## Registry reads (100 models)",
        "",
        f"Machine: {header}. Median of {args.runs} runs after one warm-up, commands interleaved; "
        "cpu s = median user+sys of the command and the git it runs "
        f"(GTO: one run, {GTO_TIMEOUT:.0f} s limit). Ratios: to the floor "
        "`git for-each-ref refs/tags` of the same repository, and GTO over the matching mlver command "
        "(`gto show` / `mlver ls`, `gto history` / `mlver log`).",
        "",
        bl.table(["command", "versions", "median s", "min s", "cpu s", "runs", "x floor", "gto / mlver"], rows),
        "",
        *(f"{c}\n" for c in checks),
        "| target | result |",
        "|---|---|",
        f"| `mlver ls` at 10,000 versions <= 1 s ({bl.fmt_s(ls10.median if ls10 else None)} s) | {bl.verdict(t1)} |",
        f"| `mlver ls` at 10,000 versions <= 5x floor "
        f"({bl.fmt_ratio(ls10.median if ls10 else None, floor10.median if floor10 else None)}) | {bl.verdict(t2)} |",
        f"| `mlver ls` >= 20x faster than `gto show` at 1,000 versions "
        f"({gto_vs_ls}) "
        f"| {bl.verdict(t3)} |",
    ])
    bl.report("registry", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
