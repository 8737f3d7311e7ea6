"""Mastodon client against MockTransport: the exact requests it sends and how it reads answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from finagency.core.errors import (
    AuthExpiredError,
    ExternalError,
    PermanentExternalError,
    RateLimitedExternalError,
    TransientExternalError,
)
from finagency.integrations.platforms.base import ImageAttachment, PostRequest
from finagency.integrations.platforms.mastodon import REQUIRED_CREDENTIALS, MastodonClient, build
from finagency.integrations.platforms.mastodon.content import html_to_text

INSTANCE = "https://mastodon.example"
Handler = Callable[[httpx.Request], httpx.Response]


def status(status_id: str = "111", content: str = "<p>hello</p>") -> dict[str, Any]:
    return {
        "id": status_id,
        "created_at": "2026-05-01T12:00:00.000Z",
        "uri": f"{INSTANCE}/users/fin/statuses/{status_id}",
        "url": f"{INSTANCE}/@fin/{status_id}",
        "content": content,
        "favourites_count": 7,
        "reblogs_count": 2,
        "replies_count": 1,
        "reblog": None,
    }


def recording(
    answers: list[httpx.Response],
) -> tuple[list[httpx.Request], Handler]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    return seen, handle


def client_for(handler: Handler, **options: Any) -> MastodonClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))

    async def no_sleep(_: float) -> None:
        return None

    return MastodonClient(http, base_url=INSTANCE, access_token="tok", sleep=no_sleep, **options)


async def test_create_post_sends_status_with_bearer_and_idempotency_key() -> None:
    seen, handle = recording([httpx.Response(200, json=status())])
    client = client_for(handle)

    published = await client.create_post(PostRequest(text="CPI rose 0.3%", idempotency_key="k-1"))

    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == f"{INSTANCE}/api/v1/statuses"
    assert request.headers["authorization"] == "Bearer tok"
    assert request.headers["idempotency-key"] == "k-1"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"status": "CPI rose 0.3%", "visibility": "public"}
    assert published.external_id == "111"
    assert published.url == f"{INSTANCE}/@fin/111"
    assert published.published_at == datetime(2026, 5, 1, 12, tzinfo=UTC)


async def test_link_missing_from_text_is_appended_and_language_sent() -> None:
    seen, handle = recording([httpx.Response(200, json=status())])
    client = client_for(handle, language="en")

    await client.create_post(
        PostRequest(text="Rates held.", idempotency_key="k", link="https://fed.example/x")
    )

    body = json.loads(seen[0].content)
    assert body == {
        "status": "Rates held.\n\nhttps://fed.example/x",
        "visibility": "public",
        "language": "en",
    }


async def test_thread_replies_to_previous_status_with_one_key_per_part() -> None:
    answers = [httpx.Response(200, json=status(str(n))) for n in (1, 2, 3)]
    seen, handle = recording(answers)
    client = client_for(handle)

    published = await client.create_post(
        PostRequest(text="a b c", idempotency_key="k", parts=("a (1/3)", "b (2/3)", "c (3/3)"))
    )

    bodies = [json.loads(r.content) for r in seen]
    assert [b.get("in_reply_to_id") for b in bodies] == [None, "1", "2"]
    assert [b["status"] for b in bodies] == ["a (1/3)", "b (2/3)", "c (3/3)"]
    assert [r.headers["idempotency-key"] for r in seen] == ["k", "k:2", "k:3"]
    assert published.external_id == "1"


async def test_image_is_uploaded_polled_until_ready_then_attached() -> None:
    seen, handle = recording(
        [
            httpx.Response(202, json={"id": "m1", "url": None}),
            httpx.Response(206, json={"id": "m1", "url": None}),
            httpx.Response(200, json={"id": "m1", "url": f"{INSTANCE}/m1.png"}),
            httpx.Response(200, json=status()),
        ]
    )
    client = client_for(handle)
    image = ImageAttachment(data=b"\x89PNG-bytes", mime_type="image/png", alt_text="CPI chart")

    await client.create_post(PostRequest(text="chart", idempotency_key="k", image=image))

    upload, poll1, poll2, create = seen
    assert (upload.method, upload.url.path) == ("POST", "/api/v2/media")
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert b"\x89PNG-bytes" in upload.content
    assert b'name="description"' in upload.content and b"CPI chart" in upload.content
    assert (poll1.method, poll1.url.path, poll2.url.path) == (
        "GET",
        "/api/v1/media/m1",
        "/api/v1/media/m1",
    )
    assert json.loads(create.content)["media_ids"] == ["m1"]


@pytest.mark.parametrize(
    ("code", "body", "expected"),
    [
        (401, {"error": "The access token is invalid"}, AuthExpiredError),
        (403, {"error": "This action is not allowed"}, AuthExpiredError),
        (422, {"error": "Validation failed: Text can't be blank"}, PermanentExternalError),
        (404, {"error": "Record not found"}, PermanentExternalError),
        (410, {"error": "Gone"}, PermanentExternalError),
        (429, {"error": "Too many requests"}, RateLimitedExternalError),
        (500, {"error": "We're sorry"}, TransientExternalError),
        (503, {"error": "Service Unavailable"}, TransientExternalError),
    ],
)
async def test_error_answers_become_typed_errors(
    code: int, body: dict[str, str], expected: type[ExternalError]
) -> None:
    _, handle = recording([httpx.Response(code, json=body)])
    client = client_for(handle)

    with pytest.raises(expected) as raised:
        await client.create_post(PostRequest(text="x", idempotency_key="k"))
    assert body["error"] in str(raised.value)


async def test_transport_failure_is_transient() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(TransientExternalError, match="ReadTimeout"):
        await client_for(handle).create_post(PostRequest(text="x", idempotency_key="k"))


async def test_rate_limit_headers_give_iso_reset_time() -> None:
    headers = {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "2026-05-01T12:05:00.000000Z",
    }
    _, handle = recording(
        [
            httpx.Response(200, json=status(), headers={**headers, "X-RateLimit-Remaining": "1"}),
            httpx.Response(429, json={"error": "Too many requests"}, headers=headers),
        ]
    )
    client = client_for(handle)
    reset = datetime(2026, 5, 1, 12, 5, tzinfo=UTC)

    await client.engagement("111")
    assert client.last_rate_limit is not None
    assert (client.last_rate_limit.limit, client.last_rate_limit.remaining) == (300, 1)
    assert client.last_rate_limit.reset_at == reset
    assert client.last_rate_limit.scope == "GET /api/v1/statuses/111"
    with pytest.raises(RateLimitedExternalError) as raised:
        await client.engagement("111")
    assert raised.value.reset_at == reset


async def test_engagement_reads_counts() -> None:
    seen, handle = recording([httpx.Response(200, json=status())])

    engagement = await client_for(handle).engagement("111")

    assert (seen[0].method, seen[0].url.path) == ("GET", "/api/v1/statuses/111")
    assert (engagement.likes, engagement.reposts, engagement.replies) == (7, 2, 1)
    assert engagement.impressions == 0


async def test_verify_then_find_post_matches_text_without_posting() -> None:
    account = {"id": "42", "username": "fin", "acct": "fin", "display_name": "Fin", "url": "u"}
    html = (
        '<p>Gold at a record &amp; rising<br />see <a href="https://x.example/gold">'
        '<span class="invisible">https://</span><span class="">x.example/gold</span></a></p>'
    )
    seen, handle = recording(
        [
            httpx.Response(200, json=account),
            httpx.Response(200, json=[status("9", "<p>other</p>"), status("8", html)]),
        ]
    )
    client = client_for(handle)

    found = await client.find_post("k", "Gold at a record & rising\nsee https://x.example/gold")

    assert found is not None and found.external_id == "8"
    assert [r.method for r in seen] == ["GET", "GET"]
    assert seen[0].url.path == "/api/v1/accounts/verify_credentials"
    assert seen[1].url.path == "/api/v1/accounts/42/statuses"
    assert seen[1].url.params["limit"] == "40"
    assert seen[1].url.params["exclude_reblogs"] == "true"


async def test_find_post_returns_none_when_absent() -> None:
    _, handle = recording([httpx.Response(200, json=[status("9", "<p>other</p>")])])

    client = client_for(handle, account_id="42")

    assert await client.find_post("k", "missing") is None


def test_html_to_text_keeps_paragraphs_and_lines() -> None:
    assert html_to_text("<p>a &lt;b&gt;</p><p>c<br>d</p>") == "a <b>\n\nc\nd"


def test_build_requires_token_and_instance() -> None:
    http = httpx.AsyncClient()
    assert REQUIRED_CREDENTIALS == ("access_token",)
    with pytest.raises(PermanentExternalError, match="access_token, instance_url"):
        build({}, http)
    client = build({"access_token": "t"}, http, base_url=INSTANCE + "/")
    assert isinstance(client, MastodonClient)
    assert client.base_url == INSTANCE
    assert (client.supports_idempotency_key, client.supports_read_back) == (True, True)
    from_credentials = build({"access_token": "t", "instance_url": INSTANCE}, http)
    assert isinstance(from_credentials, MastodonClient)
