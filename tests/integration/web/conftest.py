"""Fixtures for the web tests: an app on a real migrated database, a client, seeded data."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr
from web_support import HTML, PASSWORD, Login, Seed, csrf_in, email, seed_database

from finagency.app import create_app
from finagency.config import Settings
from finagency.core.services import Services


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    settings = Settings(
        database_url=database_url, secret_key=SecretStr("test-secret-key-for-web-tests-0123")
    )
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
def services(app: FastAPI) -> Services:
    found: Services = app.state.services
    return found


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def seed(services: Services) -> Seed:
    return await seed_database(services)


@pytest.fixture
def login(seed: Seed) -> Login:
    """Sign ``user`` in through the form; returns the session's CSRF token for later posts."""

    async def sign_in(client: httpx.AsyncClient, user: str) -> str:
        form = await client.get("/login", headers=HTML)
        response = await client.post(
            "/login",
            data={"email": email(user), "password": PASSWORD, "csrf_token": csrf_in(form.text)},
            headers=HTML,
        )
        assert response.status_code == 303, response.text
        page = await client.get("/", headers=HTML)
        assert page.status_code == 200
        return csrf_in(page.text)

    return sign_in
