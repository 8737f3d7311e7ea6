"""Retry strategies and the classification of errors into retry decisions."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
)
from finagency.queue.errors import Discard, Snooze

Action = Literal["retry", "snooze", "discard"]


class RetryStrategy(Protocol):
    def delay(self, attempt: int) -> timedelta:
        """How long to wait before attempt ``attempt + 1``, after ``attempt`` failed."""
        ...


@dataclass(frozen=True, slots=True)
class ExponentialBackoff:
    """base * factor**(attempt-1), capped, with full jitter so retries do not stampede."""

    base_seconds: float = 2.0
    factor: float = 2.0
    cap_seconds: float = 600.0
    jitter: bool = True

    def delay(self, attempt: int) -> timedelta:
        ceiling = min(self.cap_seconds, self.base_seconds * self.factor ** max(attempt - 1, 0))
        # Jitter is for spreading load, not for security.
        seconds = random.uniform(0, ceiling) if self.jitter else ceiling
        return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    run_at: datetime | None = None
    reason: str = ""


DEFAULT_SNOOZE = timedelta(seconds=60)


def classify(
    error: BaseException,
    *,
    attempt: int,
    max_attempts: int,
    strategy: RetryStrategy,
    now: datetime,
) -> Decision:
    """Turn a task's exception into what happens to its job next."""
    if isinstance(error, Snooze):
        return Decision("snooze", error.until, error.reason or "snoozed")
    if isinstance(error, RateLimitedExternalError):
        until = error.reset_at if error.reset_at and error.reset_at > now else now + DEFAULT_SNOOZE
        return Decision("snooze", until, "rate_limited")
    if isinstance(error, Discard):
        return Decision("discard", reason=error.reason)
    if isinstance(error, AuthExpiredError):
        return Decision("discard", reason="auth_expired")
    if isinstance(error, PermanentExternalError):
        return Decision("discard", reason="rejected")
    if attempt >= max_attempts:
        return Decision("discard", reason="max_attempts")
    return Decision("retry", now + strategy.delay(attempt), "transient")
