"""Circuit breakers shared by every worker, as database rows.

closed ──(threshold consecutive transient failures)──► open ──(cooldown passes)──► half_open
  ▲                                                      ▲                              │
  └──────────────── probe succeeds ──────────────────────┴──────── probe fails ─────────┘

While open, callers are told when to come back (their jobs are snoozed, not failed). When the
cooldown has passed, exactly one caller is let through as the probe; the others wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.time import utcnow
from finagency.models import CircuitBreaker


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    threshold: int = 5
    cooldown: timedelta = timedelta(seconds=60)
    max_cooldown: timedelta = timedelta(minutes=30)
    probe_timeout: timedelta = timedelta(seconds=60)


async def _locked_row(session: AsyncSession, key: str) -> CircuitBreaker:
    """The breaker's row, created if missing, locked for this transaction on PostgreSQL."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(
        insert(CircuitBreaker)
        .values(key=key, state="closed", failures=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
    )
    query = (
        select(CircuitBreaker)
        .where(CircuitBreaker.key == key)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one()


async def check(session: AsyncSession, key: str, policy: BreakerPolicy) -> datetime | None:
    """None if a call may go ahead now; otherwise when to come back.

    The common case (closed, or no row yet) is one unlocked read, so publishing on a healthy
    platform never queues behind a lock.
    """
    now = utcnow()
    state = await session.scalar(select(CircuitBreaker.state).where(CircuitBreaker.key == key))
    if state is None or state == "closed":
        return None
    row = await _locked_row(session, key)
    if row.state == "closed":
        return None
    if row.state == "open":
        if row.open_until and row.open_until > now:
            return row.open_until
        row.state = "half_open"
    # Half-open: the first caller becomes the probe; others wait until it reports or times out.
    if row.probe_until and row.probe_until > now:
        return row.probe_until
    row.probe_until = now + policy.probe_timeout
    row.updated_at = now
    await session.flush()
    return None


async def record_success(session: AsyncSession, key: str) -> None:
    state = await session.scalar(select(CircuitBreaker.failures).where(CircuitBreaker.key == key))
    if not state:
        return  # no row, or closed with no failures counted: nothing to reset
    row = await _locked_row(session, key)
    if row.state != "closed" or row.failures:
        row.state, row.failures, row.open_until, row.probe_until = "closed", 0, None, None
        row.updated_at = utcnow()
        await session.flush()


async def record_failure(
    session: AsyncSession, key: str, policy: BreakerPolicy, error: str
) -> bool:
    """Count a transient failure; returns True when this failure opened (or re-opened) the breaker."""
    now = utcnow()
    row = await _locked_row(session, key)
    row.failures += 1
    row.last_error = error[:500]
    row.updated_at = now
    opened = False
    if row.state == "half_open" or (row.state == "closed" and row.failures >= policy.threshold):
        # Each failed probe doubles the cooldown, up to the cap.
        reopenings = max(row.failures - policy.threshold, 0)
        cooldown = min(policy.cooldown * (2**reopenings), policy.max_cooldown)
        row.state, row.opened_at, row.open_until, row.probe_until = (
            "open",
            now,
            now + cooldown,
            None,
        )
        opened = True
    await session.flush()
    return opened


async def states(session: AsyncSession) -> list[CircuitBreaker]:
    return list(
        (await session.execute(select(CircuitBreaker).order_by(CircuitBreaker.key))).scalars()
    )
