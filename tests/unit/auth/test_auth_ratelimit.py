"""The sliding-window login limiter, driven by a fake clock."""

from __future__ import annotations

import pytest

from finagency.auth.ratelimit import LoginRateLimiter, SlidingWindowLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_attempt_over_the_limit_waits_for_the_oldest_to_leave_the_window() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(3, 60.0, clock=clock)
    for _ in range(3):
        assert limiter.hit("k") == 0.0
        clock.now += 10

    assert limiter.hit("k") == pytest.approx(30.0)
    clock.now += 29.9
    assert limiter.hit("k") == pytest.approx(0.1)
    clock.now += 0.1
    assert limiter.hit("k") == 0.0


def test_refused_attempts_do_not_extend_the_lockout() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(1, 60.0, clock=clock)
    limiter.hit("k")
    for _ in range(50):
        clock.now += 1
        limiter.hit("k")
    clock.now += 10
    assert limiter.hit("k") == 0.0


def test_keys_are_independent_and_reset_forgets() -> None:
    limiter = SlidingWindowLimiter(1, 60.0, clock=Clock())
    assert limiter.hit("a") == 0.0
    assert limiter.hit("a") > 0
    assert limiter.hit("b") == 0.0
    limiter.reset("a")
    assert limiter.hit("a") == 0.0


def test_retry_after_records_nothing() -> None:
    limiter = SlidingWindowLimiter(1, 60.0, clock=Clock())
    assert limiter.retry_after("k") == 0.0
    assert limiter.retry_after("k") == 0.0
    assert limiter.hit("k") == 0.0


def test_expired_keys_are_swept_when_many_are_held() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(5, 60.0, clock=clock)
    for n in range(10_000):
        limiter.hit(f"spray-{n}")
    clock.now += 61
    limiter.hit("fresh")
    assert len(limiter) == 1


def test_login_limiter_keys_on_ip_and_normalised_email() -> None:
    limiter = LoginRateLimiter(10, clock=Clock())
    for _ in range(10):
        assert limiter.hit("10.0.0.1", "Ann@Example.com") == 0.0

    assert limiter.hit("10.0.0.1", " ann@example.com") > 0
    assert limiter.hit("10.0.0.1", "bob@example.com") == 0.0
    assert limiter.hit("10.0.0.2", "ann@example.com") == 0.0


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SlidingWindowLimiter(0)
