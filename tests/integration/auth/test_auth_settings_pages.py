"""The Settings pages: users and roles, brands and slots, rule packs, webhooks, API tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from auth_web_support import (
    HTML,
    add_brand,
    add_user,
    csrf_in,
    page_csrf,
    services_of,
    sign_in,
    web_app,
)
from fastapi import FastAPI
from sqlalchemy import select

from finagency.brands import service as brands
from finagency.models import ApiToken, AuditEvent, Membership, TimeSlot, User, WebhookEndpoint


@dataclass
class Agency:
    app: FastAPI
    client: httpx.AsyncClient
    acme: int
    beta: int


@pytest.fixture
async def agency(database_url: str) -> AsyncIterator[Agency]:
    async with web_app(database_url) as (app, client):
        acme, beta = await add_brand(app, "acme", "Acme Capital"), await add_brand(app, "beta")
        await add_user(app, "owner@agency.test", is_admin=True)
        await add_user(app, "acme.admin@agency.test", (acme, "admin"))
        await add_user(app, "editor@agency.test", (acme, "editor"))
        yield Agency(app, client, acme, beta)


async def _audit(app: FastAPI) -> list[str]:
    async with services_of(app).sessionmaker() as session:
        return list((await session.scalars(select(AuditEvent.action))).all())


async def test_brand_admin_creates_a_user_and_changes_their_role(agency: Agency) -> None:
    client = agency.client
    assert (await sign_in(client, "acme.admin@agency.test")).status_code == 303
    page = await client.get("/settings/users", headers=HTML)
    assert "editor@agency.test" in page.text
    assert "owner@agency.test" not in page.text  # agency admins hold no membership here
    token = csrf_in(page.text)

    created = await client.post(
        f"/settings/brands/{agency.acme}/users",
        data={
            "csrf_token": token,
            "email": "New.Client@Example.com",
            "name": "New Client",
            "password": "a fine first password",
            "role": "client",
        },
        headers=HTML,
    )
    assert created.status_code == 303
    async with services_of(agency.app).sessionmaker() as session:
        new_id = await session.scalar(select(User.id).where(User.email == "new.client@example.com"))
    assert new_id is not None
    changed = await client.post(
        f"/settings/users/{new_id}/role",
        data={"csrf_token": token, "brand_id": str(agency.acme), "role": "approver"},
        headers=HTML,
    )
    assert changed.status_code == 303
    listing = await client.get("/settings/users", headers=HTML)
    assert "now has approver on this brand" in listing.text
    async with services_of(agency.app).sessionmaker() as session:
        roles = (
            await session.execute(
                select(Membership.brand_id, Membership.role).where(Membership.user_id == new_id)
            )
        ).all()
    assert [tuple(row) for row in roles] == [(agency.acme, "approver")]
    assert {"user.created", "user.role_changed"} <= set(await _audit(agency.app))

    # Another brand is out of reach (404, as if it did not exist), and so is CSRF-less posting.
    other = await client.post(
        f"/settings/users/{new_id}/role",
        data={"csrf_token": token, "brand_id": str(agency.beta), "role": "admin"},
        headers=HTML,
    )
    no_csrf = await client.post(
        f"/settings/users/{new_id}/role",
        data={"brand_id": str(agency.acme), "role": "admin"},
        headers=HTML,
    )
    assert other.status_code == 404
    assert no_csrf.status_code == 403


async def test_an_editor_cannot_manage_settings(agency: Agency) -> None:
    client = agency.client
    await sign_in(client, "editor@agency.test")
    token = await page_csrf(client)
    users_page = await client.get("/settings/users", headers=HTML)
    created = await client.post(
        f"/settings/brands/{agency.acme}/users",
        data={
            "csrf_token": token,
            "email": "x@example.com",
            "password": "a fine first password",
            "role": "admin",
        },
        headers=HTML,
    )
    brand = await client.post(
        f"/settings/brands/{agency.acme}",
        data={"csrf_token": token, "name": "Hacked", "regime": "default", "timezone": "UTC"},
        headers=HTML,
    )
    assert "No users to show." in users_page.text
    assert created.status_code == brand.status_code == 403


async def test_only_an_agency_admin_deactivates_and_it_ends_tokens(agency: Agency) -> None:
    client = agency.client
    async with services_of(agency.app).sessionmaker() as session:
        editor = await session.scalar(select(User).where(User.email == "editor@agency.test"))
    assert editor is not None
    await sign_in(client, "acme.admin@agency.test")
    token = await page_csrf(client)
    refused = await client.post(
        f"/settings/users/{editor.id}/active", data={"csrf_token": token}, headers=HTML
    )
    assert refused.status_code == 403

    client.cookies.clear()
    await sign_in(client, "owner@agency.test")
    token = await page_csrf(client)
    done = await client.post(
        f"/settings/users/{editor.id}/active", data={"csrf_token": token}, headers=HTML
    )
    assert done.status_code == 303
    assert (await sign_in(httpx_client(agency), "editor@agency.test")).status_code == 401


def httpx_client(agency: Agency) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=agency.app), base_url="http://testserver"
    )


async def test_brand_settings_and_time_slots(agency: Agency) -> None:
    client = agency.client
    await sign_in(client, "acme.admin@agency.test")
    token = await page_csrf(client, "/settings/brands")
    bad = await client.post(
        f"/settings/brands/{agency.acme}",
        data={"csrf_token": token, "name": "Acme", "regime": "default", "timezone": "Mars/Base"},
        headers=HTML,
    )
    assert "unknown timezone" in (await client.get("/settings/brands", headers=HTML)).text
    saved = await client.post(
        f"/settings/brands/{agency.acme}",
        data={
            "csrf_token": token,
            "name": "Acme Capital",
            "regime": "default",
            "timezone": "Europe/London",
        },
        headers=HTML,
    )
    slots = await client.post(
        f"/settings/brands/{agency.acme}/slots",
        data={"csrf_token": token, "platform": "x", "slots": "09:30, Mon 17:00"},
        headers=HTML,
    )
    wrong = await client.post(
        f"/settings/brands/{agency.acme}/slots",
        data={"csrf_token": token, "platform": "x", "slots": "25:99"},
        headers=HTML,
    )
    assert bad.status_code == saved.status_code == slots.status_code == wrong.status_code == 303
    page = await client.get("/settings/brands", headers=HTML)
    assert "not like" not in page.text or "25:99" in page.text
    assert "09:30, Mon 17:00" in page.text
    async with services_of(agency.app).sessionmaker() as session:
        brand = await brands.get_brand(session, agency.acme)
        stored = (await session.scalars(select(TimeSlot))).all()
        # maker_checker was left unticked, so it is now off.
        assert (brand.timezone, brand.maker_checker) == ("Europe/London", False)
        assert sorted(
            (s.weekday if s.weekday is not None else -1, s.minute_of_day) for s in stored
        ) == [(-1, 570), (0, 1020)]


async def test_rule_pack_errors_are_shown_and_nothing_is_saved(agency: Agency) -> None:
    client = agency.client
    await sign_in(client, "acme.admin@agency.test")
    token = await page_csrf(client, "/settings/rules")
    broken = "name: acme\nlexicon:\n  - phrase: sure winner\n    severity: catastrophic\n"
    shown = await client.post(
        f"/settings/brands/{agency.acme}/rules",
        data={"csrf_token": token, "rule_pack": broken},
        headers=HTML,
    )
    assert shown.status_code == 422
    assert "The rule pack was not saved" in shown.text
    assert "lexicon[0]" in shown.text
    assert "severity: catastrophic" in shown.text  # the text is kept for fixing
    not_yaml = await client.post(
        f"/settings/brands/{agency.acme}/rules",
        data={"csrf_token": token, "rule_pack": "name: [unclosed"},
        headers=HTML,
    )
    assert not_yaml.status_code == 422 and "not valid YAML" in not_yaml.text
    async with services_of(agency.app).sessionmaker() as session:
        assert await brands.get_rule_pack_text(session, agency.acme) == ""

    good = "name: acme\nlexicon:\n  - phrase: sure winner\n    category: promissory\n    severity: block\n"
    saved = await client.post(
        f"/settings/brands/{agency.acme}/rules",
        data={"csrf_token": token, "rule_pack": good},
        headers=HTML,
    )
    assert saved.status_code == 303
    assert "sure winner" in (await client.get("/settings/rules", headers=HTML)).text
    async with services_of(agency.app).sessionmaker() as session:
        assert await brands.get_rule_pack_text(session, agency.acme) == good


async def test_webhook_endpoints_are_added_with_a_one_time_secret_and_removed(
    agency: Agency,
) -> None:
    client = agency.client
    await sign_in(client, "acme.admin@agency.test")
    token = await page_csrf(client, "/settings/webhooks")
    added = await client.post(
        f"/settings/brands/{agency.acme}/webhooks",
        data={
            "csrf_token": token,
            "url": "https://crm.example/hooks",
            "events": ["post.published"],
        },
        headers=HTML,
    )
    assert added.status_code == 200
    assert "whsec_" in added.text
    listing = await client.get("/settings/webhooks", headers=HTML)
    assert "https://crm.example/hooks" in listing.text and "whsec_" not in listing.text
    invalid = await client.post(
        f"/settings/brands/{agency.acme}/webhooks",
        data={"csrf_token": token, "url": "ftp://crm.example", "events": ["post.published"]},
        headers=HTML,
    )
    assert invalid.status_code == 303
    async with services_of(agency.app).sessionmaker() as session:
        endpoint = await session.scalar(select(WebhookEndpoint))
    assert endpoint is not None
    cross_brand = await client.post(
        f"/settings/brands/{agency.beta}/webhooks/{endpoint.id}/delete",
        data={"csrf_token": token},
        headers=HTML,
    )
    removed = await client.post(
        f"/settings/brands/{agency.acme}/webhooks/{endpoint.id}/delete",
        data={"csrf_token": token},
        headers=HTML,
    )
    assert cross_brand.status_code == 404
    assert removed.status_code == 303
    assert {"webhook.created", "webhook.deleted"} <= set(await _audit(agency.app))


async def test_api_token_is_shown_once_works_and_can_be_revoked(agency: Agency) -> None:
    client = agency.client
    await sign_in(client, "editor@agency.test")
    token = await page_csrf(client, "/settings/tokens")
    created = await client.post(
        "/settings/tokens",
        data={"csrf_token": token, "name": "ci", "scopes": ["read"], "expires_days": "30"},
        headers=HTML,
    )
    assert created.status_code == 200
    plaintext = created.text.split('id="new-api-token">')[1].split("<")[0]
    assert plaintext.startswith("fat_")
    listing = (await client.get("/settings/tokens", headers=HTML)).text
    assert plaintext not in listing
    assert "<td>read</td>" in listing
    async with httpx_client(agency) as bot:
        headers = {"Authorization": f"Bearer {plaintext}"}
        assert (await bot.get("/api/v1/stats", headers=headers)).status_code == 200
        async with services_of(agency.app).sessionmaker() as session:
            token_id = await session.scalar(select(ApiToken.id))
        revoked = await client.post(
            f"/settings/tokens/{token_id}/revoke", data={"csrf_token": token}, headers=HTML
        )
        assert revoked.status_code == 303
        assert (await bot.get("/api/v1/stats", headers=headers)).status_code == 401
