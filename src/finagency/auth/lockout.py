"""Account lockout: after N failed sign-ins in a row for one email, refuse it for M minutes.

Counted in the database, so every web process sees the same count. Unknown emails are counted
too: a lockout message then says nothing about whether an account exists. A lock always ends
by itself (never a permanent lock an attacker could impose); an admin resetting the password
ends it at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.config import Settings
from finagency.core.errors import RateLimited
from finagency.core.time import utcnow
from finagency.models.auth import LoginThrottle

log = structlog.get_logger(__name__)


class AccountLocked(RateLimited):
    """Sign-in refused because the email is locked; ``details`` has retry_after and locked_now."""

    code = "account_locked"


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int = 10
    duration: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> LockoutPolicy:
        security = settings.security
        return cls(
            threshold=max(1, security.login_lockout_threshold),
            duration=timedelta(minutes=max(1, security.login_lockout_minutes)),
        )


def locked_error(until: datetime, now: datetime, *, locked_now: bool) -> AccountLocked:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    # The failure that locks the account still says the password was wrong.
    prefix = "Email or password is incorrect. " if locked_now else ""
    return AccountLocked(
        prefix + "Too many failed sign-ins for this account: it is locked for "
        f"{minutes} more minute{'s' if minutes != 1 else ''}. Try again later, "
        "or ask an admin to reset your password.",
        details={"retry_after": seconds, "locked_now": locked_now},
    )


async def ensure_not_locked(db: AsyncSession, email: str, *, now: datetime | None = None) -> None:
    """Raise AccountLocked while ``email`` is locked."""
    now = now or utcnow()
    until = await db.scalar(select(LoginThrottle.locked_until).where(LoginThrottle.email == email))
    if until is not None and until > now:
        raise locked_error(until, now, locked_now=False)


async def record_failure(
    db: AsyncSession, email: str, policy: LockoutPolicy, *, now: datetime | None = None
) -> datetime | None:
    """Count one failed sign-in; the lock's end when this failure locked the email, else None."""
    now = now or utcnow()
    bumped = await db.execute(
        update(LoginThrottle)
        .where(LoginThrottle.email == email)
        .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
    )
    if not getattr(bumped, "rowcount", 0):
        try:
            async with db.begin_nested():
                db.add(LoginThrottle(email=email, failures=1, last_failure_at=now))
        except IntegrityError:
            # Another process inserted the row first; count on it.
            await db.execute(
                update(LoginThrottle)
                .where(LoginThrottle.email == email)
                .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
            )
    failures = await db.scalar(select(LoginThrottle.failures).where(LoginThrottle.email == email))
    if failures is not None and failures >= policy.threshold:
        until = now + policy.duration
        await db.execute(
            update(LoginThrottle)
            .where(LoginThrottle.email == email)
            .values(failures=0, locked_until=until)
        )
        log.warning("auth.account_locked", failures=failures)
        return until
    return None


async def clear(db: AsyncSession, email: str) -> None:
    """Forget failures and any lock for ``email`` (successful sign-in, password reset)."""
    await db.execute(delete(LoginThrottle).where(LoginThrottle.email == email))
