"""The only place that writes output: results on stdout, the rest on stderr."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mlver import formats

TYPE_CHECKING = False  # typing costs ~5 ms of every start-up
if TYPE_CHECKING:
    from mlver import models as m

# This command's JSON document has begun on stdout: an error or a Ctrl-C after it
# adds no second one (a script reads one document, and the exit code).
_DOCUMENT_BEGUN = False


def forget_documents() -> None:
    """A new command starts: nothing of its own is on stdout yet (one process may run several)."""
    global _DOCUMENT_BEGUN
    _DOCUMENT_BEGUN = False


def document_begun() -> bool:
    return _DOCUMENT_BEGUN


def _plain(obj: Any) -> Any:
    if hasattr(obj, "to_doc") and not isinstance(obj, type):  # a shape with a JSON contract of its own
        return _plain(obj.to_doc())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [_plain(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, float) and not math.isfinite(obj):
        # A record from git may hold NaN or Infinity (Python's json reads them): JSON has
        # no such numbers, and strict readers (jq, JSON.parse) refuse the whole document.
        return None  # (what JavaScript's JSON.stringify writes for them)
    return obj


def color_enabled(stream: Any = None) -> bool:
    """Colour on a terminal only, and never with NO_COLOR set to a value
    (no-color.org: an empty NO_COLOR does not count)."""
    stream = stream or sys.stdout
    return not os.environ.get("NO_COLOR") and hasattr(stream, "isatty") and stream.isatty()


# `human` shows every control character of the text as an escape, so that
# data (a tagger name, a column) cannot drive the terminal; mlver's own
# styles must survive it. They travel as placeholders carrying a nonce that
# data cannot know, and become escape sequences only after the escaping.
_NONCE = os.urandom(8).hex()
_STYLE_MARK = re.compile("\ue000" + _NONCE + r"(\[[0-9;]*m)\ue001")


def _style(text: str, stream: Any = None, **kw: Any) -> str:
    if not color_enabled(stream):
        return text
    import click  # only on a terminal: `mlver ls` starts without click (mlver/cli/__init__.py)

    start, end = click.style("\0", **kw).split("\0")
    mark = "\ue000" + _NONCE + "{}\ue001"
    return mark.format(start[1:]) + text + mark.format(end[1:])


def echo(text: str, err: bool = False, nl: bool = True) -> None:
    """Write text to stdout (or stderr) as click.echo does, without importing
    click: `mlver ls` starts without it (see mlver/cli/__init__.py). No ANSI
    code reaches a stream that is not a terminal (see _style and human)."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n" if nl else text)
    stream.flush()


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    # (A cell is one line: a break in a value from a record would start a forged row.)
    rows = [["-" if c is None or c == "" else str(c).translate(_BREAKS) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=False)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [_style(fmt.format(*headers).rstrip(), bold=True)]
    lines += [fmt.format(*row).rstrip() for row in rows]
    return "\n".join(lines)


_BREAKS = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})  # (formats.oneline's, per cell)
_one = formats.oneline


def _size(n: int | None) -> str:
    return formats.size(n)


# -- human renderers, one per result type -----------------------------------


def _init(r: m.InitResult) -> str:
    lines = [f"Initialised mlver project in {r.root}"]
    if r.created_git:
        lines.append("  git: new repository")
    if r.created_dvc:
        lines.append("  dvc: initialised")
    lines.append(f"  default remote: {r.remote_name} -> {r.remote_url}")
    lines.append("Next: `mlver data add PATH`, then `mlver model add NAME --path ...`")
    return "\n".join(lines)


def _data_add(r: m.DataAddResult) -> str:
    extra = f", {r.nfiles} files" if r.nfiles else ""
    prof = ", profiled" if r.profiled else ""
    return f"tracked {r.path} (md5 {r.md5[:12]}, {_size(r.size)}{extra}{prof}); .dvc file staged"


def _model_add(r: m.ModelAddResult) -> str:
    how = f"command: {r.command}" if r.command else f"stage: {r.stage}" if r.stage else "record only"
    return f"declared model {r.name} -> {r.path} ({how}); {' and '.join(r.staged)} staged"


def _record(r: m.RecordResult) -> str:
    if r.unchanged:
        return f"{r.model} is already recorded in {r.commit[:12]}, and nothing changed since: no new record"
    metrics = ", ".join(f"{k}={formats.number(v)}" for k, v in r.metrics.items())
    dirty = " (dirty tree, recorded)" if r.dirty else ""
    return f"recorded {r.model} in {r.commit[:12]}{dirty}: {r.path}" + (f"\n  metrics: {metrics}" if metrics else "")


def _release(r: m.ReleaseResult) -> str:
    return f"released {r.tag} at {r.commit[:12]} (record {r.digest[:19]})"


def _registry_write(r: m.RegistryWrite) -> str:
    what = {
        "assign": f"{r.model}@{r.version} is now in {r.stage}",
        "rollback": f"{r.stage} rolled back from {r.rolled_back_from} to {r.model}@{r.version}",
        "unassign": f"{r.model}@{r.version} removed from {r.stage}",
        "deregister": f"{r.model}@{r.version} deprecated",
        "deprecate": f"model {r.model} deprecated",
    }[r.action]
    forced = f" (forced: {'; '.join(r.forced)})" if r.forced else ""
    derived = " (no mlver record: checked on lineage derived from the commit)" if r.derived else ""
    return f"{what}{forced}{derived}: tag {r.tag} at {r.commit[:12]}"


def _summaries(rows: list[m.ModelSummary]) -> str:
    if not rows:
        return "no models yet: declare one with `mlver model add NAME --path PATH`"
    listed, declared = [s for s in rows if s.registry], [s for s in rows if not s.registry]
    out = []
    if listed:
        out.append(table(
            ["MODEL", "LATEST", "VERSIONS", "STAGES", "RELEASED"],
            [
                (
                    s.model + (" (dataset)" if s.type == "dataset" else "") + (" (deprecated)" if s.deprecated else ""),
                    s.latest,
                    s.versions,
                    ", ".join(f"{k}={v[:12]}" for k, v in s.stages.items()),
                    s.released,
                )
                for s in listed
            ],
        ))
    if declared:
        # Apart from the registry's table, so that it lists what `gto show` lists, row for row.
        out.append(_style("Declared, no version yet (not in `gto show`):", bold=True) + "\n"
                   + _indent(table(["NAME", "TYPE"], [(s.model, s.type) for s in declared])))
    return "\n\n".join(out)


def _events(rows: list[m.LogEvent]) -> str:
    if not rows:
        return "no events"

    def what(e: m.LogEvent) -> str:
        if e.kind == "record":
            return e.message
        if e.kind in ("assign", "unassign", "rollback"):
            return f"{e.stage} {'-x' if e.kind == 'unassign' else '<-'} {e.version or e.commit[:12]}"
        return e.version or ""

    if any(e.signer is not None for e in rows):  # signing is on: who signed, or that nobody did
        return table(
            ["TIME", "EVENT", "VERSION/STAGE", "COMMIT", "AUTHOR", "SIGNED BY", "NOTE"],
            [(e.time, e.kind, what(e), e.commit[:12], e.author,
              "" if e.kind == "record" else e.signer or "NOT VERIFIED", e.note) for e in rows],
        )
    return table(
        ["TIME", "EVENT", "VERSION/STAGE", "COMMIT", "AUTHOR", "NOTE"],
        [(e.time, e.kind, what(e), e.commit[:12], e.author, e.note) for e in rows],
    )


def _shown(s: m.Shown) -> str:
    from mlver.models.record import ArtifactRef, Author, CodeRun, Environment

    t = s.record.typed
    art, code, env, author = t.artifact or ArtifactRef(), t.code or CodeRun(), t.env or Environment(), t.author or Author()
    lines = [
        _style(f"{s.ref}", bold=True) + (f"  as of {s.at}" if s.at else "")
        + (f"  versions: {', '.join(s.versions)}" if s.versions else "  (unreleased)")
        + (f"  stages: {', '.join(s.stages)}" if s.stages else ""),
        (f"record    {s.record.commit}  DERIVED from the commit: no mlver record (a version made by GTO or by hand)"
         if s.record.derived else
         f"record    {s.record.commit or 'work tree'}  digest {t.digest or ''}"
         + ("" if s.record.intact else _style("  TAMPERED: digest does not match", fg="red"))),
        f"created   {_one(t.created)} by {_one(author.name or '')}",
        f"artifact  {_one(art.path or '-')}  md5 {_dash(art.md5)}  {_size(art.size)}  remote {_one(_dash(art.remote))}",
        f"code      {code.commit}  {'clean' if code.clean else 'DIRTY: ' + ', '.join(_one(f) for f in code.dirty_files or [])}",
        f"command   {_one(code.command or '-')}"
        + (f"  (exit {code.exit_code}, {code.duration_s} s)" if code.exit_code is not None else ""),
    ]
    for d in t.data or ():
        prof = d.profile
        shape = f"  {prof.rows} rows x {len(prof.columns or ())} cols" if prof else ""
        lines.append(f"data      {_one(d.path)}  md5 {_one(d.md5)}  {_size(d.size)}{shape}")
    if t.params:
        lines.append("params    " + ", ".join(f"{_one(k)}={_one(formats.number(v))}" for k, v in t.params.items()))
    if t.metrics:
        lines.append("metrics   " + ", ".join(f"{_one(k)}={_one(formats.number(v))}" for k, v in t.metrics.items()))
    pkgs = ", ".join(f"{_one(k)} {_one(v)}" for k, v in (env.packages or {}).items())
    lines.append(f"env       python {_one(_dash(env.python))}  {pkgs}")
    return "\n".join(lines)


def _dash(value: str | None) -> str:
    return "-" if value is None else value


def _shift(s: Any, sep: str = " -> ") -> str:
    return f"{_dash(s.old)}{sep}{_dash(s.new)}"


def _diff_one(d: m.ModelDiff) -> str:
    """A terminal layout of mlver/diffview.py's view: what changed and whether it is better is decided there."""
    from mlver.diffview import view

    v = view(d)
    head = _style(f"{v.model}: {v.old_ref} -> {v.new_ref}", bold=True)
    if v.status in ("added", "removed"):
        return f"{head}\n  model {v.status}"
    if v.status == "unchanged":
        return f"{head}\n  {v.headline}"
    out = [head]
    out += [f"  note: {_one(n)}" for n in v.notes]
    if v.params:
        out.append("params")
        out.append(_indent(table(["PARAM", "OLD", "NEW"], [(p.label, p.old, p.new) for p in v.params])))
    if v.metrics:
        out.append("metrics")
        out.append(_indent(table(
            ["METRIC", "OLD", "NEW", "DELTA", "%", ""],
            [(x.label, x.old, x.new, x.delta, x.pct, _verdict(x)) for x in v.metrics],
        )))
    if v.data:
        out.append("data")
        for x in v.data:
            files = f"  files {_shift(x.files)}" if x.files else ""
            out.append(f"  {_one(x.path)}: {x.status}  md5 {_one(_shift(x.md5))}  size {_shift(x.size)}{files}")
            if x.note:
                out.append(f"    {x.note}")
            if x.rows:
                out.append(f"    rows {_shift(x.rows)} ({x.rows.delta})")
            for names, label in ((x.columns_added, "columns added"), (x.columns_removed, "columns removed")):
                if names:
                    out.append(f"    {label}: {', '.join(_one(n) for n in names)}")
            for name, old, new in x.type_changed:
                out.append(f"    column {_one(name)} type {_one(old)} -> {_one(new)}")
            if x.columns:
                out.append(_indent(_columns_table(x.columns, x.more_columns), "    "))
    if v.code and v.code.files:
        out.append(f"code {v.code.old} -> {v.code.new}")
        out.append(_indent(table(["FILE", "+", "-"], [(f.path, f.added, f.removed) for f in v.code.files])))
    elif v.code and v.code.note:
        out.append(f"code: {v.code.note}")
    if v.artifact:
        out.append(f"artifact {v.artifact.path}: md5 {_shift(v.artifact.md5)}  size {_shift(v.artifact.size)}")
    if v.env:
        out.append("env: " + ", ".join(f"{e.label} {_dash(e.old)} -> {_dash(e.new)}" for e in v.env))
    return "\n".join(out)


_TREND = {"up": "up", "down": "down", "same": "="}


def _verdict(line: Any) -> str:
    """A diffview Line's trend and, where the metric's name tells, its verdict."""
    mark = _TREND.get(line.trend or "", "")
    return mark + (f" ({line.verdict})" if line.verdict in ("better", "worse") else "")


def _columns_table(columns: Sequence[Any], more: int = 0) -> str:
    """diffview ColumnLines, largest PSI first: null rate, mean/std or top values, PSI."""
    def shift(c: Any) -> str:
        if c.mean is not None:
            return f"mean {_shift(c.mean)}, std {_shift(c.std) if c.std else '-'}"
        if c.top_changed is not None:
            return ", ".join(c.top_old) + " -> " + ", ".join(c.top_new) if c.top_changed else "same top values"
        if c.low is not None and c.high is not None:
            return f"{_dash(c.low.old)}..{_dash(c.high.old)} -> {_dash(c.low.new)}..{_dash(c.high.new)}"
        return str(c.note)

    rows = [(c.name, _shift(c.null_rate), shift(c), c.psi, "DRIFT" if c.drifted else "") for c in columns]
    text = table(["COLUMN", "NULL RATE", "SHIFT", "PSI", ""], rows)
    return text + (f"\n({more} more columns with a lower PSI)" if more else "")


def _review(r: m.ReviewResult) -> str:
    failed = [g for g in r.gates if not g.passed]
    changed = [d for d in r.diffs if d.status != "unchanged"]
    lines = [_style(f"{'OK' if r.ok else 'FAILED'}: {r.head} ({r.head_commit[:12]}) into {r.base} "
                    f"(merge base {r.base_commit[:12]}): {len(changed)} of {len(r.diffs)} models changed, "
                    + (f"{len(failed)} of {len(r.gates)} gates failed" if r.gates else "no gates"), bold=True)]
    if r.diffs:
        from mlver.diffview import view
        from mlver.report import summary

        lines.append(_indent(table(["MODEL", "STATUS", "SUMMARY"], [(d.model, d.status, summary(view(d), markdown=False))
                                                                     for d in r.diffs])))
    for g in r.gates:
        lines.append(f"  [{'PASS' if g.passed else 'FAIL'}] {g.model} {g.gate}: {g.detail}")
    if r.config_changes:
        lines.append("  review configuration changed in this pull request (the merge base's was used): "
                     + "; ".join(f"{c.setting}: {formats.number(c.base)} -> {formats.number(c.head)}" for c in r.config_changes))
    lines += [f"  plot: {p}" for p in r.plots]
    return "\n".join(lines)


def _drift(r: m.DriftResult) -> str:
    rows = r.rows
    verdict = "OK: no drift" if r.ok else f"DRIFT in {len(r.drifted_columns)} columns: {', '.join(r.drifted_columns)}"
    lines = [_style(f"{r.data} against {r.ref} ({r.input}, md5 {r.input_md5[:12]}): {verdict} (PSI threshold {r.threshold:g})", bold=True),
             f"  rows {rows.old if rows else None} (training) vs {rows.new if rows else None} (new)"]
    for t in r.type_changed:
        lines.append(f"  column {t.name} type {t.old} -> {t.new}")
    if r.extra_columns:
        more = f" and {len(r.extra_columns) - 20} more" if len(r.extra_columns) > 20 else ""
        lines.append(f"  columns not in the training data (ignored): {', '.join(r.extra_columns[:20])}{more}")
    if r.columns:
        from mlver.diffview import column_line

        lines.append(_indent(_columns_table([column_line(c) for c in r.columns])))
    return "\n".join(lines)


def _ci(w: m.CiWorkflow) -> str:
    return w.text.rstrip("\n")


def _diffs(rows: list[m.ModelDiff]) -> str:
    return "\n\n".join(_diff_one(d) for d in rows) if rows else "no records to compare"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _transfer(r: m.TransferResult) -> str:
    return "\n".join([f"pushed {_count(r.transferred, 'object')} ({_size(r.bytes)}) to {r.remote}; "
                      f"{r.present} already there, {r.objects} referenced", *(f"note: {n}" for n in r.notes)])


def _gc(r: m.GcResult) -> str:
    verb = "would free" if r.dry_run else "freed"
    lines = [f"kept what {len(r.kept_refs)} references name (releases, stages ever held, branch heads)"]
    for s in r.stores:
        lines.append(f"{s.name} ({s.url}): {verb} {s.freed_objects} of {s.objects} objects, {_size(s.freed_bytes)}")
        for f in s.freed:
            lines.append(f"  {f.model or '(no record)'}: {f.objects} objects, {_size(f.bytes)}")
        kept = [f"{s.kept} kept"] + ([f"{s.protected} named by other projects' manifests"] if s.protected else []) \
            + ([f"{s.young} written within --min-age"] if s.young else []) \
            + ([f"{s.foreign} this project never pushed or recorded"] if s.foreign else [])
        lines.append(f"  {', '.join(kept)}")
    if r.dry_run and any(s.freed_objects for s in r.stores):
        lines.append("dry run: nothing was deleted; run again with --force to delete")
    return "\n".join(lines)


def _pull(r: m.PullResult) -> str:
    what = f"{r.model}@{r.version}" if r.version else r.ref
    source = f"no mlver record: hash derived from commit {r.commit[:12]}" if r.derived else f"record at {r.commit[:12]}"
    placed = f"{_count(len(r.files), 'file')}, {_size(r.bytes)}: {r.written} written, {r.kept} already in place"
    if r.removed:
        placed += f", {r.removed} removed"
    return f"pulled {what} ({source}): {r.fetched} fetched; {placed}; md5 verified"


def _sent_objects(rows: list[m.SentObject]) -> str:
    return "\n".join(f"  {o.where}  md5 {o.md5}  {_size(o.size)}" for o in rows)


def _pulled_files(rows: list[m.PulledFile]) -> str:
    return "\n".join(f"  {f.path}  md5 {f.md5}" for f in rows)


def _verify(r: m.VerifyResult) -> str:
    checked = (f"{r.records} records, {r.tags} tags"
               + (f", {r.objects} objects in {r.remote}" if r.remote else ", remote not checked")
               + (f", {r.signatures} signatures" if r.signatures else ""))
    if r.ok:
        return f"OK: {checked}"
    lines = [f"FAILED: {len(r.findings)} problems in {checked}"]
    for f in r.findings:
        lines.append(f"  {f.ref}: {f.problem}")
        lines.append(f"    fix: {f.fix}")
    return "\n".join(lines)


def _reproduce(r: m.ReproduceResult) -> str:
    what = f"{r.model}@{r.version}" if r.version else r.ref
    lines = [f"{what}: {r.verdict.upper()} (code {r.code_commit[:12]}, `{r.command}`)"]
    art = r.artifact
    lines.append(f"  artifact {art.path}: recorded {art.recorded_md5}, reproduced {art.reproduced_md5 or '-'}")
    if r.metrics:
        lines.append(_indent(table(
            ["METRIC", "RECORDED", "REPRODUCED", "DELTA", f"WITHIN {r.tolerance:g}"],
            [(x.key, formats.number(x.recorded), formats.number(x.reproduced),
              None if x.delta is None else f"{x.delta:+.6g}", "yes" if x.within else "NO") for x in r.metrics],
        )))
    lines += [f"  note: {n}" for n in r.notes]
    return "\n".join(lines)


def _remote(r: m.RemoteInfo) -> str:
    where = {"repo": ".dvc/config (commit it to share)", "local": ".dvc/config.local (this machine)"}.get(r.level, r.level)
    extra = f" via {r.endpoint_url}" if r.endpoint_url else ""
    return f"remote {r.name} -> {r.url}{extra} in {where}" + (" (default)" if r.default else "")


def _remotes(rows: list[m.RemoteInfo]) -> str:
    if not rows:
        return "no remotes: add one with `mlver remote add NAME s3://BUCKET/PREFIX --default`"
    return table(["NAME", "URL", "ENDPOINT", "CONFIG", "DEFAULT"],
                 [(r.name, r.url, r.endpoint_url, r.level, "yes" if r.default else "") for r in rows])


def _remote_check(r: m.RemoteCheck) -> str:
    extra = f" via {r.endpoint_url}" if r.endpoint_url else ""
    return f"OK: remote {r.name} ({r.url}{extra}): can {', '.join(r.can)}"


def _presigned(r: m.PresignedUrl) -> str:
    return r.url  # alone on stdout, so `curl "$(mlver url ...)"` works; details are in --json


def _status(r: m.StatusResult) -> str:
    lines = []
    for s in r.models:
        held = (f"HEAD's record {s.record_commit[:12]}" + (f" = {s.model}@{s.version}" if s.version else "")
                if s.record_commit else "no record at HEAD")
        lines.append(_style(s.model, bold=True) + f"  {held}" + ("" if s.pending else "  (nothing pending)"))
        for p in s.pending:
            lines.append(f"  {p.kind:<10}  {p.detail}")
            lines.append(f"  {'':<10}  fix: {p.fix}")
    count = sum(len(s.pending) for s in r.models)
    lines.append("nothing pending" if r.clean else
                 f"{count} pending in {sum(1 for s in r.models if s.pending)} of {len(r.models)} models")
    return "\n".join(lines)


# Results whose notes are said on stderr (stdout is the result: `mlver verify | grep FAILED`
# reads no note); with --json they are in the document, which is the result.
_NOTES: dict[str, Callable[[Any], list[str]]] = {
    "VerifyResult": lambda r: list(r.notes),
    "StatusResult": lambda r: [f"{s.model}: {n}" for s in r.models for n in s.notes] + list(r.notes),
}


# Keyed by class name, so rendering one result does not import every result class.
_RENDERERS: dict[str, Callable[[Any], str]] = {
    "StatusResult": _status,
    "InitResult": _init,
    "DataAddResult": _data_add,
    "ModelAddResult": _model_add,
    "RecordResult": _record,
    "ReleaseResult": _release,
    "RegistryWrite": _registry_write,
    "VerifyResult": _verify,
    "ReviewResult": _review,
    "DriftResult": _drift,
    "CiWorkflow": _ci,
    "ReproduceResult": _reproduce,
    "Shown": _shown,
    "TransferResult": _transfer,
    "PullResult": _pull,
    "GcResult": _gc,
    "RemoteInfo": _remote,
    "RemoteCheck": _remote_check,
    "PresignedUrl": _presigned,
    "VersionsTable": lambda t: _views().versions_text(t, table),
    "Lineage": lambda g: _views().lineage_text(g),
    "SiteResult": lambda r: f"wrote {_count(r.pages, 'page')} ({_count(r.models, 'model')}, {_count(r.versions, 'version')}) to {r.out}",
}
_LIST_RENDERERS: dict[str, Callable[[Any], str]] = {
    "ModelSummary": _summaries,
    "LogEvent": _events,
    "ModelDiff": _diffs,
    "DataAddResult": lambda rows: "\n".join(_data_add(r) for r in rows),
    "RemoteInfo": _remotes,
    "PulledFile": _pulled_files,
    "SentObject": _sent_objects,
}


def _views() -> Any:
    from mlver.cli import viewtext  # only `ls NAME` needs it

    return viewtext


def versions_csv(t: m.VersionsTable) -> str:
    return str(_views().versions_csv(t))


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line for line in text.splitlines())


def human(text: str) -> str:
    """Every string mlver writes for people passes here: control characters
    (a tagger name's ``\\x1b[2J``) are shown as escapes, not obeyed, and the
    secrets in URLs are masked."""
    return _STYLE_MARK.sub(lambda m: "\x1b" + m.group(1), formats.printable(formats.redact(text)))


def render(result: Any, as_json: bool = False, kind: str | None = None) -> None:
    """Write a result to stdout: one JSON document, or the human form."""
    if as_json:
        global _DOCUMENT_BEGUN
        # Exact values (JSON escapes control characters itself), but never a secret.
        text = formats.redact(json.dumps(_plain(result), indent=2, sort_keys=True, ensure_ascii=False))
        _DOCUMENT_BEGUN = True  # before the write: a Ctrl-C half way through it must not append another
        echo(text)
        return
    if isinstance(result, list):
        item_type = kind or (type(result[0]).__name__ if result else None)
        renderer = _LIST_RENDERERS.get(item_type) if item_type else None
        echo(human(renderer(result) if renderer else json.dumps(_plain(result), indent=2)))
        return
    name = type(result).__name__
    echo(human(_RENDERERS[name](result)))
    for line in _NOTES[name](result) if name in _NOTES else ():
        note(f"note: {line}")


def check_output(out: str | None) -> None:
    """Refuse, before any work, a -o file whose folder is missing or that is a folder."""
    if not out:
        return
    from pathlib import Path

    from mlver.errors import OutputNotWritable

    target = Path(out)
    if target.is_dir():
        raise OutputNotWritable(out, "it is a folder", f"name a file, e.g. -o {Path(out) / 'report.md'}")
    if not target.parent.is_dir():
        raise OutputNotWritable(out, f"the folder {target.parent} does not exist", f"create it first: `mkdir -p {target.parent}`")


def publish(tag: str) -> None:
    """What GTO says after a registry write: the tag is local until pushed."""
    note(f"to publish it: git push origin {tag}")


def write_text(text: str, out: str | None = None) -> None:
    """A document (a card, a report) to a file or to stdout."""
    if out:
        from pathlib import Path

        from mlver.errors import OutputNotWritable

        check_output(out)
        try:
            Path(out).write_text(text)
        except OSError as exc:
            raise OutputNotWritable(out, exc.strerror or str(exc), "check the folder's permissions and free space") from exc
        echo(f"wrote {out}", err=True)
    else:
        echo(human(text), nl=not text.endswith("\n"))


def error(message: str, hint: str = "") -> None:
    echo(human(_style("error: ", sys.stderr, fg="red") + message), err=True)
    if hint:
        echo(f"hint: {human(hint)}", err=True)


def warn(message: str) -> None:
    echo(f"warning: {human(message)}", err=True)


def note(message: str) -> None:
    """A line of what is happening, on stderr (stdout is the result's)."""
    echo(human(message), err=True)


class Progress:
    """Progress of long work on stderr: on a terminal a live line, then one
    summary line of how much, how fast; elsewhere (a CI log, a pipe) the
    summary alone. Never a line per file (the verbs' -v lists them)."""

    def __init__(self, verb: str, unit: str = "object", rate: bool = True) -> None:
        self.verb = verb
        self.unit = unit
        self.rate = rate  # bytes per second mean something: they are moved or hashed, not only looked up
        self.total_bytes = 0
        self.objects = 0
        self.done = 0
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.started = self.until = time.monotonic()  # until: the last bytes (a profile after them is not the rate's)
        self.shown = False  # a live line is on the terminal: the summary (or an error) replaces it

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        """The summary when the work is done; when it failed, the live line is
        taken back so that the error starts a line of its own."""
        if kind is None:
            self.finish()
        elif self.shown:
            echo("\r\x1b[K", err=True, nl=False)

    def start(self, objects: int, total_bytes: int) -> None:
        self.objects, self.total_bytes = objects, total_bytes
        self.started = self.until = time.monotonic()
        self.last = 0.0  # the first bytes show at once that the work has begun

    def update(self, nbytes: int) -> None:
        from mlver import waiting

        waiting.moved()  # bytes flow: the calls in flight are answered, not waited on
        self.done += nbytes
        now = self.until = time.monotonic()
        if not self.tty or now - self.last < 0.2:
            return
        self.last = now
        of = f" / {_size(self.total_bytes)}" if self.total_bytes else ""
        line = f"{self.verb}: {_size(self.done)}{of} ({_count(self.objects, self.unit)}{self._rate(now)})"
        self.shown = True
        echo("\r\x1b[K" + line, err=True, nl=False)

    def _rate(self, now: float) -> str:
        return f", {_size(int(self.done / max(now - self.started, 1e-6)))}/s" if self.rate else ""

    def finish(self) -> None:
        """The summary, on a terminal and in a log alike, when anything was moved."""
        if not self.objects and not self.done:
            return  # nothing to send or fetch: the result's line says so
        line = f"{self.verb}: {_size(self.done)} in {_count(self.objects, self.unit)}, {self.until - self.started:.1f} s"
        if self.rate:
            line += f" ({self._rate(self.until)[2:]})"
        echo(("\r\x1b[K" + line) if self.shown else line, err=True)


class Waiting:
    """A network call with no answer (mlver/waiting.py), on stderr: one
    updating line on a terminal, else a line at first and every SPARSE
    seconds, so a CI log shows that mlver waits and on whom."""

    SPARSE = 10.0

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.said: dict[str, float] = {}  # endpoint -> seconds waited when last written (not a TTY)
        self.open = False

    def __call__(self, endpoint: str, waited: float | None) -> None:
        if waited is None:  # it answered, or the command ends: the next line starts clean
            if self.tty and self.open:
                echo("\r\x1b[K", err=True, nl=False)
            self.open = False
            self.said.pop(endpoint, None)
            return
        line = human(f"waiting for {endpoint}: no answer for {waited:.0f} s")
        if self.tty:
            echo("\r\x1b[K" + line, err=True, nl=False)
            self.open = True
        elif waited - self.said.get(endpoint, -self.SPARSE) >= self.SPARSE:
            echo(line, err=True)
            self.said[endpoint] = waited
