"""The generator a process drafts with, built once from the settings (so its prompt cache lives)."""

from __future__ import annotations

from finagency.content.prompts import load_prompt, render_prompt
from finagency.core.services import Services
from finagency.integrations.llm.base import GenerationRequest, Generator
from finagency.integrations.llm.registry import build_generator
from finagency.integrations.platforms.textrules import rules_for

_KEY = "content.generator"


def render(request: GenerationRequest) -> tuple[str, str, str, str]:
    """System and user prompt for an LLM, from the versioned prompt files."""
    template = load_prompt(request.factsheet.kind)
    rules = rules_for(request.platform)
    system, user = render_prompt(
        template,
        factsheet=request.factsheet,
        rules=rules,
        max_chars=request.max_chars or rules.max_length,
        brand_voice=request.brand_voice,
    )
    return system, user, template.template_id, template.sha256


def generator_for(services: Services) -> Generator:
    found = services.extras.get(_KEY)
    if found is None:
        llm = services.settings.llm
        if llm.generator == "template":
            found = build_generator("template")
        else:
            found = build_generator(
                llm.generator,
                http=services.http,
                render=render,
                base_url=llm.base_url,
                api_key=llm.api_key.get_secret_value() if llm.api_key else None,
                model=llm.model,
                model_path=llm.model_path,
                concurrency=llm.local_concurrency,
            )
        services.extras[_KEY] = found
    generator: Generator = found
    return generator
