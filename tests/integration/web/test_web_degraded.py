"""Redis configured but down: every page still answers, and the Overview says what it costs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr
from web_support import HTML, Login

from finagency.app import create_app
from finagency.config import RedisSettings, Settings

# Nothing listens on port 9 (discard) here: connections are refused at once.
DEAD_REDIS = "redis://127.0.0.1:9/0"


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    settings = Settings(
        database_url=database_url,
        secret_key=SecretStr("test-secret-key-for-web-tests-0123"),
        redis=RedisSettings(url=DEAD_REDIS),
    )
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


async def test_overview_says_it_runs_degraded_while_redis_is_down(
    app: FastAPI, login: Login
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        await login(client, "admin")
        first = await client.get("/", headers=HTML)
        # The first cache read found Redis down; the next page says so and still has numbers.
        page = await client.get("/", headers=HTML)
        stats = await client.get("/api/v1/stats")
        ready = await client.get("/readyz")

    assert first.status_code == 200
    assert page.status_code == 200
    assert 'id="degraded"' in page.text
    assert "Cache unavailable" in page.text
    assert stats.status_code == 200
    assert stats.json()["total"] >= 1
    assert ready.json()["degraded"] is True
    assert ready.json()["checks"]["redis"]["ok"] is False
