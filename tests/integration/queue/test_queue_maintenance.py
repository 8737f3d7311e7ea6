"""Pruning keeps the counts, leaders hand over, rate buckets are shared rows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.core.db import transaction
from finagency.models import Job, JobCounter, utcnow
from finagency.queue import RecurringJob, Scheduler, Task, TaskRegistry, enqueue, queries
from finagency.queue.leader import resign, try_lead
from finagency.queue.limits import DatabaseRateLimiter, Rate

Sessions = async_sessionmaker[AsyncSession]


async def _noop() -> None:
    return None


async def test_pruning_deletes_old_finished_jobs_but_keeps_their_counts(
    sessionmaker: Sessions,
) -> None:
    now = utcnow()
    async with transaction(sessionmaker) as session:
        for state, age in (
            ("completed", 30),
            ("completed", 30),
            ("discarded", 30),
            ("completed", 1),
        ):
            job_id = await enqueue(session, "test.done", {})
            job = await session.get(Job, job_id)
            assert job is not None
            job.state, job.finalized_at = state, now - timedelta(hours=age)
    async with transaction(sessionmaker) as session:
        pruned = await queries.prune_finished(session, now - timedelta(hours=24), ("completed",))
    async with sessionmaker() as session:
        left = dict(
            (await session.execute(select(Job.state, func.count()).group_by(Job.state))).all()
        )
        counted = await session.scalar(
            select(JobCounter.count).where(
                JobCounter.task == "test.done", JobCounter.state == "completed"
            )
        )
    assert pruned == 2
    assert left == {"completed": 1, "discarded": 1}  # the young one, and the dead letter
    assert counted == 2
    # A second prune adds to the counter rather than replacing it.
    async with transaction(sessionmaker) as session:
        await queries.prune_finished(session, now + timedelta(hours=1), ("completed",))
    async with sessionmaker() as session:
        assert (
            await session.scalar(select(JobCounter.count).where(JobCounter.state == "completed"))
            == 3
        )


async def test_leadership_fails_over_when_the_leader_stops_renewing(sessionmaker: Sessions) -> None:
    now = utcnow()
    ttl = timedelta(seconds=10)
    async with transaction(sessionmaker) as session:
        assert await try_lead(session, "rescuer", "a", ttl=ttl, now=now)
        assert not await try_lead(session, "rescuer", "b", ttl=ttl, now=now)
        assert await try_lead(session, "rescuer", "a", ttl=ttl, now=now + timedelta(seconds=5))
    later = now + timedelta(seconds=16)  # a stopped renewing at +5 s; its lease ran out at +15 s
    async with transaction(sessionmaker) as session:
        assert await try_lead(session, "rescuer", "b", ttl=ttl, now=later)
        assert not await try_lead(session, "rescuer", "a", ttl=ttl, now=later)
        await resign(session, "rescuer", "b")
        assert await try_lead(session, "rescuer", "a", ttl=ttl, now=later)


async def test_only_the_leading_scheduler_fires(sessionmaker: Sessions) -> None:
    registry = TaskRegistry([Task("test.cron", lambda ctx: _noop())])
    jobs = [RecurringJob("tick", "test.cron", every_seconds=60)]
    first = Scheduler(sessionmaker, registry, jobs, owner="first")
    second = Scheduler(sessionmaker, registry, jobs, owner="second")
    now = utcnow()
    assert await first.lead(now)
    assert not await second.lead(now)


async def test_database_buckets_share_tokens_between_sessions(sessionmaker: Sessions) -> None:
    limiter = DatabaseRateLimiter()
    rate = Rate(1, timedelta(minutes=1), burst=2)
    answers = []
    for _ in range(3):
        async with transaction(sessionmaker) as session:
            answers.append(await limiter.acquire(session, "account:1", rate))
    assert answers[:2] == [None, None]
    assert answers[2] is not None
    assert answers[2] > utcnow()


async def test_enqueue_many_inserts_in_one_go_and_runs_each_once(sessionmaker: Sessions) -> None:
    from finagency.queue import Worker, WorkerConfig, enqueue_many

    seen: list[int] = []

    async def record(ctx) -> None:  # type: ignore[no-untyped-def]
        seen.append(ctx.args["n"])

    task = Task("test.bulk", record)
    async with transaction(sessionmaker) as session:
        ids = await enqueue_many(session, task, [{"n": n} for n in range(250)])
    assert len(set(ids)) == 250
    worker = Worker(sessionmaker, TaskRegistry([task]), WorkerConfig(concurrency=16, batch_size=50))
    await worker.run_until_idle()
    assert sorted(seen) == list(range(250))


async def test_a_rescued_job_keeps_its_place_at_the_front(sessionmaker: Sessions) -> None:
    from finagency.queue.backends import claim_jobs

    now = utcnow()
    async with transaction(sessionmaker) as session:
        old = await enqueue(session, "test.x", {}, run_at=now - timedelta(hours=1))
        [claimed] = await claim_jobs(
            session,
            queues=["default"],
            limit=1,
            owner="dead",
            lease_until=now - timedelta(seconds=1),
            now=now,
        )
        assert claimed.id == old
        await enqueue(session, "test.x", {}, run_at=now - timedelta(minutes=1))
    async with transaction(sessionmaker) as session:
        await queries.rescue_expired(session, utcnow())
        [first] = await claim_jobs(
            session,
            queues=["default"],
            limit=1,
            owner="w",
            lease_until=utcnow() + timedelta(seconds=30),
            now=utcnow(),
        )
    assert first.id == old  # not sent behind the newer backlog
