"""FRED observations parser and client, against bodies written from the documented shape."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.integrations.sources import MalformedPayloadError
from finagency.integrations.sources.fred import (
    FredClient,
    observations_url,
    parse_observations,
    redact_api_key,
    series_id_from_url,
)
from finagency.integrations.sources.limiter import IntervalLimiter

KEY = "abcdefghij0123456789abcdefghij01"
NOW = datetime(2024, 1, 5, 12, 0, tzinfo=UTC)


def _observations(*rows: tuple[str, str]) -> bytes:
    return json.dumps(
        {
            "realtime_start": "2024-01-05",
            "realtime_end": "2024-01-05",
            "observation_start": "2024-01-01",
            "observation_end": "2024-01-05",
            "units": "lin",
            "output_type": 1,
            "file_type": "json",
            "order_by": "observation_date",
            "sort_order": "asc",
            "count": len(rows),
            "offset": 0,
            "limit": 100000,
            "observations": [
                {
                    "realtime_start": "2024-01-05",
                    "realtime_end": "2024-01-05",
                    "date": d,
                    "value": v,
                }
                for d, v in rows
            ],
        }
    ).encode()


BODY = _observations(
    ("2024-01-01", "."), ("2024-01-02", "3.95"), ("2024-01-03", "3.91"), ("2024-01-04", "3.99")
)
BAD_SERIES = json.dumps(
    {"error_code": 400, "error_message": "Bad Request.  The series does not exist."}
).encode()


def _client(transport: httpx.MockTransport) -> FredClient:
    http = httpx.AsyncClient(transport=transport)
    return FredClient(http, api_key=KEY, limiter=IntervalLimiter(1000.0), clock=lambda: NOW)


def test_parse_skips_missing_values() -> None:
    points = parse_observations(BODY, series_id="dgs10", units="%")
    assert [p.as_of for p in points] == [datetime(2024, 1, d, tzinfo=UTC) for d in (2, 3, 4)]
    assert [p.value for p in points] == [3.95, 3.91, 3.99]
    first = points[0]
    assert first.series == "FRED.DGS10"
    assert first.unit == "%"
    assert first.source == "fred"
    assert first.label == "FRED DGS10 (%)"


def test_parse_all_missing_gives_nothing() -> None:
    assert parse_observations(_observations(("2024-01-01", ".")), series_id="DGS10") == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b"<observations/>", "not valid JSON"),
        (b"[]", "expected an object"),
        (b'{"count": 0}', "missing field 'observations'"),
        (b'{"observations": {}}', "expected a list"),
        (b'{"observations": [{"date": "2024-01-02"}]}', "missing field 'value'"),
        (b'{"observations": [{"date": "2024-01-02", "value": "n/a"}]}', "expected a number"),
        (b'{"observations": [{"date": "2024-01-02", "value": "NaN"}]}', "finite"),
        (b'{"observations": [{"date": "Jan 2", "value": "1"}]}', "YYYY-MM-DD"),
    ],
)
def test_parse_malformed(body: bytes, message: str) -> None:
    with pytest.raises(MalformedPayloadError, match=message):
        parse_observations(body, series_id="DGS10")


def test_parse_error_document_names_the_message() -> None:
    with pytest.raises(PermanentExternalError, match="series does not exist"):
        parse_observations(BAD_SERIES, series_id="NOPE")


def test_parse_rejects_bad_series_id() -> None:
    with pytest.raises(ValueError, match="not a FRED series id"):
        parse_observations(BODY, series_id="DGS10&api_key=x")


def test_observations_url_and_series_from_url() -> None:
    url = observations_url("dgs10", start=date(2024, 1, 1), end=date(2024, 1, 31), limit=10)
    assert url == (
        "https://api.stlouisfed.org/fred/series/observations?series_id=DGS10&file_type=json"
        "&observation_start=2024-01-01&observation_end=2024-01-31&sort_order=asc&limit=10"
    )
    assert "api_key" not in url
    assert series_id_from_url(url) == "DGS10"
    with pytest.raises(ValueError, match="limit"):
        observations_url("DGS10", limit=100_001)
    with pytest.raises(ValueError, match="after"):
        observations_url("DGS10", start=date(2024, 2, 1), end=date(2024, 1, 1))


def test_redact_api_key() -> None:
    assert redact_api_key(f"x?series_id=A&api_key={KEY}&file_type=json") == (
        "x?series_id=A&api_key=***&file_type=json"
    )


async def test_client_builds_documented_query() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=BODY)

    client = _client(httpx.MockTransport(handler))
    points = await client.observations(
        "DGS10", start=date(2024, 1, 1), end=date(2024, 1, 5), sort_order="desc", units="%"
    )
    assert len(points) == 3
    request = seen[0]
    assert request.method == "GET"
    assert request.url.scheme == "https"
    assert request.url.host == "api.stlouisfed.org"
    assert request.url.path == "/fred/series/observations"
    assert dict(request.url.params) == {
        "series_id": "DGS10",
        "api_key": KEY,
        "file_type": "json",
        "observation_start": "2024-01-01",
        "observation_end": "2024-01-05",
        "sort_order": "desc",
        "limit": "100000",
    }


def test_client_with_key_adds_key_to_stored_url() -> None:
    client = _client(httpx.MockTransport(lambda r: httpx.Response(200, content=BODY)))
    keyed = client.with_key(observations_url("DGS10"))
    params = httpx.URL(keyed).params
    assert params["api_key"] == KEY
    assert params["file_type"] == "json"
    assert params["series_id"] == "DGS10"


async def test_bad_series_is_permanent_and_named() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, content=BAD_SERIES)

    client = _client(httpx.MockTransport(handler))
    with pytest.raises(PermanentExternalError) as caught:
        await client.observations("NOTASERIES")
    message = caught.value.message
    assert "FRED series NOTASERIES" in message
    assert "The series does not exist." in message
    assert KEY not in message
    assert "api_key=***" in message
    assert not isinstance(caught.value, AuthExpiredError)


async def test_refused_key_is_auth_error_without_the_key() -> None:
    body = json.dumps(
        {
            "error_code": 400,
            "error_message": "Bad Request.  The value for variable api_key is not registered.  "
            "Read https://fred.stlouisfed.org/docs/api/api_key.html for more information.",
        }
    ).encode()
    client = _client(httpx.MockTransport(lambda r: httpx.Response(400, content=body)))
    with pytest.raises(AuthExpiredError, match="refused the API key") as caught:
        await client.observations("DGS10")
    assert KEY not in caught.value.message


async def test_429_with_retry_after_sets_reset_time() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429,
            headers={"Retry-After": "30"},
            json={"error_code": 429, "error_message": "Too Many Requests.  Exceeded Rate Limit"},
        )

    client = _client(httpx.MockTransport(handler))
    with pytest.raises(RateLimitedExternalError) as caught:
        await client.observations("DGS10")
    assert caught.value.reset_at == NOW + timedelta(seconds=30)
    assert KEY not in caught.value.message


async def test_429_without_retry_after_waits_a_minute() -> None:
    client = _client(httpx.MockTransport(lambda r: httpx.Response(429)))
    with pytest.raises(RateLimitedExternalError) as caught:
        await client.observations("DGS10")
    assert caught.value.reset_at == NOW + timedelta(seconds=60)


async def test_server_error_and_timeout_are_transient() -> None:
    client = _client(httpx.MockTransport(lambda r: httpx.Response(503, text="down")))
    with pytest.raises(TransientExternalError):
        await client.observations("DGS10")

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    client = _client(httpx.MockTransport(timeout))
    with pytest.raises(TransientExternalError) as caught:
        await client.observations("DGS10")
    assert KEY not in caught.value.message


async def test_malformed_body_from_client() -> None:
    client = _client(
        httpx.MockTransport(lambda r: httpx.Response(200, content=b"<html>oops</html>"))
    )
    with pytest.raises(MalformedPayloadError, match="not valid JSON"):
        await client.observations("DGS10")


@pytest.mark.parametrize("key", [None, "", "   "])
async def test_missing_key_is_refused_before_any_request(key: str | None) -> None:
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(500))
    ) as http:
        with pytest.raises(AuthExpiredError, match="FRED needs an API key"):
            FredClient(http, api_key=key)


async def test_ill_formed_key_is_refused_without_echoing_it() -> None:
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(500))
    ) as http:
        with pytest.raises(AuthExpiredError, match="32 lower-case") as caught:
            FredClient(http, api_key="SECRET-but-wrong")
    assert "SECRET" not in caught.value.message
