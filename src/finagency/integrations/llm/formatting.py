"""Number, date and ticker formatting in the house conventions the grounding check parses.

Conventions (keep in step with the grounding check):

- prices: ``$1,234.56`` for USD, ``EUR 1,234.56`` (ISO code and a space) otherwise, 2 decimals;
- signed changes: ``+2.35%`` / ``-1.10%``; unsigned only right after a direction word
  from ``UP_WORDS`` / ``DOWN_WORDS`` ("fell 1.10%");
- FX rates: 4 decimals ``1.0856``; yields and rates: 2 decimals ``4.25%``;
- basis points: ``25 bp`` (whole bp, a minus sign when negative); changes ``+5 bp`` / ``-3 bp``;
- large numbers: ``15.2 billion`` / ``45.3 million`` / ``1.2 trillion`` (one decimal);
- dates: ``29 Jan 2016`` (day without a leading zero, English month abbreviation);
- tickers: cashtags ``$AAPL``.
"""

from __future__ import annotations

from datetime import date, datetime

UP_WORDS: tuple[str, ...] = ("rose", "gained", "climbed", "added")
DOWN_WORDS: tuple[str, ...] = ("fell", "slipped", "dropped", "lost")

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_price(value: float, currency: str | None = "USD") -> str:
    code = (currency or "USD").upper()
    if code == "USD":
        sign = "-" if round(value, 2) < 0 else ""
        return f"{sign}${abs(value):,.2f}"
    return f"{code} {value:,.2f}"


def format_signed_pct(value: float) -> str:
    """``+2.35%`` / ``-1.10%``; a change that rounds to zero is written ``0.00%``."""
    if round(value, 2) == 0:
        return "0.00%"
    return f"{value:+.2f}%"


def format_unsigned_pct(value: float) -> str:
    """Magnitude only, for use right after a direction word."""
    return f"{abs(value):.2f}%"


def format_yield(value: float) -> str:
    return f"{value:.2f}%"


def format_fx(value: float) -> str:
    return f"{value:.4f}"


def format_bp(value: float) -> str:
    whole = round(value)
    return f"{whole if whole != 0 else 0} bp"


def format_signed_bp(value: float) -> str:
    """``+5 bp`` / ``-3 bp`` for changes; ``0 bp`` when it rounds to zero."""
    whole = round(value)
    return f"{whole:+d} bp" if whole else "0 bp"


def format_large(value: float) -> str:
    """``15.2 billion``; below a million, a plain integer with thousands separators."""
    magnitude = abs(value)
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if magnitude >= scale:
            return f"{value / scale:.1f} {word}"
    return f"{value:,.0f}"


def format_date(value: date | datetime | str) -> str:
    """``29 Jan 2016``; accepts a date, a datetime or an ISO date string."""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def cashtag(symbol: str) -> str:
    return "$" + symbol.strip().lstrip("$").upper()


def direction_words(change: float) -> tuple[str, ...]:
    """The direction words that fit a change; empty when it rounds to zero."""
    rounded = round(change, 2)
    if rounded > 0:
        return UP_WORDS
    if rounded < 0:
        return DOWN_WORDS
    return ()
