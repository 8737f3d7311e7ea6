"""The HTTP side: write a post (Compose), client sign-off, legal holds — with roles and CSRF."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select

from finagency.app import create_app
from finagency.auth import service as auth
from finagency.brands import service as brands
from finagency.config import Settings
from finagency.core.db import transaction
from finagency.core.services import Services
from finagency.models import AuditEvent
from finagency.review import service as review

PASSWORD = "correct horse battery staple"
HTML = {"accept": "text/html,application/xhtml+xml"}
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
RISK = "Not investment advice."


@dataclass
class World:
    services: Services
    brand_id: int
    other_brand_id: int


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    settings = Settings(
        database_url=database_url, secret_key=SecretStr("test-secret-key-for-compliance-api-01")
    )
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def world(app: FastAPI) -> World:
    services: Services = app.state.services
    async with transaction(services.sessionmaker) as session:
        brand = await brands.create_brand(session, slug="acme", name="Acme", disclosure=RISK)
        other = await brands.create_brand(session, slug="beta", name="Beta")
        await brands.add_account(session, brand, platform="sandbox:x", handle="acme")
        await review.set_client_approval(session, brand, True, actor="test")
        for role in ("editor", "approver", "client"):
            user = await auth.create_user(session, f"{role}@acme.test", PASSWORD)
            await auth.grant_role(session, user.id, brand.id, role)
        await auth.create_user(session, "admin@acme.test", PASSWORD, is_admin=True)
        return World(services, brand.id, other.id)


Login = Callable[[str], Awaitable[tuple[httpx.AsyncClient, str]]]


@pytest.fixture
async def login(app: FastAPI) -> AsyncIterator[Login]:
    """Sign a user in; returns their client and CSRF token (clients are closed afterwards)."""
    async with AsyncExitStack() as stack:

        async def sign_in(role: str) -> tuple[httpx.AsyncClient, str]:
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://testserver"
                )
            )
            return await _sign_in(http, role)

        yield sign_in


async def _sign_in(http: httpx.AsyncClient, role: str) -> tuple[httpx.AsyncClient, str]:
    form = await http.get("/login", headers=HTML)
    token = CSRF_FIELD.search(form.text)
    assert token
    signed = await http.post(
        "/login",
        data={"email": f"{role}@acme.test", "password": PASSWORD, "csrf_token": token.group(1)},
        headers=HTML,
    )
    assert signed.status_code == 303, signed.text
    page = await http.get("/", headers=HTML)
    found = CSRF_FIELD.search(page.text)
    assert found
    return http, found.group(1)


async def test_compose_then_approver_then_client(world: World, login: Login) -> None:
    editor, editor_csrf = await login("editor")
    approver, approver_csrf = await login("approver")
    client, client_csrf = await login("client")
    body = {"brand_id": world.brand_id, "title": "Note", "text": "A quiet day on the desk."}
    refused = await editor.post("/api/v1/content/editorial", json=body)
    assert refused.status_code == 403  # no CSRF token
    elsewhere = await editor.post(
        "/api/v1/content/editorial",
        json={**body, "brand_id": world.other_brand_id},
        headers={"X-CSRF-Token": editor_csrf},
    )
    assert elsewhere.status_code == 404
    not_an_editor = await approver.post(
        "/api/v1/content/editorial", json=body, headers={"X-CSRF-Token": approver_csrf}
    )
    assert not_an_editor.status_code == 403
    empty = await editor.post(
        "/api/v1/content/editorial",
        json={**body, "text": "  "},
        headers={"X-CSRF-Token": editor_csrf},
    )
    assert empty.status_code in (400, 422)

    created = await editor.post(
        "/api/v1/content/editorial", json=body, headers={"X-CSRF-Token": editor_csrf}
    )
    assert created.status_code == 201, created.text
    post = created.json()["posts"][0]
    assert created.json()["kind"] == "editorial"
    assert (post["status"], post["check_verdict"]) == ("in_review", "pass")
    assert post["text"].endswith(RISK)

    # The client cannot stand in for the approver, nor the approver for the client.
    early = await client.post(
        f"/api/v1/posts/{post['id']}/client-approve",
        json={},
        headers={"X-CSRF-Token": client_csrf},
    )
    assert early.status_code == 409
    approved = await approver.post(
        f"/api/v1/posts/{post['id']}/approve",
        json={"version_hash": post["content_hash"]},
        headers={"X-CSRF-Token": approver_csrf},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "awaiting_client"
    not_client = await approver.post(
        f"/api/v1/posts/{post['id']}/client-approve",
        json={},
        headers={"X-CSRF-Token": approver_csrf},
    )
    assert not_client.status_code == 403

    waiting = await client.get("/api/v1/review/client")
    assert [item["id"] for item in waiting.json()] == [post["id"]]
    signed_off = await client.post(
        f"/api/v1/posts/{post['id']}/client-approve",
        json={"version_hash": post["content_hash"], "note": "ok for us"},
        headers={"X-CSRF-Token": client_csrf},
    )
    assert signed_off.status_code == 200, signed_off.text
    assert signed_off.json()["status"] == "scheduled"
    assert signed_off.json()["approval"]["stage"] == "client"


async def test_legal_holds_need_the_right_role_and_are_audited(world: World, login: Login) -> None:
    editor, editor_csrf = await login("editor")
    admin, admin_csrf = await login("admin")
    hold = {"brand_id": world.brand_id, "reason": "SEC inquiry"}
    refused = await editor.post(
        "/api/v1/audit/holds", json=hold, headers={"X-CSRF-Token": editor_csrf}
    )
    assert refused.status_code == 403
    created = await admin.post(
        "/api/v1/audit/holds", json=hold, headers={"X-CSRF-Token": admin_csrf}
    )
    assert created.status_code == 201, created.text
    hold_id = created.json()["id"]
    listed = await editor.get("/api/v1/audit/holds")
    assert [item["id"] for item in listed.json()] == [hold_id]
    released = await admin.post(
        f"/api/v1/audit/holds/{hold_id}/release",
        json={"note": "closed"},
        headers={"X-CSRF-Token": admin_csrf},
    )
    assert released.status_code == 200 and released.json()["released_at"]
    again = await admin.post(
        f"/api/v1/audit/holds/{hold_id}/release", json={}, headers={"X-CSRF-Token": admin_csrf}
    )
    assert again.status_code == 409
    verified = await admin.get("/api/v1/audit/verify")
    assert verified.json()["ok"] is True
    async with world.services.read_sessionmaker() as session:
        actions = set((await session.scalars(select(AuditEvent.action))).all())
    assert {"legal_hold.set", "legal_hold.released"} <= actions
