"""Numbers as people read them, shared by the terminal renderer and the templates."""
from __future__ import annotations

from typing import Any


def size(n: Any, missing: str = "-") -> str:
    """Bytes in decimal units (as disks and S3 consoles count them)."""
    if n is None:
        return missing
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"
