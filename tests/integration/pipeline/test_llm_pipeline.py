"""Drafting through an OpenAI-compatible endpoint (a local fake speaking the real wire format)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from finagency.config import LLMSettings, Settings
from finagency.content.generators import generator_for
from finagency.content.service import generate_for_brand
from finagency.core.db import transaction
from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.integrations.llm.fakes import create_openai_fake
from finagency.models import Brand, ContentItem, Finding, Post
from finagency.ops import demo
from finagency.queue import Notifier
from finagency.runtime import open_services


@pytest.fixture
async def services(database_url: str) -> AsyncIterator[Services]:
    settings = Settings(
        database_url=database_url,
        secret_key="llm-pipeline-test",
        llm=LLMSettings(
            generator="openai",
            base_url="https://llm.test/v1",
            api_key=SecretStr("test-key"),
            model="gpt-4o-mini",
        ),
    )
    fake = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_openai_fake()), base_url="https://llm.test"
    )
    async with open_services(settings, Notifier()) as opened:
        yield replace(opened, http=fake)
    await fake.aclose()


async def test_drafts_name_the_model_and_are_checked(services: Services) -> None:
    await demo.seed(services)
    async with transaction(services.sessionmaker) as session:
        brand = (await session.execute(select(Brand))).scalar_one()
        drafted = await generate_for_brand(session, brand, generator_for(services), now=utcnow())
    assert drafted
    async with services.read_sessionmaker() as session:
        items = list((await session.execute(select(ContentItem))).scalars())
        posts = list((await session.execute(select(Post))).scalars())
        findings = list((await session.execute(select(Finding))).scalars())
    assert {item.generator for item in items} == {"openai"}
    assert {item.model for item in items} == {"gpt-4o-mini"}
    assert all(
        item.input_tokens > 0 and item.prompt_template_id.startswith("prompts/") for item in items
    )
    assert all(post.check_verdict in {"pass", "review", "block"} for post in posts)
    # Every LLM draft went through the checks; none was approved without them.
    assert {finding.post_id for finding in findings} <= {post.id for post in posts}
    assert all(post.status in {"in_review", "approved", "scheduled"} for post in posts)
