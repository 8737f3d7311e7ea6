"""Find stock tickers mentioned in headline text: cashtags, exchange notes, known symbols."""

from __future__ import annotations

import re
from collections.abc import Collection

_TICKER = r"[A-Z]{1,6}(?:[.\-][A-Z]{1,3})?"
_TICKER_ONLY = re.compile(rf"^{_TICKER}$")
_CASHTAG = re.compile(rf"(?<![\w$])\$({_TICKER})(?![\w])")
_EXCHANGES = (
    r"NASDAQ(?:\s+GS|\s+GM|\s+CM)?|NYSE(?:\s+American|\s+Arca|\s+MKT)?|AMEX|OTC(?:QX|QB)?"
    r"|CBOE|BATS|TSX(?:V)?|LSE|ASX|XETRA"
)
_EXCHANGE_NOTE = re.compile(rf"\((?:{_EXCHANGES})\s*:\s*([^()]{{1,60}})\)", re.IGNORECASE)
_WORD = re.compile(r"(?<![\w$.\-])[A-Z][A-Z0-9]*(?:[.\-][A-Z]{1,3})?(?![\w])")


def extract_tickers(text: str, known: Collection[str] = ()) -> tuple[str, ...]:
    """Tickers in order of first mention, each once.

    ``$AAPL`` / ``$BRK.B`` and ``(NASDAQ: AAPL)`` / ``(NYSE: BRK.A, BRK.B)`` always count;
    a bare upper-case word counts only when it is in ``known`` (so "CEO" or "IT" do not).
    """
    found: list[tuple[int, str]] = []
    for match in _CASHTAG.finditer(text):
        found.append((match.start(), match.group(1)))
    for match in _EXCHANGE_NOTE.finditer(text):
        for offset, token in enumerate(re.split(r"[\s,;]+", match.group(1).strip())):
            if _TICKER_ONLY.match(token):
                found.append((match.start(1) + offset, token))
    if known:
        known_upper = {k.upper() for k in known}
        for match in _WORD.finditer(text):
            if match.group(0) in known_upper:
                found.append((match.start(), match.group(0)))
    found.sort(key=lambda item: item[0])
    return tuple(dict.fromkeys(ticker for _, ticker in found))
