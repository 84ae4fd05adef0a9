"""Numbers and text as people read them, shared by the terminal renderer and the templates."""
from __future__ import annotations

import math
import re
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


def value(x: Any, sign: str = "") -> str | None:
    """A recorded value (a param, a metric, a statistic) as text: floats to 6
    significant digits, booleans as JSON writes them; ``sign="+"`` for a delta
    (``+0.1``, ``-3``). None for no value: each format writes its own dash."""
    if x is None:
        return None
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float):
        return f"{x:{sign}.6g}" if math.isfinite(x) else str(x)
    if isinstance(x, (list, tuple, dict)):
        # A params file's flow form (YAML and JSON both read it back as the
        # same value), where str() would print Python's ['a', 'b'].
        import json

        return json.dumps(x, ensure_ascii=False, default=str)
    return f"{x:{sign}d}" if sign and isinstance(x, int) else str(x)


def number(x: Any) -> str:
    """``value`` on a terminal: "-" for no value."""
    shown = value(x)
    return "-" if shown is None else shown


# -- text that reaches a terminal, a PR comment or a log ----------------------

# C0 controls but tab and newline, DEL, C1 controls (a terminal reads \x9b as
# CSI), and the bidi overrides that make text read other than it is.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@]*)(:[^/\s@]*)?@")
# A URL's query parameters that carry a secret: an Azure SAS's sig, a presigned
# S3 URL's signature, credential and session token, an http remote's token.
_QUERY = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s?#\"'<>\\()]*\?)([^\s#\"'<>\\(),]*)")
_SECRET_KEY = re.compile(r"(?i)sig|token|pass|pwd|secret|key|credential|auth")


# The line breaks and tabs printable keeps, for a value that lays out no lines of its own.
_BREAKS = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})


def oneline(text: object) -> str:
    """A value from a record, a tag or a repository file shown on one line
    (a newline in a param name would print a forged ``metrics`` line of its
    own): its breaks and tabs as escapes; ``printable`` does the rest."""
    return str(text).translate(_BREAKS)


def printable(text: str) -> str:
    """``text`` with every control character shown as its escape (``\\x1b``),
    so a tagger name, a note or a column name cannot move the cursor, clear
    the screen or retitle a terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def redact(text: str) -> str:
    """``text`` with the secrets of URLs' userinfo replaced by ``***``:
    ``https://deploy:TOKEN@host`` -> ``https://deploy:***@host``, and a bare
    token as user of an http(s) URL -> ``https://***@host``; and the values of
    a query's secret parameters: ``?sv=1&sig=SECRET`` -> ``?sv=1&sig=***``."""
    def hide(m: re.Match[str]) -> str:
        scheme, user, password = m.group(1), m.group(2), m.group(3)
        if password is not None:
            return f"{scheme}{user}:***@"
        return f"{scheme}***@" if scheme.lower().startswith("http") else m.group()

    def hide_query(m: re.Match[str]) -> str:
        pairs = [(k, sep, "***" if sep and _SECRET_KEY.search(k) else v)
                 for k, sep, v in (pair.partition("=") for pair in m.group(2).split("&"))]
        return m.group(1) + "&".join(k + sep + v for k, sep, v in pairs)

    text = _USERINFO.sub(hide, text)
    return _QUERY.sub(hide_query, text) if "?" in text else text


def utc_iso(timestamp: float) -> str:
    """A Unix time as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC, for any integer time.

    Dates come from tags and commits a stranger wrote, and git takes times far
    past datetime's year 9999 (``@999999999999``): those are written with as
    many year digits as they need (a year before 1 as a signed one) instead of
    failing the command. Civil date from days: Hinnant's proleptic Gregorian
    algorithm."""
    seconds = math.floor(timestamp)
    days, rest = divmod(seconds, 86400)
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (month <= 2)
    shown = f"{year:04d}" if 0 <= year <= 9999 else f"{year:+05d}"
    return f"{shown}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"
