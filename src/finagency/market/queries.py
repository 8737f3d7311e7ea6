"""Read helpers over the market tables, for the content domain, the API and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.errors import NotFound
from finagency.core.time import utcnow
from finagency.models import Instrument, NewsItem, Quote, Source

HealthStatus = Literal["ok", "failing", "never"]


@dataclass(frozen=True, slots=True)
class SourceHealth:
    id: int
    name: str
    kind: str
    enabled: bool
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    items_total: int
    items_last_24h: int  # news items fetched plus quotes retrieved in the last 24 hours
    status: HealthStatus


def health_status(source: Source) -> HealthStatus:
    """Status "never" until the first poll, "failing" while polls fail, else "ok"."""
    if source.last_polled_at is None:
        return "never"
    return "failing" if source.consecutive_failures else "ok"


async def instrument(session: AsyncSession, symbol: str) -> Instrument | None:
    return (
        await session.execute(select(Instrument).where(Instrument.symbol == symbol))
    ).scalar_one_or_none()


async def latest_quotes(session: AsyncSession, symbol: str, limit: int = 2) -> list[Quote]:
    """The instrument's newest observations first (two give a close and its change)."""
    rows = await session.scalars(
        select(Quote)
        .join(Instrument, Instrument.id == Quote.instrument_id)
        .where(Instrument.symbol == symbol)
        .order_by(Quote.as_of.desc(), Quote.id.desc())
        .limit(limit)
    )
    return list(rows)


async def latest_rate(session: AsyncSession, series: str) -> Quote | None:
    """The newest value of a rate or FX series ("EUR/USD", "UST.10Y"); ``close`` holds it."""
    quotes = await latest_quotes(session, series, limit=1)
    return quotes[0] if quotes else None


async def unused_news(
    session: AsyncSession, limit: int = 5, since: datetime | None = None
) -> list[NewsItem]:
    """News no content has used yet, newest first (by publication, else fetch, time)."""
    stamp = func.coalesce(NewsItem.published_at, NewsItem.fetched_at)
    query = select(NewsItem).where(NewsItem.used.is_(False))
    if since is not None:
        query = query.where(stamp >= since)
    rows = await session.scalars(query.order_by(stamp.desc(), NewsItem.id.desc()).limit(limit))
    return list(rows)


async def mark_news_used(session: AsyncSession, news_item_id: int) -> NewsItem:
    """Flag a news item as used so it is not offered again; ``NotFound`` if it is gone."""
    item = await session.get(NewsItem, news_item_id)
    if item is None:
        raise NotFound(f"news item {news_item_id} does not exist")
    item.used = True
    await session.flush()
    return item


async def list_news(session: AsyncSession, limit: int = 50, offset: int = 0) -> list[NewsItem]:
    stamp = func.coalesce(NewsItem.published_at, NewsItem.fetched_at)
    rows = await session.scalars(
        select(NewsItem).order_by(stamp.desc(), NewsItem.id.desc()).limit(limit).offset(offset)
    )
    return list(rows)


async def list_quotes(
    session: AsyncSession, symbol: str | None = None, limit: int = 100
) -> list[tuple[Instrument, Quote]]:
    """Quotes newest first, each with its instrument (for the symbol, kind and name)."""
    query = select(Instrument, Quote).join(Instrument, Instrument.id == Quote.instrument_id)
    if symbol is not None:
        query = query.where(Instrument.symbol == symbol)
    rows = await session.execute(
        query.order_by(Quote.as_of.desc(), Instrument.symbol, Quote.id.desc()).limit(limit)
    )
    return [(found, quote) for found, quote in rows.all()]


async def source_health(session: AsyncSession, now: datetime | None = None) -> list[SourceHealth]:
    """Every source's health, by name."""
    since = (now or utcnow()) - timedelta(hours=24)
    news_counts = dict(
        (
            await session.execute(
                select(NewsItem.source_id, func.count())
                .where(NewsItem.fetched_at >= since)
                .group_by(NewsItem.source_id)
            )
        ).all()
    )
    quote_counts = dict(
        (
            await session.execute(
                select(Quote.source, func.count())
                .where(Quote.retrieved_at >= since)
                .group_by(Quote.source)
            )
        ).all()
    )
    sources = await session.scalars(select(Source).order_by(Source.name))
    return [
        SourceHealth(
            id=source.id,
            name=source.name,
            kind=source.kind,
            enabled=source.enabled,
            last_polled_at=source.last_polled_at,
            last_success_at=source.last_success_at,
            last_error_at=source.last_error_at,
            last_error=source.last_error,
            consecutive_failures=source.consecutive_failures,
            items_total=source.items_total,
            items_last_24h=news_counts.get(source.id, 0) + quote_counts.get(source.name, 0),
            status=health_status(source),
        )
        for source in sources
    ]


async def quotes_between(
    session: AsyncSession, symbol: str, start: datetime, end: datetime
) -> list[Quote]:
    """The instrument's observations with ``start <= as_of <= end``, oldest first."""
    rows = await session.scalars(
        select(Quote)
        .join(Instrument, Instrument.id == Quote.instrument_id)
        .where(Instrument.symbol == symbol, Quote.as_of >= start, Quote.as_of <= end)
        .order_by(Quote.as_of, Quote.id)
    )
    return list(rows)


async def news_between(
    session: AsyncSession, start: datetime, end: datetime, limit: int = 20
) -> list[NewsItem]:
    """News published in ``[start, end]``, newest first."""
    rows = await session.scalars(
        select(NewsItem)
        .where(NewsItem.published_at >= start, NewsItem.published_at <= end)
        .order_by(NewsItem.published_at.desc(), NewsItem.id.desc())
        .limit(limit)
    )
    return list(rows)


async def symbols_of_kind(session: AsyncSession, kind: str, limit: int = 10) -> list[str]:
    rows = await session.scalars(
        select(Instrument.symbol)
        .where(Instrument.kind == kind)
        .order_by(Instrument.symbol)
        .limit(limit)
    )
    return list(rows)
