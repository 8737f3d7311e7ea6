"""Fact sheets built from the market area, following the fact-key convention of the generators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.factsheet import Fact, FactKind, FactSheet
from finagency.integrations.llm import factkeys
from finagency.market import service as market
from finagency.models import NewsItem, Quote, Source

FX_PAIRS = ("EUR/USD", "EUR/GBP", "EUR/JPY")
TREASURY_TENORS = ("3M", "2Y", "10Y", "30Y")


def _quote_fact(
    key: str, kind: FactKind, value: float, quote: Quote, unit: str, label: str
) -> Fact:
    return Fact(
        key,
        kind,
        value,
        unit=unit,
        currency=unit if kind == "price" else None,
        as_of=quote.as_of,
        source=_source_label(quote),
        retrieved_at=quote.retrieved_at,
        adjusted=quote.adjusted,
        label=label,
    )


def _source_label(quote: Quote) -> str:
    # Development-only sources stay visibly marked wherever their numbers travel.
    return quote.source if quote.for_publication else f"{quote.source} (development only)"


async def market_mover(session: AsyncSession, symbol: str, *, now: datetime) -> FactSheet | None:
    """Close and day change of one instrument, from its two latest observations."""
    quotes = await market.latest_quotes(session, symbol, limit=2)
    if len(quotes) < 2 or not quotes[1].close:
        return None
    last, prev = quotes[0], quotes[1]
    instrument = await market.instrument(session, symbol)
    currency = last.currency or "USD"
    change = (last.close / prev.close - 1) * 100
    facts = [
        _quote_fact(
            factkeys.close_key(symbol), "price", last.close, last, currency, f"{symbol} close"
        ),
        _quote_fact(
            factkeys.change_pct_key(symbol), "percent", change, last, "%", f"{symbol} day change"
        ),
        _quote_fact(
            factkeys.prev_close_key(symbol),
            "price",
            prev.close,
            prev,
            currency,
            f"{symbol} prior close",
        ),
    ]
    if last.volume:
        facts.append(
            _quote_fact(
                factkeys.volume_key(symbol),
                "number",
                last.volume,
                last,
                "shares",
                f"{symbol} volume",
            )
        )
    extra = {"name": instrument.name} if instrument and instrument.name else {}
    if not last.for_publication:
        extra["not_for_publication"] = last.source
    return FactSheet(
        kind=factkeys.MARKET_MOVER,
        subject=symbol,
        facts=tuple(facts),
        tickers=(symbol,),
        built_at=now,
        extra=extra,
    )


async def fx_rates(session: AsyncSession, *, now: datetime) -> FactSheet | None:
    facts = []
    for pair in FX_PAIRS:
        quote = await market.latest_rate(session, pair)
        if quote is not None:
            facts.append(
                Fact(
                    pair,
                    "rate",
                    quote.close,
                    unit=quote.unit,
                    as_of=quote.as_of,
                    source=_source_label(quote),
                    retrieved_at=quote.retrieved_at,
                    label=f"{pair} reference rate",
                )
            )
    if not facts:
        return None
    return FactSheet(
        kind=factkeys.MACRO_RATE, subject="EUR reference rates", facts=tuple(facts), built_at=now
    )


async def treasury_curve(session: AsyncSession, *, now: datetime) -> FactSheet | None:
    facts: list[Fact] = []
    yields: dict[str, Quote] = {}
    for tenor in TREASURY_TENORS:
        quote = await market.latest_rate(session, factkeys.treasury_key(tenor))
        if quote is not None:
            yields[tenor] = quote
            facts.append(
                Fact(
                    factkeys.treasury_key(tenor),
                    "percent",
                    quote.close,
                    unit="%",
                    as_of=quote.as_of,
                    source=_source_label(quote),
                    retrieved_at=quote.retrieved_at,
                    label=f"US Treasury {tenor} par yield",
                )
            )
    if not facts:
        return None
    two, ten = yields.get("2Y"), yields.get("10Y")
    if two is not None and ten is not None and two.as_of == ten.as_of:
        # The spread is computed here, from two stored facts, so generators never compute.
        facts.append(
            Fact(
                factkeys.CURVE_2S10S_KEY,
                "number",
                round((ten.close - two.close) * 100, 1),
                unit="bp",
                as_of=ten.as_of,
                source=_source_label(ten),
                retrieved_at=ten.retrieved_at,
                label="10Y minus 2Y spread",
            )
        )
    return FactSheet(
        kind=factkeys.MACRO_RATE, subject="US Treasury yields", facts=tuple(facts), built_at=now
    )


async def news_take(session: AsyncSession, item: NewsItem, *, now: datetime) -> FactSheet:
    source = await session.get(Source, item.source_id)
    source_name = source.name if source else "news"
    facts: list[Fact] = []
    if item.published_at is not None:
        facts.append(
            Fact(
                "news.date",
                "date",
                item.published_at.date().isoformat(),
                as_of=item.published_at,
                source=source_name,
                label="publication date",
            )
        )
    return FactSheet(
        kind=factkeys.NEWS_TAKE,
        subject=item.title,
        headline=item.title,
        url=item.url,
        tickers=tuple(item.tickers or ()),
        facts=tuple(facts),
        built_at=now,
        extra={factkeys.EXTRA_SOURCE_NAME: source_name},
    )


_OTHER_FORMS = frozenset({"S-1", "S-4", "DEF 14A", "SC 13G", "SC 13D", "424B4", "D"})


def filing_form(item: NewsItem) -> str | None:
    for category in item.categories or ():
        if category and (category[0].isdigit() or category.upper() in _OTHER_FORMS):
            return category
    title = item.title.split(" - ", 1)[0].strip()
    return title or None


async def filing_note(session: AsyncSession, item: NewsItem, *, now: datetime) -> FactSheet | None:
    form = filing_form(item)
    if not form or item.published_at is None:
        return None
    source = await session.get(Source, item.source_id)
    company = (
        item.title.split(" - ", 1)[1].split("(")[0].strip() if " - " in item.title else item.title
    )
    facts = (
        Fact(
            factkeys.FILING_FORM_KEY,
            "text",
            form,
            as_of=item.published_at,
            source=source.name if source else "edgar",
            label="form type",
        ),
        Fact(
            factkeys.FILING_DATE_KEY,
            "date",
            item.published_at.date().isoformat(),
            as_of=item.published_at,
            source=source.name if source else "edgar",
            label="filing date",
        ),
    )
    return FactSheet(
        kind=factkeys.FILING_NOTE,
        subject=company,
        headline=item.title,
        url=item.url,
        tickers=tuple(item.tickers or ()),
        facts=facts,
        built_at=now,
        extra={factkeys.EXTRA_COMPANY: company},
    )
