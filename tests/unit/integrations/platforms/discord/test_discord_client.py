"""Discord webhook client: exact requests, rate-limit headers, typed errors, engagement."""

from __future__ import annotations

import json
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
from finagency.core.time import utcnow
from finagency.integrations.platforms.base import ImageAttachment, PostRequest
from finagency.integrations.platforms.discord import (
    REQUIRED_CREDENTIALS,
    DiscordClient,
    build,
    parse_rate_limit,
)

HOOK_PATH = "/api/v10/webhooks/111/tok-en"
MESSAGE = {
    "id": "1300000000000000001",
    "channel_id": "22",
    "content": "hi",
    "timestamp": "2026-01-02T03:04:05.678000+00:00",
}
LIMIT_HEADERS = {
    "X-RateLimit-Limit": "5",
    "X-RateLimit-Remaining": "4",
    "X-RateLimit-Reset": "1767323045.5",
    "X-RateLimit-Reset-After": "1.5",
    "X-RateLimit-Bucket": "abcd",
}


def _client(
    handler: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request] | None = None
) -> DiscordClient:
    def record(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(record))
    return DiscordClient(
        http, webhook_id="111", webhook_token="tok-en", base_url="https://dc.test", guild_id="9"
    )


def _answer(
    status: int, body: object, headers: dict[str, str] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json=body, headers=headers or LIMIT_HEADERS)


async def test_execute_waits_for_the_message_and_blocks_mentions() -> None:
    seen: list[httpx.Request] = []
    client = _client(_answer(200, MESSAGE), seen)
    post = await client.create_post(
        PostRequest(text="@everyone CPI", idempotency_key="k", link="https://e.com/cpi")
    )
    (request,) = seen
    assert request.method == "POST"
    assert request.url.path == HOOK_PATH
    assert dict(request.url.params) == {"wait": "true"}
    assert "authorization" not in request.headers
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "content": "@everyone CPI\n\nhttps://e.com/cpi",
        "allowed_mentions": {"parse": []},
    }
    assert post.external_id == "1300000000000000001"
    assert post.url == "https://discord.com/channels/9/22/1300000000000000001"
    assert post.published_at == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


async def test_image_is_multipart_with_payload_json_and_alt_text() -> None:
    seen: list[httpx.Request] = []
    client = _client(_answer(200, MESSAGE), seen)
    image = ImageAttachment(data=b"JPEGDATA", mime_type="image/jpeg", alt_text="10y yield chart")
    await client.create_post(PostRequest(text="Yields", idempotency_key="k", image=image))
    (request,) = seen
    assert request.headers["content-type"].startswith("multipart/form-data")
    body = request.content
    payload = json.dumps(
        {
            "content": "Yields",
            "allowed_mentions": {"parse": []},
            "attachments": [{"id": 0, "filename": "image.jpeg", "description": "10y yield chart"}],
        }
    ).encode()
    assert b'name="payload_json"\r\n\r\n' + payload in body
    assert b'name="files[0]"; filename="image.jpeg"\r\nContent-Type: image/jpeg' in body
    assert b"JPEGDATA" in body


async def test_rate_limit_headers_parsed_after_every_call() -> None:
    client = _client(_answer(200, MESSAGE))
    await client.create_post(PostRequest(text="hi", idempotency_key="k"))
    info = client.last_rate_limit
    assert info is not None
    assert (info.limit, info.remaining, info.scope) == (5, 4, "bucket:abcd")
    assert info.reset_at == datetime.fromtimestamp(1767323045.5, tz=UTC)


async def test_429_uses_body_retry_after() -> None:
    headers = LIMIT_HEADERS | {"Retry-After": "3", "X-RateLimit-Scope": "shared"}
    body = {"message": "You are being rate limited.", "retry_after": 2.5, "global": False}
    client = _client(_answer(429, body, headers))
    before = utcnow()
    with pytest.raises(RateLimitedExternalError) as caught:
        await client.create_post(PostRequest(text="hi", idempotency_key="k"))
    reset_at = caught.value.reset_at
    assert reset_at is not None
    assert before + timedelta(seconds=2.5) <= reset_at <= utcnow() + timedelta(seconds=2.5)
    assert client.last_rate_limit is not None
    assert client.last_rate_limit.remaining == 0


def test_global_rate_limit_scope() -> None:
    response = httpx.Response(
        429,
        json={"message": "global", "retry_after": 1, "global": True},
        headers={"X-RateLimit-Global": "true", "Retry-After": "1"},
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    info = parse_rate_limit(response, now)
    assert info.scope == "global"
    assert info.reset_at == now + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"message": "Invalid Webhook Token", "code": 50027}, AuthExpiredError),
        (404, {"message": "Unknown Webhook", "code": 10015}, AuthExpiredError),
        (400, {"message": "Invalid Form Body", "code": 50035}, PermanentExternalError),
        (400, {"message": "Cannot send an empty message", "code": 50006}, PermanentExternalError),
        (500, {"message": "500: Internal Server Error", "code": 0}, TransientExternalError),
    ],
)
async def test_errors_map_and_never_show_the_token(
    status: int, body: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        await _client(_answer(status, body)).create_post(PostRequest(text="x", idempotency_key="k"))
    assert "tok-en" not in str(caught.value)


async def test_too_long_content_is_refused_before_sending() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(PermanentExternalError, match="2001 characters"):
        await _client(_answer(200, MESSAGE), seen).create_post(
            PostRequest(text="x" * 2001, idempotency_key="k")
        )
    assert seen == []


async def test_engagement_sums_reactions() -> None:
    seen: list[httpx.Request] = []
    reactions = [{"emoji": {"name": "👍"}, "count": 3}, {"emoji": {"name": "🔥"}, "count": 2}]
    client = _client(_answer(200, MESSAGE | {"reactions": reactions}), seen)
    engagement = await client.engagement("1300000000000000001")
    assert seen[0].method == "GET"
    assert seen[0].url.path == f"{HOOK_PATH}/messages/1300000000000000001"
    assert (engagement.likes, engagement.reposts, engagement.impressions) == (5, 0, 0)


async def test_verify_gets_the_webhook() -> None:
    seen: list[httpx.Request] = []
    webhook = {"id": "111", "name": "Desk", "guild_id": "9", "channel_id": "22", "type": 1}
    identity = await _client(_answer(200, webhook), seen).verify()
    assert (seen[0].method, seen[0].url.path) == ("GET", HOOK_PATH)
    assert (identity.id, identity.handle) == ("111", "Desk")
    assert identity.extra == {"guild_id": "9", "channel_id": "22"}


async def test_thread_id_goes_in_the_query() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=MESSAGE)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = build(
        {"webhook_id": "111", "webhook_token": "tok-en", "thread_id": "77"},
        http,
        base_url="https://dc.test",
    )
    await client.create_post(PostRequest(text="hi", idempotency_key="k"))
    assert dict(seen[0].url.params) == {"wait": "true", "thread_id": "77"}


def test_build_requires_id_and_token() -> None:
    assert REQUIRED_CREDENTIALS == ("webhook_id", "webhook_token")
    http = httpx.AsyncClient(transport=httpx.MockTransport(_answer(200, {})))
    with pytest.raises(PermanentExternalError, match="webhook_token"):
        build({"webhook_id": "1"}, http)
