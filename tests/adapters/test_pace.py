"""The least average rate of a download (adapters/pace.py): where the bound falls."""
from __future__ import annotations

import pytest

from mlver.adapters import pace
from mlver.errors import TransferTooSlow, UnreadableValue


def _after(monkeypatch: pytest.MonkeyPatch, seconds: float, rate: str = "1000", grace: str = "10") -> pace.Pace:
    monkeypatch.setenv(pace.RATE_ENV, rate)
    monkeypatch.setenv(pace.GRACE_ENV, grace)
    paced = pace.Pace("slow", "s3://bucket", "read x")
    paced.start -= seconds
    return paced


def test_a_download_is_not_judged_within_its_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    _after(monkeypatch, 9.5).moved(0)


def test_after_the_grace_the_average_since_it_ended_must_reach_the_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    _after(monkeypatch, 15).moved(5_100)  # 5 s past the grace: 5,000 bytes are enough
    with pytest.raises(TransferTooSlow) as raised:
        _after(monkeypatch, 15).moved(4_900)
    assert (raised.value.got, raised.value.seconds, raised.value.rate) == (4_900, 15, 1000)
    paced = _after(monkeypatch, 12)
    paced.moved(3_000)  # 2 s past the grace: 2,000 were enough
    paced.start -= 3
    with pytest.raises(TransferTooSlow):
        paced.moved(1_900)  # (counted over the whole download, not per read)


def test_the_defaults_give_an_object_a_minute_and_then_16_kib_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pace.RATE_ENV, raising=False)
    monkeypatch.delenv(pace.GRACE_ENV, raising=False)
    paced = pace.Pace("slow", "s3://bucket", "read x")
    paced.start -= 70
    paced.moved(10 * 16 * 1024 + 100)
    with pytest.raises(TransferTooSlow):
        paced.moved(-200)


def test_a_rate_of_zero_is_no_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    _after(monkeypatch, 10 * 24 * 3600, rate="0").moved(1)


@pytest.mark.parametrize("value", ["fast", "-1", "nan", "inf", "1e400"])
def test_a_setting_that_is_no_number_of_zero_or_more_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    with pytest.raises(UnreadableValue, match=pace.GRACE_ENV):
        _after(monkeypatch, 0, grace=value)


def test_a_read_returns_what_one_socket_read_gave() -> None:
    class Raw:
        def __init__(self) -> None:
            self.parts = [b"ab", b"c", b""]

        def read1(self, n: int) -> bytes:
            return self.parts.pop(0)

        def read(self, n: int) -> bytes:
            raise AssertionError("read fills its buffer first: a trickle holds it")

    class Body:  # botocore's StreamingBody keeps urllib3's response here
        _raw_stream = Raw()

    paced = pace.Pace("slow", "s3://bucket", "read x")
    assert pace.read_paced(Body(), 10, paced) == b"abc" and paced.got == 3
