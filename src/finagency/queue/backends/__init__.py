"""Dialect-specific claim queries; everything else in the queue is portable SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from finagency.models import Job
from finagency.queue.backends import postgres, sqlite


async def claim_jobs(
    session: AsyncSession,
    *,
    queues: Sequence[str],
    limit: int,
    owner: str,
    lease_until: datetime,
    now: datetime,
) -> list[Job]:
    """Mark up to ``limit`` due jobs as running under this owner's lease and return them."""
    if limit <= 0 or not queues:
        return []
    backend = postgres if session.get_bind().dialect.name == "postgresql" else sqlite
    jobs: list[Job] = await backend.claim_jobs(
        session, queues=queues, limit=limit, owner=owner, lease_until=lease_until, now=now
    )
    return jobs
