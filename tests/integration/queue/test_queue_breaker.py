"""The circuit breaker shared by every worker, on a real database: opens after the threshold
of consecutive failures, tells callers when to come back, lets exactly one probe through when
the cooldown has passed, closes on its success and re-opens for longer on its failure."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from queue_harness import Sessions

from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.models import CircuitBreaker
from finagency.queue import breaker

KEY = "account:7"
POLICY = breaker.BreakerPolicy(
    threshold=3,
    cooldown=timedelta(milliseconds=400),
    max_cooldown=timedelta(seconds=10),
    probe_timeout=timedelta(seconds=30),
)
CALLERS = 5


async def check(sessionmaker: Sessions) -> datetime | None:
    async with transaction(sessionmaker) as session:
        return await breaker.check(session, KEY, POLICY)


async def callers_at_once(sessionmaker: Sessions) -> list[datetime | None]:
    """Several workers asking at the same moment, each in its own transaction."""
    return list(await asyncio.gather(*(check(sessionmaker) for _ in range(CALLERS))))


async def fail(sessionmaker: Sessions) -> bool:
    async with transaction(sessionmaker) as session:
        return await breaker.record_failure(session, KEY, POLICY, "503 Service Unavailable")


async def succeed(sessionmaker: Sessions) -> None:
    async with transaction(sessionmaker) as session:
        await breaker.record_success(session, KEY)


async def row(sessionmaker: Sessions) -> CircuitBreaker:
    async with sessionmaker() as session:
        found = await session.get(CircuitBreaker, KEY)
    assert found is not None
    return found


async def wait_out(moment: datetime) -> None:
    await asyncio.sleep(max((moment - utcnow()).total_seconds(), 0) + 0.02)


async def test_breaker_counts_only_consecutive_failures(sessionmaker: Sessions) -> None:
    assert not await fail(sessionmaker)
    assert not await fail(sessionmaker)
    await succeed(sessionmaker)  # a success in between starts the count again
    assert not await fail(sessionmaker)
    assert not await fail(sessionmaker)
    assert await callers_at_once(sessionmaker) == [None] * CALLERS
    assert (await row(sessionmaker)).state == "closed"


async def test_breaker_opens_probes_once_reopens_longer_and_closes(
    sessionmaker: Sessions,
) -> None:
    assert await check(sessionmaker) is None
    assert not await fail(sessionmaker)
    assert not await fail(sessionmaker)
    assert await fail(sessionmaker)  # the threshold-th consecutive failure opens it

    opened = await row(sessionmaker)
    assert opened.state == "open"
    assert opened.open_until is not None and opened.opened_at is not None
    assert opened.open_until - opened.opened_at == POLICY.cooldown
    # While open, everyone is told to come back when the cooldown ends: nobody calls out.
    assert await callers_at_once(sessionmaker) == [opened.open_until] * CALLERS

    await wait_out(opened.open_until)
    answers = await callers_at_once(sessionmaker)
    assert answers.count(None) == 1, answers  # exactly one probe goes through
    assert (await row(sessionmaker)).state == "half_open"

    assert await fail(sessionmaker)  # the probe failed: open again, for twice as long
    reopened = await row(sessionmaker)
    assert reopened.state == "open"
    assert reopened.open_until is not None and reopened.opened_at is not None
    assert reopened.open_until - reopened.opened_at == 2 * POLICY.cooldown
    assert None not in await callers_at_once(sessionmaker)

    await wait_out(reopened.open_until)
    answers = await callers_at_once(sessionmaker)
    assert answers.count(None) == 1, answers
    await succeed(sessionmaker)  # the probe succeeded: closed, the count starts afresh

    closed = await row(sessionmaker)
    assert (closed.state, closed.failures, closed.open_until) == ("closed", 0, None)
    assert await callers_at_once(sessionmaker) == [None] * CALLERS
