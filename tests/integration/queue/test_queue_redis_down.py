"""Redis down loses nothing: Redis holds no jobs, so publishing goes on, and rate limits fall
back to the database buckets instead of failing or letting everything through."""

from __future__ import annotations

from datetime import timedelta

from queue_harness import Sessions, free_port, seed_scheduled_posts
from redis.asyncio import Redis
from sqlalchemy import func, select

from finagency.config import Settings
from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.models import Job, JobState, Post, PostStatus, RateBucket, SandboxPost
from finagency.queue import Notifier
from finagency.queue.limits import Rate, RedisRateLimiter
from finagency.runtime import build_registry, build_worker, open_services


def closed_redis_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


async def test_publishing_goes_on_with_redis_down(database_url: str) -> None:
    settings = Settings(
        database_url=database_url, redis_url=closed_redis_url(), secret_key="queue-test-secret"
    )
    async with open_services(settings, Notifier()) as services:
        assert services.redis is not None  # configured, but nothing answers on its port
        seeded = await seed_scheduled_posts(services.sessionmaker, count=3, scheduled_at=utcnow())
        worker = build_worker(services, build_registry(settings), Notifier(), queues=["publish"])
        await worker.run_until_idle()

        async with services.read_sessionmaker() as session:
            statuses = (await session.execute(select(Post.status))).scalars().all()
            sandbox = await session.scalar(select(func.count()).select_from(SandboxPost))
            job_states = (await session.execute(select(Job.state))).scalars().all()
    assert list(statuses) == [PostStatus.PUBLISHED] * len(seeded.post_ids)
    assert sandbox == len(seeded.post_ids)
    assert set(job_states) == {JobState.COMPLETED}


async def test_redis_limiter_falls_back_to_database_buckets(
    sessionmaker: Sessions, readers: Sessions
) -> None:
    redis = Redis.from_url(closed_redis_url(), socket_timeout=2, socket_connect_timeout=2)
    limiter = RedisRateLimiter(redis)
    rate = Rate(1, timedelta(minutes=1), burst=2)
    try:
        answers = []
        for _ in range(3):
            async with transaction(sessionmaker) as session:
                answers.append(await limiter.acquire(session, "account:9", rate))
        later = utcnow() + timedelta(minutes=5)
        async with transaction(sessionmaker) as session:
            await limiter.hold(session, "account:9", rate, later)  # a 429's reset time
            after_hold = await limiter.acquire(session, "account:9", rate)
    finally:
        await redis.aclose()

    assert answers[:2] == [None, None]  # the burst is granted
    third = answers[2]
    assert third is not None  # the limit still holds: come back when a token frees up
    assert timedelta(seconds=55) < third - utcnow() <= timedelta(seconds=60)
    assert after_hold is not None and after_hold >= later  # the platform's reset is honoured
    async with readers() as session:
        assert await session.scalar(select(func.count()).select_from(RateBucket)) == 1
