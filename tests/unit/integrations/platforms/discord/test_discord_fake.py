"""Discord client against the fake webhook API: ids, limits, deletion, failures, reactions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.integrations.platforms.base import ImageAttachment, PlatformClient, PostRequest
from finagency.integrations.platforms.discord import build
from finagency.integrations.platforms.fakes.discord import (
    CHANNEL_ID,
    GUILD_ID,
    WEBHOOK_ID,
    WEBHOOK_TOKEN,
    create_app,
)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        yield client


def _build(http: httpx.AsyncClient, token: str = WEBHOOK_TOKEN) -> PlatformClient:
    credentials = {"webhook_id": WEBHOOK_ID, "webhook_token": token}
    return build(credentials, http, base_url="http://fake")


async def test_post_returns_id_and_link_after_verify(http: httpx.AsyncClient) -> None:
    client = _build(http)
    identity = await client.verify()
    assert identity.extra["guild_id"] == GUILD_ID
    post = await client.create_post(PostRequest(text="Oil up 3%", idempotency_key="k"))
    assert post.url == f"https://discord.com/channels/{GUILD_ID}/{CHANNEL_ID}/{post.external_id}"
    image = ImageAttachment(data=b"PNG", mime_type="image/png", alt_text="chart")
    await client.create_post(PostRequest(text="Chart", idempotency_key="k2", image=image))

    first, second = (await http.get("/__fake__/messages")).json()
    assert first["received"]["query"] == {"wait": "true"}
    assert first["received"]["payload"]["allowed_mentions"] == {"parse": []}
    assert second["attachments"][0]["filename"] == "image.png"
    assert second["received"]["payload"]["attachments"][0]["description"] == "chart"
    assert client.last_rate_limit is not None
    assert client.last_rate_limit.remaining == 3


async def test_fake_answers_204_without_wait(http: httpx.AsyncClient) -> None:
    response = await http.post(
        f"/api/v10/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}", json={"content": "no id"}
    )
    assert response.status_code == 204
    assert response.headers["x-ratelimit-bucket"]


async def test_wrong_token_and_deleted_webhook_are_auth_errors(http: httpx.AsyncClient) -> None:
    with pytest.raises(AuthExpiredError):
        await _build(http, token="wrong").verify()
    await http.post("/__fake__/revoke")
    with pytest.raises(AuthExpiredError, match="deleted"):
        await _build(http).create_post(PostRequest(text="x", idempotency_key="k"))


async def test_fake_refuses_long_content_with_50035(http: httpx.AsyncClient) -> None:
    response = await http.post(
        f"/api/v10/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}?wait=true", json={"content": "x" * 2001}
    )
    assert response.status_code == 400
    assert response.json()["code"] == 50035
    empty = await http.post(f"/api/v10/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}", json={})
    assert empty.json() == {"message": "Cannot send an empty message", "code": 50006}
    with pytest.raises(PermanentExternalError):
        await _build(http).create_post(PostRequest(text="", idempotency_key="k"))


async def test_exhausted_bucket_is_rate_limited(http: httpx.AsyncClient) -> None:
    await http.post("/__fake__/rate_limit", json={"limit": 1, "window_seconds": 60})
    client = _build(http)
    await client.create_post(PostRequest(text="one", idempotency_key="a"))
    with pytest.raises(RateLimitedExternalError) as caught:
        await client.create_post(PostRequest(text="two", idempotency_key="b"))
    assert caught.value.reset_at is not None
    assert client.last_rate_limit is not None
    assert client.last_rate_limit.remaining == 0


async def test_failures_and_dropped_answer(http: httpx.AsyncClient) -> None:
    client = _build(http)
    await http.post("/__fake__/fail", json={"status": 503, "times": 1})
    with pytest.raises(TransientExternalError):
        await client.create_post(PostRequest(text="x", idempotency_key="k"))
    assert (await http.get("/__fake__/messages")).json() == []

    await http.post("/__fake__/drop", json={"times": 1})
    with pytest.raises(TransientExternalError):
        await client.create_post(PostRequest(text="saved anyway", idempotency_key="k"))
    # Saved although the client saw a 500: without read-back the publisher must not resend.
    assert [m["content"] for m in (await http.get("/__fake__/messages")).json()] == ["saved anyway"]
    assert await client.find_post("k", "saved anyway") is None


async def test_engagement_counts_reactions(http: httpx.AsyncClient) -> None:
    client = _build(http)
    post = await client.create_post(PostRequest(text="x", idempotency_key="k"))
    await http.post("/__fake__/react", json={"message_id": post.external_id, "count": 4})
    await http.post(
        "/__fake__/react", json={"message_id": post.external_id, "emoji": "🔥", "count": 1}
    )
    assert (await client.engagement(post.external_id)).likes == 5
