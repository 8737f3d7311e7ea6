"""The whole pipeline on a real database: sample data in, grounded posts out, published once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from finagency.analytics.service import compute_stats
from finagency.audit.service import verify_chain
from finagency.config import Settings
from finagency.core.db import transaction
from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.models import (
    Approval,
    Brand,
    ContentItem,
    Finding,
    NewsItem,
    Post,
    PostStatus,
    PublishAttempt,
    Quote,
    SandboxPost,
    User,
)
from finagency.ops import demo
from finagency.queue import Notifier
from finagency.review import service as review
from finagency.runtime import build_registry, build_worker, open_services


@pytest.fixture
async def services(database_url: str) -> AsyncIterator[Services]:
    settings = Settings(database_url=database_url, secret_key="pipeline-test-secret")
    async with open_services(settings, Notifier()) as opened:
        yield opened


async def _seed_without_pacing(services: Services) -> None:
    await demo.seed(services)
    async with transaction(services.sessionmaker) as session:
        brand = (await session.execute(select(Brand))).scalar_one()
        brand.settings = {**brand.settings, "spacing_seconds": 0, "lead_seconds": 0}


async def _drain(services: Services) -> None:
    worker = build_worker(services, build_registry(), Notifier())
    await worker.run_until_idle()


async def test_demo_ingests_drafts_checks_and_publishes(services: Services) -> None:
    await _seed_without_pacing(services)
    await _drain(services)

    async with services.read_sessionmaker() as session:
        news = await session.scalar(select(func.count()).select_from(NewsItem))
        quotes = await session.scalar(select(func.count()).select_from(Quote))
        kinds = set((await session.execute(select(ContentItem.kind))).scalars())
        published = list(
            (
                await session.execute(select(Post).where(Post.status == PostStatus.PUBLISHED.value))
            ).scalars()
        )
        in_review = list(
            (
                await session.execute(select(Post).where(Post.status == PostStatus.IN_REVIEW.value))
            ).scalars()
        )
        sandbox_rows = await session.scalar(select(func.count()).select_from(SandboxPost))
        attempts = list((await session.execute(select(PublishAttempt))).scalars())
        stats = await compute_stats(session, now=utcnow())
        chain = await verify_chain(session)

    assert news and news >= 10  # the SEC press releases and the EDGAR filings
    assert quotes and quotes >= 40  # AAPL daily bars, ECB rates, Treasury yields
    assert {"market_mover", "market_wrap", "weekly_recap", "macro_rate", "news_take"} <= kinds
    # Movers and rates are auto-approved by the demo brand's policy and go out.
    assert published, "no post reached the sandbox"
    assert {post.platform for post in published} == {
        "sandbox:x",
        "sandbox:linkedin",
        "sandbox:telegram",
    }
    assert sandbox_rows == len(published)
    assert all(attempt.outcome == "confirmed" for attempt in attempts)
    assert len(attempts) == len(published)
    for post in published:
        assert demo.DISCLOSURE in post.text
        assert post.external_url and post.external_id
    # News takes wait for a person.
    assert in_review
    # The template generator only states what the fact sheet holds: every factual draft is
    # clean, so the brand's policy approved all of them and none waits in review.
    async with services.read_sessionmaker() as session:
        factual = list(
            (
                await session.execute(
                    select(Post, ContentItem.kind)
                    .join(ContentItem, ContentItem.id == Post.content_item_id)
                    .where(ContentItem.kind.in_(["market_mover", "macro_rate"]))
                )
            ).all()
        )
    assert factual
    assert {(kind, post.check_verdict, post.status) for post, kind in factual} <= {
        ("market_mover", "pass", "published"),
        ("macro_rate", "pass", "published"),
    }
    assert stats.stuck == 0
    assert stats.posted == len(published)
    assert chain.ok and chain.checked > 0


async def test_numbers_not_in_the_fact_sheet_are_blocked(services: Services) -> None:
    await _seed_without_pacing(services)
    await _drain(services)
    async with transaction(services.sessionmaker) as session:
        post = (
            await session.execute(
                select(Post).where(Post.status == PostStatus.IN_REVIEW.value).limit(1)
            )
        ).scalar_one()
        editor = (
            await session.execute(select(User).where(User.email.like("editor@%")))
        ).scalar_one()
        from finagency.content import service as content

        found = await content.edit_post(
            session,
            post,
            post.text + " Shares jumped 12.34% to $999.99.",
            editor=editor,
            now=utcnow(),
        )
    assert any(finding.reason_code == "ungrounded_number" for finding in found)
    async with services.read_sessionmaker() as session:
        stored = list(
            (await session.execute(select(Finding).where(Finding.post_id == post.id))).scalars()
        )
        refreshed = await session.get(Post, post.id)
    assert refreshed is not None
    assert refreshed.check_verdict == "block"
    blocked = [f for f in stored if f.post_version == refreshed.version and f.severity == "block"]
    assert any(
        refreshed.text[f.span_start or 0 : f.span_end or 0] in {"12.34%", "$999.99"}
        for f in blocked
    )


async def test_maker_checker_and_approval_publishes(services: Services) -> None:
    await _seed_without_pacing(services)
    await _drain(services)
    async with transaction(services.sessionmaker) as session:
        post = (
            await session.execute(
                select(Post)
                .where(Post.status == PostStatus.IN_REVIEW.value, Post.check_verdict != "block")
                .limit(1)
            )
        ).scalar_one()
        editor = (
            await session.execute(select(User).where(User.email.like("editor@%")))
        ).scalar_one()
        approver = (
            await session.execute(select(User).where(User.email.like("approver@%")))
        ).scalar_one()
        from finagency.content import service as content

        await content.edit_post(
            session, post, post.text.replace("  ", " ") + " ", editor=editor, now=utcnow()
        )
        post_id = post.id
    async with transaction(services.sessionmaker) as session:
        post = await session.get(Post, post_id)
        assert post is not None
        with pytest.raises(Exception, match="maker-checker"):
            await review.approve(session, post, approver=editor, now=utcnow())
    async with transaction(services.sessionmaker) as session:
        post = await session.get(Post, post_id)
        approver = (
            await session.execute(select(User).where(User.email.like("approver@%")))
        ).scalar_one()
        assert post is not None
        assert post.check_verdict != "block"
        await review.approve(
            session, post, approver=approver, now=utcnow(), version_hash=post.content_hash
        )
    await _drain(services)
    async with services.read_sessionmaker() as session:
        post = await session.get(Post, post_id)
        approvals = list(
            (await session.execute(select(Approval).where(Approval.post_id == post_id))).scalars()
        )
    assert post is not None
    assert post.status == PostStatus.PUBLISHED
    assert [a.approver_id for a in approvals if a.decision == "approved"] == [approver.id]
