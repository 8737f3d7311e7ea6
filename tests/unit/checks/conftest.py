"""Fact sheets shaped like the ones the market area builds, for the checks' unit tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from finagency.core.factsheet import Fact, FactSheet

NOW = datetime(2016, 1, 30, 9, 0, tzinfo=UTC)
CLOSE = datetime(2016, 1, 29, 21, 0, tzinfo=UTC)


def apple_sheet() -> FactSheet:
    """A single-instrument mover: Apple after the close on 29 Jan 2016."""
    return FactSheet(
        kind="market_mover",
        subject="AAPL",
        tickers=("AAPL",),
        facts=(
            Fact("AAPL.close", "price", 97.34, unit="USD", currency="USD", as_of=CLOSE),
            Fact("AAPL.change_pct", "percent", -1.1021, unit="%", as_of=CLOSE),
            Fact("AAPL.change", "price", -1.0846, unit="USD", currency="USD", as_of=CLOSE),
            Fact("AAPL.market_cap", "number", 539.6e9, unit="USD", currency="USD", as_of=CLOSE),
            Fact("AAPL.volume", "number", 64_416_500, unit="shares", as_of=CLOSE),
            Fact("AAPL.ytd_pct", "percent", 2.3571, unit="%", as_of=CLOSE),
            Fact("EUR/USD", "rate", 1.0856, as_of=CLOSE, source="ecb"),
            Fact("US10Y", "rate", 1.94, unit="%", as_of=CLOSE, source="treasury"),
            Fact("US10Y.change_bp", "rate", -5.0, unit="bp", as_of=CLOSE, source="treasury"),
            Fact("AAPL.earnings_date", "date", "2016-01-26"),
        ),
    )


@pytest.fixture(scope="session")
def sheet() -> FactSheet:
    return apple_sheet()


@pytest.fixture(scope="session")
def now() -> datetime:
    return NOW
