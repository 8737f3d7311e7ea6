"""API tokens, per-brand permissions and the request's database session over HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.auth import service
from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.models.brand import ApiToken, User

Sessions = async_sessionmaker[AsyncSession]
MakeUser = Callable[..., Awaitable[int]]
GetCsrf = Callable[[], Awaitable[str]]
Login = Callable[..., Awaitable[httpx.Response]]


async def test_api_token_works_without_csrf_until_it_expires(
    client: httpx.AsyncClient, sessionmaker: Sessions, brands: tuple[int, int], make_user: MakeUser
) -> None:
    alpha, _ = brands
    user_id = await make_user("bot@example.com", (alpha, "approver"))
    async with transaction(sessionmaker) as session:
        user = await session.get(User, user_id)
        assert user is not None
        token, plaintext = await service.create_api_token(
            session, user, "ci", ["view", "post.approve"], expires_at=utcnow() + timedelta(days=1)
        )
        token_id = token.id
    headers = {"Authorization": f"Bearer {plaintext}"}

    me = await client.get("/me", headers=headers)
    approved = await client.post(f"/brands/{alpha}/approve", headers=headers)

    assert me.status_code == 200
    assert me.json()["id"] == user_id
    assert approved.status_code == 200
    async with sessionmaker() as session:
        stored = await session.get(ApiToken, token_id)
        assert stored is not None
        assert plaintext not in stored.token_hash
        assert stored.last_used_at is not None

    async with transaction(sessionmaker) as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = await client.get("/me", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["message"] == service.TOKEN_FAILED_MESSAGE


async def test_bad_bearer_token_never_falls_back_to_the_cookie(
    client: httpx.AsyncClient, make_user: MakeUser, login: Login
) -> None:
    await make_user("ann@example.com")
    await login("ann@example.com")

    for header in ("Bearer fat_not-a-real-token", "Basic abc", "Bearer "):
        response = await client.get("/me", headers={"Authorization": header})
        assert response.status_code == 401, header


async def test_token_scopes_and_brand_narrow_what_it_can_do(
    client: httpx.AsyncClient, sessionmaker: Sessions, brands: tuple[int, int], make_user: MakeUser
) -> None:
    alpha, beta = brands
    user_id = await make_user("boss@example.com", is_admin=True)
    async with transaction(sessionmaker) as session:
        user = await session.get(User, user_id)
        assert user is not None
        _, plaintext = await service.create_api_token(session, user, "read", ["view"], alpha)
    headers = {"Authorization": f"Bearer {plaintext}"}

    assert (await client.get(f"/brands/{alpha}", headers=headers)).status_code == 200
    assert (await client.get(f"/brands/{beta}", headers=headers)).status_code == 404
    assert (await client.post(f"/brands/{alpha}/approve", headers=headers)).status_code == 403


async def test_client_cannot_approve_and_cannot_see_other_brands(
    client: httpx.AsyncClient,
    brands: tuple[int, int],
    make_user: MakeUser,
    login: Login,
    csrf: GetCsrf,
) -> None:
    alpha, beta = brands
    await make_user("client@example.com", (alpha, "client"))
    await login("client@example.com")
    headers = {"X-CSRF-Token": await csrf()}

    assert (await client.get(f"/brands/{alpha}")).status_code == 200
    denied = await client.post(f"/brands/{alpha}/approve", headers=headers)
    hidden = await client.get(f"/brands/{beta}")
    hidden_write = await client.post(f"/brands/{beta}/approve", headers=headers)

    assert denied.status_code == 403
    assert denied.json()["code"] == "forbidden"
    assert hidden.status_code == hidden_write.status_code == 404


async def test_approver_and_admin_can_approve(
    client: httpx.AsyncClient,
    brands: tuple[int, int],
    make_user: MakeUser,
    login: Login,
    csrf: GetCsrf,
) -> None:
    alpha, beta = brands
    await make_user("approver@example.com", (alpha, "approver"))
    await make_user("boss@example.com", is_admin=True)

    await login("approver@example.com")
    headers = {"X-CSRF-Token": await csrf()}
    assert (await client.post(f"/brands/{alpha}/approve", headers=headers)).status_code == 200

    await login("boss@example.com")
    headers = {"X-CSRF-Token": await csrf()}
    assert (await client.post(f"/brands/{beta}/approve", headers=headers)).status_code == 200


async def test_request_session_commits_on_success_and_rolls_back_on_error(
    client: httpx.AsyncClient,
    sessionmaker: Sessions,
    make_user: MakeUser,
    login: Login,
    csrf: GetCsrf,
) -> None:
    await make_user("boss@example.com", is_admin=True)
    await login("boss@example.com")
    headers = {"X-CSRF-Token": await csrf()}

    kept = await client.post("/users", data={"email": "kept@example.com"}, headers=headers)
    failed = await client.post(
        "/users", data={"email": "lost@example.com", "fail": "true"}, headers=headers
    )

    assert kept.status_code == 200
    assert failed.status_code == 422
    async with sessionmaker() as session:
        emails = set((await session.execute(select(User.email))).scalars())
    assert {"kept@example.com", "boss@example.com"} <= emails
    assert "lost@example.com" not in emails
