"""The queue on real databases: enqueue in the caller's transaction, claim, retry, dead-letter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.core.db import transaction
from finagency.core.errors import PermanentExternalError, RateLimitedExternalError
from finagency.models import Job, JobState, utcnow
from finagency.queue import (
    ExponentialBackoff,
    JobContext,
    RecurringJob,
    Scheduler,
    Task,
    TaskRegistry,
    Worker,
    WorkerConfig,
    enqueue,
    queries,
)

Sessions = async_sessionmaker[AsyncSession]
NO_WAIT = ExponentialBackoff(base_seconds=0, jitter=False)


def make_worker(sessionmaker: Sessions, *tasks: Task, **config: object) -> Worker:
    settings = {"queues": ("default",), "concurrency": 4, "lease_seconds": 30.0, **config}
    return Worker(sessionmaker, TaskRegistry(tasks), WorkerConfig(**settings))  # type: ignore[arg-type]


async def job_states(sessionmaker: Sessions) -> dict[int, str]:
    async with sessionmaker() as session:
        rows = await session.execute(select(Job.id, Job.state))
        return dict(rows.all())


async def test_enqueue_is_part_of_the_callers_transaction(sessionmaker: Sessions) -> None:
    ran: list[int] = []

    async def handler(ctx: JobContext) -> None:
        ran.append(ctx.args["n"])

    task = Task("test.record", handler)
    with pytest.raises(RuntimeError):
        async with transaction(sessionmaker) as session:
            await enqueue(session, task, {"n": 1})
            raise RuntimeError("the business change failed")
    async with transaction(sessionmaker) as session:
        await enqueue(session, task, {"n": 2})

    processed = await make_worker(sessionmaker, task).run_until_idle()

    assert ran == [2]
    assert processed == 1
    assert list((await job_states(sessionmaker)).values()) == ["completed"]


async def test_claim_order_is_priority_then_due_time(sessionmaker: Sessions) -> None:
    order: list[str] = []

    async def handler(ctx: JobContext) -> None:
        order.append(ctx.args["name"])

    task = Task("test.order", handler)
    now = utcnow()
    async with transaction(sessionmaker) as session:
        await enqueue(
            session, task, {"name": "late-low"}, priority=200, run_at=now - timedelta(seconds=1)
        )
        await enqueue(session, task, {"name": "urgent"}, priority=0, run_at=now)
        await enqueue(
            session, task, {"name": "early-low"}, priority=200, run_at=now - timedelta(seconds=9)
        )
        await enqueue(
            session, task, {"name": "future"}, priority=0, run_at=now + timedelta(hours=1)
        )

    await make_worker(sessionmaker, task, concurrency=1, batch_size=1).run_until_idle()

    assert order == ["urgent", "early-low", "late-low"]
    states = await job_states(sessionmaker)
    assert sorted(states.values()) == ["available", "completed", "completed", "completed"]


async def test_unique_key_admits_one_live_job(sessionmaker: Sessions) -> None:
    task = Task("test.unique", lambda ctx: _noop())
    async with transaction(sessionmaker) as session:
        first = await enqueue(session, task, unique_key="publish:post:1")
        second = await enqueue(session, task, unique_key="publish:post:1")
    assert first is not None
    assert second is None
    await make_worker(sessionmaker, task).run_until_idle()
    async with transaction(sessionmaker) as session:
        # Once the first finished, the key is free again.
        assert await enqueue(session, task, unique_key="publish:post:1") is not None


async def _noop() -> None:
    return None


async def test_transient_failures_retry_then_dead_letter_with_history(
    sessionmaker: Sessions,
) -> None:
    calls = 0

    async def flaky(ctx: JobContext) -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError(f"platform unreachable (call {calls})")

    task = Task("test.flaky", flaky, max_attempts=3, retry=NO_WAIT)
    async with transaction(sessionmaker) as session:
        job_id = await enqueue(session, task)

    await make_worker(sessionmaker, task).run_until_idle()

    async with sessionmaker() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    assert calls == 3
    assert job.state == JobState.DISCARDED
    assert job.dlq_reason == "max_attempts"
    assert [entry["attempt"] for entry in job.errors] == [1, 2, 3]
    assert "call 3" in (job.last_error or "")


async def test_permanent_error_dead_letters_at_once(sessionmaker: Sessions) -> None:
    async def rejected(ctx: JobContext) -> None:
        raise PermanentExternalError("text too long for the platform")

    task = Task("test.rejected", rejected, max_attempts=5)
    async with transaction(sessionmaker) as session:
        job_id = await enqueue(session, task)
    await make_worker(sessionmaker, task).run_until_idle()
    async with sessionmaker() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    assert (job.state, job.dlq_reason, job.attempt) == ("discarded", "rejected", 1)


async def test_rate_limit_snoozes_without_spending_an_attempt(sessionmaker: Sessions) -> None:
    reset = utcnow() + timedelta(minutes=15)

    async def limited(ctx: JobContext) -> None:
        raise RateLimitedExternalError("429 Too Many Requests", reset_at=reset)

    task = Task("test.limited", limited, max_attempts=1)
    async with transaction(sessionmaker) as session:
        job_id = await enqueue(session, task)
    await make_worker(sessionmaker, task).run_until_idle()
    async with sessionmaker() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    assert job.state == JobState.AVAILABLE
    assert job.attempt == 0
    assert abs((job.run_at - reset).total_seconds()) < 1


async def test_expired_lease_is_rescued_and_zombie_completion_is_fenced(
    sessionmaker: Sessions,
) -> None:
    async def handler(ctx: JobContext) -> None:
        return None

    task = Task("test.rescue", handler)
    async with transaction(sessionmaker) as session:
        job_id = await enqueue(session, task)
    # A worker claims the job and then dies (we never run it).
    from finagency.queue.backends import claim_jobs

    now = utcnow()
    async with transaction(sessionmaker) as session:
        [claimed] = await claim_jobs(
            session,
            queues=["default"],
            limit=5,
            owner="dead-worker",
            lease_until=now - timedelta(seconds=1),
            now=now,
        )
        zombie_token = claimed.lease_token
    assert zombie_token
    async with transaction(sessionmaker) as session:
        rescued = await queries.rescue_expired(session, utcnow())
    assert rescued == 1

    await make_worker(sessionmaker, task).run_until_idle()
    async with transaction(sessionmaker) as session:
        # The dead worker wakes up and tries to complete: its token is stale.
        assert not await queries.complete_job(session, job_id or 0, zombie_token, utcnow())
        job = await session.get(Job, job_id)
    assert job is not None
    assert job.state == JobState.COMPLETED
    assert job.attempt == 2


async def test_paused_queue_is_not_claimed(sessionmaker: Sessions) -> None:
    ran: list[int] = []

    async def handler(ctx: JobContext) -> None:
        ran.append(1)

    task = Task("test.paused", handler)
    async with transaction(sessionmaker) as session:
        await enqueue(session, task)
        await queries.set_paused(session, "queue:default", True, "maintenance", utcnow())
    await make_worker(sessionmaker, task).run_until_idle()
    assert ran == []
    async with transaction(sessionmaker) as session:
        await queries.set_paused(session, "queue:default", False, "", utcnow())
    await make_worker(sessionmaker, task).run_until_idle()
    assert ran == [1]


async def test_recurring_slot_fires_once_across_schedulers(sessionmaker: Sessions) -> None:
    task = Task("test.cron", lambda ctx: _noop())
    registry = TaskRegistry([task])
    every_minute = RecurringJob("tick", "test.cron", every_seconds=60)
    first = Scheduler(sessionmaker, registry, [every_minute])
    second = Scheduler(sessionmaker, registry, [every_minute])
    now = utcnow()

    fired = (
        await first.tick(now)
        + await second.tick(now)
        + await second.tick(now + timedelta(seconds=1))
    )
    await make_worker(sessionmaker, task).run_until_idle()
    fired += await second.tick(now)  # after completion the slot still does not fire again
    fired += await first.tick(now + timedelta(seconds=60))

    assert len(fired) == 2
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 2


async def test_worker_run_and_graceful_stop(sessionmaker: Sessions) -> None:
    import asyncio

    done: list[int] = []

    async def slow(ctx: JobContext) -> None:
        await asyncio.sleep(0.2)
        done.append(ctx.args["n"])

    task = Task("test.slow", slow)
    async with transaction(sessionmaker) as session:
        for n in range(6):
            await enqueue(session, task, {"n": n})
    worker = make_worker(sessionmaker, task, concurrency=3, poll_interval=0.05)
    runner = asyncio.create_task(worker.run())
    for _ in range(100):
        await asyncio.sleep(0.05)
        if len(done) == 6:
            break
    worker.stop()
    await asyncio.wait_for(runner, 15)
    assert sorted(done) == list(range(6))
    async with sessionmaker() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(Job).where(Job.state != "completed")
            )
            == 0
        )
