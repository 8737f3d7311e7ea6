"""How task errors become retry decisions (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.queue import Discard, ExponentialBackoff, RecurringJob, Snooze
from finagency.queue.retry import classify

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
BACKOFF = ExponentialBackoff(base_seconds=2, factor=2, cap_seconds=600)


def decide(error: Exception, attempt: int = 1, max_attempts: int = 5):  # type: ignore[no-untyped-def]
    return classify(error, attempt=attempt, max_attempts=max_attempts, strategy=BACKOFF, now=NOW)


def test_transient_errors_retry_later_until_attempts_run_out() -> None:
    retry = decide(TransientExternalError("503"), attempt=2)
    assert retry.action == "retry"
    assert retry.run_at is not None
    assert NOW <= retry.run_at <= NOW + timedelta(seconds=8)
    assert decide(TransientExternalError("503"), attempt=5).action == "discard"


def test_rate_limits_snooze_to_the_reset_time() -> None:
    reset = NOW + timedelta(minutes=15)
    decision = decide(RateLimitedExternalError("429", reset_at=reset), attempt=5)
    assert (decision.action, decision.run_at) == ("snooze", reset)
    # No reset time given: a default pause, never a busy loop.
    fallback = decide(RateLimitedExternalError("429"))
    assert fallback.run_at is not None
    assert fallback.run_at > NOW


def test_permanent_and_auth_errors_dead_letter_at_once_with_reason() -> None:
    assert decide(PermanentExternalError("too long")).reason == "rejected"
    assert decide(AuthExpiredError("token revoked")).reason == "auth_expired"
    assert decide(Discard("stale", "window closed")).reason == "stale"
    snooze = decide(Snooze(NOW + timedelta(seconds=30), "breaker open"))
    assert snooze.action == "snooze"


@given(st.integers(min_value=1, max_value=60))
def test_backoff_is_capped_and_never_negative(attempt: int) -> None:
    delay = BACKOFF.delay(attempt).total_seconds()
    assert 0 <= delay <= 600


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(min_value=1, max_value=86_400),
)
def test_recurring_slot_is_aligned_and_not_in_the_future(now: datetime, every: int) -> None:
    job = RecurringJob("x", "t", every_seconds=every)
    slot = job.slot(now)
    assert slot <= now
    assert (now - slot).total_seconds() < every
    assert int(slot.timestamp()) % every == 0
