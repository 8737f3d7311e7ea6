"""Generic webhook client: the exact signed request, receiver-side verification, error mapping."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
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
from finagency.integrations.platforms.types import Engagement
from finagency.integrations.platforms.webhook import (
    REQUIRED_CREDENTIALS,
    WebhookClient,
    build,
    event_id_for,
    verify,
)

URL = "https://n8n.example.com/webhook/abc-secret-path"
SECRET = "s3cret"
Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, seen: list[httpx.Request] | None = None) -> WebhookClient:
    def record(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    return WebhookClient(
        httpx.AsyncClient(transport=httpx.MockTransport(record)), url=URL, secret=SECRET
    )


def _independent_check(request: httpx.Request) -> bool:
    """What a receiver in any language does, written without our signing module."""
    timestamp = request.headers["X-Finagency-Timestamp"]
    mac = hmac.new(SECRET.encode(), timestamp.encode() + b"." + request.content, hashlib.sha256)
    return (
        hmac.compare_digest("sha256=" + mac.hexdigest(), request.headers["X-Finagency-Signature"])
        and abs(time.time() - int(timestamp)) <= 300
    )


async def test_post_is_signed_json_with_a_stable_event_id() -> None:
    seen: list[httpx.Request] = []
    client = _client(lambda r: httpx.Response(204), seen)
    image = ImageAttachment(data=b"\x89PNG", mime_type="image/png", alt_text="chart")
    request = PostRequest(
        text="Fed holds 📈", idempotency_key="post-7", link="https://e.com/fed", image=image
    )
    post = await client.create_post(request)
    await client.create_post(request)

    first, retry = seen
    assert (first.method, str(first.url)) == ("POST", URL)
    event_id = event_id_for("post-7")
    assert first.headers["content-type"] == "application/json"
    assert first.headers["x-finagency-event-id"] == event_id
    assert first.headers["idempotency-key"] == event_id
    assert first.headers["x-finagency-event"] == "post.created"
    assert retry.headers["x-finagency-event-id"] == event_id
    body = json.loads(first.content)
    assert body["id"] == event_id
    assert (body["type"], body["version"]) == ("post.created", 1)
    assert body["data"] == {
        "idempotency_key": "post-7",
        "text": "Fed holds 📈",
        "parts": ["Fed holds 📈"],
        "link": "https://e.com/fed",
        "image": {
            "mime_type": "image/png",
            "alt_text": "chart",
            "size": 4,
            "data_base64": base64.b64encode(b"\x89PNG").decode(),
        },
    }
    assert datetime.strptime(body["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert _independent_check(first)
    assert verify(SECRET, first.content, first.headers)
    assert (post.external_id, post.url) == (event_id, "")


async def test_receiver_answer_supplies_id_and_url() -> None:
    answer = {"id": "row-9", "url": "https://sheet.example/row/9"}
    post = await _client(lambda r: httpx.Response(200, json=answer)).create_post(
        PostRequest(text="x", idempotency_key="k")
    )
    assert (post.external_id, post.url) == ("row-9", "https://sheet.example/row/9")


async def test_verify_refuses_tampering_staleness_and_wrong_secret() -> None:
    seen: list[httpx.Request] = []
    await _client(lambda r: httpx.Response(200), seen).create_post(
        PostRequest(text="Buy the dip", idempotency_key="k")
    )
    (request,) = seen
    tampered = request.content.replace(b"Buy the dip", b"Sell it all")
    assert not verify(SECRET, tampered, request.headers)
    assert not verify("other-secret", request.content, request.headers)
    later = utcnow() + timedelta(minutes=6)
    assert not verify(SECRET, request.content, request.headers, now=later)
    assert verify(SECRET, request.content, request.headers, now=utcnow() + timedelta(minutes=4))
    assert not verify(SECRET, request.content, {})


async def test_ping_from_verify_hides_the_url_path() -> None:
    seen: list[httpx.Request] = []
    identity = await _client(lambda r: httpx.Response(200, text="ok"), seen).verify()
    body = json.loads(seen[0].content)
    assert body["type"] == "ping"
    assert body["id"].startswith("evt_ping_")
    assert seen[0].headers["x-finagency-event"] == "ping"
    assert _independent_check(seen[0])
    assert identity.handle == "n8n.example.com"
    assert "abc-secret-path" not in repr(identity)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (301, AuthExpiredError),
        (401, AuthExpiredError),
        (404, AuthExpiredError),
        (410, AuthExpiredError),
        (400, PermanentExternalError),
        (422, PermanentExternalError),
        (408, TransientExternalError),
        (502, TransientExternalError),
        (504, TransientExternalError),
    ],
)
async def test_status_mapping(status: int, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        await _client(lambda r: httpx.Response(status, text="nope")).create_post(
            PostRequest(text="x", idempotency_key="k")
        )
    assert "abc-secret-path" not in str(caught.value)


async def test_429_retry_after_http_date() -> None:
    when = datetime(2031, 1, 1, 12, 0, tzinfo=UTC)
    client = _client(
        lambda r: httpx.Response(429, headers={"Retry-After": "Wed, 01 Jan 2031 12:00:00 GMT"})
    )
    with pytest.raises(RateLimitedExternalError) as caught:
        await client.create_post(PostRequest(text="x", idempotency_key="k"))
    assert caught.value.reset_at == when
    assert client.last_rate_limit is not None
    assert client.last_rate_limit.reset_at == when


async def test_transport_error_hides_url() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout(f"timed out reading {request.url}", request=request)

    with pytest.raises(TransientExternalError) as caught:
        await _client(boom).create_post(PostRequest(text="x", idempotency_key="k"))
    assert "abc-secret-path" not in str(caught.value)


async def test_no_read_back_no_engagement_but_idempotent_key() -> None:
    seen: list[httpx.Request] = []
    client = _client(lambda r: httpx.Response(200), seen)
    assert (client.supports_read_back, client.supports_idempotency_key) == (False, True)
    assert await client.recent_posts() == []
    assert await client.find_post("k", "x") is None
    assert await client.engagement("evt_1") == Engagement()
    assert seen == []


def test_build_checks_credentials_and_scheme() -> None:
    assert REQUIRED_CREDENTIALS == ("url", "secret")
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with pytest.raises(PermanentExternalError, match="secret"):
        build({"url": URL}, http)
    with pytest.raises(PermanentExternalError, match="https"):
        build({"url": "file:///etc/passwd", "secret": "s"}, http)
    client = build({"secret": "s"}, http, base_url="http://fake/hook")
    assert isinstance(client, WebhookClient)
    assert client.url == "http://fake/hook"
