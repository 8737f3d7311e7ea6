"""OIDC single sign-on against a local fake provider served over real HTTP on localhost."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from auth_web_support import HTML, add_brand, add_user, services_of, web_app
from fake_oidc import CLIENT_ID, CLIENT_SECRET, Provider, serve_provider
from fastapi import FastAPI
from sqlalchemy import select

from finagency.brands import service as brands
from finagency.core.db import transaction
from finagency.models import AuditEvent, Membership, OidcIdentity, User


@pytest.fixture
def provider() -> Iterator[Provider]:
    with serve_provider() as running:
        yield running


def _settings(provider: Provider, **extra: Any) -> dict[str, Any]:
    return {
        "oidc_issuer": provider.issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        "oidc_provider_name": "Acme SSO",
        **extra,
    }


@pytest.fixture
async def sso(
    database_url: str, provider: Provider
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with web_app(
        database_url, allow_private=["127.0.0.1"], **_settings(provider, oidc_create_users=False)
    ) as pair:
        yield pair


async def _round_trip(client: httpx.AsyncClient, *, next_path: str = "/") -> httpx.Response:
    """Start at our app, let the provider approve, come back to our callback."""
    start = await client.get(f"/login/oidc?next={next_path}", headers=HTML)
    assert start.status_code == 303, start.text[:300]
    async with httpx.AsyncClient() as browser:
        approved = await browser.get(start.headers["location"])
    assert approved.status_code == 302
    callback = httpx.URL(approved.headers["location"])
    assert callback.path == "/login/oidc/callback"
    return await client.get(f"{callback.path}?{callback.query.decode()}", headers=HTML)


async def test_login_page_offers_the_provider(sso: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, client = sso
    await add_user(app, "someone@example.com")
    page = await client.get("/login", headers=HTML)
    assert "Sign in with Acme SSO" in page.text


async def test_verified_email_links_the_local_user_and_signs_in(
    sso: tuple[FastAPI, httpx.AsyncClient], provider: Provider
) -> None:
    app, client = sso
    brand_id = await add_brand(app, "acme")
    user_id = await add_user(app, "sso.user@example.com", (brand_id, "editor"))

    done = await _round_trip(client, next_path="/settings/account")

    assert done.status_code == 303
    assert done.headers["location"] == "/settings/account"
    assert (await client.get("/settings/account", headers=HTML)).status_code == 200
    async with services_of(app).sessionmaker() as session:
        link = await session.scalar(select(OidcIdentity))
        assert link is not None
        assert (link.user_id, link.issuer, link.subject) == (user_id, provider.issuer, "sub-1")
        actions = (await session.scalars(select(AuditEvent.action))).all()
        assert "auth.oidc_matched" in actions
    # The second sign-in finds the user by (issuer, subject), even if the email changed.
    provider.email = "renamed@example.com"
    client.cookies.clear()
    assert (await _round_trip(client)).status_code == 303


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        ("bad_signature", "signature"),
        ("alg_none", "signature"),
        ("wrong_nonce", "nonce"),
        ("expired", "exp"),
        ("wrong_aud", "aud"),
    ],
)
async def test_a_spoiled_id_token_signs_nobody_in(
    sso: tuple[FastAPI, httpx.AsyncClient], provider: Provider, spoil: str, says: str
) -> None:
    app, client = sso
    await add_user(app, "sso.user@example.com")
    provider.spoil = spoil

    refused = await _round_trip(client)

    assert refused.status_code == 401
    assert "ID token" in refused.text and says in refused.text
    assert provider.tokens_issued == 1  # it got as far as the token endpoint
    assert (await client.get("/settings/account", headers=HTML)).status_code == 303


async def test_a_state_cannot_be_replayed_or_used_by_another_browser(
    sso: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = sso
    await add_user(app, "sso.user@example.com")
    start = await client.get("/login/oidc", headers=HTML)
    async with httpx.AsyncClient() as browser:
        approved = await browser.get(start.headers["location"])
    callback = httpx.URL(approved.headers["location"])
    target = f"{callback.path}?{callback.query.decode()}"

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as attacker:
        stolen = await attacker.get(target, headers=HTML)
    first = await client.get(target, headers=HTML)
    client.cookies.clear()
    again = await client.get(target, headers=HTML)

    assert stolen.status_code == 401  # the flow belongs to the browser that started it
    assert first.status_code == 303
    assert again.status_code == 401


async def test_unverified_email_and_unknown_users_are_refused(
    sso: tuple[FastAPI, httpx.AsyncClient], provider: Provider
) -> None:
    app, client = sso
    await add_user(app, "sso.user@example.com")
    provider.email_verified = False
    unverified = await _round_trip(client)
    provider.email_verified = True
    provider.email = "stranger@example.com"
    provider.subject = "sub-2"
    unknown = await _round_trip(client)

    assert unverified.status_code == unknown.status_code == 401
    assert "did not vouch for your email" in unverified.text
    assert "no account for your email" in unknown.text


async def test_new_users_are_created_with_the_default_role_when_allowed(
    database_url: str, provider: Provider
) -> None:
    settings = _settings(
        provider,
        oidc_create_users=True,
        oidc_default_role="client",
        oidc_default_brand="acme",
        oidc_allowed_domains=["example.com"],
    )
    async with web_app(database_url, allow_private=["127.0.0.1"], **settings) as (app, client):
        async with transaction(services_of(app).sessionmaker) as session:
            brand = await brands.create_brand(session, slug="acme", name="Acme")
        await add_user(app, "admin@example.com", is_admin=True)
        provider.email = "new.person@example.com"

        assert (await _round_trip(client)).status_code == 303

        provider.email, provider.subject = "someone@elsewhere.test", "sub-9"
        client.cookies.clear()
        other_domain = await _round_trip(client)
        assert other_domain.status_code == 401
        assert "email domain may not sign in" in other_domain.text
        async with services_of(app).sessionmaker() as session:
            user = await session.scalar(select(User).where(User.email == "new.person@example.com"))
            assert user is not None and not user.is_admin
            roles = (await session.execute(select(Membership.brand_id, Membership.role))).all()
            assert (brand.id, "client") in [tuple(row) for row in roles]
            assert (
                await session.scalar(select(User).where(User.email == "someone@elsewhere.test"))
                is None
            )


async def test_the_provider_must_be_allowed_by_the_egress_policy(
    database_url: str, provider: Provider
) -> None:
    # Without 127.0.0.1 in the allow list the guarded client refuses to reach the provider.
    async with web_app(database_url, **_settings(provider)) as (app, client):
        await add_user(app, "sso.user@example.com")
        start = await client.get("/login/oidc", headers=HTML)
    assert start.status_code == 502
    assert "could not be reached" in start.text
