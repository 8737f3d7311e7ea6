"""Grounding: invented figures block with their span, correctly rounded ones pass."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from finagency.checks.grounding import check_grounding, staleness_class
from finagency.core.factsheet import Fact, FactSheet


def flagged(
    text: str, sheet: FactSheet, now: datetime, code: str = "ungrounded_number"
) -> list[str]:
    """The written text of every finding with ``code``."""
    return [
        text[f.span[0] : f.span[1]]
        for f in check_grounding(text, sheet, now)
        if f.reason_code == code and f.span is not None
    ]


def test_invented_price_is_blocked_with_its_span(sheet: FactSheet, now: datetime) -> None:
    text = "Apple closed at $99.10 on 29 Jan 2016."
    findings = check_grounding(text, sheet, now)
    assert [(f.severity, f.reason_code) for f in findings] == [("block", "ungrounded_number")]
    start, end = findings[0].span or (0, 0)
    assert text[start:end] == "$99.10"
    assert "AAPL.close" in findings[0].message  # the reviewer sees the real value to compare


@pytest.mark.parametrize(
    "text",
    [
        "$AAPL closed at $97.34, down 1.10% on 29 Jan 2016.",
        "Apple (NASDAQ: AAPL) fell 1.1% to USD 97.34 on Jan 29, 2016.",
        "AAPL: -1.10% at $97.3 (2016-01-29). Up 2.4% this year.",
        "AAPL shares slid 1.10 per cent; a $1.08 drop. Market cap $539.6bn.",
        "Apple is worth $540 billion after a 1.1% decline. Volume 64.4M shares.",
        "EUR/USD 1.0856. The 10-year yield is 1.94%, down 5 bp (5bps). January 29.",
        "AAPL lost 1.1 percent on January 29 after earnings on 26 January 2016.",
        "Volume: 64,416,500 shares in 2016 so far.",
        "AAPL USD97.34 (US$97.34), down 1.1pc on Jan. 29th; 29th January 2016.",
    ],
)
def test_correctly_rounded_figures_pass(text: str, sheet: FactSheet, now: datetime) -> None:
    assert check_grounding(text, sheet, now) == []


@pytest.mark.parametrize(
    ("text", "culprit"),
    [
        ("AAPL rose 1.10% on the day.", "1.10%"),  # right size, wrong direction
        ("AAPL closed +1.10%.", "+1.10%"),
        ("AAPL closed at 97.34%.", "97.34%"),  # a percent needs a percent fact
        ("AAPL closed at EUR 97.34.", "EUR 97.34"),  # currency must match
        ("AAPL is up 2.3% this year.", "2.3%"),  # 2.3571 rounds to 2.4, not 2.3
        ("Market cap $5.4bn.", "$5.4bn"),  # scale matters
        ("The yield is 1.96%.", "1.96%"),
        ("AAPL closed at $97.34 on 28 Jan 2016.", "28 Jan 2016"),
        ("As in 2019, AAPL fell 1.1%.", "2019"),
    ],
)
def test_wrong_figures_are_blocked(
    text: str, culprit: str, sheet: FactSheet, now: datetime
) -> None:
    assert flagged(text, sheet, now) == [culprit]


def test_fell_to_states_a_level_not_a_change(sheet: FactSheet, now: datetime) -> None:
    assert flagged("AAPL fell 1.1% to $97.34.", sheet, now) == []
    assert flagged("AAPL fell $1.08 to $97.34.", sheet, now) == []


@pytest.mark.parametrize(
    "text",
    [
        "Read more: https://example.com/2016/01/29/aapl-99 #Q4 @trader42",
        "S&P 500 and FTSE 100 futures; the Russell 2000 too.",
        "1. AAPL fell 1.1%\n2. Volume was 64.4M\n3) Closed at $97.34",
        "Markets never sleep: 24/7 coverage. (1/3)",
        "Session ends at 16:00 ET, or 4pm. © 2026 Example Ltd",
        "Q4 results; H1 guidance; 5G; 10x engineers; the 10-year and 2-year notes.",
    ],
)
def test_non_claims_are_ignored(text: str, sheet: FactSheet, now: datetime) -> None:
    assert flagged(text, sheet, now) == []


def test_exempt_spans_are_not_read(sheet: FactSheet, now: datetime) -> None:
    text = "AAPL fell 1.1%. Take 7 mins to learn more."
    start = text.index("Take")
    assert flagged(text, sheet, now) == ["7"]
    assert check_grounding(text, sheet, now, exempt=((start, len(text)),)) == []


def test_numbers_quoted_in_the_headline_are_grounded(sheet: FactSheet, now: datetime) -> None:
    news = dataclasses.replace(sheet, headline="Apple sells 74.8 million iPhones, a record")
    assert flagged("Apple sold 74.8 million iPhones.", news, now) == []
    assert flagged("Apple sold 80 million iPhones.", news, now) == ["80 million"]


def test_unknown_tickers_go_to_review(sheet: FactSheet, now: datetime) -> None:
    findings = check_grounding("$AAPL and $MSFT; also (NYSE: IBM) and GOOG.", sheet, now)
    assert [(f.severity, f.reason_code) for f in findings] == [("review", "unknown_ticker")] * 3
    assert flagged("$AAPL and $MSFT; also GOOG.", sheet, now, "unknown_ticker") == ["MSFT", "GOOG"]


def test_acronyms_and_shouting_are_not_tickers(sheet: FactSheet, now: datetime) -> None:
    text = "The CEO said GDP and CPI data from the SEC and FOMC matter for USD and ETF flows."
    assert check_grounding(text, sheet, now) == []
    assert check_grounding("BREAKING: APPLE SHARES SLIDE", sheet, now) == []


def test_a_stale_quote_goes_to_review(sheet: FactSheet) -> None:
    week_later = datetime(2016, 2, 5, tzinfo=sheet.facts[0].as_of.tzinfo)  # type: ignore[union-attr]
    findings = check_grounding("AAPL closed at $97.34.", sheet, week_later)
    assert [(f.severity, f.reason_code) for f in findings] == [("review", "stale_fact")]
    assert "AAPL.close" in findings[0].message
    # Macro facts (treasury) live longer; an override can tighten one fact.
    assert check_grounding("The 10-year yield is 1.94%.", sheet, week_later) == []
    tight = {"US10Y": timedelta(hours=1)}
    assert flagged("The 10-year yield is 1.94%.", sheet, week_later, "stale_fact") == []
    assert [
        f.reason_code
        for f in check_grounding("The 10-year yield is 1.94%.", sheet, week_later, staleness=tight)
    ] == ["stale_fact"]


def test_staleness_classes() -> None:
    quote = Fact("X", "price", 1.0, source="stooq")
    assert staleness_class(quote, "market_mover") == "quote"
    assert staleness_class(quote, "macro_release") == "macro"
    assert staleness_class(Fact("CPI", "percent", 3.1, source="fred"), "weekly_recap") == "macro"
    assert staleness_class(Fact("EPS", "number", 3.28, source="edgar"), "news_take") == "filing"


# --- properties -------------------------------------------------------------------------

PRICE_FORMATS = ("${:,.2f}", "USD {:,.2f}", "{:,.2f} USD", "${:,.1f}", "{:,.2f}")
PERCENT_FORMATS = ("{:+.2f}%", "{:+.1f}%", "{:+.2f} per cent")


def _sheet(price: float, change: float, cap: float) -> FactSheet:
    return FactSheet(
        kind="market_mover",
        subject="XYZ",
        tickers=("XYZ",),
        facts=(
            Fact("XYZ.close", "price", price, unit="USD", currency="USD"),
            Fact("XYZ.change_pct", "percent", change, unit="%"),
            Fact("XYZ.market_cap", "number", cap, unit="USD", currency="USD"),
        ),
    )


prices = st.floats(min_value=0.01, max_value=99_999, allow_nan=False)
changes = st.floats(min_value=-60, max_value=60, allow_nan=False)
caps = st.floats(min_value=1e6, max_value=3e12, allow_nan=False)


@given(
    price=prices,
    change=changes,
    cap=caps,
    price_format=st.sampled_from(PRICE_FORMATS),
    percent_format=st.sampled_from(PERCENT_FORMATS),
)
def test_any_fact_written_in_a_supported_format_is_grounded(
    price: float, change: float, cap: float, price_format: str, percent_format: str, now: datetime
) -> None:
    sheet = _sheet(price, change, cap)
    direction = "fell" if change < 0 else "rose"
    scaled = f"${cap / 1e9:.1f}bn" if cap >= 1e9 else f"{cap / 1e6:.1f} million"
    text = (
        f"$XYZ closed at {price_format.format(price)}, {percent_format.format(change)}. "
        f"It {direction} {abs(change):.1f}% on the day. Market cap {scaled}."
    )
    assert check_grounding(text, sheet, now) == []


@given(
    price=prices,
    change=changes,
    cap=caps,
    invented=st.floats(min_value=0.01, max_value=1e6, allow_nan=False),
)
def test_any_number_far_from_every_fact_is_blocked(
    price: float, change: float, cap: float, invented: float, now: datetime
) -> None:
    sheet = _sheet(price, change, cap)
    for value in (price, abs(change), cap):
        assume(abs(invented - value) > max(1.0, 0.1 * value))
    for written in (f"${invented:,.2f}", f"{invented:,.2f}", f"{invented:.2f}%"):
        text = f"XYZ: {written} today."
        assert flagged(text, sheet, now) == [written], text


def test_tenor_labels_from_fact_keys_are_names_not_amounts() -> None:
    from datetime import UTC, datetime

    from finagency.checks.service import CheckContext, run_checks
    from finagency.core.factsheet import Fact, FactSheet

    as_of = datetime(2022, 2, 1, tzinfo=UTC)
    sheet = FactSheet(
        kind="macro_rate",
        subject="US Treasury yields",
        facts=(
            Fact("UST.3M", "percent", 0.19, unit="%", as_of=as_of, source="treasury"),
            Fact("UST.10Y", "percent", 1.81, unit="%", as_of=as_of, source="treasury"),
        ),
    )
    ctx = CheckContext(factsheet=sheet, platform="linkedin", now=as_of)
    clean = run_checks("US rates: 3M 0.19%, 10Y 1.81% as of 1 Feb 2022.", ctx)
    assert not [f for f in clean if f.reason_code == "ungrounded_number"]
    # The same letters as an amount are still a claim that needs a fact.
    invented = run_checks("US rates: 3M 0.19%, 10Y 1.81% as of 1 Feb 2022. Fund raised $3M.", ctx)
    assert [f.excerpt for f in invented if f.reason_code == "ungrounded_number"]
