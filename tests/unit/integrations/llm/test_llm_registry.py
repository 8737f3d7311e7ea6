"""Building generators by name: the template works, LLM back ends say they are not set up."""

from __future__ import annotations

import pytest

from finagency.core.errors import BadRequest
from finagency.integrations.llm import (
    GeneratorNotConfiguredError,
    TemplateGenerator,
    UnknownGeneratorError,
    build_generator,
)


def test_template_is_built_by_name() -> None:
    generator = build_generator("template")
    assert isinstance(generator, TemplateGenerator)
    assert generator.name == "template"


@pytest.mark.parametrize("name", ["openai", "anthropic", "local"])
def test_llm_back_ends_are_not_configured_yet(name: str) -> None:
    with pytest.raises(GeneratorNotConfiguredError, match="not configured yet") as caught:
        build_generator(name, api_key="sk-test")
    assert caught.value.status_code == 400
    assert caught.value.details["available"] == ["template"]


def test_unknown_generator_names_what_exists() -> None:
    with pytest.raises(UnknownGeneratorError, match="available: template"):
        build_generator("gpt-from-the-future")


def test_template_refuses_settings_it_would_ignore() -> None:
    with pytest.raises(BadRequest, match="temperature"):
        build_generator("template", temperature=0.2)
