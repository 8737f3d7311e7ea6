"""The read cache: one interface, an in-process and a Redis backend, named TTL policies.

Each kind of data has a policy (``stats`` 5 s, ``quotes`` 60 s, ...): a value is never served
older than its policy's TTL. Writes publish domain events; ``invalidate_on`` maps them to the
policies they make stale, and ``Cache.on_event`` drops those entries (every process hears the
event when the bus is shared). Redis trouble is never an error: reads become misses, the
cache reports itself degraded, and it tries Redis again after a short pause.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import structlog
from prometheus_client import Counter
from redis.asyncio import Redis
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from finagency.core.events import Event

log = structlog.get_logger(__name__)

T = TypeVar("T")

CACHE_REQUESTS = Counter(
    "finagency_cache_requests_total",
    "Cache reads by policy and result (hit or miss)",
    ["policy", "result"],
)
CACHE_INVALIDATIONS = Counter(
    "finagency_cache_invalidations_total", "Policies dropped because of a domain event", ["policy"]
)

STATS = "stats"
QUOTES = "quotes"
NEWS = "news"
ACCOUNTS_HEALTH = "accounts_health"
SOURCE_HEALTH = "source_health"
DEFAULT_TTLS: dict[str, float] = {
    STATS: 5.0,
    QUOTES: 60.0,
    NEWS: 30.0,
    ACCOUNTS_HEALTH: 30.0,
    SOURCE_HEALTH: 60.0,
}

# Which policies an event makes stale, by the event name's prefix ("post.published" → "post").
_INVALIDATES: dict[str, tuple[str, ...]] = {
    "post": (STATS,),
    "job": (STATS,),
    "queue": (STATS,),
    "approval": (STATS,),
    "content": (STATS,),
    "finding": (STATS,),
    "account": (STATS, ACCOUNTS_HEALTH),
    "source": (SOURCE_HEALTH, NEWS, QUOTES),
    "quotes": (QUOTES,),
    "news": (NEWS,),
}

# Hits and misses of this process, per policy, for the Overview's hit rate.
_COUNTS: dict[str, list[int]] = {}


def invalidate_on(event: Event) -> tuple[str, ...]:
    """The policies ``event`` makes stale; an unknown event conservatively drops the stats."""
    return _INVALIDATES.get(event.name.split(".", 1)[0], (STATS,))


def _count(policy: str, hit: bool) -> None:
    CACHE_REQUESTS.labels(policy=policy, result="hit" if hit else "miss").inc()
    counts = _COUNTS.setdefault(policy, [0, 0])
    counts[0 if hit else 1] += 1


def cache_stats() -> dict[str, dict[str, float | int | None]]:
    """Hits, misses and hit rate per policy since this process started."""
    return {
        policy: {
            "hits": hits,
            "misses": misses,
            "hit_rate": round(hits / (hits + misses), 4) if hits + misses else None,
        }
        for policy, (hits, misses) in sorted(_COUNTS.items())
    }


def cache_hit_rate(policy: str | None = None) -> float | None:
    """Share of reads served from the cache in this process (0..1), None before any read."""
    rows = [_COUNTS.get(policy, [0, 0])] if policy else list(_COUNTS.values())
    hits = sum(row[0] for row in rows)
    total = hits + sum(row[1] for row in rows)
    return hits / total if total else None


class Cache:
    """The interface; ``get_or_load`` is what callers use."""

    backend = "none"

    def __init__(self, ttls: Mapping[str, float] | None = None) -> None:
        self.ttls = {**DEFAULT_TTLS, **(ttls or {})}
        self._loading: dict[tuple[str, str], asyncio.Future[Any]] = {}
        self._pending: set[asyncio.Task[None]] = set()
        # Bumped by every invalidation: a load that overlapped one is returned, not stored.
        self._generations: dict[str, int] = {}

    def ttl(self, policy: str) -> float:
        if policy not in self.ttls:
            raise KeyError(f"unknown cache policy {policy!r}")
        return self.ttls[policy]

    async def get_or_load(self, policy: str, key: str, load: Callable[[], Awaitable[T]]) -> T:
        """The cached value, or ``load()``'s (stored for the policy's TTL).

        Concurrent misses of one key in this process share one load, so a burst of dashboard
        requests costs the database one query. Values must be JSON-serialisable.
        """
        found, value = await self.get(policy, key)
        if found:
            _count(policy, hit=True)
            return value  # type: ignore[no-any-return]
        flight = self._loading.get((policy, key))
        if flight is not None:
            try:
                shared = await asyncio.shield(flight)
            except asyncio.CancelledError:
                if not flight.cancelled():
                    raise  # this caller was cancelled, not the load
            else:
                _count(policy, hit=True)
                return shared  # type: ignore[no-any-return]
        _count(policy, hit=False)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._loading[(policy, key)] = future
        generation = self._generations.get(policy, 0)
        try:
            loaded = await load()
        except asyncio.CancelledError:
            future.cancel()  # waiters load for themselves
            raise
        except Exception as error:
            future.set_exception(error)
            future.exception()  # retrieved: nobody waiting is fine too
            raise
        finally:
            if self._loading.get((policy, key)) is future:
                del self._loading[(policy, key)]
        future.set_result(loaded)
        if self._generations.get(policy, 0) == generation:
            await self.set(policy, key, loaded)
        return loaded

    async def get(self, policy: str, key: str) -> tuple[bool, Any]:
        raise NotImplementedError

    async def set(self, policy: str, key: str, value: Any) -> None:
        raise NotImplementedError

    async def invalidate(self, policy: str) -> None:
        """Drop every entry of ``policy``."""
        raise NotImplementedError

    def on_event(self, event: Event) -> None:
        """Bus listener: drop what ``event`` made stale (synchronous; Redis work is scheduled)."""
        for policy in invalidate_on(event):
            CACHE_INVALIDATIONS.labels(policy=policy).inc()
            self._generations[policy] = self._generations.get(policy, 0) + 1
            self._drop_soon(policy)

    def _drop_soon(self, policy: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.invalidate(policy))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    @property
    def healthy(self) -> bool:
        return True

    def status(self) -> dict[str, Any]:
        return {"backend": self.backend, "ok": self.healthy, "hit_rate": cache_hit_rate()}

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)


class MemoryCache(Cache):
    """This process only: TTL per policy, at most ``max_entries`` (least recently used go)."""

    backend = "memory"

    def __init__(self, ttls: Mapping[str, float] | None = None, max_entries: int = 10_000) -> None:
        super().__init__(ttls)
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], tuple[float, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, policy: str, key: str) -> tuple[bool, Any]:
        entry = self._entries.get((policy, key))
        if entry is None:
            return False, None
        expires, value = entry
        if expires <= time.monotonic():
            self._entries.pop((policy, key), None)
            return False, None
        self._entries.move_to_end((policy, key))
        return True, value

    async def set(self, policy: str, key: str, value: Any) -> None:
        self._entries[(policy, key)] = (time.monotonic() + self.ttl(policy), value)
        self._entries.move_to_end((policy, key))
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def invalidate(self, policy: str) -> None:
        self._drop_now(policy)

    def _drop_soon(self, policy: str) -> None:
        self._drop_now(policy)  # nothing to wait for: drop before any stream wakes up

    def _drop_now(self, policy: str) -> None:
        for entry in [entry for entry in self._entries if entry[0] == policy]:
            del self._entries[entry]


class RedisCache(Cache):
    """Shared by every process; each policy's keys are listed in a set so they can be dropped."""

    backend = "redis"
    RETRY_AFTER = 5.0  # seconds without Redis after a failure, so requests never wait on it

    def __init__(
        self, redis: Redis, ttls: Mapping[str, float] | None = None, prefix: str = "finagency:cache"
    ) -> None:
        super().__init__(ttls)
        self.redis = redis
        self.prefix = prefix
        self._down_until = 0.0
        self.last_error: str | None = None

    def _key(self, policy: str, key: str) -> str:
        return f"{self.prefix}:{policy}:{key}"

    def _index(self, policy: str) -> str:
        return f"{self.prefix}:{policy}:__keys__"

    @property
    def healthy(self) -> bool:
        return self.last_error is None

    def status(self) -> dict[str, Any]:
        return {**super().status(), "error": self.last_error}

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, error: Exception) -> None:
        if self.last_error is None:
            log.warning("cache.redis_unavailable", error=str(error), retry_in=self.RETRY_AFTER)
        self.last_error = type(error).__name__
        self._down_until = time.monotonic() + self.RETRY_AFTER

    def _recovered(self) -> None:
        if self.last_error is not None:
            log.info("cache.redis_recovered")
        self.last_error = None

    async def get(self, policy: str, key: str) -> tuple[bool, Any]:
        if not self._available():
            return False, None
        try:
            raw = await self.redis.get(self._key(policy, key))
        except Exception as error:  # Redis down: a miss, never an error
            self._failed(error)
            return False, None
        self._recovered()
        if raw is None:
            return False, None
        return True, json.loads(raw)

    async def set(self, policy: str, key: str, value: Any) -> None:
        if not self._available():
            return
        ttl_ms = max(1, int(self.ttl(policy) * 1000))
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(self._key(policy, key), json.dumps(value, default=str), px=ttl_ms)
                pipe.sadd(self._index(policy), key)
                pipe.pexpire(self._index(policy), ttl_ms * 2)
                await pipe.execute()
        except Exception as error:
            self._failed(error)
            return
        self._recovered()

    async def invalidate(self, policy: str) -> None:
        if not self._available():
            return  # entries expire by their TTL; nothing older than the policy is served
        try:
            members = await self.redis.smembers(self._index(policy))
            names = [self._key(policy, m.decode() if isinstance(m, bytes) else m) for m in members]
            await self.redis.delete(*names, self._index(policy))
        except Exception as error:
            self._failed(error)


# Sessions of a write sessionmaker carry the process's cache under this key (runtime puts it
# there), so that a commit which changed rows drops this process's stats at once: writes that
# publish no event (imports, seeds, edits) still show up without waiting out the TTL.
CACHE_INFO_KEY = "finagency.cache"
_WROTE_KEY = "finagency.cache.wrote"
LOCAL_WRITE = Event("db.committed")


@orm_event.listens_for(Session, "after_flush")
def _note_write(session: Session, _: object) -> None:
    if CACHE_INFO_KEY in session.info:
        session.info[_WROTE_KEY] = True


@orm_event.listens_for(Session, "after_commit")
def _invalidate_after_commit(session: Session) -> None:
    cache = session.info.get(CACHE_INFO_KEY)
    if session.info.pop(_WROTE_KEY, False) and isinstance(cache, Cache):
        cache.on_event(LOCAL_WRITE)


@orm_event.listens_for(Session, "after_rollback")
def _forget_write(session: Session) -> None:
    session.info.pop(_WROTE_KEY, None)


def build_cache(
    backend: str,
    *,
    redis: Redis | None,
    ttls: Mapping[str, float] | None = None,
    max_entries: int = 10_000,
    prefix: str = "finagency:cache",
) -> Cache:
    """The cache the settings ask for: "auto" is Redis when a client is configured."""
    if backend == "redis" and redis is None:
        raise ValueError("cache backend 'redis' needs FINAGENCY_REDIS_URL")
    if backend in ("auto", "redis") and redis is not None:
        return RedisCache(redis, ttls, prefix=prefix)
    return MemoryCache(ttls, max_entries=max_entries)
