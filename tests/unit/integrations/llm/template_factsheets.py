"""Real-ish fact sheets for the template generator tests, built to the fact-key convention."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from finagency.core.factsheet import Fact, FactSheet

CLOSE_2020_11_06 = datetime(2020, 11, 6, 21, 0, tzinfo=UTC)
ECB_2016_01_29 = datetime(2016, 1, 29, 14, 15, tzinfo=UTC)


def market_mover_sheet(change: float = 0.50) -> FactSheet:
    stamp = CLOSE_2020_11_06
    return FactSheet(
        kind="market_mover",
        subject="AAPL",
        tickers=("AAPL",),
        extra={"name": "Apple"},
        facts=(
            Fact("AAPL.close", "price", 116.97, "USD", "USD", stamp, "Yahoo Finance"),
            Fact("AAPL.change_pct", "percent", change, "%", None, stamp, "Yahoo Finance"),
            Fact("AAPL.prev_close", "price", 116.39, "USD", "USD", stamp, "Yahoo Finance"),
            Fact("AAPL.volume", "number", 114_457_900, "shares", None, stamp, "Yahoo Finance"),
        ),
    )


def treasury_sheet(*, with_spread: bool) -> FactSheet:
    stamp = ECB_2016_01_29
    facts = [
        Fact("UST.2Y", "percent", 0.76, "%", None, stamp, "US Treasury"),
        Fact("UST.10Y", "percent", 1.94, "%", None, stamp, "US Treasury"),
        Fact("UST.10Y.change_bp", "number", -5, "bp", None, stamp, "US Treasury"),
    ]
    if with_spread:
        facts.append(Fact("UST.2s10s", "number", 118, "bp", None, stamp, "US Treasury"))
    return FactSheet(kind="macro_rate", subject="UST", facts=tuple(facts))


SHEETS: dict[str, FactSheet] = {
    "market_mover": market_mover_sheet(),
    "market_mover_down": market_mover_sheet(-1.10),
    "market_wrap": FactSheet(
        kind="market_wrap",
        subject="US close",
        tickers=("SPY", "QQQ", "IWM"),
        extra={"market": "US stocks"},
        facts=(
            Fact("SPY.change_pct", "percent", 0.5, "%", as_of=CLOSE_2020_11_06, source="Yahoo"),
            Fact("SPY.close", "price", 350.16, "USD", "USD", CLOSE_2020_11_06, "Yahoo"),
            Fact("QQQ.change_pct", "percent", -0.2, "%", as_of=CLOSE_2020_11_06),
            Fact("IWM.change_pct", "percent", 1.1, "%", as_of=CLOSE_2020_11_06),
        ),
    ),
    "news_take": FactSheet(
        kind="news_take",
        subject="Apple",
        headline="Apple unveils first Macs with its own M1 chip.",
        url="https://example.com/news/apple-m1",
        tickers=("AAPL",),
        extra={"source_name": "Reuters"},
        facts=(
            Fact("AAPL.close", "price", 116.97, "USD", "USD", CLOSE_2020_11_06),
            Fact("AAPL.change_pct", "percent", 0.5, "%", as_of=CLOSE_2020_11_06),
        ),
    ),
    "news_take_bare": FactSheet(
        kind="news_take", subject="Fed", headline="Fed holds rates steady", tickers=("SPY",)
    ),
    "macro_fx": FactSheet(
        kind="macro_rate",
        subject="EUR/USD",
        facts=(Fact("EUR/USD", "rate", 1.0856, as_of=ECB_2016_01_29, source="ECB"),),
    ),
    "macro_fx_pairs": FactSheet(
        kind="macro_rate",
        subject="EUR reference rates",
        facts=(
            Fact("EUR/USD", "rate", 1.0856, as_of=ECB_2016_01_29, source="ECB"),
            Fact("EUR/JPY", "rate", 131.21, as_of=ECB_2016_01_29, source="ECB"),
            Fact("EUR/USD.change_pct", "percent", -0.25, "%", as_of=ECB_2016_01_29),
        ),
    ),
    "macro_ust": treasury_sheet(with_spread=True),
    "macro_ust_no_spread": treasury_sheet(with_spread=False),
    "filing_note": FactSheet(
        kind="filing_note",
        subject="AAPL",
        url="https://www.sec.gov/Archives/edgar/data/320193/000032019320000096/",
        tickers=("AAPL",),
        extra={"company": "Apple Inc."},
        facts=(
            Fact("filing.form", "text", "10-K", source="SEC EDGAR"),
            Fact("filing.date", "date", "2020-10-30", source="SEC EDGAR"),
        ),
    ),
}

ANY_SHEET = pytest.mark.parametrize("any_sheet", list(SHEETS.values()), ids=list(SHEETS))
