"""What the operations tests share: an app with a brand on the Mastodon fake, an approver,
a post waiting for review, and a signed-in client."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from finagency.app import create_app
from finagency.auth import service as auth
from finagency.brands import service as brands
from finagency.config import Settings
from finagency.core.db import transaction
from finagency.core.services import Services
from finagency.core.tracing import trace_http_client
from finagency.integrations.platforms.fakes import server as fakes
from finagency.models import ContentItem, Post, PostStatus
from finagency.publishing import accounts

FAKES = "http://fakes"
PASSWORD = "correct horse battery staple"
APPROVER = "approver@example.com"
HTML = {"accept": "text/html,application/xhtml+xml"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Opened:
    app: FastAPI
    services: Services
    client: httpx.AsyncClient
    fakes: httpx.AsyncClient


@asynccontextmanager
async def opened_app(database_url: str, **settings: Any) -> AsyncIterator[Opened]:
    """The app with its lifespan run; platform calls go to the in-process fakes."""
    app = create_app(
        Settings(database_url=database_url, secret_key="ops-test-secret-key-0123456789", **settings)
    )
    fake_app = fakes.create_app()
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_app), base_url=FAKES) as fake,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        services: Services = app.state.services
        # Each platform call is still wrapped in its span, as the real client's are.
        services.http = trace_http_client(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_app), base_url=FAKES)
        )
        try:
            yield Opened(app, services, client, fake)
        finally:
            await services.http.aclose()


async def seed_review(services: Services, text: str) -> int:
    """A brand on the Mastodon fake, an approver, and one post in review; returns its id."""
    async with transaction(services.sessionmaker) as session:
        brand = await brands.create_brand(session, slug="ops", name="Ops Capital")
        account = await accounts.connect_account(
            session,
            services.secret_box,
            brand,
            platform="mastodon",
            handle="ops-desk",
            credentials=dict(fakes.TEST_CREDENTIALS["mastodon"]),
            base_url=fakes.base_url_for(FAKES, "mastodon"),
        )
        user = await auth.create_user(session, APPROVER, PASSWORD, name="Approver")
        await auth.grant_role(session, user.id, brand.id, "approver")
        item = ContentItem(brand_id=brand.id, kind="editorial", title="ops item")
        session.add(item)
        await session.flush()
        post = Post(
            brand_id=brand.id,
            content_item_id=item.id,
            account_id=account.id,
            platform="mastodon",
            text=text,
            status=PostStatus.IN_REVIEW.value,
            content_hash=hashlib.sha256(text.encode()).hexdigest(),
            check_verdict="pass",
        )
        session.add(post)
        await session.flush()
        return post.id


async def sign_in(client: httpx.AsyncClient) -> str:
    """Sign the approver in through the form; returns the CSRF token for API posts."""
    form = await client.get("/login", headers=HTML)
    token = _CSRF.search(form.text)
    assert token
    answer = await client.post(
        "/login",
        data={"email": APPROVER, "password": PASSWORD, "csrf_token": token.group(1)},
        headers=HTML,
    )
    assert answer.status_code == 303, answer.text
    page = await client.get("/", headers=HTML)
    found = _CSRF.search(page.text)
    assert found
    return found.group(1)
