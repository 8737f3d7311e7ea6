"""Leader election over one row: whoever holds an unexpired lease runs the singleton duties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.models import LeaderLease


async def try_lead(
    session: AsyncSession, name: str, owner: str, *, ttl: timedelta, now: datetime
) -> bool:
    """Take or renew the lease ``name``; True if ``owner`` leads until ``now + ttl``.

    A leader that stops renewing (crashed, partitioned) loses the lease when it expires, and
    the next caller takes over: failover within one TTL.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    created = await session.execute(
        insert(LeaderLease)
        .values(name=name, owner=owner, expires_at=now + ttl)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(LeaderLease.name)
    )
    if created.scalar_one_or_none() is not None:
        return True
    renewed = await session.execute(
        update(LeaderLease)
        .where(
            LeaderLease.name == name,
            or_(LeaderLease.owner == owner, LeaderLease.expires_at < now),
        )
        .values(owner=owner, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    return bool(renewed.rowcount)  # type: ignore[attr-defined]


async def resign(session: AsyncSession, name: str, owner: str) -> None:
    """Give the lease up at shutdown so another process takes over at once."""
    await session.execute(
        update(LeaderLease)
        .where(LeaderLease.name == name, LeaderLease.owner == owner)
        .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
        .execution_options(synchronize_session=False)
    )
