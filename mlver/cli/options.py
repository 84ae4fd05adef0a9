"""Options shared by every command."""
from __future__ import annotations

import math
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


class _NonNegative(click.ParamType):
    """A finite number >= 0: a PSI threshold or a tolerance below zero (or NaN,
    which every comparison answers False) would flag everything or nothing."""

    name = "float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = float(click.FLOAT.convert(value, param, ctx))
        if not math.isfinite(number) or number < 0:
            self.fail(f"{value!r} is not a finite number >= 0", param, ctx)
        return number


NON_NEGATIVE = _NonNegative()
