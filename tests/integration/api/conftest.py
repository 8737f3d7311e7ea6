"""Fixtures for the API tests: the web tests' seeded app, plus an operator and API tokens."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).parent.parent / "web"))
sys.path.insert(0, str(Path(__file__).parent))

from api_support import OPERATOR, api_settings, email_of
from web_support import (
    HTML,
    PASSWORD,
    Login,
    Seed,
    csrf_in,
    seed_database,
)

from finagency.app import create_app
from finagency.auth import service as auth
from finagency.core.db import transaction
from finagency.core.services import Services


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(api_settings(database_url))
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
    seeded = await seed_database(services)
    async with transaction(services.sessionmaker) as session:
        user = await auth.create_user(session, OPERATOR, PASSWORD, name="Operator")
        await auth.grant_role(session, user.id, seeded.brand_ids["a"], "operator")
        seeded.user_ids["operator"] = user.id
    return seeded


@pytest.fixture
def login(seed: Seed) -> Login:
    """Sign ``user`` in through the form; returns the session's CSRF token."""

    async def sign_in(client: httpx.AsyncClient, user: str) -> str:
        form = await client.get("/login", headers=HTML)
        response = await client.post(
            "/login",
            data={"email": email_of(user), "password": PASSWORD, "csrf_token": csrf_in(form.text)},
            headers=HTML,
        )
        assert response.status_code == 303, response.text
        page = await client.get("/", headers=HTML)
        assert page.status_code == 200
        return csrf_in(page.text)

    return sign_in
