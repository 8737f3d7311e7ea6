"""The fact-key convention: which fact-sheet keys and fields each content kind reads.

Generators only state what these keys hold; fact sheet builders must follow them.

``market_mover`` (``subject`` = the symbol, e.g. "AAPL")
    ``<SYM>.close``       price with ``currency`` ("USD" if absent), ``as_of`` the session; required
    ``<SYM>.change_pct``  percent, e.g. 2.35 for +2.35%; required
    ``<SYM>.prev_close``  price; optional
    ``<SYM>.volume``      number, unit "shares"; optional, only stated when at least a million
    ``extra["name"]``     display name ("Apple"); optional

``market_wrap`` (``tickers`` = the instruments, in display order)
    ``<SYM>.change_pct`` for each ticker (required for at least one), ``<SYM>.close`` optional;
    ``extra["market"]`` optional label ("US stocks").

``news_take``
    ``headline`` (required), ``url``, ``tickers``, ``extra["source_name"]`` ("Reuters");
    optional ``<SYM>.close`` + ``<SYM>.change_pct`` for the first ticker add a price line.

``macro_rate``
    FX: ``<BASE>/<QUOTE>`` rate ("EUR/USD" = 1.0856), optional ``<BASE>/<QUOTE>.change_pct``.
    Treasuries: ``UST.<tenor>`` percent yield (tenor "3M", "2Y", "10Y", "30Y"), optional
    ``UST.<tenor>.change_bp`` (bp); the 2s10s spread only when the fact ``UST.2s10s`` (bp)
    exists: generators never compute it. When any ``UST.*`` fact exists the post is about
    yields, otherwise about FX.

``filing_note`` (EDGAR)
    ``filing.form`` text ("10-K"); ``filing.date`` date (ISO string); ``extra["company"]``
    (falls back to ``extra["name"]``, then ``subject``); ``tickers``/``subject`` for the cashtag.

``weekly_recap`` (``tickers`` = the instruments; ``subject`` e.g. "Week to 6 Nov 2020")
    ``<SYM>.week_change_pct`` percent over the week (required for at least one ticker),
    ``<SYM>.close`` the week's last close (optional); ``week.start`` / ``week.end`` dates (the
    prior week's last session and this week's last); optional ``UST.<tenor>`` and ``<B>/<Q>``
    values observed within the week; ``headline`` the week's top story (optional).

Dates in posts come from ``as_of`` of the facts used (or a ``date`` fact). Fact ``source``
is shown as the data source. Tenor labels ("10Y", "2s10s") and form types ("10-K") are written
exactly as they appear in keys or text facts, so the grounding check can find them there.
"""

from __future__ import annotations

import re

from finagency.core.factsheet import Fact, FactSheet

MARKET_MOVER = "market_mover"
MARKET_WRAP = "market_wrap"
NEWS_TAKE = "news_take"
MACRO_RATE = "macro_rate"
FILING_NOTE = "filing_note"
WEEKLY_RECAP = "weekly_recap"
CONTENT_KINDS: tuple[str, ...] = (
    MARKET_MOVER,
    MARKET_WRAP,
    NEWS_TAKE,
    MACRO_RATE,
    FILING_NOTE,
    WEEKLY_RECAP,
)

EXTRA_NAME = "name"
EXTRA_COMPANY = "company"
EXTRA_SOURCE_NAME = "source_name"
EXTRA_MARKET = "market"

CURVE_2S10S_KEY = "UST.2s10s"
FILING_FORM_KEY = "filing.form"
FILING_DATE_KEY = "filing.date"
WEEK_START_KEY = "week.start"
WEEK_END_KEY = "week.end"

FX_KEY = re.compile(r"^(?P<base>[A-Z]{3})/(?P<quote>[A-Z]{3})$")
TREASURY_KEY = re.compile(r"^UST\.(?P<tenor>\d+[MY])$")


def close_key(symbol: str) -> str:
    return f"{symbol}.close"


def change_pct_key(symbol: str) -> str:
    return f"{symbol}.change_pct"


def prev_close_key(symbol: str) -> str:
    return f"{symbol}.prev_close"


def volume_key(symbol: str) -> str:
    return f"{symbol}.volume"


def week_change_pct_key(symbol: str) -> str:
    return f"{symbol}.week_change_pct"


def fx_key(base: str, quote: str) -> str:
    return f"{base.upper()}/{quote.upper()}"


def treasury_key(tenor: str) -> str:
    return f"UST.{tenor}"


def treasury_change_bp_key(tenor: str) -> str:
    return f"UST.{tenor}.change_bp"


def tenor_months(tenor: str) -> int:
    """Months in a tenor ("3M" -> 3, "10Y" -> 120), to sort along the curve."""
    number = int(tenor[:-1])
    return number * 12 if tenor.endswith("Y") else number


def numeric(factsheet: FactSheet, key: str) -> tuple[Fact, float] | None:
    """The fact under ``key`` and its value, when it exists and is a number."""
    fact = factsheet.get(key)
    if fact is None or isinstance(fact.value, str):
        return None
    return fact, float(fact.value)


def text_value(factsheet: FactSheet, key: str) -> str:
    fact = factsheet.get(key)
    return str(fact.value).strip() if fact is not None else ""
