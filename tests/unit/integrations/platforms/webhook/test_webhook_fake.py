"""Webhook client against the fake receiver: signatures checked, duplicates dropped, failures."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from finagency.core.errors import (
    AuthExpiredError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.integrations.platforms.base import PlatformClient, PostRequest
from finagency.integrations.platforms.fakes.webhook import SECRET, create_app
from finagency.integrations.platforms.webhook import build, signature, signed_headers


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        yield client


def _build(http: httpx.AsyncClient, secret: str = SECRET) -> PlatformClient:
    return build({"url": "http://fake/hook", "secret": secret}, http)


async def test_post_and_ping_are_accepted(http: httpx.AsyncClient) -> None:
    client = _build(http)
    await client.verify()
    post = await client.create_post(PostRequest(text="CPI 3.1%", idempotency_key="k"))
    assert post.external_id == "rcv_2"
    ping, event = (await http.get("/__fake__/messages")).json()
    assert ping["event"]["type"] == "ping"
    assert event["event"]["data"]["text"] == "CPI 3.1%"
    assert event["headers"]["idempotency-key"] == event["event"]["id"]


async def test_wrong_secret_is_refused(http: httpx.AsyncClient) -> None:
    with pytest.raises(AuthExpiredError, match="invalid signature"):
        await _build(http, secret="wrong").verify()


async def test_tampered_body_and_stale_timestamp_are_refused(http: httpx.AsyncClient) -> None:
    body = json.dumps({"id": "evt_1", "type": "ping", "data": {}}).encode()
    headers = signed_headers(SECRET, body, event_id="evt_1", event_type="ping")
    tampered = await http.post("/hook", content=body.replace(b"ping", b"pong"), headers=headers)
    assert (tampered.status_code, tampered.json()) == (401, {"error": "invalid signature"})

    old = int(time.time()) - 301
    stale_headers = headers | {
        "X-Finagency-Timestamp": str(old),
        "X-Finagency-Signature": signature(SECRET, old, body),
    }
    stale = await http.post("/hook", content=body, headers=stale_headers)
    assert (stale.status_code, stale.json()) == (401, {"error": "stale timestamp"})
    unsigned = await http.post("/hook", content=body, headers={"X-Finagency-Event-Id": "evt_1"})
    assert unsigned.status_code == 401
    assert (await http.get("/__fake__/messages")).json() == []

    fresh = await http.post("/hook", content=body, headers=headers)
    assert fresh.status_code == 200


async def test_dropped_answer_then_resend_is_deduplicated(http: httpx.AsyncClient) -> None:
    """The webhook is the one platform here where a resend with the same key is safe."""
    client = _build(http)
    assert client.supports_idempotency_key
    await http.post("/__fake__/drop", json={"times": 1})
    request = PostRequest(text="once only", idempotency_key="post-1")
    with pytest.raises(TransientExternalError):
        await client.create_post(request)
    post = await client.create_post(request)
    assert post.external_id == "rcv_1"
    assert len((await http.get("/__fake__/messages")).json()) == 1


async def test_failures_rate_limit_and_gone(http: httpx.AsyncClient) -> None:
    client = _build(http)
    await http.post("/__fake__/fail", json={"status": 503, "times": 1})
    with pytest.raises(TransientExternalError):
        await client.create_post(PostRequest(text="x", idempotency_key="a"))

    await http.post("/__fake__/rate_limit", json={"limit": 1, "window_seconds": 20})
    await client.create_post(PostRequest(text="x", idempotency_key="a"))
    with pytest.raises(RateLimitedExternalError) as caught:
        await client.create_post(PostRequest(text="y", idempotency_key="b"))
    assert caught.value.reset_at is not None
    assert client.last_rate_limit is not None
    assert client.last_rate_limit.remaining == 0

    await http.post("/__fake__/revoke")
    with pytest.raises(AuthExpiredError, match="410"):
        await client.verify()
