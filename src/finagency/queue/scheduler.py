"""Recurring jobs declared in code, fired exactly once per slot however many schedulers run.

Catch-up policy: after downtime only the current slot fires, never a burst of missed ones
(a market wrap from three hours ago is worthless; the next slot will do the work).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.core.db import transaction
from finagency.models import CronFire, utcnow
from finagency.queue.enqueue import enqueue
from finagency.queue.leader import resign, try_lead
from finagency.queue.registry import TaskRegistry

log = structlog.get_logger(__name__)

LEADER = "scheduler"


@dataclass(frozen=True, slots=True)
class RecurringJob:
    name: str
    task: str
    every_seconds: int
    args: dict[str, Any] = field(default_factory=dict)
    # Slots are aligned to the epoch plus this offset, so every scheduler agrees on them.
    offset_seconds: int = 0

    def slot(self, now: datetime) -> datetime:
        stamp = int(now.timestamp()) - self.offset_seconds
        start = stamp - stamp % self.every_seconds + self.offset_seconds
        return datetime.fromtimestamp(start, tz=UTC)


async def fire_due(
    session: AsyncSession, registry: TaskRegistry, recurring: RecurringJob, now: datetime
) -> int | None:
    """Fire the recurring job's current slot unless some scheduler already did."""
    slot = recurring.slot(now)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    claimed = await session.execute(
        insert(CronFire)
        .values(name=recurring.name, slot_at=slot, fired_at=now)
        .on_conflict_do_nothing(index_elements=["name", "slot_at"])
        .returning(CronFire.name)
    )
    if claimed.scalar_one_or_none() is None:
        return None
    job_id = await enqueue(
        session,
        registry.get(recurring.task),
        {**recurring.args, "slot_at": slot.isoformat()},
        unique_key=f"cron:{recurring.name}:{slot.isoformat()}",
    )
    await session.execute(
        update(CronFire)
        .where(CronFire.name == recurring.name, CronFire.slot_at == slot)
        .values(job_id=job_id)
    )
    return job_id


class Scheduler:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        registry: TaskRegistry,
        recurring: list[RecurringJob],
        *,
        tick_seconds: float = 1.0,
        owner: str | None = None,
        leader_ttl: timedelta = timedelta(seconds=10),
    ) -> None:
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leader_ttl = leader_ttl
        self.sessionmaker = sessionmaker
        self.registry = registry
        self.recurring = recurring
        self.tick_seconds = tick_seconds
        self._stopping = asyncio.Event()
        self._last_slot: dict[str, datetime] = {}

    def stop(self) -> None:
        self._stopping.set()

    async def lead(self, now: datetime) -> bool:
        """Only one scheduler does the work at a time; the others stand by for failover."""
        async with transaction(self.sessionmaker) as session:
            return await try_lead(session, LEADER, self.owner, ttl=self.leader_ttl, now=now)

    async def tick(self, now: datetime | None = None) -> list[int]:
        now = now or utcnow()
        fired: list[int] = []
        for recurring in self.recurring:
            slot = recurring.slot(now)
            if self._last_slot.get(recurring.name) == slot:
                continue  # this process already handled the slot; spare the database
            async with transaction(self.sessionmaker) as session:
                job_id = await fire_due(session, self.registry, recurring, now)
            self._last_slot[recurring.name] = slot
            if job_id is not None:
                fired.append(job_id)
                log.info(
                    "scheduler.fired", name=recurring.name, slot=slot.isoformat(), job_id=job_id
                )
        return fired

    async def run(self) -> None:
        log.info("scheduler.started", jobs=[r.name for r in self.recurring])
        leading = False
        while not self._stopping.is_set():
            try:
                now = utcnow()
                # The cron_fire key already makes each slot fire once; the leader lease
                # spares the database the standby schedulers' work.
                is_leader = await self.lead(now)
                if is_leader != leading:
                    log.info("scheduler.leadership", leading=is_leader, owner=self.owner)
                    leading = is_leader
                if is_leader:
                    await self.tick(now)
            except Exception:
                log.exception("scheduler.tick_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.tick_seconds)
        if leading:
            with contextlib.suppress(Exception):
                async with transaction(self.sessionmaker) as session:
                    await resign(session, LEADER, self.owner)
