"""PostgreSQL claim: lock due rows with FOR UPDATE SKIP LOCKED so workers never wait on each other."""

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
    # MATERIALIZED fences the LIMIT: without it the planner may join the subquery in a way
    # that updates more rows than were asked for.
    locked = (
        due_jobs(queues, now, limit).with_for_update(skip_locked=True).cte("locked")
    ).prefix_with("MATERIALIZED")
    token = func.cast(func.gen_random_uuid(), Job.lease_token.type)
    statement = (
        update(Job)
        .where(Job.id == locked.c.id)
        .values(**claim_values(owner, lease_until, now, token))
        .returning(Job)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    jobs = list(result.scalars())
    jobs.sort(key=lambda job: (job.priority, job.run_at, job.id))
    return jobs
