"""Bluesky client against the fake PDS: sessions, exactly-once by rkey, limits, read-back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

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
from finagency.integrations.platforms.base import Credentials, ImageAttachment, PostRequest
from finagency.integrations.platforms.bluesky import BlueskyClient, build
from finagency.integrations.platforms.fakes.bluesky import (
    APP_PASSWORD,
    DID,
    EXPIRED_ACCESS_JWT,
    HANDLE,
    SEED_REFRESH_JWT,
    create_app,
)
from finagency.integrations.platforms.textrules import rules_for

LOGIN: Credentials = {"identifier": HANDLE, "app_password": APP_PASSWORD}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        yield client


@pytest.fixture
def saved() -> list[Credentials]:
    return []


@pytest.fixture
def client(http: httpx.AsyncClient, saved: list[Credentials]) -> BlueskyClient:
    return client_with(http, LOGIN, saved)


def client_with(
    http: httpx.AsyncClient, credentials: Credentials, saved: list[Credentials]
) -> BlueskyClient:
    async def save(new: Credentials) -> None:
        saved.append(new)

    return BlueskyClient(http, credentials=credentials, base_url="http://fake", on_credentials=save)


async def stored(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    posts: list[dict[str, Any]] = (await http.get("/__fake__/posts")).json()
    return posts


async def test_publish_with_link_read_back_and_engagement(
    client: BlueskyClient, http: httpx.AsyncClient, saved: list[Credentials]
) -> None:
    link = "https://news.example/fed"
    text = f"🏦 連邦準備制度 held rates. {link}"
    published = await client.create_post(PostRequest(text=text, idempotency_key="k1", link=link))
    await http.post(
        "/__fake__/engage", json={"uri": published.external_id, "likes": 9, "reposts": 3}
    )

    (record,) = await stored(http)
    facet = record["value"]["facets"][0]["index"]
    engagement = await client.engagement(published.external_id)
    recent = await client.recent_posts()

    assert saved[0]["did"] == DID and saved[0]["access_jwt"].startswith("fake-access-")
    assert text.encode()[facet["byteStart"] : facet["byteEnd"]].decode() == link
    assert record["value"]["embed"]["external"]["uri"] == link
    assert published.url.startswith(f"https://bsky.app/profile/{HANDLE}/post/")
    assert (engagement.likes, engagement.reposts, engagement.replies) == (9, 3, 0)
    assert [(p.external_id, p.text) for p in recent] == [(published.external_id, text)]
    assert (await client.verify()).handle == HANDLE


async def test_exactly_once_answer_lost_then_resend_with_same_rkey(
    client: BlueskyClient, http: httpx.AsyncClient
) -> None:
    request = PostRequest(text="Payrolls beat forecasts", idempotency_key="publish-7")
    await http.post("/__fake__/drop", json={"times": 1})
    # The read-back that follows a 5xx fails too, so the outcome stays unknown.
    await http.post("/__fake__/fail", json={"status": 503, "times": 1, "path": "getRecord"})

    with pytest.raises(TransientExternalError):
        await client.create_post(request)
    found = await client.find_post(request.idempotency_key, request.text)
    resent = await client.create_post(request)

    (record,) = await stored(http)
    assert found is not None and found.external_id == record["uri"]
    assert resent.external_id == record["uri"]


async def test_lost_answer_is_recovered_by_reading_the_record_back(
    client: BlueskyClient, http: httpx.AsyncClient
) -> None:
    await http.post("/__fake__/drop", json={"times": 1})

    published = await client.create_post(PostRequest(text="once", idempotency_key="k"))

    assert [r["uri"] for r in await stored(http)] == [published.external_id]


@pytest.mark.parametrize("conflict_status", [500, 409])
async def test_resend_after_success_returns_the_same_post(conflict_status: int) -> None:
    app = create_app(duplicate_rkey_status=conflict_status)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = client_with(http, LOGIN, [])
        request = PostRequest(text="same", idempotency_key="k")

        first = await client.create_post(request)
        second = await client.create_post(request)

        assert second.external_id == first.external_id
        assert len((await http.get("http://fake/__fake__/posts")).json()) == 1


async def test_same_key_with_other_text_is_rejected(client: BlueskyClient) -> None:
    await client.create_post(PostRequest(text="first", idempotency_key="k"))

    with pytest.raises(PermanentExternalError, match="different post"):
        await client.create_post(PostRequest(text="second", idempotency_key="k"))


async def test_thread_and_image(client: BlueskyClient, http: httpx.AsyncClient) -> None:
    parts = tuple(rules_for("bluesky").split_thread("Yields rose sharply today. " * 20))
    image = ImageAttachment(data=b"\x89PNG", mime_type="image/png", alt_text="10y yield")

    await client.create_post(PostRequest(text="x", idempotency_key="t", parts=parts, image=image))

    records = await stored(http)
    root = {"uri": records[0]["uri"], "cid": records[0]["cid"]}
    assert len(parts) > 1 and len(records) == len(parts)
    assert records[0]["value"]["embed"]["images"][0]["alt"] == "10y yield"
    assert all(r["value"]["reply"]["root"] == root for r in records[1:])
    assert [r["value"]["reply"]["parent"]["uri"] for r in records[1:]] == [
        r["uri"] for r in records[:-1]
    ]
    assert records[0]["replyCount"] == 1


async def test_find_post_by_text_when_the_key_is_unknown(client: BlueskyClient) -> None:
    published = await client.create_post(PostRequest(text="Gold  at a record", idempotency_key="a"))

    found = await client.find_post("other-key", "Gold at a record")

    assert found is not None and found.external_id == published.external_id
    assert await client.find_post("other-key", "never posted") is None


async def test_expired_access_token_is_refreshed_and_saved(
    http: httpx.AsyncClient, saved: list[Credentials]
) -> None:
    seeded = {
        **LOGIN,
        "access_jwt": EXPIRED_ACCESS_JWT,
        "refresh_jwt": SEED_REFRESH_JWT,
        "did": DID,
    }
    client = client_with(http, seeded, saved)

    await client.create_post(PostRequest(text="after refresh", idempotency_key="k"))
    await http.post("/__fake__/expire")
    await client.verify()

    assert len(saved) == 2
    assert saved[0]["refresh_jwt"] != SEED_REFRESH_JWT
    assert saved[1]["access_jwt"] != saved[0]["access_jwt"]
    assert len(await stored(http)) == 1


async def test_invalid_token_and_wrong_password_are_auth_expired(http: httpx.AsyncClient) -> None:
    forged = client_with(http, {**LOGIN, "access_jwt": "forged", "did": DID}, [])
    wrong = client_with(http, {"identifier": HANDLE, "app_password": "nope"}, [])

    with pytest.raises(AuthExpiredError, match="InvalidToken"):
        await forged.verify()
    with pytest.raises(AuthExpiredError, match="AuthenticationRequired"):
        await wrong.verify()


async def test_rate_limit_counts_down_then_429_with_reset() -> None:
    app = create_app(limit=3, window_seconds=300)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = build(LOGIN, http, base_url="http://fake")
        await client.verify()  # createSession (own window) then getSession
        assert client.last_rate_limit is not None
        assert (client.last_rate_limit.limit, client.last_rate_limit.remaining) == (3, 2)
        assert client.last_rate_limit.scope == "3;w=300"
        await client.verify()
        await client.verify()
        reset = client.last_rate_limit.reset_at

        with pytest.raises(RateLimitedExternalError) as raised:
            await client.verify()
        assert raised.value.reset_at == reset is not None
        await http.post("http://fake/__fake__/clock", json={"advance_seconds": 300})
        assert (await client.verify()).id == DID


async def test_too_long_post_is_rejected(client: BlueskyClient) -> None:
    family = "👨\u200d👩\u200d👧\u200d👦"
    await client.create_post(PostRequest(text=family * 120, idempotency_key="ok"))

    with pytest.raises(PermanentExternalError, match="3000"):
        await client.create_post(PostRequest(text=family * 121, idempotency_key="bytes"))
    with pytest.raises(PermanentExternalError, match="300 graphemes"):
        await client.create_post(PostRequest(text="e\u0301" * 301, idempotency_key="graphemes"))


async def test_fake_works_mounted_at_a_prefix() -> None:
    app = Starlette(routes=[Mount("/bluesky", app=create_app())])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = build(LOGIN, http, base_url="http://fake/bluesky")
        published = await client.create_post(PostRequest(text="mounted", idempotency_key="k"))
        posts = (await http.get("http://fake/bluesky/__fake__/posts")).json()

    assert [p["uri"] for p in posts] == [published.external_id]
