"""Market tasks: poll one source, and enqueue a poll for every source that is due."""

from __future__ import annotations

import structlog
from pydantic import SecretStr
from sqlalchemy import select

from finagency.core.errors import RateLimitedExternalError
from finagency.core.events import Event
from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.market.service import PollResult, SourceKeys, is_due, poll_source
from finagency.models import Source
from finagency.queue import JobContext, Task, enqueue

log = structlog.get_logger(__name__)

POLL_SOURCE_TASK = "market.poll_source"
POLL_DUE_TASK = "market.poll_due_sources"
INGEST_QUEUE = "ingest"


def poll_key(source_id: int) -> str:
    # One live poll job per source: a slow poll is never doubled by the next sweep.
    return f"poll:source:{source_id}"


def _announce(services: Services, source: Source, result: PollResult) -> None:
    services.events.publish(
        Event(
            "source.polled",
            {
                "source_id": source.id,
                "name": source.name,
                "new_items": result.new_items,
                "new_quotes": result.new_quotes,
                "skipped_duplicates": result.skipped_duplicates,
                "not_modified": result.not_modified,
                "error": result.error,
            },
        )
    )


async def poll_one_source(ctx: JobContext) -> None:
    services: Services = ctx.services
    source = await ctx.session.get(Source, int(ctx.args["source_id"]))
    if source is None or not source.enabled:
        return  # deleted or switched off since the poll was enqueued
    # End the read transaction before the network wait (SQLite holds its write lock).
    await ctx.checkpoint()
    try:
        result = await poll_source(
            ctx.session, source, services.http, now=utcnow(), keys=source_keys(services)
        )
    except RateLimitedExternalError:
        await ctx.checkpoint()  # keep the recorded health; the worker snoozes the job
        raise
    await ctx.checkpoint()
    log.info(
        "market.source_polled",
        source_id=source.id,
        new_items=result.new_items,
        new_quotes=result.new_quotes,
        error=result.error,
    )
    _announce(services, source, result)


async def poll_due_sources(ctx: JobContext) -> None:
    now = utcnow()
    sources = await ctx.session.scalars(select(Source).where(Source.enabled.is_(True)))
    for source in sources:
        if is_due(source, now):
            await enqueue(
                ctx.session,
                POLL_SOURCE,
                {"source_id": source.id},
                unique_key=poll_key(source.id),
            )


POLL_SOURCE = Task(
    POLL_SOURCE_TASK, poll_one_source, queue=INGEST_QUEUE, max_attempts=3, timeout_seconds=90
)


def source_keys(services: Services) -> SourceKeys:
    configured = services.settings.sources

    def reveal(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value else None

    return SourceKeys(
        fred_api_key=reveal(configured.fred_api_key),
        coingecko_api_key=reveal(configured.coingecko_api_key),
        coingecko_pro=configured.coingecko_pro,
    )


TASKS = [
    POLL_SOURCE,
    Task(POLL_DUE_TASK, poll_due_sources, queue=INGEST_QUEUE, max_attempts=2),
]
