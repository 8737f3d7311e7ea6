"""Conditional GET and the mapping of HTTP outcomes to typed external errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.integrations.sources import fetch, parse_retry_after

URL = "https://feeds.example.com/rss.xml"
NOW = datetime(2025, 1, 24, 12, 0, tzinfo=UTC)


def client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_first_fetch_returns_body_and_validators() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "if-none-match" not in request.headers
        return httpx.Response(
            200,
            content=b"<rss/>",
            headers={"ETag": '"v1"', "Last-Modified": "Fri, 24 Jan 2025 16:00:00 GMT"},
        )

    async with client(handler) as c:
        result = await fetch(c, URL)
    assert result.status == 200
    assert result.body == b"<rss/>"
    assert result.etag == '"v1"'
    assert result.last_modified == "Fri, 24 Jan 2025 16:00:00 GMT"
    assert not result.not_modified
    assert result.url == URL


async def test_304_is_not_modified_and_keeps_validators() -> None:
    seen: dict[str, str] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        return httpx.Response(304)

    async with client(handler) as c:
        result = await fetch(c, URL, etag='"v1"', last_modified="Fri, 24 Jan 2025 16:00:00 GMT")
    assert seen["if-none-match"] == '"v1"'
    assert seen["if-modified-since"] == "Fri, 24 Jan 2025 16:00:00 GMT"
    assert result.not_modified
    assert result.body == b""
    assert result.etag == '"v1"'


async def test_429_with_retry_after_seconds_sets_reset_at() -> None:
    async with client(lambda r: httpx.Response(429, headers={"Retry-After": "120"})) as c:
        with pytest.raises(RateLimitedExternalError) as caught:
            await fetch(c, URL, clock=lambda: NOW)
    assert caught.value.reset_at == NOW + timedelta(seconds=120)
    assert URL in caught.value.message
    assert "429" in caught.value.message


async def test_429_with_http_date_retry_after() -> None:
    headers = {"Retry-After": "Fri, 24 Jan 2025 12:05:00 GMT"}
    async with client(lambda r: httpx.Response(429, headers=headers)) as c:
        with pytest.raises(RateLimitedExternalError) as caught:
            await fetch(c, URL, clock=lambda: NOW)
    assert caught.value.reset_at == datetime(2025, 1, 24, 12, 5, tzinfo=UTC)


async def test_429_without_retry_after_uses_a_default_wait() -> None:
    async with client(lambda r: httpx.Response(429)) as c:
        with pytest.raises(RateLimitedExternalError) as caught:
            await fetch(c, URL, clock=lambda: NOW)
    assert caught.value.reset_at == NOW + timedelta(seconds=60)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, TransientExternalError),
        (502, TransientExternalError),
        (503, TransientExternalError),
        (408, TransientExternalError),
        (401, AuthExpiredError),
        (403, AuthExpiredError),
        (404, PermanentExternalError),
        (410, PermanentExternalError),
        (301, PermanentExternalError),
    ],
)
async def test_status_codes_map_to_typed_errors(
    status: int, error: type[PermanentExternalError]
) -> None:
    async with client(lambda r: httpx.Response(status)) as c:
        with pytest.raises(error) as caught:
            await fetch(c, URL)
    assert type(caught.value) is error
    assert URL in caught.value.message
    assert str(status) in caught.value.message


@pytest.mark.parametrize(
    "exc",
    [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.RemoteProtocolError("x")],
)
async def test_network_failures_are_transient(exc: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    async with client(handler) as c:
        with pytest.raises(TransientExternalError) as caught:
            await fetch(c, URL)
    assert URL in caught.value.message


async def test_oversized_body_is_refused() -> None:
    async with client(lambda r: httpx.Response(200, content=b"x" * 2048)) as c:
        with pytest.raises(PermanentExternalError, match="exceeds 1024"):
            await fetch(c, URL, max_bytes=1024)


def test_retry_after_parsing() -> None:
    assert parse_retry_after("0", NOW) == NOW
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after("soon", NOW) is None
    # A date in the past means "now", never a reset time before the request.
    assert parse_retry_after("Wed, 01 Jan 2025 00:00:00 GMT", NOW) == NOW
