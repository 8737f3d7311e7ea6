"""Build a text generator by name from settings: "template" now, LLM back ends later."""

from __future__ import annotations

from finagency.core.errors import BadRequest
from finagency.integrations.llm.base import Generator
from finagency.integrations.llm.template import TemplateGenerator

AVAILABLE_GENERATORS: tuple[str, ...] = ("template",)
PLANNED_GENERATORS: tuple[str, ...] = ("openai", "anthropic", "local")


class UnknownGeneratorError(BadRequest):
    """No generator has this name."""

    code = "unknown_generator"


class GeneratorNotConfiguredError(BadRequest):
    """The generator is planned but not built or configured in this installation."""

    code = "generator_not_configured"


def build_generator(name: str, **settings: object) -> Generator:
    """The generator called ``name``; settings are passed to it (the template takes none)."""
    key = name.strip().lower()
    if key == "template":
        if settings:
            raise BadRequest(
                f"the template generator takes no settings, got {', '.join(sorted(settings))}",
                details={"generator": key, "settings": sorted(settings)},
            )
        return TemplateGenerator()
    if key in PLANNED_GENERATORS:
        raise GeneratorNotConfiguredError(
            f"the {key!r} generator is not configured yet; use 'template' (offline) for now",
            details={"generator": key, "available": list(AVAILABLE_GENERATORS)},
        )
    raise UnknownGeneratorError(
        f"unknown generator {name!r}; available: {', '.join(AVAILABLE_GENERATORS)}",
        details={"generator": name, "available": list(AVAILABLE_GENERATORS)},
    )
