"""run_checks end to end: realistic drafts under each regime profile, and the verdict they earn."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from finagency.checks import CheckContext, Finding, Sponsorship, run_checks, verdict
from finagency.checks.profiles import UnknownProfile, disclosures
from finagency.core.factsheet import FactSheet
from finagency.core.simhash import signature

RISK = "Not investment advice. Capital at risk."
CLEAN = f"$AAPL fell 1.10% to $97.34 on 29 Jan 2016, after results on 26 January. {RISK}"


def ctx(sheet: FactSheet, now: datetime, **changes: object) -> CheckContext:
    base = CheckContext(
        factsheet=sheet,
        platform="x",
        now=now,
        required_disclosures=(RISK,),
        link_allowlist=("apple.com",),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def codes(findings: list[Finding]) -> list[str]:
    return [finding.reason_code for finding in findings]


def test_clean_template_post_passes(sheet: FactSheet, now: datetime) -> None:
    findings = run_checks(CLEAN, ctx(sheet, now))
    assert findings == []
    assert verdict(findings) == "pass"


def test_verdict_takes_the_worst_severity() -> None:
    info = Finding("x", "info", "will_thread", "", None, "")
    review = dataclasses.replace(info, severity="review")
    block = dataclasses.replace(info, severity="block")
    assert verdict([]) == "pass"
    assert verdict([info]) == "pass"
    assert verdict([info, review]) == "review"
    assert verdict([review, block, info]) == "block"


def test_invented_figure_and_promise_block(sheet: FactSheet, now: datetime) -> None:
    text = f"$AAPL is at $120.00 and offers guaranteed returns. {RISK}"
    findings = run_checks(text, ctx(sheet, now))
    assert codes(findings) == ["ungrounded_number", "promissory"]
    assert verdict(findings) == "block"


def test_missing_brand_disclosure_blocks(sheet: FactSheet, now: datetime) -> None:
    findings = run_checks("$AAPL fell 1.10% to $97.34.", ctx(sheet, now))
    assert codes(findings) == ["missing_disclosure"]


def test_us_profile_requires_the_firm_name(sheet: FactSheet, now: datetime) -> None:
    us = ctx(sheet, now, profile="us_finra_sec", firm_name="Example Securities LLC")
    assert codes(run_checks(CLEAN, us)) == ["missing_disclosure"]
    assert run_checks(f"Example Securities LLC: {CLEAN}", us) == []
    unset = dataclasses.replace(us, firm_name=None)
    assert codes(run_checks(CLEAN, unset)) == ["firm_name_unset"]


def test_firm_name_with_digits_is_not_read_as_a_figure(sheet: FactSheet, now: datetime) -> None:
    eu = ctx(sheet, now, profile="eu_mifid_esma", firm_name="21Invest 3 AG", platform="linkedin")
    text = f"Marketing communication. 21Invest 3 AG: {CLEAN}"
    assert run_checks(text, eu) == []


def test_uk_performance_claim_needs_the_past_performance_warning(
    sheet: FactSheet, now: datetime
) -> None:
    uk = ctx(sheet, now, profile="uk_fca", platform="linkedin")
    text = f"AAPL has outperformed: up 2.4% this year. {RISK}"
    assert codes(run_checks(text, uk)) == ["performance_claim", "missing_disclosure"]
    warning = disclosures()["past_performance"].text
    assert codes(run_checks(f"{text} {warning}", uk)) == ["performance_claim"]


def test_uk_crypto_post_needs_the_prescribed_warning(sheet: FactSheet, now: datetime) -> None:
    uk = ctx(sheet, now, profile="uk_fca", platform="linkedin", required_disclosures=())
    warning = disclosures()["fca_crypto_warning"].text
    assert "missing_disclosure" in codes(run_checks("Bitcoin fell 1.10%.", uk))
    # "Take 2 mins" is prescribed wording, not an ungrounded figure.
    assert codes(run_checks(f"Bitcoin fell 1.10%. {warning}", uk)) == ["crypto_uk"]


def test_uk_posts_must_stand_alone_so_threads_block(sheet: FactSheet, now: datetime) -> None:
    long_text = f"{CLEAN} " + "Apple reported results on 26 January. " * 8
    assert codes(run_checks(long_text, ctx(sheet, now))) == ["will_thread"]
    assert codes(run_checks(long_text, ctx(sheet, now, profile="uk_fca"))) == ["too_long"]


def test_link_off_the_allow_list_goes_to_review(sheet: FactSheet, now: datetime) -> None:
    findings = run_checks(f"{CLEAN} https://pumpit.example.io/aapl", ctx(sheet, now))
    assert codes(findings) == ["link_not_allowed"]
    assert verdict(findings) == "review"
    assert run_checks(f"{CLEAN} https://investor.apple.com/q1", ctx(sheet, now)) == []


def test_repeat_of_a_recent_post_goes_to_review(sheet: FactSheet, now: datetime) -> None:
    findings = run_checks(CLEAN, ctx(sheet, now, recent_signatures=(signature(CLEAN),)))
    assert codes(findings) == ["near_duplicate"]


def test_declared_sponsorship_must_name_payer_and_amount(sheet: FactSheet, now: datetime) -> None:
    deal = Sponsorship(payer="Acme Mining Corp", amount=5000.0)
    paid = ctx(sheet, now, sponsorship=deal, platform="linkedin")
    text = f"Sponsored. Paid promotion by Acme Mining Corp ($5,000). {CLEAN}"
    assert run_checks(text, paid) == []
    short = run_checks(f"Sponsored by Acme Mining Corp. {CLEAN}", paid)
    assert codes(short) == ["missing_sponsorship_disclosure"]


def test_undeclared_promotion_language_goes_to_review(sheet: FactSheet, now: datetime) -> None:
    assert codes(run_checks(f"#ad {CLEAN}", ctx(sheet, now))) == ["sponsored"]


def test_empty_draft_blocks(sheet: FactSheet, now: datetime) -> None:
    assert "empty" in codes(run_checks("", ctx(sheet, now)))


def test_unknown_profile_is_a_caller_error(sheet: FactSheet, now: datetime) -> None:
    with pytest.raises(UnknownProfile):
        run_checks(CLEAN, ctx(sheet, now, profile="mars"))
