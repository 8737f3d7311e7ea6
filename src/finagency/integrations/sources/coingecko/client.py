"""CoinGecko client over an injected httpx client: demo or pro key in a header, paced.

Demo (and keyless) calls go to ``api.coingecko.com`` with ``x-cg-demo-api-key``; pro plans
go to ``pro-api.coingecko.com`` with ``x-cg-pro-api-key``. The key is sent as a header,
never in the query, so URLs in errors and source rows hold no secret. The demo plan allows
about 30 calls/minute and 10,000/month, and every call counts, errors included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import httpx

from finagency.core.errors import AuthExpiredError
from finagency.integrations.sources.coingecko.parser import (
    normalize_coin_id,
    normalize_currency,
    parse_market_chart,
    parse_simple_price,
)
from finagency.integrations.sources.fetch import fetch
from finagency.integrations.sources.limiter import IntervalLimiter
from finagency.integrations.sources.types import FetchResult, PricePoint

DEMO_BASE_URL = "https://api.coingecko.com/api/v3"
PRO_BASE_URL = "https://pro-api.coingecko.com/api/v3"
DEMO_KEY_HEADER = "x-cg-demo-api-key"
PRO_KEY_HEADER = "x-cg-pro-api-key"
DEMO_REQUESTS_PER_SECOND = 0.5  # about 30 calls/minute on the demo plan


def auth_headers(api_key: str | None, *, pro: bool = False) -> dict[str, str]:
    """The key header for the plan (empty for keyless demo use).

    ``AuthExpiredError`` when ``pro`` is asked for without a key.
    """
    key = (api_key or "").strip()
    if pro and not key:
        raise AuthExpiredError(
            "the CoinGecko pro API needs an API key (header x-cg-pro-api-key); none is configured"
        )
    if not key:
        return {}
    return {PRO_KEY_HEADER if pro else DEMO_KEY_HEADER: key}


def simple_price_url(
    ids: Iterable[str], *, vs_currencies: Sequence[str] = ("usd",), base_url: str = DEMO_BASE_URL
) -> str:
    """A ``/simple/price`` URL with ``include_last_updated_at`` and ``include_24hr_change``."""
    coin_ids = [normalize_coin_id(i) for i in ids]
    if not coin_ids:
        raise ValueError("at least one CoinGecko id is needed")
    currencies = [normalize_currency(c) for c in vs_currencies]
    if not currencies:
        raise ValueError("at least one vs_currency is needed")
    params = httpx.QueryParams(
        {
            "ids": ",".join(coin_ids),
            "vs_currencies": ",".join(currencies),
            "include_last_updated_at": "true",
            "include_24hr_change": "true",
            "precision": "full",
        }
    )
    return f"{base_url.rstrip('/')}/simple/price?{params}"


class CoinGeckoClient:
    """Reads CoinGecko through ``http`` (normally the guarded client).

    Errors come from ``fetch``: ``RateLimitedExternalError`` for 429 (``reset_at`` from
    Retry-After, else +60 s), ``AuthExpiredError`` for 401/403 (bad or missing key),
    ``PermanentExternalError`` for other 4xx (unknown coin) and ``TransientExternalError``
    for 5xx and network failures. Show ``ATTRIBUTION`` wherever the data is displayed.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str | None = None,
        pro: bool = False,
        base_url: str | None = None,
        limiter: IntervalLimiter | None = None,
        max_per_second: float = DEMO_REQUESTS_PER_SECOND,
    ) -> None:
        self._http = http
        self._headers = auth_headers(api_key, pro=pro)
        self.pro = pro
        self.base_url = (base_url or (PRO_BASE_URL if pro else DEMO_BASE_URL)).rstrip("/")
        self._limiter = limiter or IntervalLimiter(max_per_second)

    @property
    def headers(self) -> dict[str, str]:
        """The key header to send (a copy), for callers that fetch stored URLs themselves."""
        return dict(self._headers)

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """A paced conditional GET with the key header; errors are typed."""
        await self._limiter.acquire()
        return await fetch(
            self._http,
            url,
            etag=etag,
            last_modified=last_modified,
            headers={"Accept": "application/json", **self._headers},
        )

    async def simple_price(
        self, ids: Iterable[str], *, vs_currency: str = "usd"
    ) -> list[PricePoint]:
        coin_ids = [normalize_coin_id(i) for i in ids]
        url = simple_price_url(coin_ids, vs_currencies=(vs_currency,), base_url=self.base_url)
        result = await self.get(url)
        return parse_simple_price(result.body, ids=coin_ids, vs_currency=vs_currency)

    async def market_chart(
        self, coin_id: str, *, vs_currency: str = "usd", days: int = 1
    ) -> list[PricePoint]:
        """Prices of the last ``days`` days (CoinGecko picks the granularity from ``days``)."""
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days}")
        params = httpx.QueryParams({"vs_currency": normalize_currency(vs_currency), "days": days})
        url = f"{self.base_url}/coins/{normalize_coin_id(coin_id)}/market_chart?{params}"
        result = await self.get(url)
        return parse_market_chart(result.body, coin_id=coin_id, vs_currency=vs_currency)
