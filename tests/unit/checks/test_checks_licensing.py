"""Data licences: Yahoo numbers never go out for real; CoinGecko numbers carry their credit."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from finagency.checks import CheckContext, run_checks, verdict
from finagency.checks.licensing import COINGECKO_ATTRIBUTION, unlicensed_sources
from finagency.core.factsheet import Fact, FactSheet

RISK = "Not investment advice. Capital at risk."
TEXT = f"$AAPL fell 1.10% to $97.34 on 29 Jan 2016. {RISK}"


def _with_source(sheet: FactSheet, source: str) -> FactSheet:
    facts = tuple(dataclasses.replace(fact, source=source) for fact in sheet.facts)
    return dataclasses.replace(sheet, facts=facts)


def ctx(sheet: FactSheet, now: datetime, platform: str, **changes: object) -> CheckContext:
    base = CheckContext(factsheet=sheet, platform=platform, now=now, required_disclosures=(RISK,))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_yahoo_numbers_are_blocked_on_a_real_platform(sheet: FactSheet, now: datetime) -> None:
    yahoo = _with_source(sheet, "Yahoo chart: AAPL (development only)")
    findings = run_checks(TEXT, ctx(yahoo, now, "x"))
    assert [(f.reason_code, f.severity) for f in findings] == [("unlicensed_source", "block")]
    assert "not licensed for publication" in findings[0].message


def test_the_sandbox_is_not_publication(sheet: FactSheet, now: datetime) -> None:
    yahoo = _with_source(sheet, "yahoo")
    findings = run_checks(TEXT, ctx(yahoo, now, "sandbox:x"))
    assert verdict(findings) == "pass"
    assert [f.reason_code for f in findings] == ["unlicensed_source_sandbox"]


def test_an_explicitly_accepted_licence_risk_still_needs_a_person(
    sheet: FactSheet, now: datetime
) -> None:
    stooq = _with_source(sheet, "Stooq")
    findings = run_checks(TEXT, ctx(stooq, now, "linkedin", accept_unlicensed=True))
    assert [(f.reason_code, f.severity) for f in findings] == [
        ("unlicensed_source_accepted", "review")
    ]


def test_a_sheet_marked_not_for_publication_counts_even_with_a_plain_source_name(
    sheet: FactSheet,
) -> None:
    marked = dataclasses.replace(sheet, extra={"not_for_publication": "Demo chart"})
    assert unlicensed_sources(marked) == ["Demo chart"]
    assert unlicensed_sources(_with_source(sheet, "exchange")) == []


def test_coingecko_data_needs_its_attribution_and_may_link_to_it(now: datetime) -> None:
    when = datetime(2016, 1, 29, 21, 0, tzinfo=now.tzinfo)
    crypto = FactSheet(
        kind="market_mover",
        subject="CRYPTO.BITCOIN",
        tickers=("CRYPTO.BITCOIN",),
        facts=(
            Fact(
                "CRYPTO.BITCOIN.close",
                "price",
                378.25,
                unit="USD",
                currency="USD",
                as_of=when,
                source="Crypto prices (CoinGecko)",
            ),
            Fact(
                "CRYPTO.BITCOIN.change_pct",
                "percent",
                -1.5,
                unit="%",
                as_of=when,
                source="Crypto prices (CoinGecko)",
            ),
        ),
    )
    body = f"$CRYPTO.BITCOIN fell 1.50% to $378.25. {RISK}"
    missing = run_checks(body, ctx(crypto, now, "linkedin"))
    assert [(f.reason_code, f.severity) for f in missing] == [("missing_disclosure", "block")]
    assert "data attribution" in missing[0].message
    # The credit links to coingecko.com, which is allowed although not on the brand's list.
    credited = run_checks(f"{body}\n{COINGECKO_ATTRIBUTION}", ctx(crypto, now, "linkedin"))
    assert credited == []
