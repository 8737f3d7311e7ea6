"""The market API's response shapes: news, quotes and sources' health."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class NewsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source_id: int
    url: str
    title: str
    summary: str
    published_at: datetime | None
    fetched_at: datetime
    tickers: list[str]
    used: bool


class QuoteRead(BaseModel):
    symbol: str
    name: str
    kind: str
    as_of: datetime
    close: float
    open: float | None
    high: float | None
    low: float | None
    volume: float | None
    currency: str | None
    unit: str
    source: str
    adjusted: bool
    retrieved_at: datetime
    for_publication: bool = Field(
        True, description="False for sources with no licence to republish (Yahoo): dev only"
    )
    attribution: str | None = Field(
        None, description="Credit the source's terms require next to its data (CoinGecko)"
    )


class SourceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    enabled: bool
    status: str = Field(description="ok, failing or never (not polled yet)")
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    items_total: int
    items_last_24h: int
