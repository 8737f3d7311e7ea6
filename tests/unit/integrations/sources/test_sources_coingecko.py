"""CoinGecko parsers and client, against bodies written from the documented shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.integrations.sources import MalformedPayloadError
from finagency.integrations.sources.coingecko import (
    ATTRIBUTION,
    CoinGeckoClient,
    parse_market_chart,
    parse_simple_price,
    simple_price_params,
    simple_price_url,
)
from finagency.integrations.sources.limiter import IntervalLimiter

SIMPLE = json.dumps(
    {
        "bitcoin": {
            "usd": 67187.3358448,
            "usd_market_cap": 1317802988326.25,
            "usd_24h_vol": 31260929299.5248,
            "usd_24h_change": 3.637278946773539,
            "last_updated_at": 1711356300,
        },
        "ethereum": {
            "usd": 3465.8217,
            "usd_24h_change": -0.512,
            "last_updated_at": 1711356290,
        },
    }
).encode()
CHART = json.dumps(
    {
        "prices": [[1711324800000, 64000.5], [1711328400000, None], [1711332000000, 64512.25]],
        "market_caps": [[1711324800000, 1.26e12]],
        "total_volumes": [[1711324800000, 2.9e10]],
    }
).encode()


def _client(transport: httpx.MockTransport, **kwargs: object) -> CoinGeckoClient:
    http = httpx.AsyncClient(transport=transport)
    return CoinGeckoClient(http, limiter=IntervalLimiter(1000.0), **kwargs)  # type: ignore[arg-type]


def test_attribution_text() -> None:
    assert ATTRIBUTION == "Data provided by CoinGecko"


def test_parse_simple_price() -> None:
    points = parse_simple_price(SIMPLE, ids=["ethereum", "bitcoin"])
    assert [p.symbol for p in points] == ["CRYPTO.ETHEREUM", "CRYPTO.BITCOIN"]
    btc = points[1]
    assert btc.close == 67187.3358448
    assert btc.as_of == datetime(2024, 3, 25, 8, 45, tzinfo=UTC)
    assert btc.currency == "USD"
    assert btc.source == "coingecko"
    assert btc.for_publication is True
    assert (btc.open, btc.high, btc.low, btc.volume, btc.adj_close) == (None,) * 5


def test_parse_simple_price_all_coins_and_missing_ids() -> None:
    assert [p.symbol for p in parse_simple_price(SIMPLE)] == ["CRYPTO.BITCOIN", "CRYPTO.ETHEREUM"]
    # CoinGecko silently drops unknown ids: skip them, but refuse an answer with none left.
    assert len(parse_simple_price(SIMPLE, ids=["bitcoin", "not-a-coin"])) == 1
    with pytest.raises(PermanentExternalError, match="not-a-coin"):
        parse_simple_price(b"{}", ids=["not-a-coin"])
    # No price in the asked currency: skipped.
    with pytest.raises(PermanentExternalError, match="no eur price"):
        parse_simple_price(SIMPLE, ids=["bitcoin"], vs_currency="eur")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b"<html>", "not valid JSON"),
        (b"[]", "expected an object"),
        (b'{"bitcoin": 5}', "expected an object"),
        (b'{"bitcoin": {"usd": 1.0}}', "include_last_updated_at"),
        (b'{"bitcoin": {"usd": "x", "last_updated_at": 1711356300}}', "expected a number"),
        (b'{"bitcoin": {"usd": -1, "last_updated_at": 1711356300}}', "non-negative"),
        (b'{"bitcoin": {"usd": 1, "last_updated_at": 0}}', "epoch"),
    ],
)
def test_parse_simple_price_malformed(body: bytes, message: str) -> None:
    with pytest.raises(MalformedPayloadError, match=message):
        parse_simple_price(body, ids=["bitcoin"])


def test_parse_error_body() -> None:
    body = b'{"status": {"error_code": 429, "error_message": "You\'ve exceeded the Rate Limit."}}'
    with pytest.raises(PermanentExternalError, match="exceeded the Rate Limit"):
        parse_simple_price(body, ids=["bitcoin"])


def test_parse_market_chart() -> None:
    points = parse_market_chart(CHART, coin_id="bitcoin", vs_currency="eur")
    assert [p.close for p in points] == [64000.5, 64512.25]
    assert points[0].as_of == datetime(2024, 3, 25, 0, 0, tzinfo=UTC)
    assert points[0].currency == "EUR"
    assert points[0].symbol == "CRYPTO.BITCOIN"
    with pytest.raises(MalformedPayloadError, match="missing field 'prices'"):
        parse_market_chart(b'{"market_caps": []}', coin_id="bitcoin")
    with pytest.raises(MalformedPayloadError, match="epoch_ms, price"):
        parse_market_chart(b'{"prices": [[1711324800000]]}', coin_id="bitcoin")


def test_simple_price_url_round_trip() -> None:
    url = simple_price_url(["bitcoin", "Ethereum"])
    assert url == (
        "https://api.coingecko.com/api/v3/simple/price?ids=bitcoin%2Cethereum&vs_currencies=usd"
        "&include_last_updated_at=true&include_24hr_change=true&precision=full"
    )
    assert simple_price_params(url) == (["bitcoin", "ethereum"], "usd")
    with pytest.raises(ValueError, match="not a CoinGecko coin id"):
        simple_price_url(["bit coin"])


async def test_demo_client_request_and_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=SIMPLE)

    client = _client(httpx.MockTransport(handler), api_key="CG-demo-key")
    points = await client.simple_price(["bitcoin", "ethereum"])
    assert len(points) == 2
    request = seen[0]
    assert request.url.host == "api.coingecko.com"
    assert request.url.path == "/api/v3/simple/price"
    assert dict(request.url.params) == {
        "ids": "bitcoin,ethereum",
        "vs_currencies": "usd",
        "include_last_updated_at": "true",
        "include_24hr_change": "true",
        "precision": "full",
    }
    assert request.headers["x-cg-demo-api-key"] == "CG-demo-key"
    assert "x-cg-pro-api-key" not in request.headers
    assert "CG-demo-key" not in str(request.url)


async def test_pro_client_uses_pro_host_and_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=CHART)

    client = _client(httpx.MockTransport(handler), api_key="CG-pro-key", pro=True)
    points = await client.market_chart("bitcoin", days=7)
    assert len(points) == 2
    request = seen[0]
    assert str(request.url) == (
        "https://pro-api.coingecko.com/api/v3/coins/bitcoin/market_chart?vs_currency=usd&days=7"
    )
    assert request.headers["x-cg-pro-api-key"] == "CG-pro-key"
    assert "x-cg-demo-api-key" not in request.headers


async def test_keyless_demo_sends_no_key_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=SIMPLE)

    await _client(httpx.MockTransport(handler)).simple_price(["bitcoin"])
    assert not any(h.startswith("x-cg-") for h in seen[0].headers)


async def test_pro_without_key_is_refused() -> None:
    with pytest.raises(AuthExpiredError, match="pro API needs an API key"):
        _client(httpx.MockTransport(lambda r: httpx.Response(500)), pro=True)


async def test_429_retry_after_gives_reset_time() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429,
            headers={"Retry-After": "45"},
            json={
                "status": {"error_code": 429, "error_message": "You've exceeded the Rate Limit."}
            },
        )

    before = datetime.now(UTC)
    with pytest.raises(RateLimitedExternalError) as caught:
        await _client(httpx.MockTransport(handler), api_key="k").simple_price(["bitcoin"])
    reset_at = caught.value.reset_at
    assert reset_at is not None
    assert 44 <= (reset_at - before).total_seconds() <= 50


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthExpiredError),
        (404, PermanentExternalError),
        (500, TransientExternalError),
    ],
)
async def test_other_errors_are_typed(status: int, error: type[Exception]) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(status, json={"error": "x"}))
    with pytest.raises(error):
        await _client(transport, api_key="k").market_chart("bitcoin")


async def test_malformed_body_from_client() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"<html>cf</html>"))
    with pytest.raises(MalformedPayloadError):
        await _client(transport).simple_price(["bitcoin"])
