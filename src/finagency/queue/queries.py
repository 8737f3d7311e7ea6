"""Every state change of a claimed job, each fenced by its lease token.

A completion, failure or snooze only applies while the row is still ``running`` with the
token this worker was given; a job that was rescued and re-claimed elsewhere is untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, false, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.models import FINAL_STATES, Job, JobCounter, JobState, QueueControl, WorkerHeartbeat
from finagency.queue.retry import Decision

_ERROR_HISTORY_LIMIT = 20
_FINAL = tuple(state.value for state in FINAL_STATES)


def _fenced(job_id: int, token: str) -> Any:
    return and_(Job.id == job_id, Job.lease_token == token, Job.state == JobState.RUNNING.value)


def _cleared_lease() -> dict[str, Any]:
    return {"lease_owner": None, "lease_token": None, "lease_expires_at": None}


async def complete_job(session: AsyncSession, job_id: int, token: str, now: datetime) -> bool:
    result = await session.execute(
        update(Job)
        .where(_fenced(job_id, token))
        .values(state=JobState.COMPLETED.value, finalized_at=now, **_cleared_lease())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def complete_jobs(session: AsyncSession, tokens: dict[int, str], now: datetime) -> int:
    """Complete many jobs in one statement; each only while its own lease token is current.

    Tokens are random and unique per claim, so matching both sets is matching the pairs.
    """
    if not tokens:
        return 0
    result = await session.execute(
        update(Job)
        .where(
            Job.id.in_(list(tokens)),
            Job.lease_token.in_(list(tokens.values())),
            Job.state == JobState.RUNNING.value,
        )
        .values(state=JobState.COMPLETED.value, finalized_at=now, **_cleared_lease())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def fail_job(
    session: AsyncSession,
    job: Job,
    token: str,
    decision: Decision,
    error: str,
    now: datetime,
) -> bool:
    """Apply a retry decision: retry later, snooze (attempt not counted) or dead-letter."""
    entry = {"at": now.isoformat(), "attempt": job.attempt, "error": error[:2000]}
    history = [*list(job.errors or []), entry][-_ERROR_HISTORY_LIMIT:]
    values: dict[str, Any] = {"last_error": error[:2000], **_cleared_lease()}
    if decision.action == "snooze":
        values.update(
            state=JobState.AVAILABLE.value,
            run_at=decision.run_at,
            attempt=Job.attempt - 1,  # waiting for a rate limit is not a failed attempt
            last_error=f"snoozed: {decision.reason}",
        )
    elif decision.action == "retry":
        values.update(state=JobState.RETRYABLE.value, run_at=decision.run_at, errors=history)
    else:
        values.update(
            state=JobState.DISCARDED.value,
            finalized_at=now,
            dlq_reason=decision.reason,
            errors=history,
        )
    result = await session.execute(
        update(Job)
        .where(_fenced(job.id, token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def extend_leases(
    session: AsyncSession, tokens: dict[int, str], lease_until: datetime
) -> set[int]:
    """Heartbeat: push the lease of each job still ours; returns the ids we still hold."""
    held: set[int] = set()
    for job_id, token in tokens.items():
        result = await session.execute(
            update(Job)
            .where(_fenced(job_id, token))
            .values(lease_expires_at=lease_until)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            held.add(job_id)
    return held


async def release_jobs(session: AsyncSession, tokens: dict[int, str], now: datetime) -> int:
    """Graceful shutdown: hand unfinished jobs back without counting the attempt."""
    released = 0
    for job_id, token in tokens.items():
        result = await session.execute(
            update(Job)
            .where(_fenced(job_id, token))
            .values(
                state=JobState.AVAILABLE.value,
                run_at=now,
                attempt=Job.attempt - 1,
                **_cleared_lease(),
            )
            .execution_options(synchronize_session=False)
        )
        released += result.rowcount  # type: ignore[attr-defined]
    return released


async def rescue_expired(
    session: AsyncSession, now: datetime, reconcile_tasks: Sequence[str] = ()
) -> int:
    """Take back running jobs whose lease expired (their worker died or hung).

    Jobs of tasks that act on the outside world go to ``reconcile``; others become
    retryable at once. A job with no attempts left is dead-lettered with the reason, so
    nothing stays ``running`` longer than its lease.
    """
    expired = and_(Job.state == JobState.RUNNING.value, Job.lease_expires_at < now)
    exhausted = Job.attempt >= Job.max_attempts
    reconcile = Job.task.in_(list(reconcile_tasks)) if reconcile_tasks else false()
    result = await session.execute(
        update(Job)
        .where(expired)
        .values(
            state=case(
                (reconcile, JobState.RECONCILE.value),
                (exhausted, JobState.DISCARDED.value),
                else_=JobState.RETRYABLE.value,
            ),
            dlq_reason=case((and_(exhausted, ~reconcile), "lease_expired"), else_=None),
            finalized_at=case((and_(exhausted, ~reconcile), now), else_=None),
            # A reconciliation run checks, it does not retry: give it one more attempt.
            max_attempts=case(
                (and_(reconcile, exhausted), Job.attempt + 1), else_=Job.max_attempts
            ),
            rescues=Job.rescues + 1,
            # run_at stays as it was (in the past): the job keeps its place at the front of
            # the queue instead of waiting behind the whole backlog.
            last_error="lease expired: the worker running it stopped responding",
            **_cleared_lease(),
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def record_heartbeat(
    session: AsyncSession,
    *,
    worker_id: str,
    hostname: str,
    pid: int,
    queues: list[str],
    concurrency: int,
    running: int,
    processed: int,
    now: datetime,
) -> None:
    row = await session.get(WorkerHeartbeat, worker_id)
    if row is None:
        session.add(
            WorkerHeartbeat(
                worker_id=worker_id,
                hostname=hostname,
                pid=pid,
                queues=queues,
                concurrency=concurrency,
                started_at=now,
                last_seen_at=now,
                running=running,
                processed=processed,
            )
        )
    else:
        row.last_seen_at = now
        row.running = running
        row.processed = processed
    # Forget workers that have been silent for a long time.
    await session.execute(
        delete(WorkerHeartbeat).where(WorkerHeartbeat.last_seen_at < now - timedelta(hours=1))
    )


async def remove_heartbeat(session: AsyncSession, worker_id: str) -> None:
    await session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id))


async def paused_queues(session: AsyncSession) -> set[str]:
    rows = await session.execute(
        select(QueueControl.key).where(
            QueueControl.paused.is_(True), QueueControl.key.like("queue:%")
        )
    )
    return {key.removeprefix("queue:") for key in rows.scalars()}


async def set_paused(
    session: AsyncSession, key: str, paused: bool, reason: str, now: datetime
) -> None:
    row = await session.get(QueueControl, key)
    if row is None:
        session.add(QueueControl(key=key, paused=paused, reason=reason, updated_at=now))
    else:
        row.paused, row.reason, row.updated_at = paused, reason, now


async def prune_finished(
    session: AsyncSession,
    older_than: datetime,
    states: Sequence[str] = _FINAL,
) -> int:
    """Delete finished jobs, first folding them into counters that survive pruning."""
    finished = and_(Job.state.in_(list(states)), Job.finalized_at < older_than)
    rows = await session.execute(
        select(Job.queue, Job.task, Job.state, Job.id).where(finished).order_by(Job.id)
    )
    tally: dict[tuple[str, str, str], int] = {}
    for queue, task, state, _ in rows:
        tally[(queue, task, state)] = tally.get((queue, task, state), 0) + 1
    for (queue, task, state), count in tally.items():
        counter = (
            await session.execute(
                select(JobCounter).where(
                    JobCounter.queue == queue, JobCounter.task == task, JobCounter.state == state
                )
            )
        ).scalar_one_or_none()
        if counter is None:
            session.add(
                JobCounter(queue=queue, task=task, state=state, count=count, updated_at=older_than)
            )
        else:
            counter.count += count
    result = await session.execute(
        delete(Job).where(finished).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
