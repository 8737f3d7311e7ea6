"""The exact requests the LinkedIn client sends (method, URL, headers, JSON), via MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from finagency.core.errors import AuthExpiredError, RateLimitedExternalError
from finagency.integrations.platforms import linkedin
from finagency.integrations.platforms.base import ImageAttachment, PostRequest

PERSON = "urn:li:person:abc"
CREDS = {"access_token": "tok", "author_urn": PERSON}
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
    if request.url.path == "/rest/images":
        value = {
            "uploadUrlExpiresAt": 1,
            "uploadUrl": "https://upload.example/dms/1",
            "image": "urn:li:image:C1",
        }
        return httpx.Response(200, json={"value": value})
    if request.method == "PUT":
        return httpx.Response(201)
    return httpx.Response(201, headers={"x-restli-id": "urn:li:share:99"})


async def test_create_post_request() -> None:
    http, seen = recording(created)
    client = linkedin.build(CREDS, http, version="202607")

    published = await client.create_post(PostRequest(text="Q2 (prelim) #1", idempotency_key="k"))

    [request] = seen
    assert (request.method, str(request.url)) == ("POST", "https://api.linkedin.com/rest/posts")
    assert request.headers["authorization"] == "Bearer tok"
    assert request.headers["linkedin-version"] == "202607"
    assert request.headers["x-restli-protocol-version"] == "2.0.0"
    assert request.headers["content-type"] == "application/json"
    assert body(request) == {
        "author": PERSON,
        "commentary": r"Q2 \(prelim\) \#1",
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    assert published.external_id == "urn:li:share:99"


async def test_image_initialize_upload_put_then_post() -> None:
    http, seen = recording(created)
    image = ImageAttachment(b"JPEG", "image/jpeg", alt_text="chart")

    await linkedin.build(CREDS, http).create_post(
        PostRequest(text="t", idempotency_key="k", image=image)
    )

    init, put, post = seen
    assert str(init.url) == "https://api.linkedin.com/rest/images?action=initializeUpload"
    assert body(init) == {"initializeUploadRequest": {"owner": PERSON}}
    assert (put.method, str(put.url), put.content) == (
        "PUT",
        "https://upload.example/dms/1",
        b"JPEG",
    )
    assert put.headers["authorization"] == "Bearer tok"
    assert body(post)["content"] == {"media": {"id": "urn:li:image:C1", "altText": "chart"}}


async def test_read_requests_encode_urns() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/userinfo":
            return httpx.Response(200, json={"sub": "abc", "name": "A"})
        if request.url.path == "/rest/posts":
            return httpx.Response(200, json={"elements": []})
        return httpx.Response(200, json={"likesSummary": {"totalLikes": 1}})

    http, seen = recording(answer)
    client = linkedin.build(CREDS, http)

    await client.recent_posts(5)
    await client.engagement("urn:li:share:7")
    await client.verify()

    posts, actions, userinfo = seen
    assert posts.url.raw_path == (
        b"/rest/posts?q=author&author=urn%3Ali%3Aperson%3Aabc&count=5&sortBy=CREATED"
    )
    assert actions.url.raw_path == b"/rest/socialActions/urn%3Ali%3Ashare%3A7"
    assert str(userinfo.url) == "https://api.linkedin.com/v2/userinfo"


async def test_page_statistics_request() -> None:
    http, seen = recording(lambda r: httpx.Response(200, json={"elements": []}))
    creds = {"access_token": "tok", "author_urn": "urn:li:organization:5"}

    await linkedin.build(creds, http).engagement("urn:li:ugcPost:8")

    assert seen[0].url.raw_path == (
        b"/rest/organizationalEntityShareStatistics?q=organizationalEntity"
        b"&organizationalEntity=urn%3Ali%3Aorganization%3A5&ugcPosts=List(urn%3Ali%3AugcPost%3A8)"
    )


async def test_refresh_sends_client_secret_in_the_form() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/v2/accessToken":
            return httpx.Response(200, json={"access_token": "new", "expires_in": 5184000})
        if request.headers["authorization"] == "Bearer old":
            return httpx.Response(401, json={"status": 401, "code": "EXPIRED_ACCESS_TOKEN"})
        return httpx.Response(200, json={"sub": "abc"})

    http, seen = recording(answer)
    creds = {**CREDS, "access_token": "old", "refresh_token": "r", "client_id": "c"}
    await linkedin.build({**creds, "client_secret": "s"}, http).verify()

    token = seen[1]
    assert str(token.url) == "https://www.linkedin.com/oauth/v2/accessToken"
    assert "authorization" not in token.headers
    assert dict(httpx.QueryParams(token.content.decode())) == {
        "grant_type": "refresh_token",
        "refresh_token": "r",
        "client_id": "c",
        "client_secret": "s",
    }


async def test_401_without_refresh_token_and_429_without_headers() -> None:
    http, _ = recording(lambda r: httpx.Response(401, json={"status": 401}))
    with pytest.raises(AuthExpiredError):
        await linkedin.build(CREDS, http).verify()

    http, _ = recording(lambda r: httpx.Response(429, json={"status": 429}))
    with pytest.raises(RateLimitedExternalError) as caught:
        await linkedin.build(CREDS, http).recent_posts()
    assert caught.value.reset_at is not None and caught.value.reset_at.hour == 0


async def test_missing_restli_header_falls_back_to_read_back() -> None:
    element = {
        "id": "urn:li:share:5",
        "commentary": r"Hi \(there\)",
        "createdAt": 1_700_000_000_000,
    }

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(201)
        return httpx.Response(200, json={"elements": [element]})

    http, _ = recording(answer)
    published = await linkedin.build(CREDS, http).create_post(
        PostRequest(text="Hi (there)", idempotency_key="k")
    )

    assert published.external_id == "urn:li:share:5"
