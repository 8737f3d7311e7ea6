"""The weekly recap from the template generator: varied, deterministic, grounded, within budget."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from finagency.checks.grounding import check_grounding
from finagency.content.prompts import load_prompt
from finagency.core.errors import ValidationFailed
from finagency.core.factsheet import Fact, FactSheet
from finagency.integrations.llm import GenerationRequest, TemplateGenerator
from finagency.integrations.platforms.textrules import rules_for

END = datetime(2020, 11, 6, 21, 0, tzinfo=UTC)
START = datetime(2020, 10, 30, 20, 0, tzinfo=UTC)
NOW = datetime(2020, 11, 7, 9, 0, tzinfo=UTC)
GENERATOR = TemplateGenerator()


def recap(**extra_facts: float) -> FactSheet:
    facts = [
        Fact("AAPL.close", "price", 118.69, unit="USD", currency="USD", as_of=END, source="Nasdaq"),
        Fact("AAPL.week_change_pct", "percent", 9.0794, unit="%", as_of=END, source="Nasdaq"),
        Fact("MSFT.close", "price", 223.72, unit="USD", currency="USD", as_of=END, source="Nasdaq"),
        Fact("MSFT.week_change_pct", "percent", -0.4512, unit="%", as_of=END, source="Nasdaq"),
        Fact("week.start", "date", "2020-10-30", as_of=START, source="Nasdaq"),
        Fact("week.end", "date", "2020-11-06", as_of=END, source="Nasdaq"),
        Fact("UST.10Y", "percent", 0.83, unit="%", as_of=END, source="US Treasury"),
    ]
    return FactSheet(
        kind="weekly_recap",
        subject="Week to 2020-11-06",
        headline="Apple supplier results beat estimates",
        tickers=("AAPL", "MSFT"),
        facts=tuple(facts),
        built_at=NOW,
    )


def render(sheet: FactSheet, platform: str, seed: int) -> str:
    return GENERATOR.render(GenerationRequest(factsheet=sheet, platform=platform, seed=seed)).text


def test_several_phrasings_and_the_same_text_for_the_same_seed() -> None:
    sheet = recap()
    ids = {
        GENERATOR.render(GenerationRequest(sheet, "linkedin", seed)).prompt_template_id
        for seed in range(40)
    }
    assert len(ids) >= 4
    assert all(i.startswith("template/weekly_recap/v1#") for i in ids)
    assert render(sheet, "x", 7) == render(sheet, "x", 7)


@pytest.mark.parametrize("platform", ["x", "linkedin", "bluesky", "telegram"])
def test_every_recap_is_grounded_and_fits(platform: str) -> None:
    sheet = recap()
    rules = rules_for(platform)
    for seed in range(30):
        text = render(sheet, platform, seed)
        assert "$AAPL +9.08%" in text and "$MSFT -0.45%" in text
        assert rules.fits(text), text
        problems = [f for f in check_grounding(text, sheet, NOW) if f.severity != "info"]
        assert problems == [], (text, problems)


def test_a_recap_without_weekly_changes_is_refused() -> None:
    sheet = FactSheet(kind="weekly_recap", subject="Week", facts=(), built_at=NOW)
    with pytest.raises(ValidationFailed, match="week_change_pct"):
        render(sheet, "x", 1)


def test_llms_get_a_versioned_weekly_recap_prompt() -> None:
    template = load_prompt("weekly_recap")
    assert template.template_id == "prompts/weekly_recap.v1"
    assert "week_change_pct" in template.user
