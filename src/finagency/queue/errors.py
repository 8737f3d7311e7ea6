"""Signals a task raises to steer its job: snooze, discard, or report a lost lease."""

from __future__ import annotations

from datetime import datetime


class JobSignal(Exception):
    """Base of the exceptions that are decisions rather than failures."""


class Snooze(JobSignal):
    """Run again later without counting this attempt (rate limits, breakers, pauses)."""

    def __init__(self, until: datetime, reason: str = "") -> None:
        super().__init__(reason or f"snoozed until {until.isoformat()}")
        self.until = until
        self.reason = reason


class Discard(JobSignal):
    """Send the job to the dead-letter queue at once with a stable reason code."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason
        self.message = message or reason


class LeaseLost(Exception):
    """The job's lease was taken over (rescued); this worker must stop writing for it."""
