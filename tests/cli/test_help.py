"""What `--help` promises, checked against the code: every verb says what
it writes and never touches, with an example; the exit codes `mlver --help`
lists are the ones the code returns, and every verb that exits 1 on a
failed check is named there and says so itself."""
from __future__ import annotations

import inspect
import re
from collections.abc import Iterator

import click
from click.testing import CliRunner

from mlver.cli import boundary as boundary_module
from mlver.cli import cli
from mlver.errors import ExitCode


def _leaves(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _leaves(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def _help(*path: str) -> str:
    run = CliRunner().invoke(cli, [*path, "--help"])
    assert run.exit_code == 0, run.output
    return run.output


def _checks(command: click.Command) -> bool:
    """The verb exits 1 when its check fails (it raises CHECK_FAILED)."""
    return "ExitCode.CHECK_FAILED" in inspect.getsource(inspect.unwrap(command.callback))  # type: ignore[arg-type]


def test_every_verb_says_what_it_writes_with_an_example() -> None:
    for path, _command in _leaves(cli):
        shown = _help(*path)
        verb = " ".join(path)
        said = re.findall(r"^  (Writes|Reads only): ", shown, re.M)
        assert len(said) == 1, f"mlver {verb} --help: say once what it writes (`Writes: ...`) or `Reads only: ...`"
        assert re.search(r"^  (Example|Examples):", shown, re.M), f"mlver {verb} --help has no example"
        examples = re.search(r"^  Examples:\n((?:    .*\n)+)", shown, re.M)
        if examples:  # `Examples:` then one example per line, each a command
            assert all("mlver " in line for line in examples.group(1).splitlines() if not line.startswith("      ")), verb


def test_the_exit_codes_listed_are_the_codes_returned() -> None:
    shown = _help()
    listed = dict(re.findall(r"^    (\d+) +(.*)$", shown.split("Exit codes:")[1], re.M))
    assert set(listed) == {str(int(c)) for c in ExitCode} | {"141"}  # 141 is the boundary's closed pipe
    boundary = inspect.getsource(boundary_module)  # (guarded and the helpers it returns through)
    assert "return 141" in boundary and "ExitCode.INTERRUPTED" in boundary and "ExitCode.BUG" in boundary

    checking = sorted(" ".join(path) for path, command in _leaves(cli) if _checks(command))
    assert checking == ["drift", "reproduce", "review", "status", "verify"]
    named = shown.split("Exit codes:")[1].split("\n    2 ")[0]
    for verb in checking:
        assert verb in named, f"mlver --help: exit 1 does not name {verb}"
        assert re.search(r"exit 1", _help(verb), re.I), f"mlver {verb} --help does not say when it exits 1"


def test_every_value_option_names_what_it_takes() -> None:
    # click's default TEXT says nothing; free text is the only value it fits.
    free_text = {"--desc", "--title"}
    for path, _command in _leaves(cli):
        shown = _help(*path)
        vague = set(re.findall(r"^  (?:-\w, )?(--[\w-]+)(?:, --[\w-]+)* TEXT\b", shown, re.M))
        assert vague <= free_text, f"mlver {' '.join(path)}: {sorted(vague - free_text)} show TEXT"
        remotes = re.findall(r"^  -r, --remote (\S+)", shown, re.M)
        assert remotes in ([], ["NAME"]), f"mlver {' '.join(path)}: -r, --remote {remotes}"


def test_mlver_help_lists_every_verb_once_by_what_it_is_for() -> None:
    from mlver.cli.app import SECTIONS

    placed = [name for _, names in SECTIONS for name in names]
    assert sorted(placed) == sorted(cli.commands), "a verb missing from SECTIONS (or in two) is not in `mlver --help`"
    shown = _help()
    for title, names in SECTIONS:
        section = shown.split(f"\n{title}:\n")[1].split("\n\n")[0]
        assert [line.split()[0] for line in section.splitlines()] == list(names), title
    assert shown.index("Check:") < shown.index("Exit codes:")  # the codes close the page, after every verb
