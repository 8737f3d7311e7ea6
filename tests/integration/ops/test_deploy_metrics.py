"""The gauges the alert rules page on show what an operator would find in the database."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.app import create_app
from finagency.config import Settings
from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.models import Account, BackupRecord, Brand, Job, Source


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=database_url, secret_key=SecretStr("metrics-test-secret-key-0123456789")
    )
    app = create_app(settings)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http,
    ):
        yield http


def sample(body: str, name: str, **labels: str) -> float | None:
    """The value of one series in a Prometheus text exposition, or None if absent."""
    for line in body.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_tokens_sources_stuck_jobs_and_backups_are_exported(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    now = utcnow()
    async with transaction(sessionmaker) as session:
        brand = Brand(slug="northwind", name="Northwind")
        session.add(brand)
        await session.flush()
        soon = Account(
            brand_id=brand.id, platform="x", handle="soon", token_expires_at=now + timedelta(days=2)
        )
        later = Account(
            brand_id=brand.id,
            platform="linkedin",
            handle="later",
            token_expires_at=now + timedelta(days=50),
        )
        refused = Account(
            brand_id=brand.id, platform="mastodon", handle="gone", status="auth_expired"
        )
        session.add_all([soon, later, refused])
        session.add(
            Source(
                name="flaky-feed",
                kind="rss",
                url="https://example.com/feed",
                consecutive_failures=4,
                last_success_at=now - timedelta(hours=3),
            )
        )
        session.add(
            Job(
                task="publishing.publish_post",
                queue="publish",
                state="running",
                lease_owner="dead-worker",
                lease_expires_at=now - timedelta(minutes=5),
            )
        )
        session.add(
            BackupRecord(at=now - timedelta(hours=1), path="/b/1.db", dialect="sqlite", ok=True)
        )
        session.add(BackupRecord(at=now, path="", dialect="sqlite", ok=False, error="disk full"))
        await session.flush()
        soon_id, later_id = soon.id, later.id

    body = (await client.get("/metrics")).text

    expires = sample(body, "finagency_account_token_expires_in_seconds", account_id=str(soon_id))
    assert expires is not None and 2 * 86400 - 120 < expires <= 2 * 86400
    far = sample(body, "finagency_account_token_expires_in_seconds", account_id=str(later_id))
    assert far is None  # beyond the 14-day horizon: no series
    assert sample(body, "finagency_accounts_auth_expired") == 1
    assert sample(body, "finagency_source_consecutive_failures", source="flaky-feed") == 4
    age = sample(body, "finagency_source_last_success_age_seconds", source="flaky-feed")
    assert age is not None and 3 * 3600 <= age < 3 * 3600 + 120
    assert sample(body, "finagency_jobs_lease_expired", queue="publish") == 1
    backup = sample(body, "finagency_backup_last_success_timestamp_seconds")
    assert backup is not None and abs(backup - (now - timedelta(hours=1)).timestamp()) < 2
