"""SQLite claim: the write lock is already held (BEGIN IMMEDIATE), so UPDATE … RETURNING is safe."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.models import Job
from finagency.queue.backends.common import claim_values, due_jobs


async def claim_jobs(
    session: AsyncSession,
    *,
    queues: Sequence[str],
    limit: int,
    owner: str,
    lease_until: datetime,
    now: datetime,
) -> list[Job]:
    token = func.lower(func.hex(func.randomblob(16)))
    statement = (
        update(Job)
        .where(Job.id.in_(due_jobs(queues, now, limit).scalar_subquery()))
        .values(**claim_values(owner, lease_until, now, token))
        .returning(Job)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    jobs = list(result.scalars())
    jobs.sort(key=lambda job: (job.priority, job.run_at, job.id))
    return jobs
