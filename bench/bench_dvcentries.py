"""Reading DVC's entries: a large ``dvc.lock`` through push's reader (REFUSE), derived records' (SKIP) and gc's (KEEP).

    .venv/bin/python bench/bench_dvcentries.py [--stages 3000] [--runs 5]

The lock: ``--stages`` stages, each with 3 deps and 3 outs (md5, size,
nfiles, ``hash: md5``), a ``dvc.yaml`` beside it with a flag per stage. The
anchor, measured in the same run: loading the lock's YAML with the safe
loader both readers use (their cost on top of it is the parsing). CPU time
(``time.process_time``), the best of ``--runs``; one JSON line. For an A/B
of two builds run it with ``PYTHONPATH=<other tree>`` from outside the
worktree, interleaved.
"""
from __future__ import annotations

import argparse
import json
import time
from typing import Any


def lock_text(stages: int) -> tuple[bytes, bytes]:
    md5 = "0123456789abcdef0123456789abcdef"
    lines, defined = ["schema: '2.0'", "stages:"], ["stages:"]
    for i in range(stages):
        lines += [f"  s{i}:", f"    cmd: python train.py {i}", "    deps:"]
        lines += [f"    - path: data/in{i}_{k}.csv\n      hash: md5\n      md5: {md5}\n      size: {1000 + k}" for k in range(3)]
        lines += ["    outs:"]
        lines += [f"    - path: out/o{i}_{k}\n      hash: md5\n      md5: {md5}.dir\n      size: {5000 + k}\n      nfiles: 3"
                  for k in range(3)]
        defined += [f"  s{i}:", f"    cmd: python train.py {i}", "    outs:", f"    - out/o{i}_0:", "        push: false"]
    return ("\n".join(lines) + "\n").encode(), ("\n".join(defined) + "\n").encode()


def best(runs: int, fn: Any) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import mlver
    from mlver.adapters.yamlfile import safe_load
    from mlver.api.derived import _stages
    from mlver.domain.dvcfiles import outs_pushed
    from mlver.domain.retention import hashes_in_dvcfile

    lock, stage_file = lock_text(args.stages)
    doc, stages = safe_load(lock, "dvc.lock"), safe_load(stage_file, "dvc.yaml")
    assert len(outs_pushed("dvc.lock", doc, stages, "r").pushed) == 2 * args.stages
    anchor = best(args.runs, lambda: safe_load(lock, "dvc.lock"))
    push = best(args.runs, lambda: outs_pushed("dvc.lock", doc, stages, "r"))
    derived = best(args.runs, lambda: _stages(doc, ""))
    gc = best(args.runs, lambda: hashes_in_dvcfile(doc))
    print(json.dumps({"mlver": mlver.__file__, "stages": args.stages, "anchor_yaml_load_s": round(anchor, 4),
                      "push_reader_s": round(push, 4), "derived_reader_s": round(derived, 4),
                      "gc_reader_s": round(gc, 4), "gc_ratio": round(gc / anchor, 3),
                      "push_ratio": round(push / anchor, 3), "derived_ratio": round(derived / anchor, 3)}))


if __name__ == "__main__":
    main()
