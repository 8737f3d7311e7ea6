"""The market domain's public entry: configure sources, poll them, read news and quotes.

Failure policy of ``poll_source``: whatever a source answers (HTTP errors, an HTML page, a
broken feed, a refused URL) is recorded on the source and returned in
``PollResult.error``; it never raises for bad data and never touches rows already stored.
The one exception is ``RateLimitedExternalError`` (HTTP 429): the source's health is
recorded (flushed) and the error propagates, so the calling job can commit and snooze
until ``reset_at`` instead of hammering the source. A failed poll is not retried by the
queue: the next due poll is the retry.

Like every service here, nothing is committed: the job or request that calls commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.errors import AppError, Conflict, RateLimitedExternalError, ValidationFailed
from finagency.integrations.sources import FetchResult, fetch
from finagency.integrations.sources.coingecko import auth_headers
from finagency.integrations.sources.fred import FredClient, series_id_from_url
from finagency.market.demo import DEMO_SOURCES, demo_file, is_demo_url, read_demo_file
from finagency.market.ingest import (
    known_tickers,
    parse_body,
    store_news,
    store_prices,
    store_rates,
)
from finagency.market.queries import (
    SourceHealth,
    health_status,
    instrument,
    latest_quotes,
    latest_rate,
    list_news,
    list_quotes,
    mark_news_used,
    news_between,
    quotes_between,
    source_health,
    symbols_of_kind,
    unused_news,
)
from finagency.models import Source

__all__ = [
    "DEMO_SOURCES",
    "MIN_POLL_INTERVAL_SECONDS",
    "SOURCE_KINDS",
    "PollResult",
    "SourceHealth",
    "SourceKeys",
    "check_source_url",
    "create_source",
    "ensure_demo_sources",
    "health_status",
    "instrument",
    "is_due",
    "latest_quotes",
    "latest_rate",
    "list_news",
    "list_quotes",
    "mark_news_used",
    "news_between",
    "poll_source",
    "quotes_between",
    "source_health",
    "symbols_of_kind",
    "unused_news",
]

SOURCE_KINDS = frozenset(
    {"rss", "edgar_atom", "ecb_daily", "treasury_yield", "yahoo_chart", "fred", "coingecko"}
)


@dataclass(frozen=True, slots=True)
class SourceKeys:
    """API keys for keyed sources; they come from settings and never live in the source row."""

    fred_api_key: str | None = None
    coingecko_api_key: str | None = None
    coingecko_pro: bool = False


MIN_POLL_INTERVAL_SECONDS = 10
_MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class PollResult:
    source_id: int
    new_items: int = 0  # news items stored
    new_quotes: int = 0  # quotes that did not exist before (existing ones are refreshed)
    skipped_duplicates: int = 0
    not_modified: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_source_url(url: str, *, allow_files: bool = False) -> str:
    """The URL stripped, if a source may use it: http(s) with a host, or (when
    ``allow_files``) a ``demo:`` file shipped with the package. ``ValidationFailed`` if not."""
    url = url.strip()
    if is_demo_url(url):
        if not allow_files:
            raise ValidationFailed("demo: URLs are for the bundled demo sources only")
        demo_file(url)
        return url
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(f"{url!r}: a source URL must be http:// or https:// with a host")
    return url


def is_due(source: Source, now: datetime) -> bool:
    """Enabled and never polled, or its interval has passed since the last poll."""
    if not source.enabled:
        return False
    if source.last_polled_at is None:
        return True
    return (now - source.last_polled_at).total_seconds() >= source.poll_interval_seconds


async def create_source(
    session: AsyncSession,
    *,
    name: str,
    kind: str,
    url: str,
    poll_interval_seconds: int = 300,
    enabled: bool = True,
    allow_files: bool = False,
) -> Source:
    """Add a source; ``ValidationFailed`` for a bad kind, URL or interval, ``Conflict`` for a
    name already taken."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed("a source needs a name of 1 to 100 characters")
    if kind not in SOURCE_KINDS:
        raise ValidationFailed(
            f"unknown source kind {kind!r}; expected one of {', '.join(sorted(SOURCE_KINDS))}"
        )
    if poll_interval_seconds < MIN_POLL_INTERVAL_SECONDS:
        raise ValidationFailed(
            f"poll interval must be at least {MIN_POLL_INTERVAL_SECONDS} seconds"
        )
    url = check_source_url(url, allow_files=allow_files)
    if await session.scalar(select(Source.id).where(Source.name == name)) is not None:
        raise Conflict(f"a source named {name!r} already exists")
    source = Source(
        name=name,
        kind=kind,
        url=url,
        poll_interval_seconds=poll_interval_seconds,
        enabled=enabled,
        consecutive_failures=0,
        items_total=0,
    )
    session.add(source)
    await session.flush()
    return source


async def ensure_demo_sources(session: AsyncSession) -> list[Source]:
    """The demo sources, created if missing (idempotent; existing ones are left as they are)."""
    sources: list[Source] = []
    for name, kind, url in DEMO_SOURCES:
        existing = (
            await session.execute(select(Source).where(Source.name == name))
        ).scalar_one_or_none()
        sources.append(
            existing
            or await create_source(session, name=name, kind=kind, url=url, allow_files=True)
        )
    return sources


async def _fetch(source: Source, http: httpx.AsyncClient, keys: SourceKeys) -> FetchResult:
    if is_demo_url(source.url):
        body = await read_demo_file(source.url)
        return FetchResult(200, body, None, None, False, source.url)
    check_source_url(source.url)  # a row edited behind our back is refused, not fetched
    if source.kind == "fred":
        # The key is added at fetch time (a missing one fails clearly, as auth expired).
        client = FredClient(http, api_key=keys.fred_api_key or "")
        body = await client.get(
            client.with_key(source.url), series_id=series_id_from_url(source.url)
        )
        return FetchResult(200, body, None, None, False, source.url)
    headers = None
    if source.kind == "coingecko":
        headers = auth_headers(keys.coingecko_api_key, pro=keys.coingecko_pro)
    return await fetch(
        http, source.url, etag=source.etag, last_modified=source.last_modified, headers=headers
    )


def _record_failure(source: Source, now: datetime, error: AppError) -> str:
    message = f"{error.code}: {error.message}"[:_MAX_ERROR_LENGTH]
    source.last_error_at = now
    source.last_error = message
    source.consecutive_failures = (source.consecutive_failures or 0) + 1
    return message


def _record_success(source: Source, now: datetime, fetched: FetchResult, stored: int) -> None:
    source.last_success_at = now
    source.last_error = None
    source.consecutive_failures = 0
    source.items_total = (source.items_total or 0) + stored
    # Saved only after a successful read, so a body we failed on is fetched again in full.
    source.etag = fetched.etag
    source.last_modified = fetched.last_modified


async def poll_source(
    session: AsyncSession,
    source: Source,
    http: httpx.AsyncClient,
    *,
    now: datetime,
    keys: SourceKeys | None = None,
) -> PollResult:
    """Fetch (conditional GET) or read the demo file, parse by kind, store what is new and
    update the source's health. See the module docstring for what raises."""
    # The fetch comes before any query, so no transaction is open during network waits.
    try:
        fetched = await _fetch(source, http, keys or SourceKeys())
        parsed = None
        if not fetched.not_modified:
            known = await known_tickers(session) if source.kind == "rss" else set()
            parsed = parse_body(
                source.kind, fetched.body, source_name=source.name, known=known, url=source.url
            )
    except RateLimitedExternalError as error:
        source.last_polled_at = now
        _record_failure(source, now, error)
        await session.flush()
        raise
    except AppError as error:
        source.last_polled_at = now
        message = _record_failure(source, now, error)
        await session.flush()
        return PollResult(source.id, error=message)
    source.last_polled_at = now
    if parsed is None:
        _record_success(source, now, fetched, 0)
        await session.flush()
        return PollResult(source.id, not_modified=True)
    new_items, skipped = await store_news(session, source, parsed.news, now)
    new_quotes = await store_prices(session, source, parsed.prices, now)
    new_quotes += await store_rates(session, source, parsed.rates, now)
    _record_success(source, now, fetched, new_items + new_quotes)
    await session.flush()
    return PollResult(
        source.id, new_items=new_items, new_quotes=new_quotes, skipped_duplicates=skipped
    )
