"""Finding the checkable claims in a text: numbers, percentages, prices, dates, tickers, with spans.

What is deliberately *not* a claim (blanked out before numbers are read), and why:

- text inside exempt spans (the verbatim disclosures and the firm name): "Take 2 mins to learn
  more" is prescribed wording, not a market figure;
- URLs, e-mail addresses, @mentions and #hashtags: digits there are identifiers;
- cashtags and exchange-prefixed symbols ("$AAPL", "(NASDAQ: AAPL)"): read as tickers instead;
- index names whose number is part of the name ("S&P 500", "FTSE 100", "Russell 2000");
- copyright years ("© 2026"): boilerplate, not a statement about the market;
- list and thread markers ("1.", "2)", "(3)", "1/4", keycap emoji) and clock times ("16:00",
  "4pm"): structure and scheduling, not statements about an instrument;
- digits glued to letters ("Q3", "H1", "10x", "5G", "2nd") and stand-alone fractions
  ("24/7", "1/2"): labels and idioms. "10x"-style hype is the lexicon's job (projection).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

NumberKind = Literal["percent", "bp", "money", "plain"]

CURRENCY_CODES: tuple[str, ...] = (
    "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "HKD", "SGD", "CNY",
    "CNH", "INR", "SEK", "NOK", "DKK", "KRW", "BRL", "MXN", "ZAR", "TRY", "PLN",
)  # fmt: skip
_CODES = "|".join(CURRENCY_CODES)
_DOLLARS = frozenset({"USD", "CAD", "AUD", "NZD", "HKD", "SGD"})
_SYMBOL_CURRENCIES: dict[str, frozenset[str]] = {
    "$": _DOLLARS,
    "US$": frozenset({"USD"}),
    "C$": frozenset({"CAD"}),
    "CA$": frozenset({"CAD"}),
    "A$": frozenset({"AUD"}),
    "AU$": frozenset({"AUD"}),
    "NZ$": frozenset({"NZD"}),
    "HK$": frozenset({"HKD"}),
    "S$": frozenset({"SGD"}),
    "€": frozenset({"EUR"}),
    "£": frozenset({"GBP"}),
    "¥": frozenset({"JPY", "CNY"}),
    "₹": frozenset({"INR"}),
    "₩": frozenset({"KRW"}),
}
SCALES: dict[str, float] = {
    "trillion": 1e12,
    "tn": 1e12,
    "t": 1e12,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "million": 1e6,
    "mn": 1e6,
    "mm": 1e6,
    "m": 1e6,
    "thousand": 1e3,
    "k": 1e3,
}

# Each non-claim pattern runs only when its tell-tale character is in the text: one big
# alternation tried at every position cost more than all the other extraction together.
_IGNORED: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    (("http", "www.", "HTTP", "WWW."), re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)),
    (("@",), re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    (("@", "#"), re.compile(r"(?<!\w)[@#]\w+")),
    (
        (),
        re.compile(
            r"\b(?:S&P|Nasdaq|NASDAQ|FTSE|Russell|Nikkei|Stoxx|STOXX|Euro Stoxx|DAX|CAC|ASX|IBEX|"
            r"AEX|SMI|Dow|Hang Seng|KOSPI|Sensex|Nifty|MSCI \w+)[\s-]?\d{2,4}\b"
        ),
    ),
    ((".", ")"), re.compile(r"^[ \t]*\(?\d{1,2}[.)](?=\s)", re.MULTILINE)),
    (("(",), re.compile(r"(?<!\w)\(\d{1,2}\)")),
    (("/",), re.compile(r"(?<![\w/])\d{1,3}/\d{1,3}(?![\w/])")),
    (("\u20e3",), re.compile(r"\d\ufe0f?\u20e3")),
    (("©", "(c)", "(C)", "opyright"), re.compile(r"(?:©|\(c\)|copyright)\s*\d{4}", re.I)),
    (
        (":",),
        re.compile(r"(?<![\w:])\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?(?![\w:])", re.I),
    ),
    (("m", "M"), re.compile(r"(?<![\w.])\d{1,2}\s?[ap]\.?m\.?(?!\w)", re.IGNORECASE)),
)
_DIGIT = re.compile(r"\d")

_CASHTAG = re.compile(r"(?<![\w$])\$(?P<sym>[A-Za-z]{1,6}(?:[.\-][A-Za-z]{1,3})?)(?![\w])")
# Anchored on the colon (a fast literal scan); the exchange name is checked behind it.
_EXCHANGE = re.compile(r":\s?(?P<sym>[A-Z0-9]{1,6}(?:[.\-][A-Z0-9]{1,3})?)\b")
_EXCHANGE_NAME = re.compile(
    r"\b(?:NASDAQ|NYSE(?:\s?American|\s?Arca)?|AMEX|LSE|LON|TSX|TSXV|ASX|XETRA|ETR|EPA|"
    r"Euronext|SIX|HKEX|TYO|TSE|OTC|CBOE|BATS)$",
    re.IGNORECASE,
)
# Plain upper-case words are only *candidate* tickers; grounding weeds out acronyms.
PLAIN_TICKER = re.compile(r"(?<![\w$.])(?P<sym>[A-Z]{2,5}(?:\.[A-Z]{1,2})?)(?![\w&'’])")

_MONTH = (
    r"(?P<{g}>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?P<{g}>[0-3]?\d)(?:st|nd|rd|th)?(?![\d%]|\.\d|\s?%)"
_DATES_SOURCE = (
    r"(?<![\w/])(?P<iy>\d{4})-(?P<im>[01]\d)-(?P<id>[0-3]\d)(?![\w/])"
    r"|(?<![\w/.])(?P<sa>[0-3]?\d)/(?P<sb>[0-3]?\d)/(?P<sy>\d{4}|\d{2})(?![\w/])"
    r"|(?<![\w.])"
    + _DAY.format(g="dd")
    + r"\s+"
    + _MONTH.format(g="dm")
    + r"(?:,?\s+(?P<dy>\d{4}))?(?!\w)"
    r"|(?<![\w.])" + _MONTH.format(g="ym") + r"\s+(?P<yy>\d{4})(?!\w)"
    r"|(?<![\w.])"
    + _MONTH.format(g="mm")
    + r"\s+"
    + _DAY.format(g="md")
    + r"(?:,?\s+(?P<my>\d{4}))?(?!\w)"
)
# Matched on lower-cased text without IGNORECASE, which is several times faster.
_DATES = re.compile(_DATES_SOURCE)
_DATES_ANY_CASE = re.compile(_DATES_SOURCE, re.IGNORECASE)
_MONTHS = {
    name: index
    for index, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}

_NUMBER = re.compile(
    rf"""
    (?<![\w.,/$€£¥₹₩+\-−])
    (?P<sign>[+\-−–](?=\s?(?:[$€£¥₹₩\d]|(?:US|C|CA|A|AU|NZ|HK|S)\$|(?:{_CODES})\b))\s?)?
    (?P<pre>(?:US|C|CA|A|AU|NZ|HK|S)?\$|[€£¥₹₩]|(?:{_CODES})\s?)?
    (?P<sign2>[+\-−])?
    (?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)
    (?:(?:\s?(?P<scale>trillion|tn|billion|bn|million|mn|mm|thousand)|(?P<scale1>[tbmk]))(?!\w))?
    (?:\s?(?P<unit>%|per\s?cent|percent|pct|pc|percentage\s+points?|pp|basis\s+points?|bps?)(?![\w]))?
    (?:\s(?P<suf>{_CODES})(?!\w))?
    (?![\w/]|-[A-Za-z])
    """,
    re.VERBOSE | re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class NumberClaim:
    """A number as written: its value, how precisely it was written, and what it measures."""

    span: tuple[int, int]
    value: float  # unsigned magnitude, scale applied (15.2 billion -> 15.2e9)
    tolerance: float  # half a unit of the last digit shown, scale applied
    sign: int  # +1/-1 when written with a sign, 0 otherwise
    kind: NumberKind
    currencies: frozenset[str] | None  # None when no currency was written
    is_year: bool  # a bare integer that could be a calendar year


@dataclass(frozen=True, slots=True)
class DateClaim:
    """A calendar date as written; missing parts are ``None`` ("January 29" has no year)."""

    span: tuple[int, int]
    options: tuple[tuple[int | None, int | None, int | None], ...]  # (year, month, day) readings


@dataclass(frozen=True, slots=True)
class TickerClaim:
    span: tuple[int, int]
    symbol: str
    explicit: bool  # cashtag or exchange prefix: certainly meant as a ticker


@dataclass(frozen=True, slots=True)
class Claims:
    numbers: tuple[NumberClaim, ...]
    dates: tuple[DateClaim, ...]
    tickers: tuple[TickerClaim, ...]
    masked: str  # the text with non-claims blanked out, same length as the input


def _blank(match: re.Match[str]) -> str:
    return " " * (match.end() - match.start())


def blank_spans(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _year(raw: str | None) -> int | None:
    if raw is None:
        return None
    year = int(raw)
    return year + 2000 if year < 100 else year


def _date_claim(match: re.Match[str]) -> DateClaim:
    groups = match.groupdict()
    span = match.span()
    if groups["iy"]:
        return DateClaim(span, ((int(groups["iy"]), int(groups["im"]), int(groups["id"])),))
    if groups["sa"]:
        first, second, year = int(groups["sa"]), int(groups["sb"]), _year(groups["sy"])
        # 03/04/2016 reads either way; either reading may match a fact.
        return DateClaim(span, ((year, second, first), (year, first, second)))
    for month_group, day_group, year_group in (
        ("dm", "dd", "dy"),
        ("ym", None, "yy"),
        ("mm", "md", "my"),
    ):
        if groups[month_group]:
            month = _MONTHS[groups[month_group][:3].lower()]
            day = int(groups[day_group]) if day_group else None
            return DateClaim(span, ((_year(groups[year_group]), month, day),))
    raise AssertionError("date pattern matched without a known group")  # pragma: no cover


def _number_claim(match: re.Match[str]) -> NumberClaim:
    groups = match.groupdict()
    digits = groups["num"].replace(",", "")
    decimals = len(digits.partition(".")[2])
    magnitude = float(digits)
    # One-letter scales only count glued to the digits ("5m", "1.2M"): "5 m" is prose.
    scale_word = groups["scale"] or groups["scale1"]
    scale = SCALES[scale_word.lower()] if scale_word else 1.0
    unit = (groups["unit"] or "").lower()
    kind: NumberKind
    if unit.startswith("b"):
        kind = "bp"
    elif unit:
        kind = "percent"
    elif groups["pre"] or groups["suf"]:
        kind = "money"
    else:
        kind = "plain"
    currency_text = (groups["pre"] or groups["suf"] or "").strip()
    currencies: frozenset[str] | None = None
    if currency_text:
        currencies = _SYMBOL_CURRENCIES.get(currency_text) or frozenset({currency_text.upper()})
    sign_text = (groups["sign"] or groups["sign2"] or "").strip()
    sign = 0 if not sign_text else (1 if sign_text == "+" else -1)
    plain_integer = (
        kind == "plain" and not scale_word and decimals == 0 and "," not in groups["num"]
    )
    return NumberClaim(
        span=match.span(),
        value=magnitude * scale,
        tolerance=0.5 * 10.0**-decimals * scale * (1 + 1e-9),
        sign=sign,
        kind=kind,
        currencies=currencies,
        is_year=plain_integer and 1900 <= magnitude <= 2100,
    )


def extract_claims(text: str, exempt: tuple[tuple[int, int], ...] = ()) -> Claims:
    """Read every number, date and ticker claim in ``text``, skipping the ``exempt`` spans."""
    masked = blank_spans(text, exempt)
    tickers: list[TickerClaim] = []
    if "$" in masked:
        for match in _CASHTAG.finditer(masked):
            tickers.append(TickerClaim(match.span("sym"), match.group("sym").upper(), True))
        masked = _CASHTAG.sub(_blank, masked)
    if ":" in masked:
        for match in _EXCHANGE.finditer(masked):
            name = _EXCHANGE_NAME.search(masked, max(0, match.start() - 14), match.start())
            if name is not None:
                tickers.append(TickerClaim(match.span("sym"), match.group("sym"), True))
                masked = blank_spans(masked, ((name.start(), match.end()),))
    dates: list[DateClaim] = []
    numbers: list[NumberClaim] = []
    if _DIGIT.search(masked):
        for tells, pattern in _IGNORED:
            if not tells or any(tell in masked for tell in tells):
                masked = pattern.sub(_blank, masked)
        lowered = masked.lower()
        if len(lowered) == len(masked):
            dates = [_date_claim(match) for match in _DATES.finditer(lowered)]
        else:
            dates = [_date_claim(match) for match in _DATES_ANY_CASE.finditer(masked)]
        if dates:
            masked = blank_spans(masked, tuple(claim.span for claim in dates))
        numbers = [_number_claim(match) for match in _NUMBER.finditer(masked)]
    elif "@" in masked or "#" in masked:
        masked = _IGNORED[2][1].sub(_blank, masked)  # handles and hashtags are not tickers
    for match in PLAIN_TICKER.finditer(masked):
        tickers.append(TickerClaim(match.span("sym"), match.group("sym"), False))
    return Claims(tuple(numbers), tuple(dates), tuple(tickers), masked)
