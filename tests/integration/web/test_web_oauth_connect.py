"""Connecting an X or LinkedIn account from the dashboard: OAuth 2.0 with PKCE against the fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from web_support import HTML, PASSWORD, csrf_in, email, seed_database

from finagency.app import create_app
from finagency.config import PlatformAppSettings, PlatformsSettings, Settings
from finagency.integrations.platforms.fakes import server as fakes
from finagency.models import Account
from finagency.publishing.accounts import read_credentials

FAKES = "http://fakes"


@pytest.fixture
async def fake_web() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fakes.create_app()), base_url=FAKES
    ) as http:
        yield http


@pytest.fixture
async def oauth_app(database_url: str, fake_web: httpx.AsyncClient) -> AsyncIterator[FastAPI]:
    settings = Settings(
        database_url=database_url,
        secret_key=SecretStr("oauth-connect-test-secret-key-0123"),
        platforms=PlatformsSettings(
            x=PlatformAppSettings(
                client_id="x-test-client-id",
                authorize_url=f"{FAKES}/x/i/oauth2/authorize",
                api_base_url=f"{FAKES}/x",
            ),
            linkedin=PlatformAppSettings(
                client_id="li-test-client-id",
                client_secret=SecretStr("li-test-client-secret"),
                authorize_url=f"{FAKES}/linkedin/oauth/v2/authorization",
                api_base_url=f"{FAKES}/linkedin",
            ),
        ),
    )
    application = create_app(settings)
    async with LifespanManager(application):
        # The platforms' hosts are the in-process fakes.
        application.state.services = replace(application.state.services, http=fake_web)
        await seed_database(application.state.services)
        yield application


async def signed_in(app: FastAPI) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    form = await client.get("/login", headers=HTML)
    await client.post(
        "/login",
        data={"email": email("admin"), "password": PASSWORD, "csrf_token": csrf_in(form.text)},
        headers=HTML,
    )
    return client


async def test_connecting_x_stores_the_tokens_encrypted(
    oauth_app: FastAPI, fake_web: httpx.AsyncClient
) -> None:
    client = await signed_in(oauth_app)
    brand_id = 1

    start = await client.get(f"/accounts/connect/x?brand_id={brand_id}", headers=HTML)
    consent = start.headers["location"]
    query = parse_qs(urlsplit(consent).query)
    assert query["code_challenge_method"] == ["S256"]
    assert "tweet.write" in query["scope"][0]

    # The person consents on X, which sends the browser back with a code and the state.
    back = await fake_web.get(consent.removeprefix(FAKES))
    callback = back.headers["location"]
    assert callback.startswith("http://127.0.0.1:8000/accounts/callback/x?")
    done = await client.get(callback.removeprefix("http://127.0.0.1:8000"), headers=HTML)
    page = (await client.get("/accounts", headers=HTML)).text

    assert done.status_code == 303
    assert "x account finagency_fake connected." in page
    services = oauth_app.state.services
    async with services.read_sessionmaker() as session:
        account = (
            await session.execute(select(Account).where(Account.platform == "x"))
        ).scalar_one()
    assert "x-test" not in (account.credentials_encrypted or "")  # encrypted at rest
    credentials = read_credentials(services.secret_box, account)
    assert credentials["access_token"]
    assert credentials["refresh_token"]

    # The state is good once: replaying the callback connects nothing.
    replay = await client.get(callback.removeprefix("http://127.0.0.1:8000"), headers=HTML)
    assert "unknown or was already used" in (await client.get("/accounts", headers=HTML)).text
    assert replay.status_code == 303
    await client.aclose()


async def test_a_forged_state_is_refused(oauth_app: FastAPI) -> None:
    client = await signed_in(oauth_app)
    await client.get("/accounts/callback/x?code=stolen&state=made-up", headers=HTML)
    page = (await client.get("/accounts", headers=HTML)).text
    assert "was not connected" in page
    services = oauth_app.state.services
    async with services.read_sessionmaker() as session:
        assert (
            await session.execute(select(Account).where(Account.platform == "x"))
        ).first() is None
    await client.aclose()


async def test_connecting_linkedin_uses_the_consenting_member_as_author(
    oauth_app: FastAPI, fake_web: httpx.AsyncClient
) -> None:
    client = await signed_in(oauth_app)
    start = await client.get("/accounts/connect/linkedin?brand_id=1", headers=HTML)
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    # LinkedIn's consent page is not faked; its test code is what it would send back.
    await client.get(f"/accounts/callback/linkedin?code=li-test-code&state={state}", headers=HTML)
    services = oauth_app.state.services
    async with services.read_sessionmaker() as session:
        account = (
            await session.execute(select(Account).where(Account.platform == "linkedin"))
        ).scalar_one()
    assert read_credentials(services.secret_box, account)["author_urn"].startswith("urn:li:person:")
    await client.aclose()
