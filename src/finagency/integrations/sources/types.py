"""Plain values that source parsers return: news entries, prices, rates, fetch results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class NewsEntry:
    """One headline from a feed or filing index; ``published_at`` is UTC when known."""

    guid: str
    url: str
    title: str
    summary: str
    published_at: datetime | None
    source: str
    tickers: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One OHLCV bar.

    ``adjusted`` says ``close`` is split-adjusted; ``adj_close`` (when the source has it)
    is also dividend-adjusted. ``for_publication`` is False for sources whose terms forbid
    republishing the numbers (development fallbacks such as Yahoo).
    """

    symbol: str
    as_of: datetime
    open: float | None
    high: float | None
    low: float | None
    close: float
    volume: float | None
    currency: str
    adjusted: bool
    adj_close: float | None
    source: str
    for_publication: bool


@dataclass(frozen=True, slots=True)
class RatePoint:
    """One observation of a rate series ("EUR/USD" in "USD per EUR", "UST.10Y" in "%")."""

    series: str
    as_of: datetime
    value: float
    unit: str
    source: str
    label: str


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of a conditional GET; ``body`` is empty when ``not_modified``."""

    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    not_modified: bool
    url: str
