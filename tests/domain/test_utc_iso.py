"""formats.utc_iso: datetime's answer wherever datetime has one, and an answer past it."""
from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from mlver.formats import utc_iso

LOW = int(dt.datetime(1, 1, 1, tzinfo=dt.UTC).timestamp())
HIGH = int(dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC).timestamp())


@given(st.integers(LOW, HIGH))
def test_agrees_with_datetime_in_its_range(t: int) -> None:
    # (isoformat, not strftime: glibc's %Y leaves years before 1000 unpadded)
    assert utc_iso(t) == dt.datetime.fromtimestamp(t, dt.UTC).isoformat().replace("+00:00", "Z")


def test_times_past_year_9999_and_before_year_1_are_written_not_fatal() -> None:
    assert utc_iso(999999999999) == "+33658-09-27T01:46:39Z"
    assert utc_iso(HIGH + 1) == "+10000-01-01T00:00:00Z"
    assert utc_iso(LOW - 1) == "0000-12-31T23:59:59Z"  # ISO 8601 year 0 (1 BC)
