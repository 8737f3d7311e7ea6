"""Lexicon: what a compliance officer expects to be blocked, sent to review, or left alone."""

from __future__ import annotations

import re

import pytest

from finagency.checks.lexicon import categories, check_lexicon, is_negated, scan
from finagency.checks.profiles import profiles


def hits(text: str, profile: str = "default") -> list[tuple[str, str, str]]:
    return [
        (f.severity, f.reason_code, text[f.span[0] : f.span[1]])
        for f in check_lexicon(text, profile)
        if f.span is not None
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Guaranteed returns on every trade.", ("block", "promissory", "Guaranteed returns")),
        ("This fund is risk-free.", ("block", "promissory", "risk-free")),
        ("No risk, guaranteed returns!", ("block", "promissory", "No risk")),
        ("You can't lose with this one.", ("block", "promissory", "can't lose")),
        ("You will earn 12% a year.", ("block", "promissory", "You will earn 12%")),
        ("Heard it from insider info.", ("block", "insider", "insider info")),
        ("An SEC-approved strategy.", ("block", "regulator_endorsement", "SEC-approved")),
        ("Buy now.", ("review", "recommendation", "Buy now")),
        ("Time to buy AAPL.", ("review", "recommendation", "Time to buy")),
        ("Act now, this is a last chance.", ("review", "urgency", "Act now")),
        ("The best fund around.", ("review", "superlative", "The best")),
        ("It outperformed peers.", ("review", "performance_claim", "outperformed")),
        ("My clients made 30% last year.", ("review", "testimonial", "My clients made")),
        ("Sponsored by Acme.", ("review", "sponsored", "Sponsored")),
        ("This stock will hit $200.", ("review", "projection", "will hit $200")),
    ],
)
def test_flagged_phrases(text: str, expected: tuple[str, str, str]) -> None:
    assert hits(text)[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "Returns are not guaranteed.",
        "There is no guarantee of future returns.",
        "Returns aren't guaranteed and you may lose money.",
        "Investing is never risk-free.",
        "Not FDIC insured. May lose value.",
        "This is not a recommendation to buy now or later.",
        "Apple fell 1.1% on Friday after results.",
        "Bestow, topology, overbought, rebuy.",  # word boundaries, not substrings
    ],
)
def test_clean_or_negated_text_passes(text: str) -> None:
    assert hits(text) == []


def test_negation_does_not_cross_a_clause() -> None:
    text = "Not a bank. Guaranteed returns."
    assert not is_negated(text, text.index("Guaranteed"))
    assert hits(text) == [("block", "promissory", "Guaranteed returns")]


def test_not_only_is_not_a_negation() -> None:
    assert hits("Not only guaranteed returns but more.")[0][1] == "promissory"


def test_insider_is_never_cancelled_by_negation() -> None:
    assert hits("This is not insider information, but...")[0][1] == "insider"


def test_matching_ignores_case_and_line_breaks() -> None:
    assert hits("GUARANTEED\nRETURNS")[0] == ("block", "promissory", "GUARANTEED\nRETURNS")


def test_emoji_and_hype_count_as_projection() -> None:
    assert [code for _, code, _ in hits("AAPL 🚀 to the moon, easy 10x")] == ["projection"] * 3


def test_projections_block_for_us_broker_dealers_only() -> None:
    text = "Shares are about to explode."
    assert hits(text, "us_finra_sec")[0][0] == "block"
    assert hits(text, "uk_fca")[0][0] == "review"
    assert hits(text, "eu_mifid_esma")[0][0] == "review"


def test_crypto_is_only_a_topic_for_uk_promotions() -> None:
    text = "Bitcoin rose overnight."
    assert hits(text, "uk_fca") == [("review", "crypto_uk", "Bitcoin")]
    assert hits(text, "us_finra_sec") == []


def test_exempt_spans_are_skipped() -> None:
    text = "Best Invest Ltd: market wrap"
    assert check_lexicon(text, "default", exempt=((0, 15),)) == []


def test_every_profile_uses_known_categories_and_severities() -> None:
    known = categories()
    for profile in profiles().values():
        assert set(profile.categories) <= set(known), profile.name
    assert {"default", "us_finra_sec", "uk_fca", "eu_mifid_esma"} <= set(profiles())


def test_no_phrase_belongs_to_two_categories_and_patterns_compile() -> None:
    owner: dict[str, str] = {}
    for category in categories().values():
        for phrase in category.phrases:
            key = " ".join(phrase.lower().split())
            assert owner.setdefault(key, category.name) == category.name, phrase
        for pattern in category.patterns:
            re.compile(pattern)


def test_every_category_matches_at_least_one_of_its_phrases() -> None:
    for category in categories().values():
        for phrase in category.phrases[:3]:
            sample = f"x {phrase.rstrip('*')} y"
            assert any(hit.category == category.name for hit in scan(sample, [category.name])), (
                phrase
            )
