"""Publishing through real platform clients against the fakes: exactly once, whatever drops."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import func, select, update

from finagency.brands import service as brands
from finagency.config import Settings
from finagency.core.db import transaction
from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.integrations.platforms.fakes import server as fakes
from finagency.models import (
    Account,
    AuditEvent,
    ContentItem,
    Job,
    Post,
    PostStatus,
    PublishAttempt,
    QueueControl,
)
from finagency.publishing import accounts
from finagency.publishing import service as publishing
from finagency.queue import Notifier
from finagency.runtime import build_registry, build_worker, open_services

FAKES = "http://fakes"


@pytest.fixture
async def fake_web() -> AsyncIterator[httpx.AsyncClient]:
    app = fakes.create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=FAKES) as http:
        yield http


@pytest.fixture
async def services(database_url: str, fake_web: httpx.AsyncClient) -> AsyncIterator[Services]:
    settings = Settings(database_url=database_url, secret_key="platform-publishing-test-key")
    async with open_services(settings, Notifier()) as opened:
        # Platform calls go to the in-process fakes instead of the network.
        yield replace(opened, http=fake_web)


async def make_post(
    services: Services, platform: str, text: str, credentials: dict[str, str] | None = None
) -> int:
    async with transaction(services.sessionmaker) as session:
        brand = await brands.create_brand(session, slug=f"b-{platform}", name="Brand")
        account = await accounts.connect_account(
            session,
            services.secret_box,
            brand,
            platform=platform,
            handle=f"{platform}-desk",
            credentials=credentials or dict(fakes.TEST_CREDENTIALS[platform]),
            base_url=fakes.base_url_for(FAKES, platform),
        )
        item = ContentItem(brand_id=brand.id, kind="editorial", title="t", factsheet={})
        session.add(item)
        await session.flush()
        post = Post(
            brand_id=brand.id,
            content_item_id=item.id,
            account_id=account.id,
            platform=platform,
            text=text,
            status=PostStatus.APPROVED,
            content_hash=hashlib.sha256(text.encode()).hexdigest(),
        )
        session.add(post)
        await session.flush()
        await publishing.schedule_post(session, post, at=utcnow(), actor="test")
        return post.id


async def drain(services: Services) -> None:
    """Run every job now, retries included (retry backoff is skipped by moving run_at)."""
    for _ in range(6):
        await build_worker(services, build_registry(services.settings), Notifier()).run_until_idle()
        async with transaction(services.sessionmaker) as session:
            waiting = await session.execute(
                update(Job).where(Job.state.in_(["retryable", "reconcile"])).values(run_at=utcnow())
            )
        if not waiting.rowcount:  # type: ignore[attr-defined]
            return


async def post_state(services: Services, post_id: int) -> tuple[Post, list[PublishAttempt]]:
    async with services.read_sessionmaker() as session:
        post = await session.get(Post, post_id)
        attempts = list(
            (
                await session.execute(
                    select(PublishAttempt).where(PublishAttempt.post_id == post_id)
                )
            ).scalars()
        )
    assert post is not None
    return post, attempts


async def test_mastodon_resend_with_the_same_key_after_a_dropped_answer(
    services: Services, fake_web: httpx.AsyncClient
) -> None:
    post_id = await make_post(services, "mastodon", "Yields: 10Y 1.81% on 1 Feb 2022.")
    await fake_web.post("/mastodon/__fake__/drop", json={"times": 1})

    await drain(services)

    post, attempts = await post_state(services, post_id)
    stored = (await fake_web.get("/mastodon/__fake__/posts")).json()
    assert post.status == PostStatus.PUBLISHED
    assert len(stored) == 1  # the resend with the same Idempotency-Key returned the original
    assert post.external_id == str(stored[0]["id"])
    assert [a.outcome for a in attempts] == ["confirmed"]


async def test_x_reads_back_instead_of_posting_twice(
    services: Services, fake_web: httpx.AsyncClient
) -> None:
    post_id = await make_post(services, "x", "$AAPL closed at $118.69 on 6 Nov 2020.")
    await fake_web.post(
        "/x/__fake__/fail",
        json={"status": 500, "times": 1, "mode": "after", "method": "POST", "path": "/2/tweets"},
    )

    await drain(services)

    post, attempts = await post_state(services, post_id)
    tweets = (await fake_web.get("/x/__fake__/state")).json()["posts"]
    assert post.status == PostStatus.PUBLISHED
    assert len(tweets) == 1
    assert post.external_id == str(tweets[0]["id"])
    assert attempts[-1].outcome == "confirmed"


async def test_telegram_without_read_back_waits_for_a_person(
    services: Services, fake_web: httpx.AsyncClient
) -> None:
    post_id = await make_post(services, "telegram", "EUR/USD 1.0856 on 29 Jan 2016.")
    await fake_web.post("/telegram/__fake__/drop", json={"times": 1})

    await drain(services)

    post, _ = await post_state(services, post_id)
    messages = (await fake_web.get("/telegram/__fake__/messages")).json()
    assert post.status == PostStatus.UNCONFIRMED  # never resent blindly
    assert len(messages) == 1

    async with transaction(services.sessionmaker) as session:
        post = await session.get(Post, post_id)
        assert post is not None
        await publishing.resolve_unconfirmed(
            session, post, went_out=True, actor="user:1", now=utcnow()
        )
    post, attempts = await post_state(services, post_id)
    assert post.status == PostStatus.PUBLISHED
    assert attempts[-1].outcome == "confirmed_by_person"


async def test_a_dead_token_pauses_the_account_once_and_keeps_the_post(
    services: Services, fake_web: httpx.AsyncClient
) -> None:
    first = await make_post(
        services, "mastodon", "First note.", credentials={"access_token": "mastodon-dead-token"}
    )
    async with transaction(services.sessionmaker) as session:
        account = (await session.execute(select(Account))).scalar_one()
        item = ContentItem(brand_id=account.brand_id, kind="editorial", title="t", factsheet={})
        session.add(item)
        await session.flush()
        second = Post(
            brand_id=account.brand_id,
            content_item_id=item.id,
            account_id=account.id,
            platform="mastodon",
            text="Second note.",
            status=PostStatus.APPROVED,
            content_hash="h2",
        )
        session.add(second)
        await session.flush()
        await publishing.schedule_post(session, second, at=utcnow(), actor="test")

    await drain(services)

    async with services.read_sessionmaker() as session:
        account = (await session.execute(select(Account))).scalar_one()
        control = await session.get(QueueControl, f"account:{account.id}")
        statuses = set((await session.execute(select(Post.status))).scalars())
        expired_events = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "account.auth_expired")
        )
    assert account.status == "auth_expired"
    assert control is not None
    assert control.paused
    assert statuses == {PostStatus.SCHEDULED.value}  # waiting for a reconnect, not failed
    # Two posts hit the dead token, but the account is marked (and the dashboard told) once.
    assert expired_events == 1
    assert first != second.id
