"""Fact sheets built from the market area, following the fact-key convention of the generators."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

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


async def market_wrap(
    session: AsyncSession, symbols: list[str], *, now: datetime
) -> FactSheet | None:
    """Each instrument's close and day change for the latest session they share."""
    rows: list[tuple[str, Quote, Quote]] = []
    for symbol in symbols:
        quotes = await market.latest_quotes(session, symbol, limit=2)
        if len(quotes) == 2 and quotes[1].close:
            rows.append((symbol, quotes[0], quotes[1]))
    if not rows:
        return None
    session_day = max(last.as_of.date() for _, last, _ in rows)
    rows = [row for row in rows if row[1].as_of.date() == session_day]
    facts: list[Fact] = []
    for symbol, last, prev in rows:
        currency = last.currency or "USD"
        change = (last.close / prev.close - 1) * 100
        facts.append(
            _quote_fact(
                factkeys.close_key(symbol), "price", last.close, last, currency, f"{symbol} close"
            )
        )
        facts.append(
            _quote_fact(
                factkeys.change_pct_key(symbol), "percent", change, last, "%", f"{symbol} change"
            )
        )
    extra = _unlicensed_extra(quote for _, quote, _ in rows)
    return FactSheet(
        kind=factkeys.MARKET_WRAP,
        subject=f"Session of {session_day.isoformat()}",
        facts=tuple(facts),
        tickers=tuple(symbol for symbol, _, _ in rows),
        built_at=now,
        extra=extra,
    )


def _unlicensed_extra(quotes: Iterable[Quote]) -> dict[str, str]:
    sources = sorted({quote.source for quote in quotes if not quote.for_publication})
    return {"not_for_publication": ", ".join(sources)} if sources else {}


WEEK = timedelta(days=7)


async def weekly_recap(
    session: AsyncSession, symbols: list[str], *, now: datetime
) -> FactSheet | None:
    """The week to the latest session: each instrument's change over the week, plus the rates
    and the top headline observed inside that week (nothing from outside it)."""
    latest = [
        quotes[0]
        for symbol in symbols
        if (quotes := await market.latest_quotes(session, symbol, 1))
    ]
    if not latest:
        return None
    end = max(quote.as_of for quote in latest)
    start = end - WEEK
    facts: list[Fact] = []
    tickers: list[str] = []
    used: list[Quote] = []
    first_base: Quote | None = None
    for symbol in symbols:
        # The base is the last close at or before the week's start (the prior week's close).
        window = await market.quotes_between(session, symbol, start - WEEK, end)
        before = [quote for quote in window if quote.as_of <= start]
        inside = [quote for quote in window if quote.as_of > start]
        if not before or not inside or not before[-1].close:
            continue
        base, last = before[-1], inside[-1]
        change = (last.close / base.close - 1) * 100
        currency = last.currency or "USD"
        facts.append(
            _quote_fact(
                factkeys.close_key(symbol), "price", last.close, last, currency, f"{symbol} close"
            )
        )
        facts.append(
            _quote_fact(
                factkeys.week_change_pct_key(symbol),
                "percent",
                change,
                last,
                "%",
                f"{symbol} change over the week",
            )
        )
        tickers.append(symbol)
        used.append(last)
        first_base = first_base or base
    if not tickers or first_base is None:
        return None
    source = _source_label(used[0])
    facts.append(
        Fact(
            factkeys.WEEK_START_KEY,
            "date",
            first_base.as_of.date().isoformat(),
            as_of=first_base.as_of,
            source=source,
            label="prior week's close",
        )
    )
    facts.append(
        Fact(
            factkeys.WEEK_END_KEY,
            "date",
            end.date().isoformat(),
            as_of=end,
            source=source,
            label="week's last session",
        )
    )
    for series, label in (
        (factkeys.treasury_key("10Y"), "US Treasury 10Y par yield"),
        ("EUR/USD", "EUR/USD reference rate"),
    ):
        rate = await market.latest_rate(session, series)
        if rate is not None and start < rate.as_of <= end:
            kind: FactKind = "percent" if series.startswith("UST.") else "rate"
            facts.append(
                Fact(
                    series,
                    kind,
                    rate.close,
                    unit="%" if kind == "percent" else rate.unit,
                    as_of=rate.as_of,
                    source=_source_label(rate),
                    retrieved_at=rate.retrieved_at,
                    label=label,
                )
            )
            used.append(rate)
    news = await market.news_between(session, start, end, limit=1)
    return FactSheet(
        kind=factkeys.WEEKLY_RECAP,
        subject=f"Week to {end.date().isoformat()}",
        headline=news[0].title if news else "",
        facts=tuple(facts),
        tickers=tuple(tickers),
        built_at=now,
        extra=_unlicensed_extra(used),
    )
