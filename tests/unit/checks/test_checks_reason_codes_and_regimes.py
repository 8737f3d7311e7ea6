"""One test per lexicon reason code and per regime profile: what a compliance officer expects."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from finagency.checks import CheckContext, Finding, run_checks, verdict
from finagency.checks.lexicon import categories, check_lexicon
from finagency.checks.profiles import disclosures, profiles
from finagency.core.factsheet import FactSheet

RISK = "Not investment advice. Capital at risk."
CLEAN = f"$AAPL fell 1.10% to $97.34 on 29 Jan 2016. {RISK}"

# reason code -> (a sentence that must trip it, the same idea negated or clean that must not)
REASON_EXAMPLES: dict[str, tuple[str, str]] = {
    "promissory": ("Guaranteed returns, every year.", "Returns are not guaranteed."),
    "projection": ("This stock will hit $200.", "Nobody knows where the stock goes."),
    "performance_claim": ("The fund outperformed its peers.", "The fund holds large caps."),
    "superlative": ("The best fund around.", "A fund among many."),
    "urgency": ("Act now before it is gone.", "Take your time to read the filing."),
    "recommendation": ("Time to buy AAPL.", "This is not a recommendation to buy."),
    "insider": ("Heard it from insider info.", "Read the public filing."),
    "testimonial": ("My clients made 30% last year.", "Results vary between clients."),
    "sponsored": ("Sponsored by Acme.", "Acme reported results."),
    "regulator_endorsement": ("An SEC-approved strategy.", "A strategy filed with the SEC."),
    "crypto_uk": ("Bitcoin slipped overnight.", "Gold slipped overnight."),
    "refer_a_friend": ("Refer a friend and get a bonus.", "Tell us what you think."),
    "conduct": ("A loophole in the rules.", "A change in the rules."),
}


def test_every_shipped_reason_code_has_an_example() -> None:
    assert set(REASON_EXAMPLES) == set(categories())


@pytest.mark.parametrize("code", sorted(REASON_EXAMPLES))
def test_each_reason_code_trips_on_its_phrase_and_not_on_the_clean_one(code: str) -> None:
    flagged, clean = REASON_EXAMPLES[code]
    # uk_fca enables every category, crypto included.
    hit = [finding.reason_code for finding in check_lexicon(flagged, "uk_fca")]
    assert code in hit, (flagged, hit)
    assert code not in [finding.reason_code for finding in check_lexicon(clean, "uk_fca")]


def ctx(sheet: FactSheet, now: datetime, profile: str, **changes: object) -> CheckContext:
    base = CheckContext(
        factsheet=sheet,
        platform="linkedin",
        now=now,
        profile=profile,
        required_disclosures=(RISK,),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def codes(findings: list[Finding]) -> list[str]:
    return [finding.reason_code for finding in findings]


def test_every_regime_is_shipped() -> None:
    assert set(profiles()) == {"default", "us_finra_sec", "us_sec_ria", "uk_fca", "eu_mifid_esma"}


def test_unregulated_publisher_blocks_promises_and_reviews_advice(
    sheet: FactSheet, now: datetime
) -> None:
    none = ctx(sheet, now, "default")
    assert verdict(run_checks(CLEAN, none)) == "pass"
    assert set(codes(run_checks(f"Time to buy $AAPL. {RISK}", none))) == {"recommendation"}
    assert verdict(run_checks(f"Guaranteed returns. {RISK}", none)) == "block"
    # No firm name is asked of an unregulated publisher.
    assert "firm_name_unset" not in codes(run_checks(CLEAN, none))


def test_us_broker_dealer_blocks_projections_and_needs_the_firm_name(
    sheet: FactSheet, now: datetime
) -> None:
    bd = ctx(sheet, now, "us_finra_sec", firm_name="Acme Securities")
    assert codes(run_checks(CLEAN, bd)) == ["missing_disclosure"]  # the firm's name
    named = f"Acme Securities: {CLEAN}"
    assert verdict(run_checks(named, bd)) == "pass"
    projection = run_checks(f"Acme Securities: $AAPL will soar. {RISK}", bd)
    assert codes(projection) == ["projection"] and verdict(projection) == "block"


def test_us_adviser_reviews_projections_and_wants_net_of_fees_with_performance(
    sheet: FactSheet, now: datetime
) -> None:
    ria = ctx(sheet, now, "us_sec_ria", firm_name="Acme Advisers")
    projection = run_checks(f"Acme Advisers: $AAPL will soar. {RISK}", ria)
    assert codes(projection) == ["projection"] and verdict(projection) == "review"
    text = f"Acme Advisers: our model outperformed. {RISK}"
    assert "missing_disclosure" in codes(run_checks(text, ria))
    warning = disclosures()["net_of_fees"].text
    assert codes(run_checks(f"{text} {warning}", ria)) == ["performance_claim"]


def test_uk_needs_warnings_for_forecasts_and_blocks_refer_a_friend(
    sheet: FactSheet, now: datetime
) -> None:
    uk = ctx(sheet, now, "uk_fca")
    forecast = f"$AAPL will soar. {RISK}"
    assert codes(run_checks(forecast, uk)) == ["projection", "missing_disclosure"]
    warned = f"{forecast} {disclosures()['forecast_warning'].text}"
    assert codes(run_checks(warned, uk)) == ["projection"]
    referral = run_checks(f"Refer a friend for a bonus. {RISK}", uk)
    assert verdict(referral) == "block"


def test_eu_marketing_must_say_so_and_name_the_firm(sheet: FactSheet, now: datetime) -> None:
    eu = ctx(sheet, now, "eu_mifid_esma", firm_name="Acme Invest SA")
    assert codes(run_checks(CLEAN, eu)) == ["missing_disclosure", "missing_disclosure"]
    label = disclosures()["marketing_label"].text
    assert verdict(run_checks(f"{label}. Acme Invest SA: {CLEAN}", eu)) == "pass"
