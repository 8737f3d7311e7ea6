"""Turn a fact sheet into the formatted fields the phrasings use, per content kind.

Every number a field holds is a fact value run through ``formatting``; nothing is derived.
A field that the fact sheet cannot fill is the empty string, which rules out the phrasings
that need it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import datetime

from finagency.core.errors import ValidationFailed
from finagency.core.factsheet import Fact, FactSheet
from finagency.integrations.llm import factkeys as keys
from finagency.integrations.llm.formatting import (
    cashtag,
    direction_words,
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
from finagency.integrations.llm.template.phrasings import FORM_NOTES

Fields = dict[str, str]
FieldBuilder = Callable[[FactSheet, random.Random], tuple[str, Fields]]

_TICKER = re.compile(r"^[A-Z][A-Z0-9.\-]{0,9}$")
_MAX_CASHTAGS = 4  # more than a handful reads as spam


def build_fields(factsheet: FactSheet, rng: random.Random) -> tuple[str, Fields]:
    """The phrasing family to use and its fields; ``ValidationFailed`` if facts are missing."""
    builder = _BUILDERS.get(factsheet.kind)
    if builder is None:
        raise ValidationFailed(
            f"the template generator cannot write {factsheet.kind!r} posts",
            details={"kind": factsheet.kind, "supported": list(_BUILDERS)},
        )
    return builder(factsheet, rng)


def _missing(kind: str, needed: list[str]) -> ValidationFailed:
    return ValidationFailed(
        f"a {kind} fact sheet needs the facts {', '.join(needed)}",
        details={"kind": kind, "missing": needed},
    )


def _currency(fact: Fact) -> str:
    if fact.currency:
        return fact.currency
    unit = fact.unit.strip()
    return unit.upper() if len(unit) == 3 and unit.isalpha() else "USD"


def _date_of(*facts: Fact | None) -> str:
    for fact in facts:
        if fact is not None and fact.as_of is not None:
            return format_date(fact.as_of)
    return ""


def _source_of(*facts: Fact | None) -> str:
    return next((fact.source.strip() for fact in facts if fact and fact.source.strip()), "")


def _subject_symbol(factsheet: FactSheet) -> str:
    return factsheet.subject.strip() or (factsheet.tickers[0] if factsheet.tickers else "")


def _quote(factsheet: FactSheet, symbol: str) -> tuple[Fact, str, Fact, float] | None:
    """(close fact, formatted close, change fact, change) when both facts exist."""
    close = keys.numeric(factsheet, keys.close_key(symbol))
    change = keys.numeric(factsheet, keys.change_pct_key(symbol))
    if close is None or change is None:
        return None
    return close[0], format_price(close[1], _currency(close[0])), change[0], change[1]


def _market_mover(factsheet: FactSheet, rng: random.Random) -> tuple[str, Fields]:
    symbol = _subject_symbol(factsheet)
    quote = _quote(factsheet, symbol)
    if quote is None:
        raise _missing(factsheet.kind, [keys.close_key(symbol), keys.change_pct_key(symbol)])
    close_fact, close, change_fact, change = quote
    words = direction_words(change)
    prev = keys.numeric(factsheet, keys.prev_close_key(symbol))
    volume = keys.numeric(factsheet, keys.volume_key(symbol))
    return "market_mover", {
        "cashtag": cashtag(symbol),
        "name": factsheet.extra.get(keys.EXTRA_NAME, "").strip(),
        "close": close,
        "signed": format_signed_pct(change),
        "pct": format_unsigned_pct(change) if words else "",
        "verb": rng.choice(words) if words else "",
        "session": "green" if change > 0 and words else "red" if words else "flat",
        "date": _date_of(close_fact, change_fact),
        "prev": format_price(prev[1], _currency(prev[0])) if prev else "",
        "volume": format_large(volume[1]) if volume and volume[1] >= 1e6 else "",
        "source": _source_of(close_fact, change_fact),
    }


def _market_wrap(factsheet: FactSheet, rng: random.Random) -> tuple[str, Fields]:
    symbols = list(factsheet.tickers) or [
        fact.key.removesuffix(".change_pct")
        for fact in factsheet.facts
        if fact.key.endswith(".change_pct")
    ]
    rows: list[tuple[str, str, float, str]] = []  # cashtag, signed, change, close
    used: list[Fact] = []
    for symbol in symbols:
        change = keys.numeric(factsheet, keys.change_pct_key(symbol))
        if change is None:
            continue
        close = keys.numeric(factsheet, keys.close_key(symbol))
        price = format_price(close[1], _currency(close[0])) if close else ""
        rows.append((cashtag(symbol), format_signed_pct(change[1]), change[1], price))
        used.append(change[0])
    if not rows:
        raise _missing(factsheet.kind, ["<SYM>.change_pct for at least one ticker"])
    all_moved = all(direction_words(row[2]) for row in rows)
    ups = [f"{tag} {signed}" for tag, signed, value, _ in rows if value > 0]
    downs = [f"{tag} {signed}" for tag, signed, value, _ in rows if value < 0]
    return "market_wrap", {
        "movers": ", ".join(f"{tag} {signed}" for tag, signed, _, _ in rows),
        "mover_lines": "\n".join(f"{tag} {signed}" for tag, signed, _, _ in rows),
        "ups": ", ".join(ups) if all_moved and ups and downs else "",
        "downs": ", ".join(downs) if all_moved and ups and downs else "",
        "closes": ", ".join(f"{tag} {price}" for tag, _, _, price in rows if price),
        "market": factsheet.extra.get(keys.EXTRA_MARKET, "").strip(),
        "date": _date_of(*used),
        "source": _source_of(*used),
    }


def _news_take(factsheet: FactSheet, rng: random.Random) -> tuple[str, Fields]:
    headline = " ".join(factsheet.headline.split()).rstrip(".")
    if not headline:
        raise _missing(factsheet.kind, ["headline"])
    tickers = list(dict.fromkeys(factsheet.tickers))[:_MAX_CASHTAGS]
    market_line = ""
    if tickers and (quote := _quote(factsheet, tickers[0])) is not None:
        close_fact, close, change_fact, change = quote
        date = _date_of(close_fact, change_fact)
        when = f" on {date}" if date else ""
        market_line = (
            f"{cashtag(tickers[0])} last closed at {close} ({format_signed_pct(change)}){when}."
        )
    return "news_take", {
        "headline": headline,
        "source": factsheet.extra.get(keys.EXTRA_SOURCE_NAME, "").strip(),
        "cashtags": " ".join(cashtag(ticker) for ticker in tickers),
        "market_line": market_line,
    }


def _macro_rate(factsheet: FactSheet, rng: random.Random) -> tuple[str, Fields]:
    treasuries: list[tuple[int, str, Fact, float]] = []
    pairs: list[tuple[str, Fact, float]] = []
    for fact in factsheet.numeric():
        value = float(fact.value)
        if match := keys.TREASURY_KEY.match(fact.key):
            tenor = match.group("tenor")
            treasuries.append((keys.tenor_months(tenor), tenor, fact, value))
        elif keys.FX_KEY.match(fact.key):
            pairs.append((fact.key, fact, value))
    if treasuries:
        treasuries.sort(key=lambda row: row[0])
        items = []
        for _, tenor, _fact, value in treasuries:
            change = keys.numeric(factsheet, keys.treasury_change_bp_key(tenor))
            moved = f" ({format_signed_bp(change[1])})" if change else ""
            items.append(f"{tenor} {format_yield(value)}{moved}")
        curve = keys.numeric(factsheet, keys.CURVE_2S10S_KEY)
        facts = [row[2] for row in treasuries]
        return "macro_rate.ust", {
            "ust_list": ", ".join(items),
            "curve": (format_bp(curve[1]) + (" (inverted)" if round(curve[1]) < 0 else ""))
            if curve
            else "",
            "date": _date_of(*facts),
            "source": _source_of(*facts),
        }
    if pairs:
        items = []
        for pair, _fact, value in pairs:
            change = keys.numeric(factsheet, f"{pair}.change_pct")
            moved = f" ({format_signed_pct(change[1])})" if change else ""
            items.append(f"{pair} {format_fx(value)}{moved}")
        facts = [row[1] for row in pairs]
        single = len(pairs) == 1
        return "macro_rate.fx", {
            "fx_list": ", ".join(items),
            "fx_lead": pairs[0][0] if single else "",
            "fx_lead_rate": format_fx(pairs[0][2]) if single else "",
            "date": _date_of(*facts),
            "source": _source_of(*facts),
        }
    raise _missing(factsheet.kind, ["UST.<tenor> yields or <BASE>/<QUOTE> FX rates"])


def _filing_note(factsheet: FactSheet, rng: random.Random) -> tuple[str, Fields]:
    form = keys.text_value(factsheet, keys.FILING_FORM_KEY)
    if not form:
        raise _missing(factsheet.kind, [keys.FILING_FORM_KEY])
    date_fact = factsheet.get(keys.FILING_DATE_KEY)
    date = ""
    if date_fact is not None and isinstance(date_fact.value, str) and date_fact.value:
        date = format_date(date_fact.value)
    elif date_fact is not None and isinstance(date_fact.as_of, datetime):
        date = format_date(date_fact.as_of)
    symbol = factsheet.tickers[0] if factsheet.tickers else factsheet.subject.strip()
    company = factsheet.extra.get(keys.EXTRA_COMPANY) or factsheet.extra.get(keys.EXTRA_NAME, "")
    return "filing_note", {
        "form": form,
        "date": date,
        "company": company.strip(),
        "cashtag": cashtag(symbol) if _TICKER.match(symbol) else "",
        "form_note": FORM_NOTES.get(form.upper(), ""),
    }


def _weekly_recap(factsheet: FactSheet, rng: random.Random) -> tuple[str, Fields]:
    symbols = list(factsheet.tickers) or [
        fact.key.removesuffix(".week_change_pct")
        for fact in factsheet.facts
        if fact.key.endswith(".week_change_pct")
    ]
    rows: list[tuple[str, str, str]] = []  # cashtag, signed change, close
    used: list[Fact] = []
    for symbol in symbols:
        change = keys.numeric(factsheet, keys.week_change_pct_key(symbol))
        if change is None:
            continue
        close = keys.numeric(factsheet, keys.close_key(symbol))
        price = format_price(close[1], _currency(close[0])) if close else ""
        rows.append((cashtag(symbol), format_signed_pct(change[1]), price))
        used.append(change[0])
    if not rows:
        raise _missing(factsheet.kind, ["<SYM>.week_change_pct for at least one ticker"])
    macro: list[str] = []
    for fact in factsheet.numeric():
        if match := keys.TREASURY_KEY.match(fact.key):
            macro.append(f"{match.group('tenor')} Treasury {format_yield(float(fact.value))}")
        elif keys.FX_KEY.match(fact.key):
            macro.append(f"{fact.key} {format_fx(float(fact.value))}")
    start = keys.text_value(factsheet, keys.WEEK_START_KEY)
    end = keys.text_value(factsheet, keys.WEEK_END_KEY)
    headline = " ".join(factsheet.headline.split()).rstrip(".")
    return "weekly_recap", {
        "movers": ", ".join(f"{tag} {signed}" for tag, signed, _ in rows),
        "mover_lines": "\n".join(f"{tag} {signed}" for tag, signed, _ in rows),
        "closes": ", ".join(f"{tag} {price}" for tag, _, price in rows if price),
        "macro_list": ", ".join(macro),
        "headline": headline,
        "week_start": format_date(start) if start else "",
        "week_end": format_date(end) if end else _date_of(*used),
        "source": _source_of(*used),
    }


_BUILDERS: dict[str, FieldBuilder] = {
    keys.MARKET_MOVER: _market_mover,
    keys.MARKET_WRAP: _market_wrap,
    keys.NEWS_TAKE: _news_take,
    keys.MACRO_RATE: _macro_rate,
    keys.FILING_NOTE: _filing_note,
    keys.WEEKLY_RECAP: _weekly_recap,
}
