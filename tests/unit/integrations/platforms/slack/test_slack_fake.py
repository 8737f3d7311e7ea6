"""Slack client against the fake: both modes, logical errors, uploads, limits and failures."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.integrations.platforms.base import ImageAttachment, PlatformClient, PostRequest
from finagency.integrations.platforms.fakes.slack import (
    BOT_TOKEN,
    CHANNEL_ID,
    REVOKED_BOT_TOKEN,
    WEBHOOK_PATH,
    create_app,
)
from finagency.integrations.platforms.slack import build


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        yield client


def _web(
    http: httpx.AsyncClient, token: str = BOT_TOKEN, channel: str = CHANNEL_ID
) -> PlatformClient:
    return build({"bot_token": token, "channel": channel}, http, base_url="http://fake")


def _hook(http: httpx.AsyncClient, path: str = WEBHOOK_PATH) -> PlatformClient:
    return build({"webhook_url": f"http://fake{path}"}, http)


async def _messages(http: httpx.AsyncClient) -> list[dict[str, object]]:
    answer: list[dict[str, object]] = (await http.get("/__fake__/messages")).json()
    return answer


async def test_web_api_post_link_and_engagement(http: httpx.AsyncClient) -> None:
    client = _web(http)
    post = await client.create_post(PostRequest(text="Gold & silver *up*", idempotency_key="k"))
    channel, ts = post.external_id.split(":")
    assert channel == CHANNEL_ID
    assert (
        post.url == f"https://finagency-test.slack.com/archives/{CHANNEL_ID}/p{ts.replace('.', '')}"
    )
    (message,) = await _messages(http)
    assert message["text"] == "Gold &amp; silver *up*"
    assert message["received"] == {"mrkdwn": False, "unfurl_links": False}

    await http.post(
        "/__fake__/react", json={"channel": channel, "ts": ts, "count": 2, "replies": 1}
    )
    engagement = await client.engagement(post.external_id)
    assert (engagement.likes, engagement.replies) == (2, 1)


async def test_image_upload_flow_against_fake(http: httpx.AsyncClient) -> None:
    client = _web(http)
    image = ImageAttachment(data=b"PNGDATA", mime_type="image/png", alt_text="chart")
    post = await client.create_post(PostRequest(text="Chart", idempotency_key="k", image=image))
    assert post.external_id.startswith("file:F0")
    (message,) = await _messages(http)
    assert message["via"] == "file"
    assert message["text"] == "Chart"
    await http.post("/__fake__/react", json={"channel": message["channel"], "ts": message["ts"]})
    assert (await client.engagement(post.external_id)).likes == 1


@pytest.mark.parametrize(
    ("token", "channel", "error", "code"),
    [
        (REVOKED_BOT_TOKEN, CHANNEL_ID, AuthExpiredError, "token_revoked"),
        ("xoxb-wrong", CHANNEL_ID, AuthExpiredError, "invalid_auth"),
        (BOT_TOKEN, "C0NOPE", PermanentExternalError, "channel_not_found"),
        (BOT_TOKEN, "C0ARCHIVED", PermanentExternalError, "is_archived"),
    ],
)
async def test_logical_errors_from_fake(
    http: httpx.AsyncClient, token: str, channel: str, error: type[Exception], code: str
) -> None:
    with pytest.raises(error, match=code):
        await _web(http, token, channel).create_post(PostRequest(text="x", idempotency_key="k"))


async def test_fake_answers_errors_with_http_200(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/chat.postMessage",
        json={"channel": CHANNEL_ID, "text": "x" * 40_001},
        headers={"Authorization": f"Bearer {BOT_TOKEN}"},
    )
    assert (response.status_code, response.json()) == (200, {"ok": False, "error": "msg_too_long"})


async def test_webhook_mode_against_fake(http: httpx.AsyncClient) -> None:
    client = _hook(http)
    assert (await client.verify()).id == "T0TEAM/B0HOOK"
    post = await client.create_post(PostRequest(text="Rates held", idempotency_key="k"))
    assert post.external_id == ""
    assert [m["text"] for m in await _messages(http)] == ["Rates held"]
    with pytest.raises(AuthExpiredError, match="invalid_token"):
        await _hook(http, "/services/T0TEAM/B0HOOK/wrong").verify()
    await http.post("/__fake__/revoke")
    with pytest.raises(AuthExpiredError, match="no_active_hooks"):
        await client.create_post(PostRequest(text="x", idempotency_key="k"))


async def test_rate_limits_in_both_modes(http: httpx.AsyncClient) -> None:
    await http.post("/__fake__/rate_limit", json={"limit": 1, "window_seconds": 30})
    web, hook = _web(http), _hook(http)
    await web.create_post(PostRequest(text="1", idempotency_key="a"))
    await hook.create_post(PostRequest(text="2", idempotency_key="b"))
    for client in (web, hook):
        with pytest.raises(RateLimitedExternalError) as caught:
            await client.create_post(PostRequest(text="3", idempotency_key="c"))
        assert caught.value.reset_at is not None
        assert client.last_rate_limit is not None
        assert client.last_rate_limit.remaining == 0


async def test_injected_failures_and_drop(http: httpx.AsyncClient) -> None:
    client = _web(http)
    await http.post("/__fake__/fail", json={"status": 200, "error": "fatal_error", "times": 1})
    with pytest.raises(TransientExternalError, match="fatal_error"):
        await client.create_post(PostRequest(text="x", idempotency_key="k"))
    await http.post("/__fake__/drop", json={"times": 1})
    with pytest.raises(TransientExternalError):
        await client.create_post(PostRequest(text="went out", idempotency_key="k"))
    # Stored although the client saw a 500; with no read-back it must become unconfirmed.
    assert [m["text"] for m in await _messages(http)] == ["went out"]
    assert await client.find_post("k", "went out") is None


async def test_fake_works_under_a_mount_prefix() -> None:
    """The combined runner mounts each fake under a prefix; upload URLs must follow it."""
    runner = Starlette(routes=[Mount("/slack", app=create_app())])
    transport = httpx.ASGITransport(app=runner)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as http:
        client = build(
            {"bot_token": BOT_TOKEN, "channel": CHANNEL_ID}, http, base_url="http://fake/slack"
        )
        image = ImageAttachment(data=b"PNG", mime_type="image/png")
        post = await client.create_post(PostRequest(text="Chart", idempotency_key="k", image=image))
        assert post.external_id.startswith("file:")
        hook = build({"webhook_url": f"http://fake/slack{WEBHOOK_PATH}"}, http)
        await hook.create_post(PostRequest(text="hi", idempotency_key="k2"))
        assert len((await http.get("/slack/__fake__/messages")).json()) == 2
