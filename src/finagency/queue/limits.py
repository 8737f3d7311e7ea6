"""Rate limits shared by every worker: GCRA over a database row, or over Redis when configured.

GCRA keeps one timestamp per key, the theoretical arrival time (TAT). A request at ``now``
is allowed when ``TAT - now <= burst tolerance``; it then pushes TAT one emission interval
further. A refused request learns exactly when a token frees up, so the job is snoozed to
that moment instead of polling: no busy loop, no failed attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.time import utcnow
from finagency.models import RateBucket

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` events per ``period``, allowing bursts of up to ``burst`` at once."""

    limit: int
    period: timedelta
    burst: int = 1

    def __post_init__(self) -> None:
        if self.limit < 1 or self.burst < 1 or self.period <= timedelta(0):
            raise ValueError("a rate needs limit >= 1, burst >= 1 and a positive period")

    @property
    def interval(self) -> timedelta:
        return self.period / self.limit

    @property
    def tolerance(self) -> timedelta:
        return self.interval * (self.burst - 1)


def gcra(tat: datetime | None, now: datetime, rate: Rate) -> tuple[bool, datetime]:
    """One GCRA step: (allowed, new TAT if allowed else the moment a token frees up)."""
    current = max(tat or now, now)
    allow_at = current - rate.tolerance
    if allow_at > now:
        return False, allow_at
    return True, current + rate.interval


class RateLimiter(Protocol):
    async def acquire(self, session: AsyncSession, key: str, rate: Rate) -> datetime | None:
        """Take a token; None if granted, else when to try again."""
        ...

    async def hold(self, session: AsyncSession, key: str, rate: Rate, until: datetime) -> None:
        """Grant no token before ``until`` (the service told us to wait)."""
        ...


class DatabaseRateLimiter:
    """Buckets as rows in the application's database, updated in the caller's transaction."""

    async def acquire(self, session: AsyncSession, key: str, rate: Rate) -> datetime | None:
        now = utcnow()
        bucket = await _locked_bucket(session, key, now)
        allowed, moment = gcra(bucket.tat, now, rate)
        if not allowed:
            return moment
        bucket.tat, bucket.updated_at = moment, now
        await session.flush()
        return None

    async def hold(self, session: AsyncSession, key: str, rate: Rate, until: datetime) -> None:
        bucket = await _locked_bucket(session, key, utcnow())
        held = until + rate.tolerance  # GCRA grants again once TAT - tolerance <= now
        if bucket.tat < held:
            bucket.tat = held
        await session.flush()


async def _locked_bucket(session: AsyncSession, key: str, now: datetime) -> RateBucket:
    """The bucket row, created if missing; locked on PostgreSQL (SQLite's BEGIN IMMEDIATE
    already serialises writers), so two workers never spend the same token."""
    postgres = session.get_bind().dialect.name == "postgresql"
    insert = pg_insert if postgres else sqlite_insert
    await session.execute(
        insert(RateBucket)
        .values(key=key, tat=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    query = (
        select(RateBucket).where(RateBucket.key == key).execution_options(populate_existing=True)
    )
    if postgres:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one()


# KEYS[1] bucket key; ARGV: now_ms, interval_ms, tolerance_ms. Returns 0 (granted) or the
# millisecond timestamp when a token frees up. Runs atomically inside Redis.
_GCRA_LUA = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - tolerance
if allow_at > now then return allow_at end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now + tolerance) + 1000)
return 0
"""


class RedisRateLimiter:
    """Buckets in Redis: one atomic script per token, no database write on the hot path.

    Redis is optional infrastructure: when it does not answer, the database buckets take
    over (a warning is logged), so a Redis outage slows nothing down and loses nothing.
    """

    def __init__(self, redis: Redis, prefix: str = "finagency:rate:") -> None:
        self.redis = redis
        self.prefix = prefix
        self.fallback = DatabaseRateLimiter()

    async def acquire(self, session: AsyncSession, key: str, rate: Rate) -> datetime | None:
        try:
            return await self._acquire(key, rate)
        except RedisError as error:
            log.warning("rate_limit.redis_unavailable", key=key, error=type(error).__name__)
            return await self.fallback.acquire(session, key, rate)

    async def _acquire(self, key: str, rate: Rate) -> datetime | None:
        now = utcnow()
        now_ms = int(now.timestamp() * 1000)
        answer = await self.redis.eval(
            _GCRA_LUA,
            1,
            self.prefix + key,
            now_ms,
            int(rate.interval.total_seconds() * 1000),
            int(rate.tolerance.total_seconds() * 1000),
        )
        if int(answer) == 0:
            return None
        return now + timedelta(milliseconds=int(answer) - now_ms)

    async def hold(self, session: AsyncSession, key: str, rate: Rate, until: datetime) -> None:
        try:
            await self._hold(key, rate, until)
        except RedisError as error:
            log.warning("rate_limit.redis_unavailable", key=key, error=type(error).__name__)
            await self.fallback.hold(session, key, rate, until)

    async def _hold(self, key: str, rate: Rate, until: datetime) -> None:
        held_ms = int((until + rate.tolerance).timestamp() * 1000)
        ttl_ms = max(held_ms - int(utcnow().timestamp() * 1000), 0) + 1000
        current = await self.redis.get(self.prefix + key)
        if current is None or int(current) < held_ms:
            await self.redis.set(self.prefix + key, held_ms, px=ttl_ms)
