"""The read cache: TTL policies, a size bound, one load per burst, event-driven invalidation,
a Redis backend shared by processes, and Redis trouble turning into misses, never errors."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cache_events_support import PrivateRedis
from redis.asyncio import Redis

from finagency.core.cache import (
    QUOTES,
    STATS,
    MemoryCache,
    RedisCache,
    build_cache,
    cache_hit_rate,
    cache_stats,
)
from finagency.core.events import Event, EventBus

REDIS_URL = os.environ.get("FINAGENCY_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs FINAGENCY_TEST_REDIS_URL")


class Source:
    """A stand-in for the database: counts reads, answers with its current value."""

    def __init__(self, value: object = 1) -> None:
        self.value = value
        self.reads = 0

    async def load(self) -> object:
        self.reads += 1
        await asyncio.sleep(0.01)
        return self.value


async def test_a_cached_value_is_read_once_then_served_until_its_ttl() -> None:
    cache = MemoryCache({"fast": 0.2})
    source = Source({"total": 3})

    first = [await cache.get_or_load("fast", "k", source.load) for _ in range(5)]
    source.value = {"total": 4}
    await asyncio.sleep(0.25)
    later = await cache.get_or_load("fast", "k", source.load)

    assert first == [{"total": 3}] * 5
    assert later == {"total": 4}  # never older than the policy allows
    assert source.reads == 2


async def test_a_burst_of_misses_costs_one_load() -> None:
    cache = MemoryCache()
    source = Source(7)

    values = await asyncio.gather(
        *(cache.get_or_load(STATS, "all", source.load) for _ in range(20))
    )

    assert values == [7] * 20
    assert source.reads == 1


async def test_a_failed_load_is_not_cached_and_reaches_every_waiter() -> None:
    cache = MemoryCache()

    async def broken() -> object:
        await asyncio.sleep(0.01)
        raise RuntimeError("database gone")

    results = await asyncio.gather(
        *(cache.get_or_load(STATS, "all", broken) for _ in range(3)), return_exceptions=True
    )
    source = Source(5)

    assert all(isinstance(result, RuntimeError) for result in results)
    assert await cache.get_or_load(STATS, "all", source.load) == 5


async def test_the_in_process_cache_keeps_at_most_its_bound() -> None:
    cache = MemoryCache(max_entries=3)
    for key in "abcde":
        await cache.set(QUOTES, key, key)

    assert len(cache) == 3
    assert (await cache.get(QUOTES, "a"))[0] is False  # the least recently used went first
    assert await cache.get(QUOTES, "e") == (True, "e")


async def test_an_event_drops_the_policies_it_made_stale_and_only_those() -> None:
    bus = EventBus()
    cache = MemoryCache()
    bus.add_listener(cache.on_event)
    stats, quotes = Source(1), Source([100.0])
    await cache.get_or_load(STATS, "all", stats.load)
    await cache.get_or_load(QUOTES, "AAPL", quotes.load)
    stats.value = 2

    bus.publish(Event("post.published", {"post_id": 9}, brand_id=1))

    assert await cache.get_or_load(STATS, "all", stats.load) == 2
    assert await cache.get_or_load(QUOTES, "AAPL", quotes.load) == [100.0]
    assert (stats.reads, quotes.reads) == (2, 1)


async def test_a_polled_source_drops_quotes_but_keeps_the_stats() -> None:
    cache = MemoryCache()
    stats, quotes = Source(1), Source([1.0])
    await cache.get_or_load(STATS, "all", stats.load)
    await cache.get_or_load(QUOTES, "AAPL", quotes.load)

    cache.on_event(Event("source.polled", {"new_quotes": 3}))
    await cache.get_or_load(STATS, "all", stats.load)
    await cache.get_or_load(QUOTES, "AAPL", quotes.load)

    assert (stats.reads, quotes.reads) == (1, 2)


async def test_hits_and_misses_are_counted_per_policy() -> None:
    cache = MemoryCache({"counted-policy": 60})
    source = Source()
    for _ in range(4):
        await cache.get_or_load("counted-policy", "k", source.load)

    assert cache_stats()["counted-policy"] == {"hits": 3, "misses": 1, "hit_rate": 0.75}
    assert cache_hit_rate("counted-policy") == 0.75


async def test_an_unknown_policy_is_refused() -> None:
    with pytest.raises(KeyError, match="no-such-policy"):
        await MemoryCache().set("no-such-policy", "k", 1)


async def test_auto_picks_redis_only_when_a_client_is_configured() -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0")
    try:
        assert isinstance(build_cache("auto", redis=client), RedisCache)
        assert isinstance(build_cache("auto", redis=None), MemoryCache)
        assert isinstance(build_cache("memory", redis=client), MemoryCache)
        with pytest.raises(ValueError, match="REDIS_URL"):
            build_cache("redis", redis=None)
    finally:
        await client.aclose()


@needs_redis
@pytest.mark.redis
async def test_two_processes_share_redis_entries_and_their_invalidation() -> None:
    assert REDIS_URL
    one, two = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    prefix = f"test:{os.getpid()}:{id(one)}"
    web_a, web_b = RedisCache(one, prefix=prefix), RedisCache(two, prefix=prefix)
    try:
        source = Source({"total": 1, "as_of": "now"})
        await web_a.get_or_load(STATS, "all", source.load)
        from_b = await web_b.get_or_load(STATS, "all", source.load)

        web_a.on_event(Event("approval.given", brand_id=1))
        await web_a.close()  # waits for the scheduled invalidation
        source.value = {"total": 2, "as_of": "later"}
        after = await web_b.get_or_load(STATS, "all", source.load)

        assert from_b == {"total": 1, "as_of": "now"}
        assert after == {"total": 2, "as_of": "later"}
        assert source.reads == 2
        assert await one.pttl(f"{prefix}:{STATS}:all") <= 5000  # the policy's TTL rides along
    finally:
        await one.aclose()
        await two.aclose()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_redis_down_means_misses_not_errors_and_it_recovers(
    private_redis: PrivateRedis,
) -> None:
    client = Redis.from_url(private_redis.url, socket_timeout=1, socket_connect_timeout=1)
    cache = RedisCache(client)
    cache.RETRY_AFTER = 0.1
    source = Source(42)
    try:
        await cache.get_or_load(STATS, "all", source.load)
        assert cache.status()["ok"] is True

        private_redis.stop()
        while_down = [await cache.get_or_load(STATS, "all", source.load) for _ in range(3)]
        degraded = cache.status()
        cache.on_event(Event("post.published"))  # invalidating while down is no error either

        private_redis.start()
        await asyncio.sleep(0.15)
        await cache.get_or_load(STATS, "all", source.load)  # a miss that refills Redis
        reads_before = source.reads
        again = await cache.get_or_load(STATS, "all", source.load)

        assert while_down == [42, 42, 42]
        assert degraded["ok"] is False and degraded["error"]
        assert cache.status()["ok"] is True
        assert again == 42 and source.reads == reads_before  # served by Redis again
    finally:
        await cache.close()
        await client.aclose()
