"""Sign-in, browser sessions, CSRF and login rate limits over HTTP on a real database."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI, Request
from pydantic import SecretStr
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.auth import service
from finagency.auth.csrf import csrf_token
from finagency.auth.sessions import install_session_middleware
from finagency.config import SecuritySettings, Settings
from finagency.core.db import transaction
from finagency.core.services import Services
from finagency.models.brand import User

Sessions = async_sessionmaker[AsyncSession]
MakeUser = Callable[..., Awaitable[int]]
GetCsrf = Callable[[], Awaitable[str]]
Login = Callable[..., Awaitable[httpx.Response]]
COOKIE = "finagency_session"
PASSWORD = "correct horse battery"


async def test_login_sets_a_session_and_me_answers(
    client: httpx.AsyncClient, sessionmaker: Sessions, make_user: MakeUser, login: Login
) -> None:
    user_id = await make_user("Ann@Example.com")
    assert (await client.get("/me")).status_code == 401

    response = await login("  ann@EXAMPLE.com ")

    assert response.status_code == 200
    me = await client.get("/me")
    assert me.status_code == 200
    assert me.json() == {"id": user_id, "email": "ann@example.com"}
    async with sessionmaker() as session:
        user = await session.get(User, user_id)
        assert user is not None
        assert user.last_login_at is not None


async def test_wrong_password_and_unknown_email_get_the_same_401(
    client: httpx.AsyncClient, make_user: MakeUser, login: Login
) -> None:
    await make_user("ann@example.com")

    wrong = await login("ann@example.com", "not the password")
    unknown = await login("nobody@example.com", "not the password")

    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "code": "not_authenticated",
            "message": service.LOGIN_FAILED_MESSAGE,
        }
    )
    assert (await client.get("/me")).status_code == 401


async def test_disabled_user_cannot_sign_in_and_loses_open_sessions(
    client: httpx.AsyncClient, sessionmaker: Sessions, make_user: MakeUser, login: Login
) -> None:
    user_id = await make_user("ann@example.com")
    await login("ann@example.com")
    async with transaction(sessionmaker) as session:
        await session.execute(update(User).where(User.id == user_id).values(active=False))

    assert (await client.get("/me")).status_code == 401
    assert (await login("ann@example.com")).status_code == 401


async def test_password_change_ends_existing_sessions(
    client: httpx.AsyncClient, sessionmaker: Sessions, make_user: MakeUser, login: Login
) -> None:
    user_id = await make_user("ann@example.com")
    await login("ann@example.com")
    assert (await client.get("/me")).status_code == 200

    async with transaction(sessionmaker) as session:
        user = await session.get(User, user_id)
        assert user is not None
        await service.set_password(session, user, "a brand new passphrase")

    assert (await client.get("/me")).status_code == 401
    assert (await client.get("/whoami")).json() == {"id": None}


async def test_unsafe_request_needs_the_csrf_token(
    client: httpx.AsyncClient, make_user: MakeUser, login: Login, csrf: GetCsrf
) -> None:
    await make_user("ann@example.com")
    await login("ann@example.com")
    token = await csrf()

    missing = await client.post("/notes", data={"note": "hi"})
    wrong = await client.post("/notes", data={"note": "hi", "csrf_token": "x" + token})
    in_form = await client.post("/notes", data={"note": "hi", "csrf_token": token})
    in_header = await client.post("/notes", data={"note": "hi"}, headers={"X-CSRF-Token": token})
    cross_site = await client.post(
        "/notes",
        data={"note": "hi"},
        headers={"X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site"},
    )
    foreign_origin = await client.post(
        "/notes",
        data={"note": "hi"},
        headers={"X-CSRF-Token": token, "Origin": "https://evil.test"},
    )

    assert missing.status_code == wrong.status_code == 403
    assert missing.json()["code"] == "csrf_failed"
    assert in_form.status_code == in_header.status_code == 200
    assert in_form.json() == {"note": "hi"}
    assert cross_site.status_code == foreign_origin.status_code == 403


async def test_login_form_itself_needs_the_csrf_token(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user("ann@example.com")
    response = await client.post("/login", data={"email": "ann@example.com", "password": PASSWORD})
    assert response.status_code == 403


async def test_session_is_rotated_at_login_and_cleared_at_logout(
    client: httpx.AsyncClient, make_user: MakeUser, login: Login, csrf: GetCsrf
) -> None:
    await make_user("ann@example.com")
    pre_login_token = await csrf()
    pre_login_cookie = client.cookies[COOKIE]

    await login("ann@example.com")

    assert client.cookies[COOKIE] != pre_login_cookie
    assert await csrf() != pre_login_token
    # The cookie an attacker planted before sign-in does not become signed in.
    client.cookies.clear()
    client.cookies.set(COOKIE, pre_login_cookie)
    assert (await client.get("/me")).status_code == 401

    client.cookies.clear()
    await login("ann@example.com")
    logout = await client.post("/logout", headers={"X-CSRF-Token": await csrf()})
    assert logout.status_code == 200
    assert COOKIE not in client.cookies
    assert (await client.get("/me")).status_code == 401


async def test_eleventh_login_attempt_in_a_minute_is_refused(
    make_user: MakeUser, login: Login
) -> None:
    await make_user("ann@example.com")
    statuses = [
        (await login("ann@example.com", f"wrong password {n}")).status_code for n in range(10)
    ]

    eleventh = await login("ann@example.com")

    assert statuses == [401] * 10
    assert eleventh.status_code == 429
    assert eleventh.json()["details"]["retry_after"] > 0
    # Another account from the same address is not locked out.
    assert (await login("someone@example.com", "wrong password")).status_code == 401


async def test_secure_cookie_attributes(services: Services) -> None:
    settings = Settings(
        _env_file=None,
        secret_key=SecretStr("integration-test-secret"),
        security=SecuritySettings(cookie_secure=True),
    )
    app = FastAPI()
    app.state.services = services
    install_session_middleware(app, settings)

    @app.get("/csrf")
    async def get_csrf(request: Request) -> dict[str, str]:
        return {"csrf_token": csrf_token(request)}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        cookie = (await client.get("/csrf")).headers["set-cookie"]

    assert re.match(r"__Host-session=[^;]+; path=/;", cookie)
    lowered = cookie.lower()
    assert "; httponly" in lowered
    assert "; secure" in lowered
    assert "samesite=lax" in lowered
    assert "domain=" not in lowered
    assert f"max-age={settings.security.session_max_age_seconds}" in lowered
    # The cookie is an opaque random id: the CSRF token it guards is not inside it.
    value = cookie.split(";")[0].split("=", 1)[1]
    assert len(value) >= 43
