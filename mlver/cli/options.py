"""Options shared by every command."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--json``: one stable JSON document on stdout instead of the human form."""
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document (for scripts).")(func)
