"""The market area: sources, instruments, quotes and news items (shared by all brands)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from finagency.models.base import Base, BigId, CreatedMixin, IdMixin


class Source(IdMixin, CreatedMixin, Base):
    """A feed or API polled on an interval, with its health."""

    __tablename__ = "source"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    # rss, edgar_atom, edgar_submissions, ecb, treasury, yahoo_chart, fred, coingecko
    kind: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(Text)
    poll_interval_seconds: Mapped[int] = mapped_column(Integer, default=300)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    etag: Mapped[str | None] = mapped_column(String(255), default=None)
    last_modified: Mapped[str | None] = mapped_column(String(64), default=None)
    last_polled_at: Mapped[datetime | None] = mapped_column(default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    items_total: Mapped[int] = mapped_column(Integer, default=0)


class Instrument(IdMixin, CreatedMixin, Base):
    __tablename__ = "instrument"

    symbol: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # equity, etf, index, crypto, fx, rate, macro
    kind: Mapped[str] = mapped_column(String(20), default="equity")
    currency: Mapped[str | None] = mapped_column(String(10), default=None)
    exchange: Mapped[str | None] = mapped_column(String(40), default=None)
    cik: Mapped[str | None] = mapped_column(String(10), default=None)


class Quote(IdMixin, Base):
    """One observation of an instrument: a daily bar, an FX fixing, a yield."""

    __tablename__ = "quote"
    __table_args__ = (
        UniqueConstraint("instrument_id", "as_of", "source"),
        Index("ix_quote_instrument_as_of", "instrument_id", "as_of"),
    )

    instrument_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("instrument.id", ondelete="CASCADE")
    )
    as_of: Mapped[datetime]
    open: Mapped[float | None] = mapped_column(Float, default=None)
    high: Mapped[float | None] = mapped_column(Float, default=None)
    low: Mapped[float | None] = mapped_column(Float, default=None)
    close: Mapped[float] = mapped_column(Float)
    volume: Mapped[float | None] = mapped_column(Float, default=None)
    currency: Mapped[str | None] = mapped_column(String(10), default=None)
    unit: Mapped[str] = mapped_column(String(40), default="")
    source: Mapped[str] = mapped_column(String(100))
    # Split-adjusted close vs. dividend-adjusted close: the basis is recorded, never guessed.
    adjusted: Mapped[bool] = mapped_column(Boolean, default=False)
    adj_close: Mapped[float | None] = mapped_column(Float, default=None)
    for_publication: Mapped[bool] = mapped_column(Boolean, default=True)
    retrieved_at: Mapped[datetime]


class NewsItem(IdMixin, Base):
    __tablename__ = "news_item"
    __table_args__ = (Index("ix_news_item_published_at", "published_at"),)

    source_id: Mapped[int] = mapped_column(BigId, ForeignKey("source.id", ondelete="CASCADE"))
    guid: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    tickers: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    url_hash: Mapped[str] = mapped_column(String(64), unique=True)
    simhash: Mapped[int] = mapped_column(BigInteger)
    fetched_at: Mapped[datetime]
    used: Mapped[bool] = mapped_column(Boolean, default=False)
