"""The X client against the in-process fake X: posts, threads, read-back, errors, exactly-once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
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
from finagency.integrations.platforms import x
from finagency.integrations.platforms.base import Credentials, ImageAttachment, PostRequest
from finagency.integrations.platforms.fakes import x as fake_x
from finagency.integrations.platforms.textrules import rules_for

NOW = 1_800_000_000.0


@pytest.fixture
def app() -> Starlette:
    return fake_x.create_app(clock=lambda: NOW)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://fake"
    ) as client:
        yield client


def client_for(
    http: httpx.AsyncClient, saved: list[Credentials] | None = None, **credentials: str
) -> x.XClient:
    async def save(new: Credentials) -> None:
        if saved is not None:
            saved.append(new)

    creds = {"access_token": fake_x.TEST_ACCESS_TOKEN, **credentials}
    client = x.build(creds, http, base_url="http://fake", on_credentials=save)
    assert isinstance(client, x.XClient)
    return client


async def fail(http: httpx.AsyncClient, **fault: Any) -> None:
    response = await http.post("/__fake__/fail", json=fault)
    assert response.status_code == 200


async def test_post_is_created_and_read_back(http: httpx.AsyncClient) -> None:
    client = client_for(http)

    published = await client.create_post(
        PostRequest(text="CPI rose 0.3% in May & core 0.2%", idempotency_key="k1")
    )

    assert published.url == f"https://x.com/i/web/status/{published.external_id}"
    recent = await client.recent_posts()
    assert [post.external_id for post in recent] == [published.external_id]
    assert recent[0].text == "CPI rose 0.3% in May & core 0.2%"  # X's &amp; unescaped
    assert recent[0].published_at == datetime.fromtimestamp(NOW, UTC)
    assert recent[0].idempotency_key is None


async def test_rate_limit_headers_count_down(http: httpx.AsyncClient) -> None:
    client = client_for(http)

    await client.create_post(PostRequest(text="first", idempotency_key="k1"))
    first = client.last_rate_limit
    await client.create_post(PostRequest(text="second", idempotency_key="k2"))
    second = client.last_rate_limit

    assert first is not None and second is not None
    assert (first.limit, first.remaining, second.remaining) == (100, 99, 98)
    assert first.scope == "POST /2/tweets"
    assert first.reset_at == datetime.fromtimestamp(NOW + 900, UTC)


async def test_link_goes_into_the_text_and_image_is_attached(
    http: httpx.AsyncClient, app: Starlette
) -> None:
    client = client_for(http)
    image = ImageAttachment(b"\x89PNG fake", "image/png", alt_text="CPI chart")

    await client.create_post(
        PostRequest(
            text="Chart of the day", idempotency_key="k", link="https://ex.com/a", image=image
        )
    )

    state = (await http.get("/__fake__/state")).json()
    [post] = state["posts"]
    assert post["text"] == "Chart of the day\n\nhttps://ex.com/a"
    assert list(state["media"].values()) == ["CPI chart"]
    assert post["media_ids"] == list(state["media"])


async def test_thread_parts_are_chained_as_replies(http: httpx.AsyncClient) -> None:
    client = client_for(http)
    text = " ".join(f"Sentence number {n} about yields and spreads." for n in range(20))
    parts = tuple(rules_for("x").split_thread(text))
    assert len(parts) > 2

    head = await client.create_post(PostRequest(text=text, idempotency_key="t", parts=parts))

    posts = (await http.get("/__fake__/state")).json()["posts"]
    assert [post["text"] for post in posts] == list(parts)
    assert posts[0]["id"] == head.external_id
    replies = [post.get("reply_to") for post in posts]
    assert replies == [None] + [post["id"] for post in posts[:-1]]


async def test_thread_failing_midway_says_the_head_went_out(app: Starlette) -> None:
    inner = httpx.ASGITransport(app=app)
    creates = 0

    async def second_create_fails(request: httpx.Request) -> httpx.Response:
        nonlocal creates
        if request.url.path == "/2/tweets":
            creates += 1
            if creates == 2:
                return httpx.Response(503, json={"title": "Service Unavailable"})
        return await inner.handle_async_request(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(second_create_fails)) as http:
        client = client_for(http)
        parts = ("part one (1/3)", "part two (2/3)", "part three (3/3)")
        with pytest.raises(x.ThreadIncompleteError) as caught:
            await client.create_post(PostRequest(text="a b c", idempotency_key="t", parts=parts))

    assert isinstance(caught.value, PermanentExternalError)
    assert caught.value.posted_ids == (caught.value.head.external_id,)
    assert "part 2 of 3" in str(caught.value)


async def test_engagement_reads_public_metrics(http: httpx.AsyncClient) -> None:
    client = client_for(http)
    post = await client.create_post(PostRequest(text="metrics please", idempotency_key="m"))
    metrics = {"like_count": 7, "retweet_count": 2, "quote_count": 1, "impression_count": 900}
    await http.post("/__fake__/engage", json={"id": post.external_id, **metrics})

    engagement = await client.engagement(post.external_id)

    assert (engagement.likes, engagement.reposts, engagement.replies) == (7, 3, 0)
    assert engagement.impressions == 900


async def test_engagement_of_a_missing_post_is_rejected(http: httpx.AsyncClient) -> None:
    with pytest.raises(PermanentExternalError, match="Could not find tweet"):
        await client_for(http).engagement("123")


async def test_verify_names_the_account(http: httpx.AsyncClient) -> None:
    identity = await client_for(http).verify()

    assert (identity.id, identity.handle, identity.display_name) == (
        fake_x.TEST_USER["id"],
        "finagency_fake",
        "Finagency Fake",
    )


async def test_duplicate_text_is_its_own_error(http: httpx.AsyncClient) -> None:
    client = client_for(http)
    await client.create_post(PostRequest(text="same words", idempotency_key="a"))

    with pytest.raises(x.DuplicateContentError) as caught:
        await client.create_post(PostRequest(text="same words", idempotency_key="b"))

    assert not isinstance(caught.value, AuthExpiredError)
    assert isinstance(caught.value, PermanentExternalError)


async def test_exhausted_window_is_rate_limited_until_reset() -> None:
    app = fake_x.create_app(limits={"POST /2/tweets": 1}, clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = client_for(http)
        await client.create_post(PostRequest(text="one", idempotency_key="1"))
        with pytest.raises(RateLimitedExternalError) as caught:
            await client.create_post(PostRequest(text="two", idempotency_key="2"))

    assert caught.value.reset_at == datetime.fromtimestamp(NOW + 900, UTC)
    assert client.last_rate_limit is not None and client.last_rate_limit.remaining == 0


async def test_spent_24_hour_cap_waits_for_the_daily_reset() -> None:
    app = fake_x.create_app(daily_posts=1, clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = client_for(http)
        await client.create_post(PostRequest(text="one", idempotency_key="1"))
        with pytest.raises(RateLimitedExternalError) as caught:
            await client.create_post(PostRequest(text="two", idempotency_key="2"))

    assert caught.value.reset_at == datetime.fromtimestamp(NOW + 86400, UTC)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (503, TransientExternalError),
        (500, TransientExternalError),
        (400, PermanentExternalError),
        (429, RateLimitedExternalError),
    ],
)
async def test_error_statuses_map_to_typed_errors(
    http: httpx.AsyncClient, status: int, error: type[Exception]
) -> None:
    await fail(http, status=status, times=1, path="/2/tweets")

    with pytest.raises(error):
        await client_for(http).create_post(PostRequest(text="hello", idempotency_key="k"))


async def test_expired_token_without_refresh_token_is_auth_expired(
    http: httpx.AsyncClient,
) -> None:
    client = client_for(http, access_token=fake_x.EXPIRED_ACCESS_TOKEN)

    with pytest.raises(AuthExpiredError):
        await client.create_post(PostRequest(text="hello", idempotency_key="k"))


async def test_401_refreshes_saves_and_retries_once(http: httpx.AsyncClient) -> None:
    saved: list[Credentials] = []
    client = client_for(
        http,
        saved,
        access_token=fake_x.EXPIRED_ACCESS_TOKEN,
        refresh_token=fake_x.TEST_REFRESH_TOKEN,
        client_id=fake_x.TEST_CLIENT_ID,
    )

    published = await client.create_post(PostRequest(text="after refresh", idempotency_key="k"))

    assert published.external_id
    [new] = saved
    assert new["access_token"].startswith("x-access-")
    assert new["refresh_token"] != fake_x.TEST_REFRESH_TOKEN  # X rotates refresh tokens
    assert datetime.fromisoformat(new["expires_at"]) > datetime.now(UTC)
    # The old refresh token is spent: a second client holding it cannot refresh.
    stale = client_for(
        http,
        access_token=fake_x.EXPIRED_ACCESS_TOKEN,
        refresh_token=fake_x.TEST_REFRESH_TOKEN,
        client_id=fake_x.TEST_CLIENT_ID,
    )
    with pytest.raises(AuthExpiredError):
        await stale.verify()


async def test_tokens_expired_server_side_are_refreshed(http: httpx.AsyncClient) -> None:
    saved: list[Credentials] = []
    client = client_for(
        http, saved, refresh_token=fake_x.TEST_REFRESH_TOKEN, client_id=fake_x.TEST_CLIENT_ID
    )
    await client.verify()
    await http.post("/__fake__/expire-tokens")

    await client.verify()

    assert len(saved) == 1


async def test_exactly_once_dropped_connection_then_found_by_text(
    http: httpx.AsyncClient,
) -> None:
    client = client_for(http)
    text = "10-year yield at 4.2% https://example.com/yields"
    await fail(http, status=500, times=1, mode="drop", method="POST", path="/2/tweets")

    with pytest.raises(TransientExternalError):
        await client.create_post(PostRequest(text=text, idempotency_key="k"))

    found = await client.find_post("k", text)
    assert found is not None
    assert "t.co" in found.text  # X shortened the link; the match ignores it
    assert await client.find_post("k", "some other text") is None


async def test_accepted_then_500_is_transient_and_found(http: httpx.AsyncClient) -> None:
    client = client_for(http)
    await fail(http, status=500, times=1, mode="after", path="/2/tweets")

    with pytest.raises(TransientExternalError):
        await client.create_post(PostRequest(text="accepted anyway", idempotency_key="k"))

    assert await client.find_post("k", "accepted anyway") is not None


async def test_thread_is_found_by_its_first_part(http: httpx.AsyncClient) -> None:
    client = client_for(http)
    text = " ".join(f"Point {n}: the curve steepened again today." for n in range(15))
    parts = tuple(rules_for("x").split_thread(text))
    head = await client.create_post(PostRequest(text=text, idempotency_key="t", parts=parts))

    found = await client.find_post("t", text)

    assert found is not None and found.external_id == head.external_id


async def test_too_long_text_is_rejected_before_any_call(http: httpx.AsyncClient) -> None:
    with pytest.raises(PermanentExternalError, match="weighted characters"):
        await client_for(http).create_post(PostRequest(text="数" * 141, idempotency_key="k"))

    assert (await http.get("/__fake__/state")).json()["posts"] == []


def test_build_names_missing_credentials() -> None:
    with pytest.raises(PermanentExternalError, match="access_token"):
        x.build({}, httpx.AsyncClient())


async def test_fake_works_mounted_under_a_prefix() -> None:
    combined = Starlette(routes=[Mount("/x", app=fake_x.create_app())])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=combined)) as http:
        creds = {"access_token": fake_x.EXPIRED_ACCESS_TOKEN}
        creds |= {"refresh_token": fake_x.TEST_REFRESH_TOKEN, "client_id": fake_x.TEST_CLIENT_ID}
        client = x.build(creds, http, base_url="http://runner/x")
        await http.post("http://runner/x/__fake__/fail", json={"status": 503, "path": "/2/tweets"})

        with pytest.raises(TransientExternalError):
            await client.create_post(PostRequest(text="mounted", idempotency_key="k"))
        await client.create_post(PostRequest(text="mounted again", idempotency_key="k2"))

        assert [post.text for post in await client.recent_posts()] == ["mounted again"]
