"""Ticker extraction from headline text."""

from __future__ import annotations

import pytest

from finagency.integrations.sources import extract_tickers


@pytest.mark.parametrize(
    ("text", "known", "expected"),
    [
        ("$AAPL and $MSFT rally; $AAPL leads", (), ("AAPL", "MSFT")),
        ("Berkshire ($BRK.B) adds to stake", (), ("BRK.B",)),
        ("Apple Inc. (NASDAQ: AAPL) today announced", (), ("AAPL",)),
        ("U.S. Steel (NYSE:X) agrees to deal", (), ("X",)),
        ("Berkshire (NYSE: BRK.A, BRK.B) results", (), ("BRK.A", "BRK.B")),
        ("Acme (Nasdaq: ACME) beats", (), ("ACME",)),
        ("Costs rose $5bn and $100 in fees", (), ()),
        ("TSLA falls as NVDA jumps; CEO comments", ("NVDA", "TSLA"), ("TSLA", "NVDA")),
        ("CEO says IT spending is up", ("AAPL",), ()),
        ("nvda lower-case is not a ticker", ("NVDA",), ()),
        ("Microsoft $MSFT and MSFT again", ("MSFT",), ("MSFT",)),
    ],
)
def test_extract_tickers(text: str, known: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert extract_tickers(text, known) == expected
