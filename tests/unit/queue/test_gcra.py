"""GCRA: what a rate limit grants over time (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from finagency.queue.limits import Rate, gcra

START = datetime(2026, 1, 1, tzinfo=UTC)


def run(rate: Rate, offsets_ms: list[int]) -> list[datetime]:
    """Feed requests at the given times; return when each granted one happened."""
    tat: datetime | None = None
    granted = []
    for offset in sorted(offsets_ms):
        now = START + timedelta(milliseconds=offset)
        allowed, moment = gcra(tat, now, rate)
        if allowed:
            tat = moment
            granted.append(now)
        else:
            assert moment > now  # a refusal always says when to come back, in the future
    return granted


def test_a_burst_is_granted_then_one_per_interval() -> None:
    rate = Rate(10, timedelta(seconds=1), burst=3)
    granted = run(rate, [0] * 10 + [100, 200, 300])
    # Three at once, then one every 100 ms.
    assert len(granted) == 3 + 3


def test_refusal_names_the_moment_a_token_frees() -> None:
    rate = Rate(1, timedelta(seconds=10))
    allowed, tat = gcra(None, START, rate)
    assert allowed
    refused, when = gcra(tat, START + timedelta(seconds=1), rate)
    assert not refused
    assert when == START + timedelta(seconds=10)
    assert gcra(tat, when, rate)[0]


@given(
    limit=st.integers(min_value=1, max_value=50),
    burst=st.integers(min_value=1, max_value=10),
    offsets=st.lists(st.integers(min_value=0, max_value=5_000), max_size=300),
)
def test_no_window_ever_grants_more_than_its_share_plus_the_burst(
    limit: int, burst: int, offsets: list[int]
) -> None:
    rate = Rate(limit, timedelta(seconds=1), burst=burst)
    granted = run(rate, offsets)
    window = timedelta(seconds=1)
    for index, first in enumerate(granted):
        inside = [moment for moment in granted[index:] if moment - first < window]
        assert len(inside) <= limit + burst
