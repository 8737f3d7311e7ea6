"""Slack client: exact Web API and webhook requests, errors inside HTTP 200, rate limits."""

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
from finagency.integrations.platforms.slack import (
    CREDENTIAL_SETS,
    REQUIRED_CREDENTIALS,
    SlackClient,
    build,
)

HOOK = "https://hooks.slack.test/services/T1/B1/secret"
Handler = Callable[[httpx.Request], httpx.Response]


def _web(handler: Handler, seen: list[httpx.Request] | None = None) -> SlackClient:
    return SlackClient(
        _http(handler, seen), bot_token="xoxb-1", channel="C1", base_url="https://slack.test"
    )


def _hook(handler: Handler, seen: list[httpx.Request] | None = None) -> SlackClient:
    return SlackClient(_http(handler, seen), webhook_url=HOOK)


def _http(handler: Handler, seen: list[httpx.Request] | None) -> httpx.AsyncClient:
    def record(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(record))


def _posted(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/api/chat.getPermalink":
        return httpx.Response(200, json={"ok": True, "permalink": "https://w.slack.com/p1"})
    return httpx.Response(200, json={"ok": True, "channel": "C1", "ts": "1767225600.000200"})


async def test_post_message_escapes_and_disables_markup() -> None:
    seen: list[httpx.Request] = []
    post = await _web(_posted, seen).create_post(
        PostRequest(text="S&P <up> *2%* <!channel>", idempotency_key="k", link="https://e.com")
    )
    send, link = seen
    assert (send.method, str(send.url)) == ("POST", "https://slack.test/api/chat.postMessage")
    assert send.headers["authorization"] == "Bearer xoxb-1"
    assert send.headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(send.content) == {
        "channel": "C1",
        "text": "S&amp;P &lt;up&gt; *2%* &lt;!channel&gt;\n\nhttps://e.com",
        "mrkdwn": False,
        "unfurl_links": True,
        "unfurl_media": True,
    }
    assert link.method == "GET"
    assert dict(link.url.params) == {"channel": "C1", "message_ts": "1767225600.000200"}
    assert post.external_id == "C1:1767225600.000200"
    assert post.url == "https://w.slack.com/p1"
    assert post.published_at == datetime(2026, 1, 1, 0, 0, 0, 200, tzinfo=UTC)


async def test_permalink_failure_does_not_fail_the_post() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/chat.getPermalink":
            return httpx.Response(429, headers={"Retry-After": "30"})
        return _posted(request)

    post = await _web(handler).create_post(PostRequest(text="x", idempotency_key="k"))
    assert (post.external_id, post.url) == ("C1:1767225600.000200", "")


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("invalid_auth", AuthExpiredError),
        ("token_revoked", AuthExpiredError),
        ("account_inactive", AuthExpiredError),
        ("not_authed", AuthExpiredError),
        ("ratelimited", RateLimitedExternalError),
        ("channel_not_found", PermanentExternalError),
        ("msg_too_long", PermanentExternalError),
        ("not_in_channel", PermanentExternalError),
        ("fatal_error", TransientExternalError),
    ],
)
async def test_errors_inside_http_200_are_mapped(code: str, error: type[Exception]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": False, "error": code})

    with pytest.raises(error, match=code):
        await _web(handler).create_post(PostRequest(text="x", idempotency_key="k"))


async def test_http_429_retry_after_sets_reset() -> None:
    client = _web(
        lambda r: httpx.Response(
            429, json={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "12"}
        )
    )
    before = utcnow()
    with pytest.raises(RateLimitedExternalError) as caught:
        await client.create_post(PostRequest(text="x", idempotency_key="k"))
    reset_at = caught.value.reset_at
    assert reset_at is not None
    assert before + timedelta(seconds=12) <= reset_at <= utcnow() + timedelta(seconds=12)
    assert client.last_rate_limit is not None
    assert (client.last_rate_limit.remaining, client.last_rate_limit.reset_at) == (0, reset_at)


async def test_incoming_webhook_post_has_no_id() -> None:
    seen: list[httpx.Request] = []
    post = await _hook(lambda r: httpx.Response(200, text="ok"), seen).create_post(
        PostRequest(text="a < b", idempotency_key="k")
    )
    (request,) = seen
    assert str(request.url) == HOOK
    assert "authorization" not in request.headers
    assert json.loads(request.content) == {"text": "a &lt; b", "unfurl_links": False}
    assert (post.external_id, post.url) == ("", "")


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (403, "invalid_token", AuthExpiredError),
        (404, "no_service", AuthExpiredError),
        (410, "no_active_hooks", AuthExpiredError),
        (404, "channel_not_found", PermanentExternalError),
        (400, "invalid_payload", PermanentExternalError),
        (403, "action_prohibited", PermanentExternalError),
        (429, "rate_limited", RateLimitedExternalError),
        (500, "internal_error", TransientExternalError),
    ],
)
async def test_webhook_plain_text_errors(status: int, code: str, error: type[Exception]) -> None:
    client = _hook(lambda r: httpx.Response(status, text=code))
    with pytest.raises(error) as caught:
        await client.create_post(PostRequest(text="x", idempotency_key="k"))
    assert "secret" not in str(caught.value)


async def test_webhook_refuses_images_before_sending() -> None:
    seen: list[httpx.Request] = []
    image = ImageAttachment(data=b"x", mime_type="image/png")
    with pytest.raises(PermanentExternalError, match="bot token"):
        await _hook(lambda r: httpx.Response(200, text="ok"), seen).create_post(
            PostRequest(text="x", idempotency_key="k", image=image)
        )
    assert seen == []


async def test_image_upload_is_three_calls() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/files.getUploadURLExternal":
            return httpx.Response(
                200, json={"ok": True, "upload_url": "https://files.test/up/F1", "file_id": "F1"}
            )
        if request.url.host == "files.test":
            return httpx.Response(200, text="OK - 3")
        return httpx.Response(200, json={"ok": True, "files": [{"id": "F1", "permalink": "P"}]})

    image = ImageAttachment(data=b"PNG", mime_type="image/png", alt_text="chart")
    post = await _web(handler, seen).create_post(
        PostRequest(text="Chart", idempotency_key="k", image=image)
    )
    ticket, upload, complete = seen
    assert ticket.headers["content-type"] == "application/x-www-form-urlencoded"
    assert dict(httpx.QueryParams(ticket.content.decode())) == {
        "filename": "image.png",
        "length": "3",
        "alt_txt": "chart",
    }
    assert "authorization" not in upload.headers
    assert b'name="file"; filename="image.png"' in upload.content
    assert complete.url.path == "/api/files.completeUploadExternal"
    assert json.loads(complete.content) == {
        "files": [{"id": "F1", "title": "chart"}],
        "channel_id": "C1",
        "initial_comment": "Chart",
    }
    assert (post.external_id, post.url) == ("file:F1", "P")


async def test_engagement_from_reactions_get() -> None:
    seen: list[httpx.Request] = []
    message = {"reactions": [{"name": "+1", "count": 3}, {"name": "eyes", "count": 1}]}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True, "message": message | {"reply_count": 2}})

    engagement = await _web(handler, seen).engagement("C1:1767225600.000200")
    assert seen[0].url.path == "/api/reactions.get"
    assert dict(seen[0].url.params) == {
        "channel": "C1",
        "timestamp": "1767225600.000200",
        "full": "true",
    }
    assert (engagement.likes, engagement.replies) == (4, 2)
    assert await _hook(handler).engagement("") == type(engagement)()


async def test_verify_web_api_and_webhook() -> None:
    def auth(request: httpx.Request) -> httpx.Response:
        body = {"ok": True, "user_id": "U1", "user": "bot", "team": "Desk", "team_id": "T1"}
        return httpx.Response(200, json=body)

    identity = await _web(auth).verify()
    assert (identity.id, identity.handle, identity.display_name) == ("U1", "bot", "Desk")

    seen: list[httpx.Request] = []
    identity = await _hook(lambda r: httpx.Response(400, text="no_text"), seen).verify()
    assert json.loads(seen[0].content) == {}
    assert identity.id == "T1/B1"
    with pytest.raises(AuthExpiredError):
        await _hook(lambda r: httpx.Response(403, text="invalid_token")).verify()


def test_build_accepts_either_credential_set() -> None:
    assert REQUIRED_CREDENTIALS == ("bot_token", "channel")
    assert CREDENTIAL_SETS == (("bot_token", "channel"), ("webhook_url",))
    http = _http(_posted, None)
    web = build({"bot_token": "xoxb", "channel": "C1", "webhook_url": HOOK}, http)
    hook = build({"webhook_url": HOOK}, http)
    assert isinstance(web, SlackClient) and web.uses_web_api
    assert isinstance(hook, SlackClient) and not hook.uses_web_api
    with pytest.raises(PermanentExternalError, match="channel"):
        build({"bot_token": "xoxb"}, http)
