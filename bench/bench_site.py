"""`mlver site` of 100 models / 10,000 versions, and `mlver ls NAME` of a model with 1,000 versions (issue 14).

    .venv/bin/python bench/bench_site.py [--runs 3] [--regenerate]

Registries come from gen_registry.py (sealed records with params and
metrics, a stage tag every ten versions), cached under bench/out/:
registry-10000 (100 models x 100 versions, bench_registry.py's) and
site-ls-1000 (one model, 1,000 versions). Targets: `mlver site` under
10 s, `mlver ls NAME` under 0.5 s.

Floors, measured interleaved with mlver: for the site, `cp -r` of the site
mlver wrote (the same 10,000 files written, nothing computed) and `git
cat-file --batch` of every record (the bytes the site is made from); for
`ls NAME`, that model's records through `git cat-file --batch`.
"`site, rebuild`" writes over the previous site (built beside it, then
swapped in, the old one deleted): that is what CI does on every tag.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import bench_registry
import benchlib as bl
import gen_registry

LS_VERSIONS = 1000


def _ls_repo(regenerate: bool) -> Path:
    repo = bl.OUT / f"site-ls-{LS_VERSIONS}"
    if regenerate or not (repo / ".git").is_dir():
        if repo.exists():
            shutil.rmtree(repo)
        gen_registry.generate(repo, 1, LS_VERSIONS)
    return repo


def _records_request(repo: Path, env: dict[str, str], out: Path, model: str | None = None) -> Path:
    """A file of ``<commit>:<record>`` lines, one per released version (of ``model``), for cat-file."""
    listing = bl.sh(["git", "for-each-ref", "--format=%(refname:strip=2) %(*objectname)", "refs/tags/"], repo, env)
    lines = []
    for line in listing.splitlines():
        name, _, commit = line.partition(" ")
        if "@v" in name and commit and (model is None or name.startswith(model + "@")):
            lines.append(f"{commit}:.mlver/records/{name.split('@', 1)[0]}.json\n")
    out.write_text("".join(lines))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mlver site and mlver ls NAME at scale")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    mlver = bl.tool("mlver")
    if mlver is None:
        print("skip bench_site: needs mlver", file=sys.stderr)
        return 0
    home = bl.temp_home("site")
    env = bl.isolated_env(home)
    header = bl.machine()
    try:
        big = bench_registry.ensure_repo(10_000, False, args.regenerate)
        one = _ls_repo(args.regenerate)
        work = home / "work"
        work.mkdir()
        site, copy = work / "site", work / "copy"
        all_records = _records_request(big, env, work / "records.txt")
        one_records = _records_request(one, env, work / "one.txt", "m000")
        bl.sh([mlver, "site", "-o", str(site)], big, env)  # the site cp copies
        commands = [
            ("cp -r of the site", ["sh", "-c", f'rm -rf "{copy}" && exec cp -r "{site}" "{copy}"']),
            ("git cat-file --batch, every record", ["sh", "-c", f'exec git cat-file --batch < "{all_records}" > /dev/null']),
            ("mlver site, new folder", ["sh", "-c", f'rm -rf "{work}/new" && exec "$0" site -o "{work}/new"', mlver]),
            ("mlver site, rebuild", [mlver, "site", "-o", str(site)]),
        ]
        print(f"  site: {len(commands)} commands x {args.runs} runs ...", file=sys.stderr, flush=True)
        site_t = bl.measure_many(commands, big, env, runs=args.runs)
        ls_commands = [
            ("git cat-file --batch, the model's records", ["sh", "-c", f'exec git cat-file --batch < "{one_records}" > /dev/null']),
            ("mlver ls m000", [mlver, "ls", "m000"]),
            ("mlver ls m000 --json", [mlver, "ls", "m000", "--json"]),
        ]
        print(f"  ls NAME: {len(ls_commands)} commands x {args.runs * 3} runs ...", file=sys.stderr, flush=True)
        ls_t = bl.measure_many(ls_commands, one, env, runs=args.runs * 3)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    floor = site_t["cp -r of the site"]
    new, rebuild = site_t["mlver site, new folder"], site_t["mlver site, rebuild"]
    ls_floor, ls_plain = ls_t["git cat-file --batch, the model's records"], ls_t["mlver ls m000"]
    rows = [[f"`{t.label}`", t.note or bl.fmt_s(t.median), bl.fmt_s(t.best), bl.fmt_s(t.median_cpu), str(len(t.runs)),
             bl.fmt_ratio(t.median, floor.median)] for t in site_t.values()]
    ls_rows = [[f"`{t.label}`", t.note or bl.fmt_s(t.median), bl.fmt_s(t.best), bl.fmt_s(t.median_cpu), str(len(t.runs)),
                bl.fmt_ratio(t.median, ls_floor.median)] for t in ls_t.values()]
    site_ok = None if new.median is None else new.median < 10.0
    ls_ok = None if ls_plain.median is None else ls_plain.median < 0.5
    text = "\n".join([
        "## The registry site and `ls NAME` (bench_site.py)",
        "",
        f"Machine: {header}. Median of interleaved runs after one warm-up; the machine is shared "
        "(measured under load: see the load average).",
        "",
        f"`mlver site` of gen_registry.py's 100 models x 100 versions ({10_000:,} versions, 1,000 stage tags): "
        "10,101 pages, 200 SVG charts, 100 lineage pictures.",
        "",
        bl.table(["command", "median s", "min s", "cpu s", "runs", "x cp -r"], rows),
        "",
        f"`mlver ls NAME` of one model with {LS_VERSIONS:,} versions (100 stage tags).",
        "",
        bl.table(["command", "median s", "min s", "cpu s", "runs", "x cat-file"], ls_rows),
        "",
        "| target | result |",
        "|---|---|",
        f"| `mlver site` of 10,000 versions under 10 s ({bl.fmt_s(new.median)} s; rebuild {bl.fmt_s(rebuild.median)} s) "
        f"| {bl.verdict(site_ok)} |",
        f"| `mlver ls NAME` of 1,000 versions under 0.5 s ({bl.fmt_s(ls_plain.median)} s) | {bl.verdict(ls_ok)} |",
    ])
    bl.report("site", text)
    return 0 if site_ok is not False and ls_ok is not False else 1


if __name__ == "__main__":
    sys.exit(main())
