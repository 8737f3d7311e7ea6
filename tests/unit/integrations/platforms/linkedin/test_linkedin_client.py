"""The LinkedIn client against the in-process fake: posts, images, escaping, errors, exactly-once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
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
from finagency.integrations.platforms import linkedin
from finagency.integrations.platforms.base import Credentials, ImageAttachment, PostRequest
from finagency.integrations.platforms.fakes import linkedin as fake_li

NOW = 1_800_000_000.0


@pytest.fixture
def app() -> Starlette:
    return fake_li.create_app(clock=lambda: NOW)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        yield client


def client_for(
    http: httpx.AsyncClient, saved: list[Credentials] | None = None, **credentials: str
) -> linkedin.LinkedInClient:
    async def save(new: Credentials) -> None:
        if saved is not None:
            saved.append(new)

    creds = {
        "access_token": fake_li.TEST_ACCESS_TOKEN,
        "author_urn": fake_li.TEST_PERSON_URN,
        **credentials,
    }
    client = linkedin.build(creds, http, base_url="http://fake", on_credentials=save)
    assert isinstance(client, linkedin.LinkedInClient)
    return client


async def fail(http: httpx.AsyncClient, base: str = "", **fault: Any) -> None:
    assert (await http.post(f"{base}/__fake__/fail", json=fault)).status_code == 200


async def state(http: httpx.AsyncClient) -> dict[str, Any]:
    body: dict[str, Any] = (await http.get("/__fake__/state")).json()
    return body


async def test_post_id_comes_from_the_restli_header(http: httpx.AsyncClient) -> None:
    published = await client_for(http).create_post(
        PostRequest(text="Rates held at 5.25%", idempotency_key="k")
    )

    assert published.external_id.startswith("urn:li:share:")
    assert published.url == f"https://www.linkedin.com/feed/update/{published.external_id}"
    [post] = (await state(http))["posts"]
    assert post["id"] == published.external_id


async def test_reserved_characters_survive_thanks_to_escaping(http: httpx.AsyncClient) -> None:
    client = client_for(http)
    text = r"Q2 (prelim): EPS beat #earnings @desk [note] <b> *x* _y_ ~z~ {t} a|b \ end"

    await client.create_post(PostRequest(text=text, idempotency_key="k"))

    [post] = (await state(http))["posts"]
    assert post["text"] == text  # nothing cut off at "("
    [remote] = await client.recent_posts()
    assert remote.text == text


async def test_unescaped_text_would_have_been_cut(http: httpx.AsyncClient) -> None:
    # What the fake (like LinkedIn) does with raw little-format text: a sanity check on the fake.
    headers = {
        "Authorization": f"Bearer {fake_li.TEST_ACCESS_TOKEN}",
        "LinkedIn-Version": "202605",
        "X-Restli-Protocol-Version": "2.0.0",
    }
    body = {
        "author": fake_li.TEST_PERSON_URN,
        "commentary": "Profit (GAAP) rose",
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED"},
        "lifecycleState": "PUBLISHED",
    }
    assert (await http.post("/rest/posts", json=body, headers=headers)).status_code == 201
    assert (await state(http))["posts"][0]["text"] == "Profit "


async def test_image_is_uploaded_then_attached(http: httpx.AsyncClient) -> None:
    image = ImageAttachment(b"\xff\xd8jpeg", "image/jpeg", alt_text="Yield curve")

    await client_for(http).create_post(
        PostRequest(text="Curve", idempotency_key="k", image=image, link="https://ex.com/c")
    )

    snapshot = await state(http)
    [post] = snapshot["posts"]
    [(image_urn, uploaded)] = snapshot["images"].items()
    assert uploaded is True
    assert post["content"] == {"media": {"id": image_urn, "altText": "Yield curve"}}
    assert post["text"] == "Curve\n\nhttps://ex.com/c"


async def test_link_becomes_an_article(http: httpx.AsyncClient) -> None:
    await client_for(http).create_post(
        PostRequest(text="Fed minutes\nmore", idempotency_key="k", link="https://ex.com/m")
    )

    [post] = (await state(http))["posts"]
    assert post["content"] == {"article": {"source": "https://ex.com/m", "title": "Fed minutes"}}


async def test_engagement_for_a_member_post(http: httpx.AsyncClient) -> None:
    client = client_for(http)
    post = await client.create_post(PostRequest(text="metrics", idempotency_key="k"))
    await http.post("/__fake__/engage", json={"urn": post.external_id, "likes": 4, "comments": 2})

    engagement = await client.engagement(post.external_id)

    assert (engagement.likes, engagement.replies, engagement.impressions) == (4, 2, 0)


async def test_engagement_for_a_page_post_includes_impressions(http: httpx.AsyncClient) -> None:
    client = client_for(http, author_urn=fake_li.TEST_ORGANIZATION_URN)
    post = await client.create_post(PostRequest(text="page post", idempotency_key="k"))
    stats = {"likes": 3, "comments": 1, "shares": 2, "impressions": 500, "clicks": 9}
    await http.post("/__fake__/engage", json={"urn": post.external_id, **stats})

    engagement = await client.engagement(post.external_id)

    assert engagement.impressions == 500 and engagement.clicks == 9
    assert (engagement.likes, engagement.replies, engagement.reposts) == (3, 1, 2)


async def test_verify_reads_userinfo(http: httpx.AsyncClient) -> None:
    identity = await client_for(http).verify()

    assert identity.id == fake_li.TEST_MEMBER_ID
    assert identity.display_name == "Ada Fake"
    assert identity.extra["person_urn"] == fake_li.TEST_PERSON_URN


async def test_duplicate_is_reported_with_the_existing_urn(http: httpx.AsyncClient) -> None:
    client = client_for(http)
    first = await client.create_post(PostRequest(text="same", idempotency_key="a"))

    with pytest.raises(linkedin.DuplicateContentError) as caught:
        await client.create_post(PostRequest(text="same", idempotency_key="b"))

    assert caught.value.existing_urn == first.external_id


async def test_spent_daily_quota_waits_for_midnight_utc() -> None:
    app = fake_li.create_app(daily_posts=1, clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = client_for(http)
        await client.create_post(PostRequest(text="one", idempotency_key="1"))
        with pytest.raises(RateLimitedExternalError) as caught:
            await client.create_post(PostRequest(text="two", idempotency_key="2"))

    reset_at = caught.value.reset_at
    assert reset_at is not None and (reset_at.hour, reset_at.minute) == (0, 0)
    assert timedelta(0) < reset_at - datetime.now(UTC) <= timedelta(days=1)
    assert client.last_rate_limit is not None and client.last_rate_limit.remaining == 0


@pytest.mark.parametrize(
    ("status", "error"),
    [(503, TransientExternalError), (500, TransientExternalError), (400, PermanentExternalError)],
)
async def test_error_statuses_map_to_typed_errors(
    http: httpx.AsyncClient, status: int, error: type[Exception]
) -> None:
    await fail(http, status=status, path="/rest/posts")

    with pytest.raises(error):
        await client_for(http).create_post(PostRequest(text="hello", idempotency_key="k"))


async def test_old_version_is_refused(http: httpx.AsyncClient) -> None:
    creds = {"access_token": fake_li.TEST_ACCESS_TOKEN, "author_urn": fake_li.TEST_PERSON_URN}
    client = linkedin.build(creds, http, base_url="http://fake", version="202001")

    with pytest.raises(PermanentExternalError, match="426"):
        await client.recent_posts()


async def test_expired_token_without_refresh_is_auth_expired(http: httpx.AsyncClient) -> None:
    client = client_for(http, access_token=fake_li.EXPIRED_ACCESS_TOKEN)

    with pytest.raises(AuthExpiredError):
        await client.create_post(PostRequest(text="hello", idempotency_key="k"))


async def test_401_refreshes_with_client_secret_and_retries(http: httpx.AsyncClient) -> None:
    saved: list[Credentials] = []
    client = client_for(
        http,
        saved,
        access_token=fake_li.EXPIRED_ACCESS_TOKEN,
        refresh_token=fake_li.TEST_REFRESH_TOKEN,
        client_id=fake_li.TEST_CLIENT_ID,
        client_secret=fake_li.TEST_CLIENT_SECRET,
    )

    published = await client.create_post(PostRequest(text="after refresh", idempotency_key="k"))

    assert published.external_id.startswith("urn:li:share:")
    [new] = saved
    assert new["access_token"].startswith("li-access-")
    assert new["refresh_token"] == fake_li.TEST_REFRESH_TOKEN
    assert new["author_urn"] == fake_li.TEST_PERSON_URN


async def test_refresh_with_wrong_secret_is_auth_expired(http: httpx.AsyncClient) -> None:
    client = client_for(
        http,
        access_token=fake_li.EXPIRED_ACCESS_TOKEN,
        refresh_token=fake_li.TEST_REFRESH_TOKEN,
        client_id=fake_li.TEST_CLIENT_ID,
        client_secret="wrong",
    )

    with pytest.raises(AuthExpiredError):
        await client.verify()


@pytest.mark.parametrize("mode", ["drop", "after"])
async def test_exactly_once_accepted_but_lost_then_found(
    http: httpx.AsyncClient, mode: str
) -> None:
    client = client_for(http)
    text = "Inflation (CPI) at 3.1% #macro"
    await fail(http, status=500, mode=mode, method="POST", path="/rest/posts")

    with pytest.raises(TransientExternalError):
        await client.create_post(PostRequest(text=text, idempotency_key="k"))

    found = await client.find_post("k", text)
    assert found is not None and found.external_id.startswith("urn:li:share:")
    assert found.published_at == datetime.fromtimestamp(NOW, UTC)
    assert await client.find_post("k", "Inflation at 3.2%") is None


def test_build_names_missing_credentials() -> None:
    with pytest.raises(PermanentExternalError, match="author_urn"):
        linkedin.build({"access_token": "t"}, httpx.AsyncClient())


async def test_fake_works_mounted_under_a_prefix() -> None:
    combined = Starlette(routes=[Mount("/linkedin", app=fake_li.create_app())])
    transport = httpx.ASGITransport(app=combined)
    async with httpx.AsyncClient(transport=transport) as http:
        creds = {"access_token": fake_li.TEST_ACCESS_TOKEN, "author_urn": fake_li.TEST_PERSON_URN}
        client = linkedin.build(creds, http, base_url="http://runner/linkedin")
        image = ImageAttachment(b"img", "image/png")
        await fail(http, status=503, path="/rest/posts", base="http://runner/linkedin")

        with pytest.raises(TransientExternalError):
            await client.create_post(PostRequest(text="t", idempotency_key="k", image=image))
        published = await client.create_post(
            PostRequest(text="t", idempotency_key="k", image=image)
        )

        assert (await client.find_post("k", "t")) is not None
    assert published.external_id.startswith("urn:li:share:")
