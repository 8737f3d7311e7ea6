"""The exact requests the X client sends (method, path, headers, JSON), via httpx.MockTransport."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
)
from finagency.integrations.platforms import x
from finagency.integrations.platforms.base import ImageAttachment, PostRequest

Answer = Callable[[httpx.Request], httpx.Response]


def recording(answer: Answer) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), seen


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def created(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/2/media/upload":
        return httpx.Response(200, json={"data": {"id": "777", "media_key": "3_777"}})
    if request.url.path == "/2/media/metadata":
        return httpx.Response(200, json={"data": {"id": "777"}})
    number = 100 + len(request.content)
    return httpx.Response(201, json={"data": {"id": str(number), "text": "…"}})


async def test_create_post_request() -> None:
    http, seen = recording(created)
    client = x.build({"access_token": "tok"}, http, base_url="https://api.example/x")

    await client.create_post(PostRequest(text="Hello", idempotency_key="k", link="https://a.io"))

    [request] = seen
    assert (request.method, str(request.url)) == ("POST", "https://api.example/x/2/tweets")
    assert request.headers["authorization"] == "Bearer tok"
    assert request.headers["content-type"] == "application/json"
    assert body(request) == {"text": "Hello\n\nhttps://a.io"}


async def test_image_upload_then_post_with_media_ids() -> None:
    http, seen = recording(created)
    client = x.build({"access_token": "tok"}, http)
    image = ImageAttachment(b"PNGDATA", "image/png", alt_text="chart")

    await client.create_post(PostRequest(text="See chart", idempotency_key="k", image=image))

    upload, metadata, post = seen
    assert str(upload.url) == "https://api.x.com/2/media/upload"
    assert body(upload) == {
        "media": base64.b64encode(b"PNGDATA").decode(),
        "media_category": "tweet_image",
        "media_type": "image/png",
    }
    assert body(metadata) == {"id": "777", "metadata": {"alt_text": {"text": "chart"}}}
    assert body(post) == {"text": "See chart", "media": {"media_ids": ["777"]}}


async def test_thread_replies_chain_to_the_previous_part() -> None:
    ids = iter(["1", "2", "3"])
    http, seen = recording(lambda r: httpx.Response(201, json={"data": {"id": next(ids)}}))
    client = x.build({"access_token": "tok"}, http)

    head = await client.create_post(
        PostRequest(text="a b c", idempotency_key="k", parts=("a (1/3)", "b (2/3)", "c (3/3)"))
    )

    assert head.external_id == "1"
    assert [body(r) for r in seen] == [
        {"text": "a (1/3)"},
        {"text": "b (2/3)", "reply": {"in_reply_to_tweet_id": "1"}},
        {"text": "c (3/3)", "reply": {"in_reply_to_tweet_id": "2"}},
    ]


async def test_read_requests() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/2/users/me":
            return httpx.Response(200, json={"data": {"id": "42", "username": "u", "name": "U"}})
        if request.url.path == "/2/users/42/tweets":
            return httpx.Response(200, json={"meta": {"result_count": 0}})
        return httpx.Response(200, json={"data": {"id": "9", "public_metrics": {}}})

    http, seen = recording(answer)
    client = x.build({"access_token": "tok"}, http)

    assert await client.recent_posts(3) == []
    await client.engagement("9")

    me, timeline, tweet = seen
    assert (me.method, me.url.path) == ("GET", "/2/users/me")
    assert timeline.url.path == "/2/users/42/tweets"
    assert dict(timeline.url.params) == {"max_results": "5", "tweet.fields": "created_at"}
    assert tweet.url.path == "/2/tweets/9"
    assert dict(tweet.url.params) == {"tweet.fields": "public_metrics"}


async def test_user_id_from_credentials_skips_the_lookup() -> None:
    http, seen = recording(lambda r: httpx.Response(200, json={"meta": {"result_count": 0}}))
    client = x.build({"access_token": "tok", "user_id": "42"}, http)

    await client.recent_posts()

    assert [r.url.path for r in seen] == ["/2/users/42/tweets"]


async def test_duplicate_problem_json_is_not_auth_expiry() -> None:
    problem = {
        "detail": "You are not allowed to create a Tweet with duplicate content.",
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
    }
    http, _ = recording(lambda r: httpx.Response(403, json=problem))

    with pytest.raises(x.DuplicateContentError):
        await x.build({"access_token": "tok"}, http).create_post(
            PostRequest(text="t", idempotency_key="k")
        )


async def test_other_403_pauses_the_account() -> None:
    problem = {"title": "Forbidden", "type": "https://api.x.com/2/problems/client-forbidden"}
    http, _ = recording(lambda r: httpx.Response(403, json=problem))

    with pytest.raises(AuthExpiredError):
        await x.build({"access_token": "tok"}, http).verify()


async def test_old_style_429_body_with_reset_header() -> None:
    headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0"}
    headers["x-rate-limit-reset"] = "1900000000"
    errors = {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    http, _ = recording(lambda r: httpx.Response(429, json=errors, headers=headers))
    client = x.build({"access_token": "tok"}, http)

    with pytest.raises(RateLimitedExternalError) as caught:
        await client.verify()

    assert caught.value.reset_at is not None
    assert caught.value.reset_at.timestamp() == 1_900_000_000


async def test_refresh_uses_basic_auth_for_confidential_clients() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/2/oauth2/token":
            return httpx.Response(200, json={"access_token": "new", "expires_in": 7200})
        if request.headers["authorization"] == "Bearer old":
            return httpx.Response(401, json={"title": "Unauthorized", "status": 401})
        return httpx.Response(200, json={"data": {"id": "1", "username": "u"}})

    http, seen = recording(answer)
    creds = {"access_token": "old", "refresh_token": "r", "client_id": "cid"}
    creds["client_secret"] = "sec"
    client = x.build(creds, http)

    await client.verify()

    first, token, retry = seen
    assert first.headers["authorization"] == "Bearer old"
    assert token.method == "POST" and str(token.url) == "https://api.x.com/2/oauth2/token"
    assert token.headers["authorization"] == "Basic " + base64.b64encode(b"cid:sec").decode()
    assert token.headers["content-type"] == "application/x-www-form-urlencoded"
    form = dict(httpx.QueryParams(token.content.decode()))
    assert form == {"grant_type": "refresh_token", "refresh_token": "r", "client_id": "cid"}
    assert retry.headers["authorization"] == "Bearer new"


async def test_second_401_after_refresh_is_auth_expired() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/2/oauth2/token":
            return httpx.Response(200, json={"access_token": "new"})
        return httpx.Response(401, json={"title": "Unauthorized"})

    http, seen = recording(answer)
    client = x.build({"access_token": "old", "refresh_token": "r", "client_id": "c"}, http)

    with pytest.raises(AuthExpiredError):
        await client.verify()
    assert len(seen) == 3  # call, refresh, one retry: no loop


async def test_empty_post_is_refused_locally() -> None:
    http, seen = recording(created)
    with pytest.raises(PermanentExternalError):
        await x.build({"access_token": "t"}, http).create_post(
            PostRequest(text="  ", idempotency_key="k")
        )
    assert seen == []
