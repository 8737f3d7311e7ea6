"""The real app (create_app) on the per-test database, for the page-level auth tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr

from finagency.app import create_app
from finagency.auth import service
from finagency.brands import service as brands
from finagency.config import HttpSettings, SecuritySettings, Settings
from finagency.core.db import transaction
from finagency.core.services import Services

PASSWORD = "correct horse battery"
HTML = {"accept": "text/html"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_in(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


@asynccontextmanager
async def web_app(
    database_url: str, *, allow_private: list[str] | None = None, **security: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        secret_key=SecretStr("auth-web-test-secret-key-0123456789"),
        security=SecuritySettings(**security),
        http=HttpSettings(allow_private=allow_private or []),
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client


def services_of(app: FastAPI) -> Services:
    found: Services = app.state.services
    return found


async def add_user(
    app: FastAPI, email: str, *roles: tuple[int, str], is_admin: bool = False
) -> int:
    async with transaction(services_of(app).sessionmaker) as session:
        user = await service.create_user(session, email, PASSWORD, is_admin=is_admin)
        for brand_id, role in roles:
            await service.grant_role(session, user.id, brand_id, role)
        return user.id


async def add_brand(app: FastAPI, slug: str, name: str | None = None) -> int:
    async with transaction(services_of(app).sessionmaker) as session:
        brand = await brands.create_brand(session, slug=slug, name=name or slug.title())
        return brand.id


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    form = await client.get("/login", headers=HTML)
    return await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_in(form.text)},
        headers=HTML,
    )


async def page_csrf(client: httpx.AsyncClient, path: str = "/settings/account") -> str:
    page = await client.get(path, headers=HTML)
    assert page.status_code == 200, page.text[:300]
    return csrf_in(page.text)
