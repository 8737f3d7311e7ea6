"""The demo sources end to end through the queue, source settings, and the read helpers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import cast

import httpx
import pytest
from market_fakes import FakeWeb
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.config import Settings
from finagency.core.errors import Conflict, NotFound, ValidationFailed
from finagency.core.events import Event, EventBus
from finagency.core.time import utcnow
from finagency.market import service
from finagency.market.tasks import (
    POLL_DUE_TASK,
    POLL_SOURCE_TASK,
    TASKS,
    poll_due_sources,
    poll_key,
)
from finagency.models import Job, NewsItem, Source
from finagency.queue import JobContext, TaskRegistry, Worker, WorkerConfig, enqueue

Sessions = async_sessionmaker[AsyncSession]


def no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"the demo must not reach the network: {request.url}")


def make_worker(sessionmaker: Sessions, http: httpx.AsyncClient, events: EventBus) -> Worker:
    return Worker(
        sessionmaker,
        TaskRegistry(TASKS),
        WorkerConfig(queues=("ingest",), concurrency=1),
        services=SimpleNamespace(http=http, events=events, settings=Settings()),
    )


async def drain(queue: asyncio.Queue[Event]) -> list[Event]:
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


async def test_demo_sources_ingest_end_to_end_through_the_queue(sessionmaker: Sessions) -> None:
    async with sessionmaker() as session:
        first = await service.ensure_demo_sources(session)
        again = await service.ensure_demo_sources(session)
        await enqueue(session, POLL_DUE_TASK, {}, queue="ingest")
        await session.commit()
    assert len(first) == 5
    assert [s.id for s in again] == [s.id for s in first]
    bus = EventBus()

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(no_network)) as http,
        bus.subscribe() as queue,
    ):
        worker = make_worker(sessionmaker, http, bus)
        assert await worker.run_until_idle() == 6  # the sweep, then one poll per source
        polled = await drain(queue)

    assert sorted(e.data["name"] for e in polled) == sorted(
        name for name, _, _ in service.DEMO_SOURCES
    )
    assert all(e.name == "source.polled" and e.data["error"] is None for e in polled)
    async with sessionmaker() as session:
        health = await service.source_health(session)
        news = await service.unused_news(session, limit=100)
        aapl = await service.latest_quotes(session, "AAPL", limit=1)
        eur_usd = await service.latest_rate(session, "EUR/USD")
        ten_year = await service.latest_rate(session, "UST.10Y")
    assert {h.status for h in health} == {"ok"}
    assert {h.name: h.items_total for h in health} == {
        "ECB euro reference rates (demo)": 31,
        "EDGAR filings: Maquia Capital Acquisition (demo)": 5,
        "SEC press releases (demo)": 25,
        "US Treasury par yield curve (demo)": 12,
        "Yahoo chart: AAPL (demo)": 49,
    }
    assert len(news) == 30
    assert aapl[0].as_of.date().isoformat() == "2020-11-06"
    assert eur_usd is not None
    assert eur_usd.close == 1.092
    assert ten_year is not None
    assert ten_year.close == 1.81


async def test_the_sweep_enqueues_only_due_sources_and_never_twice(sessionmaker: Sessions) -> None:
    now = utcnow()
    async with sessionmaker() as session:
        due = await service.create_source(
            session,
            name="due",
            kind="rss",
            url="https://a.example.com/rss",
            poll_interval_seconds=60,
        )
        fresh = await service.create_source(
            session,
            name="fresh",
            kind="rss",
            url="https://b.example.com/rss",
            poll_interval_seconds=600,
        )
        off = await service.create_source(
            session, name="off", kind="rss", url="https://c.example.com/rss", enabled=False
        )
        due.last_polled_at = now - timedelta(seconds=61)
        fresh.last_polled_at = now - timedelta(seconds=61)
        await session.commit()
    for _ in range(2):  # the second sweep finds the first one's jobs still live
        async with sessionmaker() as session:
            await poll_due_sources(cast(JobContext, SimpleNamespace(session=session)))
            await session.commit()

    async with sessionmaker() as session:
        polls = list(await session.scalars(select(Job).where(Job.task == POLL_SOURCE_TASK)))
    assert [(job.args, job.unique_key, job.queue) for job in polls] == [
        ({"source_id": due.id}, poll_key(due.id), "ingest")
    ]
    assert off.id not in {job.args["source_id"] for job in polls}


async def test_a_rate_limited_poll_keeps_its_health_and_is_snoozed(sessionmaker: Sessions) -> None:
    web = FakeWeb(
        {"https://a.example.com/rss": httpx.Response(429, headers={"Retry-After": "600"})}
    )
    async with sessionmaker() as session:
        source = await service.create_source(
            session, name="limited", kind="rss", url="https://a.example.com/rss"
        )
        await enqueue(session, POLL_SOURCE_TASK, {"source_id": source.id}, queue="ingest")
        await session.commit()

    async with httpx.AsyncClient(transport=httpx.MockTransport(web.handle)) as http:
        await make_worker(sessionmaker, http, EventBus()).run_until_idle()

    async with sessionmaker() as session:
        job = (await session.scalars(select(Job).where(Job.task == POLL_SOURCE_TASK))).one()
        stored = await session.get(Source, source.id)
    assert stored is not None
    assert stored.last_error is not None
    assert "rate limited" in stored.last_error
    assert job.state in ("available", "retryable")
    assert job.run_at > utcnow() + timedelta(seconds=500)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"kind": "carrier_pigeon"}, ValidationFailed),
        ({"url": "ftp://example.com/feed"}, ValidationFailed),
        ({"url": "file:///etc/passwd"}, ValidationFailed),
        ({"url": "demo:sec-press-releases-2025-01.rss.xml"}, ValidationFailed),
        ({"url": "https://"}, ValidationFailed),
        ({"poll_interval_seconds": 1}, ValidationFailed),
        ({"name": "taken"}, Conflict),
    ],
    ids=["kind", "ftp", "file", "demo-not-allowed", "no-host", "interval", "duplicate-name"],
)
async def test_create_source_refuses_bad_settings(
    sessionmaker: Sessions, changes: dict[str, object], error: type[Exception]
) -> None:
    settings: dict[str, object] = {"name": "new", "kind": "rss", "url": "https://x.example.com/rss"}
    async with sessionmaker() as session:
        await service.create_source(session, name="taken", kind="rss", url="https://t.example.com/")
        with pytest.raises(error):
            await service.create_source(session, **{**settings, **changes})  # type: ignore[arg-type]


async def test_demo_urls_must_name_a_bundled_file(sessionmaker: Sessions) -> None:
    async with sessionmaker() as session:
        for url in ("demo:../../config.py", "demo:missing.xml", "demo:"):
            with pytest.raises(ValidationFailed):
                await service.create_source(
                    session, name="d", kind="rss", url=url, allow_files=True
                )


async def test_used_news_is_no_longer_offered(sessionmaker: Sessions) -> None:
    async with sessionmaker() as session:
        sources = await service.ensure_demo_sources(session)
        async with httpx.AsyncClient(transport=httpx.MockTransport(no_network)) as http:
            await service.poll_source(session, sources[0], http, now=utcnow())
        await session.commit()
        newest = (await service.unused_news(session, limit=2))[0]
        await service.mark_news_used(session, newest.id)
        await session.commit()
        offered = await service.unused_news(session, limit=100)
        recent = await service.unused_news(
            session, since=datetime(2025, 1, 21, tzinfo=UTC), limit=100
        )
        with pytest.raises(NotFound):
            await service.mark_news_used(session, 999_999)
        page = await service.list_news(session, limit=10, offset=20)
        total = len(list(await session.scalars(select(NewsItem.id))))

    assert newest.title == "Acting Chairman Mark T. Uyeda Names Acting Senior Staff"
    assert newest.id not in {item.id for item in offered}
    assert len(offered) == 24
    assert [item.published_at for item in recent] == [  # the 24 January one is used
        datetime(2025, 1, 21, 17, 9, 48, tzinfo=UTC),
        datetime(2025, 1, 21, 15, 14, tzinfo=UTC),
    ]
    assert (total, len(page)) == (25, 5)
