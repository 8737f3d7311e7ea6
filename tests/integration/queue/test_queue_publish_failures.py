"""Publishing through a failing platform (the sandbox's simulated 503s): a retry publishes once,
and the account's circuit breaker opens, snoozes jobs without spending attempts, and probes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from queue_harness import Seeded, make_due, seed_scheduled_posts
from sqlalchemy import func, select

from finagency.config import Settings, WorkerSettings
from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.models import (
    CircuitBreaker,
    Job,
    JobState,
    Post,
    PostStatus,
    PublishAttempt,
    SandboxPost,
)
from finagency.publishing import limits
from finagency.queue import Notifier, breaker
from finagency.runtime import build_registry, build_worker, open_services

# Mastodon's sandbox allows bursts of 10 posts, so the rate limit never gets in these tests' way.
PLATFORM = "sandbox:mastodon"


@pytest.fixture
async def services(database_url: str) -> AsyncIterator[Services]:
    settings = Settings(
        database_url=database_url,
        redis_url=None,
        secret_key="queue-test-secret",
        sandbox_failure_rate=1.0,  # every platform call answers 503 until a test says otherwise
        # One job at a time, so that each run sees the breaker its predecessor left.
        worker=WorkerSettings(concurrency=1, batch_size=1, poll_interval=0.05),
    )
    async with open_services(settings, Notifier()) as opened:
        yield opened


async def drain(services: Services) -> None:
    worker = build_worker(
        services, build_registry(services.settings), Notifier(), queues=["publish"]
    )
    await worker.run_until_idle()


async def seed(services: Services, count: int) -> Seeded:
    return await seed_scheduled_posts(
        services.sessionmaker, count=count, scheduled_at=utcnow(), platform=PLATFORM
    )


async def attempts(services: Services) -> list[tuple[int, str]]:
    async with services.read_sessionmaker() as session:
        rows = await session.execute(
            select(PublishAttempt.post_id, PublishAttempt.outcome).order_by(PublishAttempt.id)
        )
        return [(post_id, outcome) for post_id, outcome in rows.all()]


async def jobs(services: Services) -> list[Job]:
    async with services.read_sessionmaker() as session:
        return list((await session.execute(select(Job).order_by(Job.id))).scalars())


async def breakers(services: Services) -> dict[str, CircuitBreaker]:
    async with services.read_sessionmaker() as session:
        return {row.key: row for row in await breaker.states(session)}


async def sandbox_posts(services: Services) -> int:
    async with services.read_sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(SandboxPost)) or 0)


async def statuses(services: Services) -> list[str]:
    async with services.read_sessionmaker() as session:
        return list((await session.execute(select(Post.status).order_by(Post.id))).scalars())


async def test_transient_failure_is_retried_and_published_once(services: Services) -> None:
    await seed(services, 1)
    await drain(services)
    [job] = await jobs(services)
    assert (job.state, job.attempt) == (JobState.RETRYABLE, 1)
    assert await statuses(services) == [PostStatus.PUBLISHING]  # outcome unknown: intent open

    services.settings.sandbox_failure_rate = 0.0  # the platform is back
    await make_due(services.sessionmaker)
    await drain(services)

    [job] = await jobs(services)
    assert (job.state, job.attempt) == (JobState.COMPLETED, 2), job.last_error
    assert await statuses(services) == [PostStatus.PUBLISHED]
    assert await sandbox_posts(services) == 1
    # The intent of the failed send was either closed after a read-back or reused for the
    # resend with the same idempotency key; either way none is left open.
    outcomes = [outcome for _, outcome in await attempts(services)]
    assert outcomes[-1] == "confirmed"
    assert set(outcomes[:-1]) <= {"failed"}


async def test_transient_publish_failures_open_the_breakers(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "BREAKER_POLICY", breaker.BreakerPolicy(threshold=3))
    seeded = await seed(services, 3)

    await drain(services)

    opened = await breakers(services)
    assert set(opened) == {f"account:{seeded.account_id}", f"platform:{PLATFORM}"}
    for row in opened.values():
        assert row.state == "open"
        assert "503" in (row.last_error or "")
    # Nothing is lost or dead-lettered: each job waits to retry, each post keeps its open intent.
    assert {(job.state, job.attempt) for job in await jobs(services)} == {(JobState.RETRYABLE, 1)}
    assert set(await statuses(services)) == {PostStatus.PUBLISHING}
    assert await sandbox_posts(services) == 0


async def test_open_breaker_snoozes_publishing_and_one_probe_closes_it(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    cooldown = timedelta(milliseconds=500)
    monkeypatch.setattr(
        limits, "BREAKER_POLICY", breaker.BreakerPolicy(threshold=3, cooldown=cooldown)
    )
    seeded = await seed(services, 5)
    account_key = f"account:{seeded.account_id}"

    # The platform fails: three posts try and fail, then the breaker is open and the last two
    # are snoozed without calling the platform and without spending an attempt.
    await drain(services)
    assert {post_id for post_id, _ in await attempts(services)} == set(seeded.post_ids[:3])
    phase_one = await jobs(services)
    # The three that failed spent one attempt each. On a slow machine their backoff can end
    # inside the drain; the open breaker then snoozes them too (available, attempt kept).
    assert all(
        job.attempt == 1 and job.state in (JobState.RETRYABLE, JobState.AVAILABLE)
        for job in phase_one[:3]
    ), [(job.state, job.attempt) for job in phase_one]
    assert [(job.state, job.attempt) for job in phase_one[3:]] == [(JobState.AVAILABLE, 0)] * 2
    assert all("breaker" in (job.last_error or "") for job in phase_one[3:])
    first_open = (await breakers(services))[account_key]
    assert first_open.state == "open"

    # After the cooldown exactly one probe goes out; it fails and the breaker re-opens for
    # twice as long, while the other jobs wait without spending attempts.
    assert first_open.open_until is not None
    await asyncio.sleep(max((first_open.open_until - utcnow()).total_seconds(), 0) + 0.05)
    await make_due(services.sessionmaker)
    await drain(services)
    assert sum(job.attempt for job in await jobs(services)) == 4
    reopened = (await breakers(services))[account_key]
    assert reopened.state == "open"
    assert reopened.open_until is not None and reopened.opened_at is not None
    assert reopened.open_until - reopened.opened_at == 2 * cooldown
    assert await sandbox_posts(services) == 0

    # The platform is back: after the longer cooldown the probe succeeds, the breaker closes,
    # and every post goes out once.
    services.settings.sandbox_failure_rate = 0.0
    await asyncio.sleep(max((reopened.open_until - utcnow()).total_seconds(), 0) + 0.05)
    await make_due(services.sessionmaker)
    await drain(services)
    assert (await breakers(services))[account_key].state == "closed"
    assert await statuses(services) == [PostStatus.PUBLISHED] * 5
    assert await sandbox_posts(services) == 5
    final = await jobs(services)
    assert {job.state for job in final} == {JobState.COMPLETED}
    # Attempts were spent by platform calls only: 3 failures, 1 failed probe, 5 successes.
    assert sum(job.attempt for job in final) == 9
    assert "sending" not in {outcome for _, outcome in await attempts(services)}
