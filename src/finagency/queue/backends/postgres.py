"""PostgreSQL claim: lock due rows with FOR UPDATE SKIP LOCKED so workers never wait on each other."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime

import psycopg
import structlog
from sqlalchemy import func, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.models import Job
from finagency.queue.backends.common import claim_values, due_jobs

log = structlog.get_logger(__name__)


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


CHANNEL = "finagency_jobs"


async def notify(session: AsyncSession, queue: str) -> None:
    """Wake listening workers when the caller's transaction commits (NOTIFY is transactional)."""
    await session.execute(func.pg_notify(CHANNEL, queue).select())


async def listen(url: str, wake: Callable[[], None], stop: asyncio.Event) -> None:
    """Hold one dedicated LISTEN connection and call ``wake`` on every notification.

    Wake-ups only shorten the wait: workers keep polling, so a lost connection costs latency,
    never jobs. The connection is re-opened with backoff until ``stop`` is set.
    """
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    delay = 0.5
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                delay = 0.5
                async for _ in conn.notifies():
                    wake()
                    if stop.is_set():
                        return
        except (psycopg.Error, OSError) as error:
            log.warning("queue.listen_failed", error=str(error), retry_in=delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, 30.0)
