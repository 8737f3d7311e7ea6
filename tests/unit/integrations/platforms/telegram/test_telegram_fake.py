"""Telegram client against the fake Bot API: envelopes, limits, revocation and failure injection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from finagency.core.errors import (
    AuthExpiredError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.integrations.platforms.base import ImageAttachment, PlatformClient, PostRequest
from finagency.integrations.platforms.fakes.telegram import (
    KICKED_CHAT_ID,
    PUBLIC_CHANNEL,
    REVOKED_TOKEN,
    VALID_TOKEN,
    create_app,
)
from finagency.integrations.platforms.telegram import build


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        yield client


def _build(
    http: httpx.AsyncClient, token: str = VALID_TOKEN, chat: str = PUBLIC_CHANNEL
) -> PlatformClient:
    return build({"bot_token": token, "chat_id": chat}, http, base_url="http://fake")


async def test_post_and_photo_arrive(http: httpx.AsyncClient) -> None:
    client = _build(http)
    first = await client.create_post(PostRequest(text="Fed holds 📈", idempotency_key="a"))
    image = ImageAttachment(data=b"\x89PNG", mime_type="image/png")
    second = await client.create_post(PostRequest(text="Chart", idempotency_key="b", image=image))
    assert first.url == "https://t.me/finagency_news/1"
    assert second.external_id == "-1001234567890:2"

    messages = (await http.get("/__fake__/messages")).json()
    assert messages[0]["text"] == "Fed holds 📈"
    assert "parse_mode_received" not in messages[0]
    assert messages[1]["caption"] == "Chart"


async def test_verify_against_fake(http: httpx.AsyncClient) -> None:
    identity = await _build(http).verify()
    assert identity.handle == "finagency_test_bot"
    assert identity.extra["chat_title"] == "Finagency News"


async def test_revoked_and_kicked_are_auth_errors(http: httpx.AsyncClient) -> None:
    with pytest.raises(AuthExpiredError):
        await _build(http, token=REVOKED_TOKEN).verify()
    with pytest.raises(AuthExpiredError, match="kicked"):
        await _build(http, chat=str(KICKED_CHAT_ID)).create_post(
            PostRequest(text="x", idempotency_key="k")
        )
    await http.post("/__fake__/revoke")
    with pytest.raises(AuthExpiredError, match="Unauthorized"):
        await _build(http).verify()


async def test_fake_refuses_too_long_text_as_telegram_does(http: httpx.AsyncClient) -> None:
    response = await http.post(
        f"/bot{VALID_TOKEN}/sendMessage", json={"chat_id": PUBLIC_CHANNEL, "text": "📈" * 2049}
    )
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message is too long",
    }


async def test_rate_limit_answers_429_with_retry_after(http: httpx.AsyncClient) -> None:
    await http.post("/__fake__/rate_limit", json={"limit": 1, "window_seconds": 30})
    client = _build(http)
    await client.create_post(PostRequest(text="one", idempotency_key="a"))
    with pytest.raises(RateLimitedExternalError) as caught:
        await client.create_post(PostRequest(text="two", idempotency_key="b"))
    assert "retry after 30" in str(caught.value)
    assert client.last_rate_limit is not None
    assert client.last_rate_limit.reset_at == caught.value.reset_at


async def test_injected_failures_then_success(http: httpx.AsyncClient) -> None:
    await http.post("/__fake__/fail", json={"status": 503, "times": 2})
    client = _build(http)
    for _ in range(2):
        with pytest.raises(TransientExternalError):
            await client.create_post(PostRequest(text="x", idempotency_key="k"))
    await client.create_post(PostRequest(text="x", idempotency_key="k"))
    assert len((await http.get("/__fake__/messages")).json()) == 1


async def test_dropped_answer_is_transient_although_the_message_was_stored(
    http: httpx.AsyncClient,
) -> None:
    """The publisher must mark this post unconfirmed, not resend: the message is out."""
    await http.post("/__fake__/drop", json={"times": 1})
    client = _build(http)
    with pytest.raises(TransientExternalError):
        await client.create_post(PostRequest(text="once", idempotency_key="k"))
    assert [m["text"] for m in (await http.get("/__fake__/messages")).json()] == ["once"]
    assert client.supports_read_back is False
    assert await client.find_post("k", "once") is None


async def test_caption_limit_enforced_by_fake(http: httpx.AsyncClient) -> None:
    response = await http.post(
        f"/bot{VALID_TOKEN}/sendPhoto",
        data={"chat_id": PUBLIC_CHANNEL, "caption": "a" * 1025},
        files={"photo": ("p.png", b"x", "image/png")},
    )
    assert response.status_code == 400
    assert response.json()["description"] == "Bad Request: message caption is too long"
