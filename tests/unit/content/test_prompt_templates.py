"""Prompt templates for LLM generators: one per content kind, versioned, filled, hashed."""

from __future__ import annotations

import re

import pytest

from finagency.content.prompts import describe_counting, load_prompt, render_prompt
from finagency.core.errors import NotFound
from finagency.core.factsheet import Fact, FactSheet
from finagency.integrations.llm.factkeys import CONTENT_KINDS
from finagency.integrations.platforms.textrules import rules_for

SHEET = FactSheet(
    kind="macro_rate", subject="EUR/USD", facts=(Fact("EUR/USD", "rate", 1.0856, source="ECB"),)
)


@pytest.mark.parametrize("kind", CONTENT_KINDS)
def test_every_kind_has_a_prompt_that_renders(kind: str) -> None:
    template = load_prompt(kind)
    assert template.template_id == f"prompts/{kind}.v1"
    assert re.fullmatch(r"[0-9a-f]{64}", template.sha256)
    system, user = render_prompt(
        template, factsheet=SHEET, rules=rules_for("x"), max_chars=200, brand_voice="dry"
    )
    assert "Platform: x. Length: at most 200" in system
    assert "every link counts 23" in system
    assert "Brand voice: dry" in system
    assert '"EUR/USD"' in user
    assert not re.search(r"\{[a-z_]+\}", system + user)


def test_hash_changes_with_the_kind() -> None:
    assert load_prompt("news_take").sha256 != load_prompt("market_mover").sha256
    assert load_prompt("news_take").sha256 == load_prompt("news_take").sha256


def test_unknown_prompt_is_not_found() -> None:
    with pytest.raises(NotFound):
        load_prompt("market_mover", version="v99")


def test_counting_is_described_per_platform() -> None:
    assert "graphemes" in describe_counting(rules_for("bluesky"))
    assert "UTF-16" in describe_counting(rules_for("telegram"))
