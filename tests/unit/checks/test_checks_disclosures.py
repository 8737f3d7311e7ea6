"""Disclosures: required wording word for word; paid posts say who paid and how much."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from finagency.checks.disclosures import (
    RequiredText,
    Sponsorship,
    check_disclosures,
    check_sponsorship,
    find_disclosure,
)
from finagency.checks.profiles import disclosures

RISK = RequiredText("brand disclosure", "Not investment advice. Capital at risk.")


def test_missing_disclosure_blocks() -> None:
    findings = check_disclosures("AAPL fell 1.1% on Friday.", [RISK])
    assert [(f.severity, f.reason_code) for f in findings] == [("block", "missing_disclosure")]
    assert RISK.text in findings[0].message


def test_present_disclosure_passes_even_reflowed() -> None:
    text = "AAPL fell 1.1%.\n\nNot investment advice.\nCapital   at risk"
    assert check_disclosures(text, [RISK]) == []


def test_altered_disclosure_counts_as_missing() -> None:
    for altered in (
        "Not investment advice. Your capital is at risk.",
        "Not financial advice. Capital at risk.",
        "Capital at risk. Not investment advice.",
    ):
        assert [f.reason_code for f in check_disclosures(altered, [RISK])] == ["missing_disclosure"]


def test_letter_case_change_is_reported_as_altered() -> None:
    findings = check_disclosures("not investment advice. capital at risk.", [RISK])
    assert "altered (letter case" in findings[0].message


def test_profile_can_make_missing_disclosures_review_only() -> None:
    assert check_disclosures("text", [RISK], "review")[0].severity == "review"


def test_fca_crypto_warning_survives_curly_quotes() -> None:
    warning = disclosures()["fca_crypto_warning"].text
    curly = warning.replace("'", "’")
    assert find_disclosure(f"BTC update. {curly}", warning) is not None


@given(st.lists(st.sampled_from([" ", "\n", "\t", "  \n "]), min_size=5, max_size=5))
def test_any_whitespace_between_words_is_accepted(gaps: list[str]) -> None:
    words = RISK.text.split()
    text = "".join(word + gap for word, gap in zip(words[:-1], gaps, strict=True)) + words[-1]
    assert find_disclosure(text, RISK.text) is not None


def test_sponsorship_needs_payer_amount_and_label() -> None:
    deal = Sponsorship(payer="Acme Mining Corp", amount=5000.0)
    complete = "Paid promotion: Acme Mining Corp paid us $5,000 for this post."
    assert check_sponsorship(complete, deal) == []
    findings = check_sponsorship("Sponsored by Acme Mining Corp.", deal)
    assert [f.reason_code for f in findings] == ["missing_sponsorship_disclosure"]
    assert "amount" in findings[0].message
    assert "paid promotion" in findings[0].message
