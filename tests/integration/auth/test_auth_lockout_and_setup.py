"""Account lockout shared by every process, and the first-run setup page."""

from __future__ import annotations

from datetime import timedelta

import httpx
from auth_web_support import HTML, PASSWORD, add_user, csrf_in, services_of, sign_in, web_app
from sqlalchemy import select, update

from finagency.auth import service
from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.models import AuditEvent, Brand, LoginThrottle, User


async def test_a_locked_email_is_refused_by_every_process_until_the_lock_ends(
    database_url: str,
) -> None:
    policy = {"login_lockout_threshold": 3, "login_lockout_minutes": 15}
    async with (
        web_app(database_url, **policy) as (first, one),
        web_app(database_url, **policy) as (_second, two),
    ):
        await add_user(first, "ann@example.com", is_admin=True)
        statuses = [
            (await sign_in(client, "ann@example.com", "wrong password!")).status_code
            for client in (one, two, one)
        ]
        # Locked now: the right password is refused too, in either process, with a reason.
        refused = await sign_in(two, "ann@example.com", PASSWORD)
        other = await sign_in(two, "bob@example.com", "wrong password!")

        assert statuses == [401, 401, 401]
        assert refused.status_code == 429
        assert "locked for 15 more minutes" in refused.text
        assert "ask an admin to reset your password" in refused.text
        assert other.status_code == 401  # another email is not affected
        sessionmaker = services_of(first).sessionmaker
        async with sessionmaker() as session:
            locks = (await session.scalars(select(AuditEvent.action))).all()
        assert locks.count("auth.account_locked") == 1

        # When the lock runs out, the right password works again.
        async with transaction(sessionmaker) as session:
            await session.execute(
                update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1))
            )
        assert (await sign_in(one, "ann@example.com", PASSWORD)).status_code == 303


async def test_unknown_emails_lock_the_same_way_so_locks_reveal_no_accounts(
    database_url: str,
) -> None:
    async with web_app(database_url, login_lockout_threshold=2) as (app, client):
        await add_user(app, "ann@example.com", is_admin=True)
        for address in ("ann@example.com", "ghost@example.com"):
            await sign_in(client, address, "wrong password!")
            await sign_in(client, address, "wrong password!")
        known = await sign_in(client, "ann@example.com", "wrong password!")
        unknown = await sign_in(client, "ghost@example.com", "wrong password!")
    assert known.status_code == unknown.status_code == 429
    assert "locked" in known.text and "locked" in unknown.text


async def test_a_password_reset_lifts_the_lock(database_url: str) -> None:
    async with web_app(database_url, login_lockout_threshold=1) as (app, client):
        user_id = await add_user(app, "ann@example.com", is_admin=True)
        await sign_in(client, "ann@example.com", "wrong password!")
        assert (await sign_in(client, "ann@example.com", PASSWORD)).status_code == 429
        async with transaction(services_of(app).sessionmaker) as session:
            user = await session.get(User, user_id)
            assert user is not None
            await service.set_password(session, user, "the reset passphrase")
        assert (await sign_in(client, "ann@example.com", "the reset passphrase")).status_code == 303


async def test_setup_page_creates_the_first_admin_and_brand_then_closes(
    database_url: str,
) -> None:
    async with web_app(database_url) as (app, client):
        to_setup = await client.get("/login", headers=HTML)
        assert to_setup.status_code == 303 and to_setup.headers["location"] == "/setup"
        # No well-known default account exists on a fresh database.
        assert (await sign_in_raw(client, "admin@example.com", "admin")).status_code == 401
        form = await client.get("/setup", headers=HTML)
        assert form.status_code == 200
        token = csrf_in(form.text)
        data = {
            "csrf_token": token,
            "email": "owner@agency.test",
            "name": "Owner",
            "password": PASSWORD,
            "password_confirm": PASSWORD + "x",
            "brand_name": "Acme Capital",
            "brand_slug": "acme",
            "timezone": "Europe/London",
        }
        mismatch = await client.post("/setup", data=data, headers=HTML)
        assert mismatch.status_code == 422 and "The two passwords differ." in mismatch.text
        data["password_confirm"] = PASSWORD
        missing_csrf = await client.post(
            "/setup", data={k: v for k, v in data.items() if k != "csrf_token"}, headers=HTML
        )
        assert missing_csrf.status_code == 403

        done = await client.post("/setup", data=data, headers=HTML)

        assert done.status_code == 303 and done.headers["location"] == "/"
        account = await client.get("/settings/account", headers=HTML)
        assert account.status_code == 200 and "owner@agency.test" in account.text
        async with services_of(app).sessionmaker() as session:
            user = await session.scalar(select(User))
            brand = await session.scalar(select(Brand))
            assert user is not None and user.is_admin and user.email == "owner@agency.test"
            assert brand is not None and (brand.slug, brand.timezone) == ("acme", "Europe/London")
        # Closed for good, for everyone.
        assert (await client.get("/setup", headers=HTML)).status_code == 404
        fresh = {**data, "csrf_token": csrf_in(account.text), "email": "x@y.test"}
        again = await client.post("/setup", data=fresh, headers=HTML)
        assert again.status_code == 404
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            assert (await other.get("/setup", headers=HTML)).status_code == 404
            assert (await other.get("/login", headers=HTML)).status_code == 200


async def sign_in_raw(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    """Post the sign-in form with a CSRF token taken from the setup page (login redirects)."""
    page = await client.get("/setup", headers=HTML)
    return await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_in(page.text)},
        headers=HTML,
    )
