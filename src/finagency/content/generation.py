"""Draft a content item for several platforms: one generation per platform, sized to it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from finagency.content.variants import Variant, body_budget, make_variant
from finagency.core.factsheet import FactSheet
from finagency.integrations.llm.base import GenerationRequest, GenerationResult, Generator
from finagency.integrations.platforms.textrules import rules_for


async def draft_variants(
    generator: Generator,
    factsheet: FactSheet,
    platforms: Sequence[str],
    *,
    seed: int,
    disclosure: str = "",
    brand_voice: str = "",
) -> list[tuple[GenerationResult, Variant]]:
    """One (generation, variant) per platform, in the order given.

    Each generation gets ``max_chars`` = what is left of the platform's limit after the
    link and disclosure, so short platforms get short phrasings. The link is the fact
    sheet's ``url``. Generations run concurrently (LLM back ends are I/O bound).
    """

    async def draft(platform: str) -> tuple[GenerationResult, Variant]:
        rules = rules_for(platform)
        request = GenerationRequest(
            factsheet=factsheet,
            platform=platform,
            seed=seed,
            brand_voice=brand_voice,
            max_chars=body_budget(rules, disclosure=disclosure, link=factsheet.url),
        )
        result = await generator.generate(request)
        variant = make_variant(
            result.text, platform=platform, disclosure=disclosure, link=factsheet.url
        )
        return result, variant

    for platform in platforms:
        rules_for(platform)  # fail fast on an unknown platform, before any generation
    return list(await asyncio.gather(*(draft(platform) for platform in platforms)))
