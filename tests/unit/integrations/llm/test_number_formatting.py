"""House number formats: what the grounding check parses back."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from finagency.integrations.llm.formatting import (
    cashtag,
    format_bp,
    format_date,
    format_fx,
    format_large,
    format_price,
    format_signed_bp,
    format_signed_pct,
    format_unsigned_pct,
    format_yield,
)


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (116.97, "USD", "$116.97"),
        (1234.5, None, "$1,234.50"),
        (-3.2, "USD", "-$3.20"),
        (1.23, "EUR", "EUR 1.23"),
        (15234.1, "gbp", "GBP 15,234.10"),
    ],
)
def test_prices(value: float, currency: str | None, expected: str) -> None:
    assert format_price(value, currency) == expected


def test_percentages_rates_and_basis_points() -> None:
    assert format_signed_pct(2.35) == "+2.35%"
    assert format_signed_pct(-1.1) == "-1.10%"
    assert format_signed_pct(-0.001) == "0.00%"
    assert format_unsigned_pct(-1.1) == "1.10%"
    assert format_yield(4.25) == "4.25%"
    assert format_fx(1.0856) == "1.0856"
    assert format_fx(131.21) == "131.2100"
    assert format_bp(25.0) == "25 bp"
    assert format_bp(-45.2) == "-45 bp"
    assert format_bp(-0.2) == "0 bp"
    assert format_signed_bp(5) == "+5 bp"
    assert format_signed_bp(-3) == "-3 bp"


def test_large_numbers_dates_and_tickers() -> None:
    assert format_large(15_200_000_000) == "15.2 billion"
    assert format_large(114_457_900) == "114.5 million"
    assert format_large(2_100_000_000_000) == "2.1 trillion"
    assert format_large(845_000) == "845,000"
    assert format_date(date(2016, 1, 29)) == "29 Jan 2016"
    assert format_date(datetime(2020, 11, 6, 21, tzinfo=UTC)) == "6 Nov 2020"
    assert format_date("2020-10-30") == "30 Oct 2020"
    assert cashtag("aapl") == "$AAPL"
    assert cashtag("$BRK.B") == "$BRK.B"
