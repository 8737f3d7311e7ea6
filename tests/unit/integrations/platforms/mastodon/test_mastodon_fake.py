"""Mastodon client against the fake instance: publishing, exactly-once, limits, read-back."""

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
from finagency.integrations.platforms.base import ImageAttachment, PostRequest
from finagency.integrations.platforms.fakes.mastodon import ACCOUNT_ID, TEST_TOKEN, create_app
from finagency.integrations.platforms.mastodon import MastodonClient
from finagency.integrations.platforms.textrules import rules_for

FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # one grapheme, seven code points
E_ACUTE = "e\u0301"  # one grapheme, two code points


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(limit=50, media_processing_polls=1))
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        yield client


@pytest.fixture
def client(http: httpx.AsyncClient) -> MastodonClient:
    async def no_sleep(_: float) -> None:
        return None

    return MastodonClient(http, base_url="http://fake", access_token=TEST_TOKEN, sleep=no_sleep)


async def stored(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await http.get("/__fake__/posts")
    posts: list[dict[str, Any]] = response.json()
    return posts


async def test_publish_read_back_and_engagement(
    client: MastodonClient, http: httpx.AsyncClient
) -> None:
    text = "Brent at $91 & rising <fast>\nhttps://news.example/oil?id=1"
    published = await client.create_post(PostRequest(text=text, idempotency_key="k1"))
    await http.post("/__fake__/engage", json={"id": published.external_id, "favourites": 4})

    recent = await client.recent_posts()
    engagement = await client.engagement(published.external_id)

    assert published.url == f"http://fake/@finagency/{published.external_id}"
    assert [(p.external_id, p.text) for p in recent] == [(published.external_id, text)]
    assert engagement.likes == 4
    assert (await client.verify()).id == ACCOUNT_ID


async def test_exactly_once_when_the_answer_is_lost(
    client: MastodonClient, http: httpx.AsyncClient
) -> None:
    request = PostRequest(text="Payrolls beat forecasts", idempotency_key="publish-7")
    await http.post("/__fake__/drop", json={"times": 1})

    with pytest.raises(TransientExternalError):
        await client.create_post(request)
    found = await client.find_post(request.idempotency_key, request.text)
    resent = await client.create_post(request)

    posts = await stored(http)
    assert len(posts) == 1
    assert found is not None and resent.external_id == found.external_id == posts[0]["id"]


async def test_idempotency_key_expires_after_an_hour(
    client: MastodonClient, http: httpx.AsyncClient
) -> None:
    request = PostRequest(text="same text", idempotency_key="k")
    first = await client.create_post(request)
    await http.post("/__fake__/clock", json={"advance_seconds": 3601})

    second = await client.create_post(request)

    assert second.external_id != first.external_id
    assert len(await stored(http)) == 2


async def test_thread_is_a_reply_chain_and_resend_creates_nothing(
    client: MastodonClient, http: httpx.AsyncClient
) -> None:
    parts = rules_for("mastodon").split_thread("Inflation cooled. " * 60)
    request = PostRequest(text="x", idempotency_key="thread", parts=tuple(parts))

    first = await client.create_post(request)
    again = await client.create_post(request)

    posts = await stored(http)
    assert len(parts) > 1 and len(posts) == len(parts)
    assert again.external_id == first.external_id
    assert posts[0]["in_reply_to_id"] is None
    assert [p["in_reply_to_id"] for p in posts[1:]] == [p["id"] for p in posts[:-1]]
    assert posts[0]["replies_count"] == 1


async def test_image_upload_waits_for_processing(
    client: MastodonClient, http: httpx.AsyncClient
) -> None:
    image = ImageAttachment(data=b"\xff\xd8jpeg", mime_type="image/jpeg", alt_text="chart")

    await client.create_post(PostRequest(text="chart", idempotency_key="k", image=image))

    (post,) = await stored(http)
    assert post["media_attachments"][0]["description"] == "chart"
    assert post["media_attachments"][0]["url"] is not None


async def test_graphemes_are_counted_as_mastodon_counts_them(
    client: MastodonClient,
) -> None:
    rules = rules_for("mastodon")
    assert rules.count(FAMILY) == 1
    assert rules.count(E_ACUTE * 3) == 3
    assert rules.count("日本語のニュース") == 8
    assert rules.count("🇯🇵🇺🇸") == 2
    assert rules.count("see https://example.com/" + "a" * 80) == 4 + 23
    assert rules.count("@fin@mastodon.social") == len("@fin")

    await client.create_post(PostRequest(text=FAMILY * 500, idempotency_key="a"))
    with pytest.raises(PermanentExternalError, match="character limit of 500"):
        await client.create_post(PostRequest(text=E_ACUTE * 501, idempotency_key="b"))


async def test_blank_status_is_rejected(client: MastodonClient) -> None:
    with pytest.raises(PermanentExternalError, match="Text can't be blank"):
        await client.create_post(PostRequest(text="  ", idempotency_key="k"))


async def test_rate_limit_counts_down_then_429_until_reset(http: httpx.AsyncClient) -> None:
    transport = httpx.ASGITransport(app=create_app(limit=2, window_seconds=300))
    async with httpx.AsyncClient(transport=transport) as limited:
        client = MastodonClient(limited, base_url="http://fake", access_token=TEST_TOKEN)
        await client.verify()
        assert client.last_rate_limit is not None
        assert (client.last_rate_limit.limit, client.last_rate_limit.remaining) == (2, 1)
        await client.verify()
        reset = client.last_rate_limit.reset_at
        assert reset is not None and reset > datetime.now(UTC)

        with pytest.raises(RateLimitedExternalError) as raised:
            await client.verify()
        assert raised.value.reset_at == reset
        await limited.post("http://fake/__fake__/clock", json={"advance_seconds": 301})
        assert (await client.verify()).id == ACCOUNT_ID


async def test_injected_failures_then_recovery(
    client: MastodonClient, http: httpx.AsyncClient
) -> None:
    await http.post("/__fake__/fail", json={"status": 503, "times": 2, "path": "/statuses"})
    request = PostRequest(text="retry me", idempotency_key="k")

    for _ in range(2):
        with pytest.raises(TransientExternalError):
            await client.create_post(request)
    await client.create_post(request)

    assert len(await stored(http)) == 1


async def test_wrong_token_is_auth_expired(http: httpx.AsyncClient) -> None:
    client = MastodonClient(http, base_url="http://fake", access_token="revoked")

    with pytest.raises(AuthExpiredError, match="access token is invalid"):
        await client.verify()


async def test_fake_works_mounted_at_a_prefix_and_takes_form_bodies() -> None:
    app = Starlette(routes=[Mount("/mastodon", app=create_app())])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = MastodonClient(http, base_url="http://fake/mastodon", access_token=TEST_TOKEN)
        published = await client.create_post(PostRequest(text="mounted", idempotency_key="k"))
        form = await http.post(
            "http://fake/mastodon/api/v1/statuses",
            data={"status": "from a form", "visibility": "unlisted"},
            headers={"Authorization": f"Bearer {TEST_TOKEN}"},
        )

    assert published.url == f"http://fake/mastodon/@finagency/{published.external_id}"
    assert form.status_code == 200
    assert (form.json()["content"], form.json()["visibility"]) == ("<p>from a form</p>", "unlisted")
