"""Operator actions on jobs: list, retry, cancel, discard (singly or many), pause queues."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.errors import InvalidTransition, NotFound
from finagency.models import Job, JobState, QueueControl
from finagency.queue import queries

RETRYABLE_FROM = (JobState.DISCARDED, JobState.CANCELLED, JobState.RETRYABLE, JobState.AVAILABLE)
CANCELLABLE_FROM = (JobState.AVAILABLE, JobState.RETRYABLE, JobState.RECONCILE)


@dataclass(frozen=True, slots=True)
class QueueSummary:
    queue: str
    paused: bool
    counts: dict[str, int]


async def list_jobs(
    session: AsyncSession,
    *,
    states: Sequence[str] = (),
    queue: str | None = None,
    task: str | None = None,
    brand_ids: Sequence[int] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Job], int]:
    query = select(Job)
    if states:
        query = query.where(Job.state.in_(list(states)))
    if queue:
        query = query.where(Job.queue == queue)
    if task:
        query = query.where(Job.task == task)
    if brand_ids is not None:
        query = query.where(Job.brand_id.in_(list(brand_ids)))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(query.order_by(Job.id.desc()).limit(limit).offset(offset))
    return list(rows.scalars()), int(total)


async def get_job(session: AsyncSession, job_id: int) -> Job:
    job = await session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    return job


async def retry_jobs(session: AsyncSession, job_ids: Sequence[int], *, now: datetime) -> int:
    """Put dead-lettered (or waiting) jobs back to run now, with a fresh set of attempts."""
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(list(job_ids)), Job.state.in_([s.value for s in RETRYABLE_FROM]))
        .values(
            state=JobState.AVAILABLE.value,
            run_at=now,
            attempt=0,
            finalized_at=None,
            dlq_reason=None,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def cancel_jobs(session: AsyncSession, job_ids: Sequence[int], *, now: datetime) -> int:
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(list(job_ids)), Job.state.in_([s.value for s in CANCELLABLE_FROM]))
        .values(state=JobState.CANCELLED.value, finalized_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def discard_jobs(
    session: AsyncSession,
    job_ids: Sequence[int],
    *,
    now: datetime,
    reason: str = "discarded_by_operator",
) -> int:
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(list(job_ids)), Job.state.in_([s.value for s in CANCELLABLE_FROM]))
        .values(state=JobState.DISCARDED.value, finalized_at=now, dlq_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def retry_job(session: AsyncSession, job_id: int, *, now: datetime) -> Job:
    job = await get_job(session, job_id)
    if job.state not in [s.value for s in RETRYABLE_FROM]:
        raise InvalidTransition(
            f"job {job_id} is {job.state}; only waiting or dead jobs can be retried"
        )
    await retry_jobs(session, [job_id], now=now)
    await session.refresh(job)
    return job


async def pause_queue(
    session: AsyncSession, queue: str, *, paused: bool, reason: str, now: datetime
) -> None:
    await queries.set_paused(session, f"queue:{queue}", paused, reason, now)


async def queue_summaries(session: AsyncSession, known_queues: Sequence[str]) -> list[QueueSummary]:
    rows = await session.execute(
        select(Job.queue, Job.state, func.count()).group_by(Job.queue, Job.state)
    )
    counts: dict[str, dict[str, int]] = {queue: {} for queue in known_queues}
    for queue, state, count in rows.all():
        counts.setdefault(queue, {})[state] = int(count)
    paused_rows = await session.execute(
        select(QueueControl.key).where(
            QueueControl.paused.is_(True), QueueControl.key.like("queue:%")
        )
    )
    paused = {key.removeprefix("queue:") for key in paused_rows.scalars()}
    return [QueueSummary(queue, queue in paused, counts[queue]) for queue in sorted(counts)]


async def edit_and_retry(
    session: AsyncSession, job_id: int, args: dict[str, object], *, now: datetime
) -> Job:
    """Fix a dead letter's arguments and run it again (the old arguments stay in its history)."""
    job = await get_job(session, job_id)
    if job.state not in (JobState.DISCARDED.value, JobState.CANCELLED.value):
        raise InvalidTransition(
            f"job {job_id} is {job.state}; only dead or cancelled jobs can be edited"
        )
    job.errors = [*list(job.errors or []), {"at": now.isoformat(), "edited_args_from": job.args}]
    job.args = dict(args)
    await session.flush()
    await retry_jobs(session, [job_id], now=now)
    await session.refresh(job)
    return job


async def set_pause(
    session: AsyncSession, target: str, *, paused: bool, reason: str, now: datetime
) -> None:
    """Pause or resume ``queue:<name>`` or ``account:<id>`` (matched against jobs' rate keys)."""
    if not target.startswith(("queue:", "account:")):
        raise InvalidTransition("pause targets are 'queue:<name>' or 'account:<id>'")
    await queries.set_paused(session, target, paused, reason, now)
