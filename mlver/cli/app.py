"""The click application: the group every command registers on."""
from __future__ import annotations

import functools
from typing import Any

import click

from mlver.cli import boundary as _entry
from mlver.errors import BadUsage, EmptyValue

# `mlver --help` lists the verbs by what they are for, as `git help` does; every verb is in one section.
SECTIONS = (
    ("Set up", ("init", "data", "model", "remote")),
    ("Train and record", ("run", "record")),
    ("The registry", ("release", "promote", "rollback", "deprecate", "ls", "log", "show")),
    ("Compare and report", ("diff", "review", "drift", "lineage", "card", "site", "ci")),
    ("Storage", ("push", "pull", "gc", "url")),
    ("Check", ("status", "verify", "reproduce")),
)


class MlverGroup(click.Group):
    """Runs a subcommand and maps what escapes it to an exit code and one message."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        width = max(len(name) for name in self.commands)  # one column for every section
        for title, names in SECTIONS:
            with formatter.section(title):
                formatter.write_dl([(n.ljust(width), self.commands[n].get_short_help_str(formatter.width - 6 - width))
                                    for n in names if n in self.commands])

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["mlver.argv"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        result: list[Any] = []
        # Before the verb's options are parsed: a refusal of the parser's is a JSON document too
        # (one process may run several commands, so this is set for each).
        _entry.json_errors(_entry.asks_json(ctx.meta.get("mlver.argv", [])))
        code = _entry.guarded(lambda: result.append(self._parsed(ctx)),
                              passthrough=(click.exceptions.Exit, click.ClickException, click.Abort))
        if code:
            ctx.exit(code)
        return result[0] if result else None

    def _parsed(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise  # `mlver remote` alone: the group's help, as git does
        except click.UsageError as exc:
            raise usage_error(exc) from exc


def usage_error(exc: click.UsageError) -> BadUsage:
    """The parser's refusal as mlver's own error: one line, the verb's synopsis in the hint."""
    ctx = exc.ctx
    command = ctx.command_path if ctx else "mlver"
    usage = ctx.get_usage().removeprefix("Usage: ") if ctx else "mlver [OPTIONS] COMMAND [ARGS]..."
    return BadUsage(command, exc.format_message(), " ".join(usage.split()))


_EXIT_CODES = """\
stdout carries only the result (--json: one JSON document); progress,
warnings and errors go to stderr.

\b
Exit codes:
  0    ok
  1    the command ran and its check failed (verify, status, review,
       drift, reproduce)
  2    an error: `error: ...` and `hint: ...` on stderr (with --json,
       also {"error": {family, class, message, hint, ...}} on stdout)
  4    a bug in mlver (--traceback shows where)
  130  interrupted (Ctrl-C): the verb says what it left (with --json,
       also {"error": {"family": "interrupted", ...}} on stdout)
  141  the reader of stdout went away (`mlver ls | head`)
"""


@click.group("mlver", cls=MlverGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=_EXIT_CODES)
@click.version_option(package_name="mlver", message="mlver %(version)s")
@click.option("--traceback", is_flag=True, help="Show the Python traceback of an error.")
def cli(traceback: bool) -> None:
    """Git-native data and model versioning.

    Every trained model is tied to its exact data, code commit and params in
    a lineage record kept in git; large files live in DVC remote storage;
    versions and stages are git tags in GTO's format.

    \b
    Quick start:
      mlver init
      mlver data add data/train.csv
      mlver model add churn --path models/churn.pkl --data data/train.csv \\
          --params params.yaml --metrics metrics.json --command "python train.py"
      git commit -m "declare churn"
      mlver run churn
      mlver release churn
    """
    _entry.show_tracebacks(traceback)


def _named(command: click.Command, path: str) -> None:
    """Say which verb runs (``remote add``), with its parameters, before it
    runs: what an interrupt leaves depends on it (mlver/cli/interrupts.py)."""
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            _named(sub, f"{path} {name}")
        return
    callback = command.callback
    if callback is None:
        return

    @functools.wraps(callback)
    def call(*args: Any, **kwargs: Any) -> Any:
        _entry.running(path, kwargs)
        _refuse_empty(command, f"mlver {path}", kwargs)
        return callback(*args, **kwargs)

    command.callback = call


def _refuse_empty(command: click.Command, path: str, values: dict[str, Any]) -> None:
    """An option or optional argument given as "" is refused, never read as "the default":
    `mlver gc --cloud -r "$REMOTE" --force` with REMOTE unset must not collect the default remote.
    Required arguments are the verbs' own to judge (an empty NAME is an invalid name)."""
    for param in command.params:
        if param.default == "" or (isinstance(param, click.Argument) and (param.required or param.type is click.UNPROCESSED)):
            continue  # "" is what it means without the option (--desc); a training command's own arguments
        value = values.get(param.name or "")
        given = value if isinstance(value, tuple) else (value,)
        if any(v == "" for v in given):
            raise EmptyValue(path, _flag(param))


def _flag(param: click.Parameter) -> str:
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return (param.name or "").upper()


def _register() -> None:
    from mlver.cli import governance, registry, remotes, review, setup, status, storage, train, views

    for module in (setup, train, registry, storage, governance, review, remotes, status, views):
        for command in module.COMMANDS:
            cli.add_command(command)
            _named(command, command.name or "")


_register()
