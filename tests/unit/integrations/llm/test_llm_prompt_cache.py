"""The prompt cache: identical prompts are answered once; anything that changes the prompt misses."""

from __future__ import annotations

import pytest
from llm_fake_clients import anthropic_generator, mover_sheet, openai_generator, request_for
from template_factsheets import market_mover_sheet

from finagency.core.errors import TransientExternalError
from finagency.integrations.llm import TemplateGenerator
from finagency.integrations.llm.cache import CachedGenerator
from finagency.integrations.llm.fakes import create_anthropic_fake, create_openai_fake


async def test_an_identical_prompt_is_served_from_cache_for_free() -> None:
    fake = create_openai_fake()
    generator = CachedGenerator(openai_generator(fake), max_entries=8)

    first = await generator.generate(request_for(seed=3))
    second = await generator.generate(request_for(seed=3))

    assert len(fake.state.requests) == 1
    assert first.cached is False
    assert first.cost_usd > 0
    assert second.cached is True
    assert second.text == first.text
    assert second.model == first.model
    assert second.prompt_hash == first.prompt_hash
    assert (second.cost_usd, second.input_tokens, second.output_tokens) == (0.0, 0, 0)
    assert (generator.hits, generator.misses) == (1, 1)
    assert generator.name == "openai"


async def test_a_different_seed_platform_or_fact_is_a_new_prompt() -> None:
    fake = create_anthropic_fake()
    generator = CachedGenerator(anthropic_generator(fake))

    await generator.generate(request_for(seed=1))
    await generator.generate(request_for(seed=2))
    await generator.generate(request_for(seed=1, platform="linkedin"))
    changed = await generator.generate(request_for(mover_sheet(close=117.5), seed=1))

    assert len(fake.state.requests) == 4
    assert changed.cached is False
    assert "117.5" in changed.text


async def test_the_least_recently_used_prompt_is_dropped_first() -> None:
    fake = create_openai_fake()
    generator = CachedGenerator(openai_generator(fake), max_entries=2)

    await generator.generate(request_for(seed=1))
    await generator.generate(request_for(seed=2))
    await generator.generate(request_for(seed=1))  # seed 1 is now the most recent
    await generator.generate(request_for(seed=3))  # evicts seed 2
    assert len(generator) == 2
    assert (await generator.generate(request_for(seed=1))).cached is True
    assert (await generator.generate(request_for(seed=2))).cached is False
    assert len(fake.state.requests) == 4


async def test_failures_are_not_cached() -> None:
    fake = create_openai_fake()
    generator = CachedGenerator(openai_generator(fake, api_key="fake-server_error"))
    for _ in range(2):
        with pytest.raises(TransientExternalError):
            await generator.generate(request_for())
    assert len(generator) == 0
    assert generator.misses == 2


async def test_generators_without_prompts_are_keyed_by_the_request() -> None:
    generator = CachedGenerator(TemplateGenerator())
    sheet = market_mover_sheet()
    first = await generator.generate(request_for(sheet, seed=5))
    again = await generator.generate(request_for(sheet, seed=5))
    other = await generator.generate(request_for(sheet, seed=6))
    assert again.cached is True
    assert again.text == first.text
    assert other.cached is False


def test_a_cache_must_hold_something() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CachedGenerator(TemplateGenerator(), max_entries=0)
