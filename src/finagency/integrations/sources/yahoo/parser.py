"""Parse Yahoo Finance chart v8 JSON into price bars (development fallback, not for posts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from finagency.core.errors import PermanentExternalError
from finagency.integrations.sources._payload import (
    as_float,
    as_list,
    field,
    load_json,
    mapping,
)
from finagency.integrations.sources.errors import MalformedPayloadError
from finagency.integrations.sources.types import PricePoint

SOURCE = "yahoo"


def _column(block: Any, key: str, length: int, *, what: str) -> list[Any]:
    values = as_list(mapping(block, what=what).get(key, [None] * length), what=f"{what}.{key}")
    if len(values) != length:
        raise MalformedPayloadError(
            f"{what}.{key} has {len(values)} values for {length} timestamps"
        )
    return values


def _number(value: Any, *, what: str) -> float | None:
    return None if value is None else as_float(value, what=what)


def parse_chart(body: bytes | str, *, source: str = SOURCE) -> list[PricePoint]:
    """Bars from ``v8/finance/chart/{symbol}``; rows with a null close are skipped.

    ``close`` is split-adjusted (``adjusted=True``) and ``adj_close`` is also adjusted for
    dividends. Never take prices from ``meta``: it describes the moment of the request.
    Yahoo grants no licence to republish, so every bar has ``for_publication=False``.
    """
    what = "Yahoo chart"
    chart = mapping(
        field(mapping(load_json(body, what=what), what=what), "chart", what=what),
        what=f"{what}.chart",
    )
    error = chart.get("error")
    if error:
        detail = mapping(error, what=f"{what}.error")
        raise PermanentExternalError(
            f"{what}: {detail.get('code', 'error')}: {detail.get('description', '')}".rstrip(": ")
        )
    results = as_list(field(chart, "result", what=what), what=f"{what}.result")
    if not results:
        raise MalformedPayloadError(f"{what}: empty result")
    result = mapping(results[0], what=f"{what}.result[0]")
    meta = mapping(field(result, "meta", what=what), what=f"{what}.meta")
    symbol = str(field(meta, "symbol", what=f"{what}.meta"))
    currency = str(meta.get("currency") or "")
    timestamps = as_list(result.get("timestamp", []), what=f"{what}.timestamp")
    count = len(timestamps)
    indicators = mapping(field(result, "indicators", what=what), what=f"{what}.indicators")
    quotes = as_list(field(indicators, "quote", what=what), what=f"{what}.quote")
    if not quotes and count:
        raise MalformedPayloadError(f"{what}: indicators.quote is empty")
    quote = quotes[0] if quotes else {}
    columns = {
        key: _column(quote, key, count, what=f"{what}.quote")
        for key in ("open", "high", "low", "close", "volume")
    }
    adj_blocks = as_list(indicators.get("adjclose") or [], what=f"{what}.adjclose")
    adj = _column(adj_blocks[0], "adjclose", count, what=what) if adj_blocks else [None] * count
    points: list[PricePoint] = []
    for i, stamp in enumerate(timestamps):
        close = _number(columns["close"][i], what=f"{what} close")
        if close is None:
            continue
        if isinstance(stamp, bool) or not isinstance(stamp, int | float):
            raise MalformedPayloadError(f"{what}: timestamp {stamp!r} is not epoch seconds")
        points.append(
            PricePoint(
                symbol=symbol,
                as_of=datetime.fromtimestamp(stamp, UTC),
                open=_number(columns["open"][i], what=f"{what} open"),
                high=_number(columns["high"][i], what=f"{what} high"),
                low=_number(columns["low"][i], what=f"{what} low"),
                close=close,
                volume=_number(columns["volume"][i], what=f"{what} volume"),
                currency=currency,
                adjusted=True,
                adj_close=_number(adj[i], what=f"{what} adjclose"),
                source=source,
                for_publication=False,
            )
        )
    return points
