"""Turn a source's body into stored rows: news deduplicated, instruments created, quotes upserted.

Deduplication of news, in order: the canonical URL (``url_hash``), the feed's guid within
the same source, the text hash (``content_hash``), then near-duplicates: a headline whose
SimHash is within ``NEAR_DUPLICATE_BITS`` of one stored in the last ``NEAR_DUPLICATE_WINDOW``
is the same story told again. Filings are events, not stories: two filings of the same form
share a title, so their text hash includes the accession (the guid) and the near-duplicate
test is skipped for them. Inserts use ON CONFLICT DO NOTHING on both databases, so a
concurrent poll that stores the same item first is a duplicate here, never an error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.simhash import is_near_duplicate, signature
from finagency.core.text import canonical_url, content_hash
from finagency.integrations.sources import (
    NewsEntry,
    PricePoint,
    RatePoint,
    parse_chart,
    parse_eurofxref,
    parse_feed,
    parse_filings_atom,
    parse_yield_curve,
)
from finagency.integrations.sources.coingecko import parse_simple_price, simple_price_params
from finagency.integrations.sources.fred import parse_observations, series_id_from_url
from finagency.models import Instrument, NewsItem, Quote, Source

NEAR_DUPLICATE_BITS = 3
NEAR_DUPLICATE_WINDOW = timedelta(days=7)
# Bounds the per-poll comparison cost (a Python loop over 64-bit ints) on busy installs.
NEAR_DUPLICATE_SCAN_LIMIT = 5000
# Signatures of headlines this short move too much for a 3-bit test to mean anything.
_MIN_WORDS_FOR_NEAR_DUPLICATE = 4
NEWS_KINDS = frozenset({"rss"})
FILING_KINDS = frozenset({"edgar_atom"})
TICKER_KINDS = ("equity", "etf", "index", "crypto")


@dataclass
class Parsed:
    """What one body holds; exactly one list is filled, by the source's kind."""

    news: list[NewsEntry] = field(default_factory=list)
    prices: list[PricePoint] = field(default_factory=list)
    rates: list[RatePoint] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NewsKeys:
    url_hash: str
    content_hash: str
    simhash: int
    near_duplicate_test: bool


def news_keys(entry: NewsEntry, kind: str) -> NewsKeys:
    """The identities an entry is deduplicated by (pure; see the module docstring)."""
    url = canonical_url(entry.url) if entry.url else f"guid:{entry.guid}"
    url_hash = hashlib.sha256(url.encode("utf-8")).hexdigest()
    if kind in FILING_KINDS:
        return NewsKeys(url_hash, content_hash(f"{entry.title}\n{entry.guid}"), 0, False)
    testable = len(entry.title.split()) >= _MIN_WORDS_FOR_NEAR_DUPLICATE
    return NewsKeys(url_hash, content_hash(entry.title), signature(entry.title), testable)


def parse_body(
    kind: str, body: bytes, *, source_name: str, known: Collection[str], url: str = ""
) -> Parsed:
    """Parse by kind; raises the parsers' ``MalformedPayloadError`` family on bad bodies."""
    if kind == "rss":
        return Parsed(news=parse_feed(body, source=source_name, known_tickers=known))
    if kind == "edgar_atom":
        return Parsed(news=parse_filings_atom(body, source=source_name))
    if kind == "ecb_daily":
        return Parsed(rates=parse_eurofxref(body, source=source_name))
    if kind == "treasury_yield":
        return Parsed(rates=parse_yield_curve(body, source=source_name))
    if kind == "yahoo_chart":
        return Parsed(prices=parse_chart(body, source=source_name))
    # FRED and CoinGecko answers do not say what they hold: the source URL does.
    if kind == "fred":
        series = series_id_from_url(url)
        return Parsed(rates=parse_observations(body, series_id=series, source=source_name))
    if kind == "coingecko":
        ids, vs_currency = simple_price_params(url)
        prices = parse_simple_price(body, ids=ids, vs_currency=vs_currency, source=source_name)
        return Parsed(prices=prices)
    raise ValueError(f"no parser for source kind {kind!r}")


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def known_tickers(session: AsyncSession) -> set[str]:
    rows = await session.scalars(select(Instrument.symbol).where(Instrument.kind.in_(TICKER_KINDS)))
    return set(rows)


async def store_news(
    session: AsyncSession, source: Source, entries: Sequence[NewsEntry], now: datetime
) -> tuple[int, int]:
    """Insert the entries not seen before; returns (stored, skipped as duplicates)."""
    if not entries:
        return 0, 0
    keyed = [(entry, news_keys(entry, source.kind)) for entry in entries]
    url_hashes = {keys.url_hash for _, keys in keyed}
    text_hashes = {keys.content_hash for _, keys in keyed}
    guids = {entry.guid for entry in entries}
    seen_urls = set(
        await session.scalars(select(NewsItem.url_hash).where(NewsItem.url_hash.in_(url_hashes)))
    )
    seen_texts = set(
        await session.scalars(
            select(NewsItem.content_hash).where(NewsItem.content_hash.in_(text_hashes))
        )
    )
    seen_guids = set(
        await session.scalars(
            select(NewsItem.guid).where(NewsItem.source_id == source.id, NewsItem.guid.in_(guids))
        )
    )
    recent: list[int] = list(
        await session.scalars(
            select(NewsItem.simhash)
            .where(NewsItem.fetched_at >= now - NEAR_DUPLICATE_WINDOW, NewsItem.simhash != 0)
            .order_by(NewsItem.id.desc())
            .limit(NEAR_DUPLICATE_SCAN_LIMIT)
        )
    )
    insert = _insert(session)
    stored = skipped = 0
    for entry, keys in keyed:
        if (
            keys.url_hash in seen_urls
            or keys.content_hash in seen_texts
            or entry.guid in seen_guids
            or (
                keys.near_duplicate_test
                and any(is_near_duplicate(keys.simhash, old, NEAR_DUPLICATE_BITS) for old in recent)
            )
        ):
            skipped += 1
            continue
        inserted = await session.scalar(
            insert(NewsItem)
            .values(
                source_id=source.id,
                guid=entry.guid,
                url=entry.url,
                title=entry.title,
                summary=entry.summary,
                published_at=entry.published_at,
                tickers=list(entry.tickers),
                categories=list(entry.categories),
                content_hash=keys.content_hash,
                url_hash=keys.url_hash,
                simhash=keys.simhash,
                fetched_at=now,
                used=False,
            )
            .on_conflict_do_nothing()
            .returning(NewsItem.id)
        )
        seen_urls.add(keys.url_hash)
        seen_texts.add(keys.content_hash)
        seen_guids.add(entry.guid)
        if inserted is None:  # a concurrent poll stored it first
            skipped += 1
            continue
        if keys.near_duplicate_test:
            recent.append(keys.simhash)
        stored += 1
    return stored, skipped


@dataclass(frozen=True, slots=True)
class _InstrumentSpec:
    symbol: str
    kind: str
    name: str
    currency: str | None


def _rate_spec(point: RatePoint) -> _InstrumentSpec:
    if "/" in point.series:  # "EUR/USD": USD per EUR
        return _InstrumentSpec(point.series, "fx", point.label, point.series.split("/", 1)[1])
    return _InstrumentSpec(point.series, "rate", point.label, None)


async def _instrument_ids(
    session: AsyncSession, specs: Collection[_InstrumentSpec]
) -> dict[str, int]:
    """Ids by symbol, creating the missing instruments (a race with another poll is harmless)."""
    unique = {spec.symbol: spec for spec in specs}
    if not unique:
        return {}
    insert = _insert(session)
    await session.execute(
        insert(Instrument)
        .values(
            [
                {"symbol": s.symbol, "name": s.name, "kind": s.kind, "currency": s.currency}
                for s in unique.values()
            ]
        )
        .on_conflict_do_nothing(index_elements=["symbol"])
    )
    rows = await session.execute(
        select(Instrument.symbol, Instrument.id).where(Instrument.symbol.in_(unique))
    )
    return dict(rows.all())


async def _upsert_quotes(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Insert or refresh quotes keyed by (instrument, as_of, source); returns how many are new."""
    if not rows:
        return 0
    keys = {(row["instrument_id"], row["as_of"]) for row in rows}
    stamps = [as_of for _, as_of in keys]
    existing = await session.execute(
        select(Quote.instrument_id, Quote.as_of).where(
            Quote.source == rows[0]["source"],
            Quote.instrument_id.in_({instrument_id for instrument_id, _ in keys}),
            Quote.as_of.between(min(stamps), max(stamps)),
        )
    )
    new = len(keys - {(iid, as_of) for iid, as_of in existing.all()})
    insert = _insert(session)
    statement = insert(Quote).values(rows)
    updated = {
        name: statement.excluded[name]
        for name in rows[0]
        if name not in ("instrument_id", "as_of", "source")
    }
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["instrument_id", "as_of", "source"], set_=updated
        )
    )
    return new


# Whose data it is must travel with every number: attribution (CoinGecko) and licence (Yahoo)
# are decided from these names downstream, whatever an admin called the source.
_PROVIDER_NAMES = {"coingecko": "CoinGecko", "yahoo_chart": "Yahoo"}


def quote_source_label(source: Source) -> str:
    """The source name stored with each quote, naming the data provider when it matters."""
    provider = _PROVIDER_NAMES.get(source.kind)
    if provider is None or provider.lower() in source.name.lower():
        return source.name
    return f"{source.name} ({provider})"


async def store_prices(
    session: AsyncSession, source: Source, points: Sequence[PricePoint], now: datetime
) -> int:
    specs = [
        _InstrumentSpec(
            p.symbol,
            "crypto" if p.symbol.startswith("CRYPTO.") else "equity",
            p.symbol,
            p.currency or None,
        )
        for p in points
    ]
    ids = await _instrument_ids(session, specs)
    label = quote_source_label(source)
    rows = {
        (ids[p.symbol], p.as_of): {
            "instrument_id": ids[p.symbol],
            "as_of": p.as_of,
            "open": p.open,
            "high": p.high,
            "low": p.low,
            "close": p.close,
            "volume": p.volume,
            "currency": p.currency or None,
            "unit": p.currency,
            "source": label,
            "adjusted": p.adjusted,
            "adj_close": p.adj_close,
            "for_publication": p.for_publication,
            "retrieved_at": now,
        }
        for p in points
    }
    return await _upsert_quotes(session, list(rows.values()))


async def store_rates(
    session: AsyncSession, source: Source, points: Sequence[RatePoint], now: datetime
) -> int:
    specs = {point.series: _rate_spec(point) for point in points}
    ids = await _instrument_ids(session, specs.values())
    rows = {
        (ids[p.series], p.as_of): {
            "instrument_id": ids[p.series],
            "as_of": p.as_of,
            "open": None,
            "high": None,
            "low": None,
            "close": p.value,
            "volume": None,
            "currency": specs[p.series].currency,
            "unit": p.unit,
            "source": source.name,
            "adjusted": False,
            "adj_close": None,
            "for_publication": True,
            "retrieved_at": now,
        }
        for p in points
    }
    return await _upsert_quotes(session, list(rows.values()))
