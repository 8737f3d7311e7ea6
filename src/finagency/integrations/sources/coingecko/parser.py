"""Parse CoinGecko ``/simple/price`` and ``/coins/{id}/market_chart`` JSON into price points.

Symbols are ``"CRYPTO.<ID>"`` with the CoinGecko id upper-cased ("bitcoin" gives
"CRYPTO.BITCOIN", "usd-coin" gives "CRYPTO.USD-COIN"): ids, not tickers, because tickers
collide between coins (many coins call themselves "ETH"-something). ``currency`` is the
quote currency upper-cased ("USD").

CoinGecko's terms require attribution wherever its data appears: every point carries
``source="coingecko"`` (or the source name given) and ``for_publication=True`` on the
condition that ``ATTRIBUTION`` is shown next to the numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

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

SOURCE = "coingecko"
ATTRIBUTION = "Data provided by CoinGecko"
ATTRIBUTION_URL = "https://www.coingecko.com/"
SYMBOL_PREFIX = "CRYPTO."
_COIN_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
_CURRENCY = re.compile(r"[a-z0-9]{2,10}")


def normalize_coin_id(coin_id: str) -> str:
    """A CoinGecko id ("bitcoin", "usd-coin"), lower-cased and checked (``ValueError``)."""
    normalized = coin_id.strip().lower()
    if not _COIN_ID.fullmatch(normalized):
        raise ValueError(f"not a CoinGecko coin id: {coin_id!r}")
    return normalized


def normalize_currency(vs_currency: str) -> str:
    normalized = vs_currency.strip().lower()
    if not _CURRENCY.fullmatch(normalized):
        raise ValueError(f"not a CoinGecko vs_currency: {vs_currency!r}")
    return normalized


def coin_symbol(coin_id: str) -> str:
    """The instrument symbol for a coin: ``"CRYPTO.BITCOIN"``."""
    return f"{SYMBOL_PREFIX}{normalize_coin_id(coin_id).upper()}"


def simple_price_params(url: str) -> tuple[list[str], str]:
    """``(ids, vs_currency)`` of a stored ``/simple/price`` URL (the first vs_currency)."""
    query = parse_qs(urlsplit(url).query)
    ids = [normalize_coin_id(i) for i in ",".join(query.get("ids", [])).split(",") if i.strip()]
    currencies = [c for c in ",".join(query.get("vs_currencies", [])).split(",") if c.strip()]
    if not ids or not currencies:
        raise ValueError(f"a /simple/price URL needs ids and vs_currencies: {url!r}")
    return ids, normalize_currency(currencies[0])


def _raise_if_error(document: Any, what: str) -> None:
    # Error bodies: {"status": {"error_code": 429, "error_message": "..."}} or {"error": "..."}.
    if not isinstance(document, dict):
        return
    status = document.get("status")
    if isinstance(status, dict) and ("error_code" in status or "error_message" in status):
        raise PermanentExternalError(
            f"{what}: CoinGecko error {status.get('error_code', '?')}: "
            f"{status.get('error_message', 'no message')}"
        )
    error = document.get("error")
    if isinstance(error, str) and error:
        raise PermanentExternalError(f"{what}: CoinGecko error: {error}")


def _price(value: Any, *, what: str) -> float:
    price = as_float(value, what=what)
    if not math.isfinite(price) or price < 0:
        raise MalformedPayloadError(f"{what}: expected a non-negative price, got {value!r}")
    return price


def _epoch(value: Any, *, what: str, millis: bool = False) -> datetime:
    seconds = as_float(value, what=what) / (1000 if millis else 1)
    if not math.isfinite(seconds) or seconds <= 0:
        raise MalformedPayloadError(f"{what}: expected an epoch time, got {value!r}")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedPayloadError(f"{what}: epoch time out of range: {value!r}") from None


def _point(coin_id: str, as_of: datetime, price: float, vs: str, source: str) -> PricePoint:
    return PricePoint(
        symbol=coin_symbol(coin_id),
        as_of=as_of,
        open=None,
        high=None,
        low=None,
        close=price,
        volume=None,  # CoinGecko volumes are 24 h turnover in the quote currency, not units
        currency=vs.upper(),
        adjusted=False,
        adj_close=None,
        source=source,
        for_publication=True,
    )


def parse_simple_price(
    body: bytes | str,
    *,
    ids: Iterable[str] | None = None,
    vs_currency: str = "usd",
    source: str = SOURCE,
) -> list[PricePoint]:
    """One ``PricePoint`` per coin from ``/simple/price`` (``close`` = the price).

    The request must include ``include_last_updated_at=true``: ``as_of`` is that time
    (UTC), never the time of the request. With ``ids``, points follow their order and an
    id missing from the body (CoinGecko silently drops unknown ids) or without a price in
    ``vs_currency`` is skipped; if none is left, ``PermanentExternalError`` names the ids
    (usually a typo in the ids). Without ``ids``, every coin in the body is read, sorted.
    The 24 h change and volume fields are not carried (``PricePoint`` has no place for them).
    """
    what = "CoinGecko simple/price"
    vs = normalize_currency(vs_currency)
    raw = load_json(body, what=what)
    _raise_if_error(raw, what)
    document = mapping(raw, what=what)
    wanted: Sequence[str] = (
        [normalize_coin_id(i) for i in ids] if ids is not None else sorted(document)
    )
    points: list[PricePoint] = []
    for coin_id in wanted:
        if coin_id not in document:
            continue
        where = f"{what}.{coin_id}"
        entry = mapping(document[coin_id], what=where)
        if entry.get(vs) is None:
            continue
        price = _price(entry[vs], what=f"{where}.{vs}")
        as_of = _epoch(
            field(entry, "last_updated_at", what=f"{where} (request include_last_updated_at=true)"),
            what=f"{where}.last_updated_at",
        )
        points.append(_point(coin_id, as_of, price, vs, source))
    if ids is not None and not points and wanted:
        raise PermanentExternalError(
            f"{what}: no {vs} price for {', '.join(wanted)} (unknown CoinGecko ids?)"
        )
    return points


def parse_market_chart(
    body: bytes | str,
    *,
    coin_id: str,
    vs_currency: str = "usd",
    source: str = SOURCE,
) -> list[PricePoint]:
    """One ``PricePoint`` per ``[epoch_ms, price]`` pair of ``/coins/{id}/market_chart``.

    ``as_of`` comes from the millisecond timestamps (the last pair is the live price at the
    time of the request); pairs with a null price are skipped.
    """
    what = f"CoinGecko market_chart for {coin_id}"
    vs = normalize_currency(vs_currency)
    raw = load_json(body, what=what)
    _raise_if_error(raw, what)
    document = mapping(raw, what=what)
    pairs = as_list(field(document, "prices", what=what), what=f"{what}.prices")
    points: list[PricePoint] = []
    for index, item in enumerate(pairs):
        where = f"{what}.prices[{index}]"
        pair = as_list(item, what=where)
        if len(pair) != 2:
            raise MalformedPayloadError(f"{where}: expected [epoch_ms, price], got {pair!r}")
        if pair[1] is None:
            continue
        as_of = _epoch(pair[0], what=f"{where}[0]", millis=True)
        points.append(_point(coin_id, as_of, _price(pair[1], what=f"{where}[1]"), vs, source))
    return points
