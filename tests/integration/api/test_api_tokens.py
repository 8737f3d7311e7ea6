"""Scoped API tokens: shown once, stored hashed, limited by scope, brand and owner; revocable."""

from __future__ import annotations

import hashlib

import httpx
from api_support import bearer, make_token
from sqlalchemy import select
from web_support import Login, Seed

from finagency.core.services import Services
from finagency.models import ApiToken


async def test_created_token_is_shown_once_and_stored_only_as_a_hash(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "editor")

    created = await client.post(
        "/api/v1/tokens",
        json={"name": "ci", "scopes": ["read", "content:write"]},
        headers={"X-CSRF-Token": csrf},
    )

    assert created.status_code == 201, created.text
    body = created.json()
    plaintext = body["token"]
    assert plaintext.startswith("fat_")
    assert body["scopes"] == ["content:write", "read"]
    listed = (await client.get("/api/v1/tokens")).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert "token" not in listed["items"][0]
    async with services.read_sessionmaker() as session:
        stored = (await session.scalars(select(ApiToken))).one()
    assert stored.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in (stored.token_hash, stored.name)


async def test_unknown_scope_is_refused_with_the_allowed_list(
    client: httpx.AsyncClient, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "editor")

    response = await client.post(
        "/api/v1/tokens",
        json={"name": "x", "scopes": ["root"]},
        headers={"X-CSRF-Token": csrf},
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"]["unknown"] == ["root"]
    assert "publish" in response.json()["error"]["details"]["allowed"]


async def test_read_token_reads_but_cannot_approve(
    client: httpx.AsyncClient, services: Services, seed: Seed
) -> None:
    token = await make_token(services, seed, "approver", ["read"])
    post_id = seed.post_id("A clean draft about the ECB rate")

    read = await client.get(f"/api/v1/posts/{post_id}", headers=bearer(token))
    approve = await client.post(f"/api/v1/posts/{post_id}/approve", json={}, headers=bearer(token))

    assert read.status_code == 200
    assert approve.status_code == 403
    assert approve.json()["error"]["code"] == "forbidden"


async def test_review_token_approves_without_csrf(
    client: httpx.AsyncClient, services: Services, seed: Seed
) -> None:
    token = await make_token(services, seed, "approver", ["review"])
    post_id = seed.post_id("A clean draft about the ECB rate")

    approve = await client.post(f"/api/v1/posts/{post_id}/approve", json={}, headers=bearer(token))

    assert approve.status_code == 200, approve.text
    assert approve.json()["status"] == "scheduled"


async def test_scope_never_widens_the_owners_role(
    client: httpx.AsyncClient, services: Services, seed: Seed
) -> None:
    # A client viewer holding a "review" token is still only a viewer.
    token = await make_token(services, seed, "client", ["review"])
    post_id = seed.post_id("A clean draft about the ECB rate")

    approve = await client.post(f"/api/v1/posts/{post_id}/approve", json={}, headers=bearer(token))

    assert approve.status_code == 403


async def test_brand_bound_admin_token_sees_one_brand(
    client: httpx.AsyncClient, services: Services, seed: Seed
) -> None:
    token = await make_token(services, seed, "admin", ["read"], brand="a")

    brands = (await client.get("/api/v1/brands", headers=bearer(token))).json()
    posts = (await client.get("/api/v1/posts", headers=bearer(token))).json()
    other = await client.get(
        f"/api/v1/posts/{seed.post_id('Beta secret draft')}", headers=bearer(token)
    )

    assert [brand["slug"] for brand in brands] == ["acme"]
    assert {post["brand_id"] for post in posts["items"]} == {seed.brand_ids["a"]}
    assert other.status_code == 404


async def test_revoked_token_stops_working(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    csrf = await login(client, "editor")
    created = (
        await client.post(
            "/api/v1/tokens",
            json={"name": "short-lived", "scopes": ["read"]},
            headers={"X-CSRF-Token": csrf},
        )
    ).json()
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as bot:
        assert (await bot.get("/api/v1/posts", headers=bearer(created["token"]))).status_code == 200

        revoked = await client.delete(
            f"/api/v1/tokens/{created['id']}", headers={"X-CSRF-Token": csrf}
        )
        after = await bot.get("/api/v1/posts", headers=bearer(created["token"]))

    assert revoked.status_code == 204
    assert after.status_code == 401


async def test_a_token_cannot_mint_tokens(
    client: httpx.AsyncClient, services: Services, seed: Seed
) -> None:
    token = await make_token(services, seed, "admin", ["settings:admin"])

    response = await client.post(
        "/api/v1/tokens", json={"name": "child", "scopes": ["read"]}, headers=bearer(token)
    )

    assert response.status_code == 403


async def test_someone_elses_token_cannot_be_revoked(
    client: httpx.AsyncClient, services: Services, seed: Seed, login: Login
) -> None:
    await make_token(services, seed, "approver", ["read"])
    async with services.read_sessionmaker() as session:
        token_id = (await session.scalars(select(ApiToken.id))).one()
    csrf = await login(client, "editor")

    response = await client.delete(f"/api/v1/tokens/{token_id}", headers={"X-CSRF-Token": csrf})

    assert response.status_code == 404
