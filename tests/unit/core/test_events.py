"""The event bus: in-process delivery, and PostgreSQL and Redis backends that carry events
between processes, keep delivering locally when their server is gone, and reconnect."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from cache_events_support import PrivateRedis

from finagency.core.events import (
    Event,
    EventBus,
    PostgresEventBus,
    RedisEventBus,
    build_event_bus,
)

POSTGRES_URL = os.environ.get("FINAGENCY_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("FINAGENCY_TEST_REDIS_URL")


def channel() -> str:
    return f"test_events_{uuid.uuid4().hex[:12]}"


async def next_event(queue: asyncio.Queue[Event], wait: float = 5.0) -> Event:
    async with asyncio.timeout(wait):
        return await queue.get()


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        for _ in iter(condition, True):  # poll the condition until it holds
            await asyncio.sleep(0.02)


async def until_healthy(*buses: EventBus) -> None:
    await until(lambda: all(bus.healthy for bus in buses))


@asynccontextmanager
async def started(*buses: EventBus) -> AsyncIterator[None]:
    for bus in buses:
        await bus.start()
    try:
        yield
    finally:
        for bus in buses:
            await bus.close()


async def test_subscribers_get_events_and_listeners_run_first() -> None:
    bus = EventBus()
    seen: list[str] = []
    bus.add_listener(lambda event: seen.append(f"listener:{event.name}"))
    async with bus.subscribe() as queue:
        bus.publish(Event("post.published", {"post_id": 1}, brand_id=3))
        event = await next_event(queue)
        seen.append(f"subscriber:{event.name}")

    assert seen == ["listener:post.published", "subscriber:post.published"]
    assert event.brand_id == 3 and event.data == {"post_id": 1}
    assert bus.subscriber_count == 0


async def test_a_publish_from_another_thread_reaches_subscribers() -> None:
    bus = EventBus()
    await bus.start()
    async with bus.subscribe() as queue:
        await asyncio.to_thread(bus.publish, Event("approval.given", brand_id=1))
        assert (await next_event(queue)).name == "approval.given"


async def test_a_slow_subscriber_loses_events_but_never_blocks_the_publisher() -> None:
    bus = EventBus(max_queue=2)
    async with bus.subscribe() as queue:
        for number in range(5):
            bus.publish(Event("job.state_changed", {"n": number}))
        assert queue.qsize() == 2


async def test_a_broken_listener_does_not_stop_delivery() -> None:
    bus = EventBus()

    def broken(_: Event) -> None:
        raise RuntimeError("listener bug")

    bus.add_listener(broken)
    async with bus.subscribe() as queue:
        bus.publish(Event("queue.paused"))
        assert (await next_event(queue)).name == "queue.paused"


def test_an_oversized_event_travels_without_its_data() -> None:
    origin, event = Event.decode(Event("source.polled", {"blob": "x" * 20000}, 4).encode("me"))

    assert origin == "me"
    assert event.name == "source.polled" and event.brand_id == 4
    assert event.data == {"truncated": True}


def test_auto_picks_redis_then_postgres_then_in_process() -> None:
    pg = "postgresql+psycopg://postgres@127.0.0.1:5432/x"
    sqlite = "sqlite+aiosqlite:///x.db"
    redis = "redis://127.0.0.1:6379/0"

    assert type(build_event_bus("auto", database_url=pg, redis_url=redis, channel="c")) is (
        RedisEventBus
    )
    assert type(build_event_bus("auto", database_url=pg, redis_url=None, channel="c")) is (
        PostgresEventBus
    )
    assert type(build_event_bus("auto", database_url=sqlite, redis_url=None, channel="c")) is (
        EventBus
    )
    with pytest.raises(ValueError, match="REDIS_URL"):
        build_event_bus("redis", database_url=sqlite, redis_url=None, channel="c")


async def crosses_processes(one: EventBus, two: EventBus) -> None:
    """An event published on ``one`` reaches ``two``'s subscribers, and ``one``'s exactly once."""
    async with started(one, two), one.subscribe() as mine, two.subscribe() as theirs:
        await until_healthy(one, two)
        # From a worker thread, as Starlette runs ``background.add_task(events.publish, ...)``.
        await asyncio.to_thread(one.publish, Event("approval.given", {"post_id": 5}, brand_id=2))

        arrived = await next_event(theirs)
        local = await next_event(mine)
        await asyncio.sleep(0.2)  # our own message coming back must not be delivered twice

        assert (arrived.name, arrived.brand_id, arrived.data) == (
            "approval.given",
            2,
            {"post_id": 5},
        )
        assert local.name == "approval.given"
        assert mine.empty()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="needs FINAGENCY_TEST_POSTGRES_URL")
async def test_postgres_carries_events_between_processes() -> None:
    assert POSTGRES_URL
    name = channel()
    await crosses_processes(
        PostgresEventBus(POSTGRES_URL, name), PostgresEventBus(POSTGRES_URL, name)
    )


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="needs FINAGENCY_TEST_REDIS_URL")
async def test_redis_carries_events_between_processes() -> None:
    assert REDIS_URL
    name = channel()
    await crosses_processes(RedisEventBus(REDIS_URL, name), RedisEventBus(REDIS_URL, name))


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_redis_down_keeps_local_delivery_and_the_bus_reconnects(
    private_redis: PrivateRedis,
) -> None:
    name = channel()
    one, two = RedisEventBus(private_redis.url, name), RedisEventBus(private_redis.url, name)
    async with started(one, two), one.subscribe() as mine, two.subscribe() as theirs:
        await until_healthy(one, two)

        private_redis.stop()
        await until(lambda: not one.healthy and not two.healthy)
        one.publish(Event("post.published", brand_id=1))
        local_while_down = await next_event(mine)

        private_redis.start()
        await until_healthy(one, two)
        one.publish(Event("post.published", {"after": "recovery"}, brand_id=1))
        arrived = await next_event(theirs, wait=10)

        assert local_while_down.name == "post.published"
        assert arrived.data == {"after": "recovery"}
