"""FRED and CoinGecko polled like any source: keys from settings, health on the source row."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.integrations.sources.coingecko import simple_price_url
from finagency.integrations.sources.fred import observations_url
from finagency.market import service as market
from finagency.models import Instrument, Quote, Source

Sessions = async_sessionmaker[AsyncSession]
KEY = "abcdefghij0123456789abcdefghij01"

FRED_BODY = json.dumps(
    {
        "observations": [
            {
                "realtime_start": "2024-01-05",
                "realtime_end": "2024-01-05",
                "date": "2024-01-02",
                "value": "3.95",
            },
            {
                "realtime_start": "2024-01-05",
                "realtime_end": "2024-01-05",
                "date": "2024-01-03",
                "value": ".",
            },
            {
                "realtime_start": "2024-01-05",
                "realtime_end": "2024-01-05",
                "date": "2024-01-04",
                "value": "3.99",
            },
        ]
    }
).encode()
COINGECKO_BODY = json.dumps(
    {"bitcoin": {"usd": 67187.34, "usd_24h_change": 3.64, "last_updated_at": 1711356300}}
).encode()


def answering(seen: list[httpx.Request]) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "stlouisfed" in request.url.host:
            return httpx.Response(200, content=FRED_BODY)
        return httpx.Response(200, content=COINGECKO_BODY)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_fred_series_are_stored_without_the_missing_days(sessionmaker: Sessions) -> None:
    seen: list[httpx.Request] = []
    async with transaction(sessionmaker) as session:
        source = await market.create_source(
            session, name="FRED 10Y", kind="fred", url=observations_url("DGS10")
        )
        assert KEY not in source.url  # the key is never stored with the source
    async with answering(seen) as http, transaction(sessionmaker) as session:
        source = (await session.execute(select(Source))).scalar_one()
        result = await market.poll_source(
            session, source, http, now=utcnow(), keys=market.SourceKeys(fred_api_key=KEY)
        )
    assert result.error is None
    assert seen[0].url.params["api_key"] == KEY
    async with sessionmaker() as session:
        closes = list((await session.execute(select(Quote.close).order_by(Quote.as_of))).scalars())
        symbol = await session.scalar(select(Instrument.symbol))
    assert closes == [3.95, 3.99]  # "." is a missing day, never a zero
    assert symbol == "FRED.DGS10"


async def test_a_missing_fred_key_marks_the_source_failing(sessionmaker: Sessions) -> None:
    seen: list[httpx.Request] = []
    async with transaction(sessionmaker) as session:
        await market.create_source(
            session, name="FRED CPI", kind="fred", url=observations_url("CPIAUCSL")
        )
    async with answering(seen) as http, transaction(sessionmaker) as session:
        source = (await session.execute(select(Source))).scalar_one()
        result = await market.poll_source(session, source, http, now=utcnow())
    assert seen == []  # nothing was sent without a key
    assert result.error is not None
    assert "key" in result.error.lower()
    async with sessionmaker() as session:
        source = (await session.execute(select(Source))).scalar_one()
    assert source.consecutive_failures == 1


async def test_coingecko_prices_become_crypto_instruments(sessionmaker: Sessions) -> None:
    seen: list[httpx.Request] = []
    async with transaction(sessionmaker) as session:
        await market.create_source(
            session, name="CoinGecko", kind="coingecko", url=simple_price_url(["bitcoin"])
        )
    async with answering(seen) as http, transaction(sessionmaker) as session:
        source = (await session.execute(select(Source))).scalar_one()
        result = await market.poll_source(
            session, source, http, now=utcnow(), keys=market.SourceKeys(coingecko_api_key="CG-demo")
        )
    assert result.error is None
    assert seen[0].headers["x-cg-demo-api-key"] == "CG-demo"
    async with sessionmaker() as session:
        instrument = (await session.execute(select(Instrument))).scalar_one()
        close = await session.scalar(select(Quote.close))
    assert (instrument.symbol, instrument.kind) == ("CRYPTO.BITCOIN", "crypto")
    assert close == 67187.34
