"""Options shared by every command."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def _json_errors(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    from mlver.cli.boundary import json_errors

    json_errors(value)
    return value


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--json``: one stable JSON document on stdout instead of the human form (an error's too)."""
    return click.option("--json", "as_json", is_flag=True, callback=_json_errors,
                        help="Print one JSON document (for scripts); an error too.")(func)
