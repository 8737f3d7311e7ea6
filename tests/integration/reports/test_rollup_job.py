"""The recurring roll-up job: measures the bucket that ended, fills gaps, and is safe to repeat."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.core.time import utcnow
from finagency.models import Job, MetricSample
from finagency.models.metrics import DAY, FIVE_MINUTES, HOUR
from finagency.queue.context import JobContext, JobInfo
from finagency.reports import tasks
from finagency.reports.measure import bucket_floor


def _context(session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]) -> JobContext:
    job = Job(id=1, task=tasks.ROLLUP_TASK, queue="default", args={}, attempt=1, max_attempts=3)
    return JobContext(JobInfo.from_row(job), "token", session, sessionmaker, None, 30.0)


async def _buckets(session: AsyncSession, seconds: int) -> int:
    found = await session.scalar(
        select(func.count(distinct(MetricSample.bucket_start))).where(
            MetricSample.bucket_seconds == seconds, MetricSample.scope_key == 0
        )
    )
    return int(found or 0)


async def test_rollup_fills_the_gap_since_the_last_bucket_and_repeats_safely(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    current = bucket_floor(now, FIVE_MINUTES) - timedelta(seconds=FIVE_MINUTES)
    last_seen = current - timedelta(hours=1)
    async with sessionmaker() as session:
        session.add(
            MetricSample(
                scope_key=0,
                metric="pending",
                label="",
                bucket_start=last_seen,
                bucket_seconds=FIVE_MINUTES,
                value=3.0,
                count=1,
                total=3.0,
                origin="rollup",
            )
        )
        await session.flush()
        await tasks.rollup_metrics(_context(session, sessionmaker))
        await session.commit()
    async with sessionmaker() as session:
        # Every 5-minute bucket from the last one seen to the one that just ended (one more
        # if a 5-minute boundary passed while the test ran).
        assert await _buckets(session, FIVE_MINUTES) in (13, 14)
        assert await _buckets(session, HOUR) >= 1 and await _buckets(session, DAY) >= 1
        rows = await session.scalar(select(func.count()).select_from(MetricSample))
        await tasks.rollup_metrics(_context(session, sessionmaker))
        again = await session.scalar(select(func.count()).select_from(MetricSample))
        workers = await session.scalar(
            select(MetricSample.value).where(
                MetricSample.metric == "workers_alive",
                MetricSample.bucket_seconds == FIVE_MINUTES,
                MetricSample.bucket_start == current,
            )
        )
    assert again == rows
    assert workers == 0.0
