"""Grounding: proving every figure, date and ticker in a text comes from its fact sheet, fresh.

Matching rules, chosen so a correct post never blocks and an invented figure always does:

- a number matches a fact when the fact lies within half a unit of the last digit shown
  ("2.4%" grounds 2.3571; "$3.1bn" grounds 3,087,000,000);
- a percentage needs a percent fact (kind ``percent`` or unit "%"), basis points need a bp or
  percent fact (25 bp = 0.25%), a price needs a non-percent fact in a compatible currency;
  a bare number may match any numeric fact;
- the sign comes from "+"/"-", or from a direction word next to the number ("fell 1.1%",
  "a 1.1% drop"); "fell to $180" states a level, so it carries no sign; with no sign at
  all the magnitude is compared;
- dates match a date fact or a fact's as-of date on every part written; a bare year (1900 to
  2100) matches the year of any of those;
- numbers and dates quoted in the fact sheet's headline or text facts count as grounded;
- tickers must be in the fact sheet (its tickers, ticker facts, or an upper-case subject).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from finagency.checks.data import acronyms
from finagency.checks.numbers import (
    CURRENCY_CODES,
    SCALES,
    Claims,
    NumberClaim,
    extract_claims,
)
from finagency.checks.types import Finding, Severity, excerpt_of
from finagency.core.factsheet import Fact, FactSheet

CHECK_ID = "grounding"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DEFAULT_STALENESS: Mapping[str, timedelta] = {
    "quote": timedelta(days=3),
    "macro": timedelta(days=45),
    "filing": timedelta(days=120),
}
_MACRO_SOURCES = ("fred", "treasury", "bls", "bea", "ons", "eurostat")
_FILING_SOURCES = ("edgar", "sec")

_DOWN = _words(
    "fell fall falls falling down lost lose loses losing declined decline declines declining "
    "dropped drop drops dropping slid slide slides slipped slips sank sinks tumbled tumbles "
    "plunged plunges decreased decreases lower shed sheds eased eases retreated retreats "
    "weakened dipped dips sliding plummeted plummets"
)
_UP = _words(
    "rose rise rises rising up gained gain gains gaining climbed climbs jumped jumps rallied "
    "rallies added adds increased increases higher advanced advances surged surges soared "
    "soars rebounded rebounds firmed strengthened grew grows"
)
_DOWN_AFTER = _words("drop decline fall loss slide dip plunge lower down decrease slump")
_UP_AFTER = _words("gain rise jump rally increase advance surge higher up climb rebound")
_FILLER = _words(
    "by a an about around roughly nearly almost some just over approximately close more "
    "than less another further sharply slightly"
)
_WORD = re.compile(r"[a-z]+")
_NEXT_WORD = re.compile(r"[ \t]*([A-Za-z]+)")
_CLAUSE_END = re.compile(r"[.;!?]\s")
_CURRENCIES = frozenset(CURRENCY_CODES)


@dataclass(frozen=True, slots=True)
class _Numeric:
    fact: Fact
    value: float  # scale applied
    percent: bool
    bp: bool
    currency: str | None


@dataclass(slots=True)
class _Index:
    numerics: list[_Numeric]
    dates: set[date]
    years: set[int]
    tickers: set[str]


def staleness_class(fact: Fact, sheet_kind: str) -> str:
    """Which freshness rule a fact falls under: "quote", "macro" or "filing"."""
    source = fact.source.lower()
    if sheet_kind.startswith("macro") or source.startswith(_MACRO_SOURCES):
        return "macro"
    if sheet_kind.startswith(("earnings", "filing")) or source.startswith(_FILING_SOURCES):
        return "filing"
    return "quote"


def _aware(moment: datetime) -> datetime:
    # Naive stamps in fact sheets are UTC by convention of the market area.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _numeric(fact: Fact, value: float) -> _Numeric:
    unit_words = fact.unit.replace("/", " ").split()
    lowered = [word.lower() for word in unit_words]
    scale = 1.0
    for word in lowered:
        scale *= SCALES.get(word, 1.0)
    currency = fact.currency or next(
        (w.upper() for w in unit_words if w.upper() in _CURRENCIES), None
    )
    percent = fact.kind == "percent" or any(w in ("%", "pct", "percent") for w in lowered)
    return _Numeric(
        fact, value * scale, percent, any(w in ("bp", "bps") for w in lowered), currency
    )


def _ticker_aliases(symbol: str) -> set[str]:
    cleaned = symbol.strip().lstrip("$^").upper()
    aliases = {cleaned}
    for separator in (".", "-", "=", ":", "/"):
        head = cleaned.split(separator, 1)[0]
        if head:
            aliases.add(head)
    return aliases


# Series labels inside fact keys ("UST.3M", "UST.10Y", "UST.2s10s"): a tenor, not an amount.
_LABEL = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[0-9A-Za-z]{2,8}$")


def label_spans(text: str, sheet: FactSheet) -> tuple[tuple[int, int], ...]:
    """Where the text names a series by a label from the sheet's fact keys.

    "3M" in "3M 0.19%" is the three-month tenor of ``UST.3M``, not three million; such
    labels are read as names, so the grounding check does not ask for a fact of value 3e6.
    """
    labels = {
        segment
        for fact in sheet.facts
        for segment in fact.key.split(".")[1:]
        if _LABEL.match(segment)
    }
    spans: list[tuple[int, int]] = []
    for label in labels:
        pattern = re.compile(rf"(?<![\w$.]){re.escape(label)}(?![\w%])")
        spans.extend(match.span() for match in pattern.finditer(text))
    return tuple(spans)


def _quoted(sheet: FactSheet) -> list[tuple[str, str]]:
    texts = [("headline", sheet.headline)] if sheet.headline else []
    texts += [
        (f.key, f.value) for f in sheet.facts if f.kind == "text" and isinstance(f.value, str)
    ]
    return texts


_INDEX_CACHE: dict[int, tuple[FactSheet, _Index]] = {}
_INDEX_CACHE_SIZE = 64


def _index_for(sheet: FactSheet) -> _Index:
    """The sheet's index, reused while the same sheet object is checked again (edits, variants)."""
    cached = _INDEX_CACHE.get(id(sheet))
    # The cache holds the sheet itself, so its id cannot be reused by another object meanwhile.
    if cached is not None and cached[0] is sheet:
        return cached[1]
    if len(_INDEX_CACHE) >= _INDEX_CACHE_SIZE:
        _INDEX_CACHE.pop(next(iter(_INDEX_CACHE)))
    index = _build_index(sheet)
    _INDEX_CACHE[id(sheet)] = (sheet, index)
    return index


def _build_index(sheet: FactSheet) -> _Index:
    index = _Index([], set(), set(), set())
    for fact in sheet.facts:
        if fact.kind == "ticker" and isinstance(fact.value, str):
            index.tickers |= _ticker_aliases(fact.value)
        elif fact.kind == "date" and isinstance(fact.value, str):
            with contextlib.suppress(ValueError):
                index.dates.add(date.fromisoformat(fact.value[:10]))
        elif isinstance(fact.value, (int, float)) and not isinstance(fact.value, bool):
            index.numerics.append(_numeric(fact, float(fact.value)))
        if fact.as_of is not None:
            index.dates.add(fact.as_of.date())
            index.dates.add(_aware(fact.as_of).astimezone(UTC).date())
    for symbol in sheet.tickers:
        index.tickers |= _ticker_aliases(symbol)
    if sheet.subject.isupper() and " " not in sheet.subject.strip():
        index.tickers |= _ticker_aliases(sheet.subject)
    for key, text in _quoted(sheet):
        claims = extract_claims(text)
        for number in claims.numbers:
            signed = number.value * (number.sign or 1)
            currency = next(iter(number.currencies)) if number.currencies else None
            quoted = Fact(key=f"{key} (quoted)", kind="number", value=signed, currency=currency)
            index.numerics.append(
                _Numeric(quoted, signed, number.kind == "percent", number.kind == "bp", currency)
            )
        for claim in claims.dates:
            for year, month, day in claim.options:
                if year and month and day:
                    with contextlib.suppress(ValueError):
                        index.dates.add(date(year, month, day))
    index.years = {known.year for known in index.dates}
    return index


def _direction(masked: str, span: tuple[int, int]) -> int:
    before = _CLAUSE_END.split(masked[max(0, span[0] - 40) : span[0]])[-1].lower()
    for word in reversed(_WORD.findall(before)[-4:]):
        if word in _FILLER:
            continue
        if word in _DOWN:
            return -1
        if word in _UP:
            return 1
        break
    # Only a word right after the number ("a 1.1% drop"), not one past a comma.
    after = _NEXT_WORD.match(masked, span[1])
    if after and after.group(1).lower() in _DOWN_AFTER:
        return -1
    if after and after.group(1).lower() in _UP_AFTER:
        return 1
    return 0


def _target(claim: NumberClaim, numeric: _Numeric) -> float | None:
    """The fact's value in the claim's unit, or ``None`` when the two cannot be compared."""
    if claim.kind == "percent":
        if numeric.percent:
            return numeric.value
        return numeric.value / 100 if numeric.bp else None
    if claim.kind == "bp":
        if numeric.bp:
            return numeric.value
        return numeric.value * 100 if numeric.percent else None
    if numeric.percent or numeric.bp:
        # A bare "2" must not ride on a 2.36% fact: percentages are written with their unit.
        return None
    if numeric.currency and claim.currencies and numeric.currency not in claim.currencies:
        return None
    return numeric.value


def _matching_facts(claim: NumberClaim, direction: int, index: _Index) -> list[Fact]:
    sign = claim.sign or direction
    matched = []
    for numeric in index.numerics:
        target = _target(claim, numeric)
        if target is None:
            continue
        gap = abs(target - sign * claim.value) if sign else abs(abs(target) - claim.value)
        if gap <= claim.tolerance:
            matched.append(numeric.fact)
    return matched


def _nearest(claim: NumberClaim, index: _Index) -> str:
    best: tuple[float, _Numeric] | None = None
    for numeric in index.numerics:
        target = _target(claim, numeric)
        if target is None:
            continue
        gap = abs(abs(target) - claim.value)
        if best is None or gap < best[0]:
            best = (gap, numeric)
    if best is None:
        return "no fact of this kind in the fact sheet"
    fact = best[1].fact
    return f"nearest fact {fact.key} = {fact.value:g}{(' ' + fact.unit) if fact.unit else ''}"


def _date_known(
    options: tuple[tuple[int | None, int | None, int | None], ...], index: _Index
) -> bool:
    for year, month, day in options:
        for known in index.dates:
            if (
                (year is None or year == known.year)
                and (month is None or month == known.month)
                and (day is None or day == known.day)
            ):
                return True
    return False


def _age(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def _shouting(text: str) -> bool:
    letters = [char for char in text if char.isalpha()]
    return bool(letters) and sum(char.isupper() for char in letters) > 0.5 * len(letters)


def check_grounding(
    text: str,
    sheet: FactSheet,
    now: datetime,
    *,
    staleness: Mapping[str, timedelta] | None = None,
    exempt: tuple[tuple[int, int], ...] = (),
    claims: Claims | None = None,
) -> list[Finding]:
    """Every claim in ``text`` that the fact sheet does not back, and every stale fact used.

    ``staleness`` overrides the limits in :data:`DEFAULT_STALENESS`, keyed by class
    ("quote", "macro", "filing") or by a fact key ("AAPL.close") for one fact.
    """
    limits = {**DEFAULT_STALENESS, **(staleness or {})}
    claims = claims if claims is not None else extract_claims(text, exempt)
    index = _index_for(sheet)
    findings: list[Finding] = []
    used: dict[str, tuple[Fact, tuple[int, int]]] = {}

    def flag(severity: Severity, code: str, message: str, span: tuple[int, int]) -> None:
        findings.append(
            Finding(
                CHECK_ID,
                severity,
                code,
                message,
                span,
                excerpt_of(text, span),
            )
        )

    for number in claims.numbers:
        written = text[number.span[0] : number.span[1]].strip()
        facts = _matching_facts(number, _direction(claims.masked, number.span), index)
        if facts:
            for fact in facts:
                used.setdefault(fact.key, (fact, number.span))
        elif not (number.is_year and int(number.value) in index.years):
            flag(
                "block",
                "ungrounded_number",
                f"{written!r} is not in the fact sheet ({_nearest(number, index)})",
                number.span,
            )

    for claim in claims.dates:
        if not _date_known(claim.options, index):
            written = text[claim.span[0] : claim.span[1]]
            flag(
                "block",
                "ungrounded_number",
                f"date {written!r} is not a fact or as-of date in the fact sheet",
                claim.span,
            )

    shouting = _shouting(claims.masked)
    known_acronyms = acronyms()
    for ticker in claims.tickers:
        if ticker.symbol in index.tickers or ticker.symbol.split(".")[0] in index.tickers:
            continue
        if not ticker.explicit and (shouting or ticker.symbol in known_acronyms):
            continue
        flag(
            "review",
            "unknown_ticker",
            f"ticker {ticker.symbol} is not in the fact sheet",
            ticker.span,
        )

    now_aware = _aware(now)
    for key, (fact, span) in used.items():
        if fact.as_of is None or fact.kind in ("date", "ticker", "text"):
            continue
        limit = limits.get(key) or limits[staleness_class(fact, sheet.kind)]
        age = now_aware - _aware(fact.as_of)
        if age > limit:
            flag(
                "review",
                "stale_fact",
                f"{key} is {_age(age)} old (as of {fact.as_of.isoformat()}, limit {_age(limit)})",
                span,
            )
    findings.sort(key=lambda finding: finding.span or (0, 0))
    return findings
