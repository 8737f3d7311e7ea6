"""Recurring jobs fire once per slot: across a scheduler leader's death, and with schedulers
racing each other without a leader; the leader lease itself fails over after its TTL."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import datetime, timedelta

from queue_harness import Sessions, Spawner, eventually, overlap
from sqlalchemy import select

from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.models import CronFire, Job, LeaderLease
from finagency.queue.leader import try_lead
from finagency.queue.scheduler import LEADER

CRON_NAME = "test-tick"  # support/scheduler.py's recurring job
CRON_TASK = "test.cron"


async def test_leader_lease_passes_to_the_next_owner_only_after_its_ttl(
    sessionmaker: Sessions,
) -> None:
    ttl = timedelta(seconds=1)
    start = utcnow()

    async def lead(owner: str, after: float) -> bool:
        async with transaction(sessionmaker) as session:
            now = start + timedelta(seconds=after)
            return await try_lead(session, "test-duty", owner, ttl=ttl, now=now)

    assert await lead("a", 0.0)
    assert not await lead("b", 0.5)  # A holds the lease
    assert await lead("a", 0.9)  # A renews: now until 1.9
    assert not await lead("b", 1.5)  # past A's first expiry, but A renewed
    # A stops renewing (crashed, or partitioned away from the database).
    assert await lead("b", 2.0)  # B takes over once A's lease ran out
    assert not await lead("a", 2.1)  # A's late renewal fails: it must not act as leader
    assert await lead("b", 2.5)
    async with sessionmaker() as session:
        lease = await session.get(LeaderLease, "test-duty")
    assert lease is not None
    assert lease.owner == "b"


async def leader(readers: Sessions) -> str | None:
    async with readers() as session:
        lease = await session.get(LeaderLease, LEADER)
        if lease is None or lease.expires_at <= utcnow():
            return None
        return lease.owner.split(":", 1)[0]


async def fired_slots(readers: Sessions) -> list[datetime]:
    async with readers() as session:
        rows = await session.execute(
            select(CronFire.slot_at).where(CronFire.name == CRON_NAME).order_by(CronFire.slot_at)
        )
        return list(rows.scalars())


async def assert_each_slot_fired_once(readers: Sessions, every: int) -> list[int]:
    """One job per fired slot, and slots one period apart (none skipped, none misaligned)."""
    async with readers() as session:
        jobs = list((await session.execute(select(Job).where(Job.task == CRON_TASK))).scalars())
    per_slot = Counter(job.args["slot_at"] for job in jobs)
    assert set(per_slot.values()) == {1}, per_slot
    slots = await fired_slots(readers)
    assert len(slots) == len(jobs)
    gaps = {(later - earlier).total_seconds() for earlier, later in itertools.pairwise(slots)}
    assert gaps == {float(every)}, f"slots {slots} are not one every {every} s"
    return [job.id for job in jobs]


async def test_recurring_job_fires_once_per_slot_across_a_leader_failover(
    database_url: str, readers: Sessions, spawner: Spawner
) -> None:
    every = 2
    # TTL plus a tick (1.1 s) is well inside a slot, so the standby takes over in time to fire
    # the next slot: a failover loses no slot and repeats none.
    args = ["--db", database_url, "--every", str(every), "--leader-ttl", "1", "--tick", "0.1"]
    first = spawner.start("scheduler.py", "first", *args, group="first")
    standby = spawner.start("scheduler.py", "standby", *args, group="standby")
    await spawner.wait_ready(first, standby)
    spawner.go("first")
    await eventually(lambda: _is_leader(readers, "first"), 10, "the first scheduler to lead")
    await eventually(lambda: fired_slots(readers), 10, "the first slot to fire")
    spawner.go("standby")
    await asyncio.sleep(0.3)  # a few standby ticks: it must not take over a live leader
    assert await leader(readers) == "first"

    first.kill()  # SIGKILL: no resignation, the lease has to run out
    killed_at = len(await fired_slots(readers))
    await eventually(lambda: _is_leader(readers, "standby"), 5, "the standby to take over")

    async def fired_after_failover() -> bool:
        return len(await fired_slots(readers)) >= killed_at + 1

    await eventually(fired_after_failover, every + 3, "the standby to fire the next slot")
    standby.terminate()
    assert await spawner.wait_exit(standby, 10) == 0, standby.output()[-3000:]
    assert await leader(readers) is None  # a clean shutdown resigns at once

    await assert_each_slot_fired_once(readers, every)


async def _is_leader(readers: Sessions, name: str) -> bool:
    return await leader(readers) == name


async def test_schedulers_racing_without_a_leader_fire_each_slot_once(
    database_url: str, readers: Sessions, spawner: Spawner
) -> None:
    # The cron_fire row, not the leader lease, is what makes a slot fire once: two processes
    # tick as fast as they can across several slot boundaries.
    args = ["--db", database_url, "--every", "1", "--race", "2.5"]
    racers = [spawner.start("scheduler.py", f"racer-{n}", *args) for n in range(2)]
    await spawner.wait_ready(*racers)
    spawner.go()

    fired = [set((await spawner.finish(racer, within=20))["fired"]) for racer in racers]

    job_ids = await assert_each_slot_fired_once(readers, every=1)
    assert len(job_ids) >= 2
    assert set().union(*fired) == set(job_ids)
    assert overlap(fired) == set()
