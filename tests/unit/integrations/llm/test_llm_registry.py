"""Building generators by name: template, openai and anthropic, with clear errors for gaps."""

from __future__ import annotations

import httpx
import pytest
from llm_fake_clients import ANTHROPIC_URL, OPENAI_URL, client_for, render, request_for

from finagency.core.errors import BadRequest
from finagency.integrations.llm import (
    GeneratorNotConfiguredError,
    TemplateGenerator,
    UnknownGeneratorError,
    build_generator,
)
from finagency.integrations.llm.anthropic_llm import AnthropicGenerator
from finagency.integrations.llm.cache import CachedGenerator
from finagency.integrations.llm.fakes import create_anthropic_fake, create_openai_fake
from finagency.integrations.llm.openai_compat import OpenAICompatibleGenerator


def test_template_is_built_by_name() -> None:
    generator = build_generator("template")
    assert isinstance(generator, TemplateGenerator)
    assert generator.name == "template"


async def test_openai_is_built_with_its_settings_and_cached() -> None:
    fake = create_openai_fake()
    generator = build_generator(
        "openai",
        http=client_for(fake),
        render=render,
        base_url=OPENAI_URL,
        api_key="sk-test",
        model="gpt-4o-mini",
        temperature=0.0,
    )
    assert isinstance(generator, CachedGenerator)
    assert isinstance(generator.inner, OpenAICompatibleGenerator)
    assert generator.name == "openai"
    await generator.generate(request_for())
    assert (await generator.generate(request_for())).cached is True
    assert fake.state.requests[0]["temperature"] == 0.0
    assert len(fake.state.requests) == 1


async def test_anthropic_is_built_without_a_cache_when_asked() -> None:
    fake = create_anthropic_fake()
    generator = build_generator(
        "Anthropic",
        http=client_for(fake),
        render=render,
        base_url=ANTHROPIC_URL,
        api_key="sk-ant-test",
        model="claude-sonnet-4-5",
        max_output_tokens=300,
        cache_entries=0,
    )
    assert isinstance(generator, AnthropicGenerator)
    await generator.generate(request_for())
    assert fake.state.requests[0]["max_tokens"] == 300


@pytest.mark.parametrize(
    ("name", "settings", "missing"),
    [
        ("openai", {"api_key": "k", "model": "m"}, ["http", "render", "base_url"]),
        (
            "openai",
            {"base_url": OPENAI_URL, "model": "m", "api_key": ""},
            ["http", "render", "api_key"],
        ),
        ("anthropic", {"api_key": "k"}, ["http", "render", "model"]),
    ],
)
def test_missing_settings_are_named(
    name: str, settings: dict[str, str], missing: list[str]
) -> None:
    with pytest.raises(GeneratorNotConfiguredError) as caught:
        build_generator(name, **settings)  # type: ignore[arg-type]
    assert caught.value.status_code == 400
    assert caught.value.details["missing"] == missing
    for setting in missing:
        assert setting in caught.value.message


def test_anthropic_refuses_a_temperature_it_would_ignore() -> None:
    with pytest.raises(BadRequest, match="temperature"):
        build_generator(
            "anthropic",
            http=httpx.AsyncClient(),
            render=render,
            api_key="k",
            model="m",
            temperature=0.5,
        )


def test_local_needs_the_prompt_renderer() -> None:
    with pytest.raises(GeneratorNotConfiguredError, match="render") as caught:
        build_generator("local")
    assert caught.value.details["missing"] == ["render"]


def test_unknown_generator_names_what_exists() -> None:
    with pytest.raises(
        UnknownGeneratorError, match="available: template, openai, anthropic, local"
    ):
        build_generator("gpt-from-the-future")


def test_template_refuses_settings_it_would_ignore() -> None:
    with pytest.raises(BadRequest, match="temperature"):
        build_generator("template", temperature=0.2)
