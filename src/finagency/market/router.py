"""The market API: latest news, quotes and the health of every source (shared by all brands)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.auth.dependencies import ReadSession, get_services, require
from finagency.auth.permissions import VIEW
from finagency.core.cache import QUOTES
from finagency.market import service
from finagency.market.schemas import NewsRead, QuoteRead, SourceRead
from finagency.models import Instrument, Quote

# Market data is not brand data: anyone who may view some brand may read it.
# CoinGecko's terms: credit "near the data", with a link (data-sources.md C5).
COINGECKO_CREDIT = "Data provided by CoinGecko"
COINGECKO_URL = "https://www.coingecko.com/"

router = APIRouter(tags=["market"], dependencies=[Depends(require(VIEW))])


def quote_read(instrument: Instrument, quote: Quote) -> QuoteRead:
    return QuoteRead(
        symbol=instrument.symbol,
        name=instrument.name,
        kind=instrument.kind,
        as_of=quote.as_of,
        close=quote.close,
        open=quote.open,
        high=quote.high,
        low=quote.low,
        volume=quote.volume,
        currency=quote.currency,
        unit=quote.unit,
        source=quote.source,
        adjusted=quote.adjusted,
        retrieved_at=quote.retrieved_at,
        for_publication=quote.for_publication,
        attribution=COINGECKO_CREDIT if "coingecko" in quote.source.lower() else None,
    )


async def latest_quote_per_symbol(session: AsyncSession, limit: int = 200) -> list[QuoteRead]:
    """The newest observation of each instrument among the most recent ``limit`` quotes."""
    seen: dict[str, QuoteRead] = {}
    for instrument, quote in await service.list_quotes(session, limit=limit):
        seen.setdefault(instrument.symbol, quote_read(instrument, quote))
    return sorted(seen.values(), key=lambda item: item.symbol)


@router.get("/news", response_model=list[NewsRead], summary="News items, newest first")
async def get_news(
    session: ReadSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[NewsRead]:
    return [
        NewsRead.model_validate(item)
        for item in await service.list_news(session, limit=limit, offset=offset)
    ]


@router.get("/quotes", response_model=list[QuoteRead], summary="Quotes, newest first")
async def get_quotes(
    session: ReadSession,
    request: Request,
    symbol: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[QuoteRead]:
    async def load() -> list[dict[str, object]]:
        rows = await service.list_quotes(session, symbol=symbol, limit=limit)
        return [quote_read(i, q).model_dump(mode="json") for i, q in rows]

    # Quotes change when a source is polled; the "quotes" policy bounds how stale they get.
    cached = await get_services(request).cache.get_or_load(QUOTES, f"{symbol}:{limit}", load)
    return [QuoteRead.model_validate(item) for item in cached]


@router.get("/sources", response_model=list[SourceRead], summary="Every source and its health")
async def get_sources(session: ReadSession) -> list[SourceRead]:
    return [SourceRead.model_validate(item) for item in await service.source_health(session)]
