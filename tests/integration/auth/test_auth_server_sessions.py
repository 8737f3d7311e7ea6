"""Server-side sessions: only a hash is stored, timeouts, revocation and "sign out everywhere"."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from auth_web_support import (
    HTML,
    PASSWORD,
    add_brand,
    add_user,
    csrf_in,
    services_of,
    sign_in,
    web_app,
)
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.auth import users
from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.models import User, UserSession

Sessions = async_sessionmaker[AsyncSession]
MakeUser = Callable[..., Awaitable[int]]
Login = Callable[..., Awaitable[httpx.Response]]
COOKIE = "finagency_session"


async def _rows(sessionmaker: Sessions, user_id: int | None = None) -> list[UserSession]:
    async with sessionmaker() as session:
        query = select(UserSession)
        if user_id is not None:
            query = query.where(UserSession.user_id == user_id)
        return list((await session.scalars(query)).all())


async def test_the_cookie_is_a_random_id_and_the_table_keeps_only_its_hash(
    client: httpx.AsyncClient, sessionmaker: Sessions, make_user: MakeUser, login: Login
) -> None:
    user_id = await make_user("ann@example.com")
    await login("ann@example.com")
    cookie = client.cookies[COOKIE]

    rows = await _rows(sessionmaker, user_id)

    assert len(rows) == 1
    assert rows[0].id_hash == hashlib.sha256(cookie.encode()).hexdigest()
    assert cookie not in str(rows[0].data)
    assert rows[0].expires_at - rows[0].created_at == timedelta(hours=12)


async def test_idle_and_absolute_timeouts_end_the_session(
    client: httpx.AsyncClient, sessionmaker: Sessions, make_user: MakeUser, login: Login
) -> None:
    user_id = await make_user("ann@example.com")
    await login("ann@example.com")
    assert (await client.get("/me")).status_code == 200

    # 31 minutes without a request (the idle limit is 30).
    async with transaction(sessionmaker) as session:
        await session.execute(
            update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=31))
        )
    assert (await client.get("/me")).status_code == 401

    await login("ann@example.com")
    assert (await client.get("/me")).status_code == 200
    # Active all along, but past the absolute lifetime.
    async with transaction(sessionmaker) as session:
        await session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert (await client.get("/me")).status_code == 401


async def test_sign_out_deletes_the_row_and_the_old_cookie_stays_dead(
    client: httpx.AsyncClient,
    sessionmaker: Sessions,
    make_user: MakeUser,
    login: Login,
    csrf: Callable[[], Awaitable[str]],
) -> None:
    user_id = await make_user("ann@example.com")
    await login("ann@example.com")
    cookie = client.cookies[COOKIE]

    await client.post("/logout", headers={"X-CSRF-Token": await csrf()})

    assert await _rows(sessionmaker, user_id) == []
    client.cookies.set(COOKIE, cookie)
    assert (await client.get("/me")).status_code == 401


async def test_deactivating_a_user_ends_their_sessions(
    client: httpx.AsyncClient, sessionmaker: Sessions, make_user: MakeUser, login: Login
) -> None:
    await make_user("boss@example.com", is_admin=True)
    user_id = await make_user("ann@example.com")
    await login("ann@example.com")
    async with transaction(sessionmaker) as session:
        user = await session.get(User, user_id)
        assert user is not None
        await users.set_active(session, user, False)

    assert await _rows(sessionmaker, user_id) == []
    assert (await client.get("/me")).status_code == 401


async def test_sign_out_everywhere_and_password_change_on_the_real_app(database_url: str) -> None:
    async with web_app(database_url) as (app, laptop):
        brand_id = await add_brand(app, "acme")
        user_id = await add_user(app, "ann@example.com", (brand_id, "editor"))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as phone:
            assert (await sign_in(laptop, "ann@example.com")).status_code == 303
            assert (await sign_in(phone, "ann@example.com")).status_code == 303
            sessionmaker = services_of(app).sessionmaker
            assert len(await _rows(sessionmaker, user_id)) == 2

            # The account page lists both; changing the password keeps only this browser.
            page = await laptop.get("/settings/account", headers=HTML)
            assert page.text.count("this browser") == 1
            assert page.text.count('aria-label="Sign out the session') == 1
            changed = await laptop.post(
                "/settings/account/password",
                data={
                    "csrf_token": csrf_in(page.text),
                    "current_password": PASSWORD,
                    "new_password": "a much better passphrase",
                },
                headers=HTML,
            )
            assert changed.status_code == 303
            assert (await phone.get("/settings/account", headers=HTML)).status_code == 303
            assert len(await _rows(sessionmaker, user_id)) == 1

            assert (
                await sign_in(phone, "ann@example.com", "a much better passphrase")
            ).status_code == 303
            page = await laptop.get("/settings/account", headers=HTML)
            everywhere = await laptop.post(
                "/logout/everywhere", data={"csrf_token": csrf_in(page.text)}, headers=HTML
            )
            assert everywhere.status_code == 303
            assert everywhere.headers["location"] == "/login"
            assert (await phone.get("/settings/account", headers=HTML)).status_code == 303
            assert (await laptop.get("/settings/account", headers=HTML)).status_code == 303
            async with sessionmaker() as session:
                left = await session.scalar(
                    select(func.count())
                    .select_from(UserSession)
                    .where(UserSession.user_id == user_id)
                )
            assert left == 0
