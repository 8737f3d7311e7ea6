"""draft_variants: one generation per platform, sized to it; each variant fits with a disclosure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from finagency.content.generation import draft_variants
from finagency.core.factsheet import Fact, FactSheet
from finagency.integrations.llm import GenerationRequest, GenerationResult, TemplateGenerator
from finagency.integrations.platforms.textrules import PLATFORMS, UnknownPlatformError

STAMP = datetime(2020, 11, 6, 21, 0, tzinfo=UTC)
SHEET = FactSheet(
    kind="market_mover",
    subject="AAPL",
    tickers=("AAPL",),
    url="https://example.com/aapl",
    extra={"name": "Apple"},
    facts=(
        Fact("AAPL.close", "price", 116.97, "USD", "USD", STAMP, "Yahoo Finance"),
        Fact("AAPL.change_pct", "percent", 0.5, "%", None, STAMP, "Yahoo Finance"),
        Fact("AAPL.prev_close", "price", 116.39, "USD", "USD", STAMP, "Yahoo Finance"),
        Fact("AAPL.volume", "number", 114_457_900, "shares", None, STAMP, "Yahoo Finance"),
    ),
)
DISCLOSURE = (
    "For information only; not investment advice or a recommendation. "
    "Past performance is not a reliable indicator of future results. Example Capital LLC."
)


@dataclass
class RecordingGenerator:
    """Answers with a fixed text and remembers the requests."""

    text: str = "$AAPL closed at $116.97."
    requests: list[GenerationRequest] = field(default_factory=list)
    name: str = "recording"

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        self.requests.append(request)
        return GenerationResult(self.text, "fake", "fake#0", "0" * 64, self.text, 1, 1, 0.0)


@pytest.mark.parametrize("seed", range(8))
async def test_every_platform_gets_a_fitting_variant_with_the_disclosure(seed: int) -> None:
    drafts = await draft_variants(
        TemplateGenerator(), SHEET, PLATFORMS, seed=seed, disclosure=DISCLOSURE
    )
    assert [variant.platform for _, variant in drafts] == list(PLATFORMS)
    for result, variant in drafts:
        assert variant.fits, variant
        assert DISCLOSURE in variant.parts[-1]
        assert result.text in variant.text
        assert "https://example.com/aapl" in variant.text


async def test_short_platforms_get_short_phrasings() -> None:
    drafts = await draft_variants(
        TemplateGenerator(), SHEET, ["x", "linkedin"], seed=5, disclosure=DISCLOSURE
    )
    (x_result, x_variant), (linkedin_result, _) = drafts
    assert len(x_variant.parts) == 1  # the body was written to leave room for the disclosure
    assert len(x_result.text) <= len(linkedin_result.text)


async def test_each_generation_is_told_its_platform_budget() -> None:
    generator = RecordingGenerator()
    await draft_variants(generator, SHEET, ["x", "bluesky", "linkedin"], seed=1, disclosure="Ad.")
    budgets = {request.platform: request.max_chars for request in generator.requests}
    assert budgets == {
        "x": 280 - (1 + 23) - (2 + 3),
        "bluesky": 300 - (1 + len("https://example.com/aapl")) - (2 + 3),
        "linkedin": 3000 - (1 + len("https://example.com/aapl")) - (2 + 3),
    }
    assert {request.seed for request in generator.requests} == {1}


async def test_unknown_platform_fails_before_any_generation() -> None:
    generator = RecordingGenerator()
    with pytest.raises(UnknownPlatformError):
        await draft_variants(generator, SHEET, ["x", "friendster"], seed=1, disclosure="")
    assert generator.requests == []
