"""Worker autoscaling: concurrency follows the backlog between a minimum and a maximum, up at
once under pressure, down only after it has been quiet a while (no flapping)."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.core.db import transaction
from finagency.queue import JobContext, Notifier, Task, TaskRegistry, Worker, WorkerConfig, enqueue
from finagency.queue.worker import CALM_ROUNDS, desired_concurrency


def test_pressure_scales_up_at_once_and_quiet_scales_down_slowly() -> None:
    grow = desired_concurrency(2, backlog=40, running=2, low=1, high=16, calm=0)
    capped = desired_concurrency(12, backlog=400, running=12, low=1, high=16, calm=0)
    busy_but_coping = desired_concurrency(8, backlog=3, running=8, low=1, high=16, calm=0)
    quiet_once = desired_concurrency(8, backlog=0, running=1, low=1, high=16, calm=1)
    quiet_long = desired_concurrency(8, backlog=0, running=1, low=1, high=16, calm=CALM_ROUNDS)
    floor = desired_concurrency(1, backlog=0, running=0, low=1, high=16, calm=CALM_ROUNDS)

    assert grow == 4  # doubled
    assert capped == 16
    assert busy_but_coping == 8  # a backlog smaller than the slots is no reason to grow
    assert quiet_once == 8  # one quiet look is not enough (hysteresis)
    assert quiet_long == 6  # then a quarter at a time
    assert floor == 1


async def test_a_worker_grows_with_a_backlog_and_shrinks_when_it_is_gone(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    running = 0
    peak = 0

    async def work(ctx: JobContext) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.2)
        running -= 1

    task = Task("ops.work", work)
    async with transaction(sessionmaker) as session:
        for number in range(40):
            await enqueue(session, task, {"n": number})
    config = WorkerConfig(
        concurrency=1,
        min_concurrency=1,
        max_concurrency=6,
        autoscale_interval=0.1,
        poll_interval=0.05,
    )
    worker = Worker(sessionmaker, TaskRegistry([task]), config, notifier=Notifier())
    seen: list[int] = []
    runner = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(60):
            while worker.processed < 40:
                seen.append(worker.concurrency)
                await asyncio.sleep(0.05)
            # Quiet now: poll until it is back at the minimum.
            for _ in iter(lambda: worker.concurrency > 1, False):
                await asyncio.sleep(0.05)
    finally:
        worker.stop()
        await runner

    assert max(seen) == 6  # grew to the maximum under a backlog of 40
    assert 1 < peak <= 6  # more than one job at once, never beyond the maximum
    assert worker.concurrency == 1
