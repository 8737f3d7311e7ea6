"""The fact sheet file an operator hands to `finagency check`: its JSON format, read and validated.

The format is an object with a ``facts`` list; extra fields anywhere are ignored::

    {"facts": [{"name": "AAPL.close", "value": 97.34, "unit": "USD",
                "as_of": "2016-01-29T21:00:00Z", "source": "exchange", "ticker": "AAPL"}]}

A fact's kind follows from its unit and value: a currency code ("USD", "EUR"...) makes a
price in that currency, "%" a percentage, "date" (or an ISO date string) a date, any other
unit ("bp", "shares", "x"...) a plain number carrying that unit, and other strings text.
Timestamps without an offset are read as UTC.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from finagency.core.errors import ValidationFailed
from finagency.core.factsheet import Fact, FactKind, FactSheet

__all__ = ["FactsFileError", "load_facts_file", "parse_facts"]

_CURRENCY = re.compile(r"[A-Z]{3}")
# Units that look like currency codes but are not money.
_NOT_CURRENCY = frozenset({"BPS", "PCT", "PTS"})
_TICKER = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-/^=]{0,19}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FactsFileError(ValidationFailed):
    """The fact sheet file cannot be used; the message names the file and the bad entry."""

    code = "invalid_facts_file"


def _timestamp(raw: object, where: str, field: str) -> datetime:
    if not isinstance(raw, str) or not raw.strip():
        raise FactsFileError(f"{where}: {field!r} must be an ISO-8601 timestamp string")
    try:
        stamp = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise FactsFileError(f"{where}: {field!r} is not an ISO-8601 timestamp: {raw!r}") from None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def _is_iso_date(value: str) -> bool:
    if not _ISO_DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _kind_of(value: float | str, unit: str, where: str) -> tuple[FactKind, str | None]:
    """The fact kind and currency for a value in ``unit``."""
    if isinstance(value, str):
        if unit == "date" or (not unit and _is_iso_date(value)):
            if not _is_iso_date(value):
                raise FactsFileError(f"{where}: a date must be written YYYY-MM-DD, not {value!r}")
            return "date", None
        if unit:
            raise FactsFileError(
                f"{where}: value must be a number for unit {unit!r}, not the string {value!r}"
            )
        return "text", None
    if unit == "date":
        raise FactsFileError(f"{where}: a 'date' value must be a YYYY-MM-DD string, not {value!r}")
    if unit == "%":
        return "percent", None
    if _CURRENCY.fullmatch(unit) and unit not in _NOT_CURRENCY:
        return "price", unit
    return "number", None


def _fact(raw: object, index: int, source_name: str) -> tuple[Fact, str | None]:
    where = f"{source_name}: facts[{index}]"
    if not isinstance(raw, Mapping):
        raise FactsFileError(f"{where}: each fact must be an object, not {type(raw).__name__}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FactsFileError(f"{where}: 'name' must be a non-empty string")
    where = f"{where} ({name})"
    value = raw.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise FactsFileError(f"{where}: 'value' must be a number or a string, not {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise FactsFileError(f"{where}: 'value' must be a finite number, not {value!r}")
    unit = raw.get("unit", "")
    if not isinstance(unit, str):
        raise FactsFileError(f"{where}: 'unit' must be a string such as 'USD', '%' or 'bp'")
    unit = unit.strip()
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise FactsFileError(f"{where}: 'source' must name where the value came from")
    as_of = _timestamp(raw.get("as_of"), where, "as_of")
    ticker = raw.get("ticker")
    if ticker is not None and (not isinstance(ticker, str) or not _TICKER.fullmatch(ticker)):
        raise FactsFileError(f"{where}: 'ticker' must be a symbol such as 'AAPL', not {ticker!r}")
    numeric: float | str = float(value) if not isinstance(value, str) else value.strip()
    kind, currency = _kind_of(numeric, unit, where)
    label = raw.get("label")
    retrieved = raw.get("retrieved_at")
    adjusted = raw.get("adjusted")
    fact = Fact(
        key=name.strip(),
        kind=kind,
        value=numeric,
        unit="" if kind == "date" else unit,
        currency=currency,
        as_of=as_of,
        source=source.strip(),
        retrieved_at=_timestamp(retrieved, where, "retrieved_at") if retrieved else None,
        adjusted=adjusted if isinstance(adjusted, bool) else None,
        label=label if isinstance(label, str) else "",
    )
    return fact, ticker.upper() if ticker else None


def parse_facts(data: object, *, kind: str, source_name: str = "facts") -> FactSheet:
    """A fact sheet of content ``kind`` from the decoded JSON of a fact sheet file.

    Raises :class:`FactsFileError` naming ``source_name`` and the first bad entry.
    """
    if not isinstance(data, Mapping):
        raise FactsFileError(f"{source_name}: the file must hold a JSON object with a 'facts' list")
    raw_facts = data.get("facts")
    if not isinstance(raw_facts, list):
        raise FactsFileError(f"{source_name}: 'facts' must be a list of fact objects")
    facts: list[Fact] = []
    tickers: dict[str, None] = {}
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_facts):
        fact, ticker = _fact(raw, index, source_name)
        if fact.key in seen:
            raise FactsFileError(
                f"{source_name}: facts[{index}] ({fact.key}): the name is already used by "
                f"facts[{seen[fact.key]}]"
            )
        seen[fact.key] = index
        facts.append(fact)
        if ticker:
            tickers[ticker] = None
    subject = data.get("subject")
    headline = data.get("headline")
    url = data.get("url")
    return FactSheet(
        kind=kind,
        subject=subject if isinstance(subject, str) else next(iter(tickers), ""),
        facts=tuple(facts),
        headline=headline if isinstance(headline, str) else "",
        url=url if isinstance(url, str) else None,
        tickers=tuple(tickers),
    )


def load_facts_file(path: Path, *, kind: str) -> FactSheet:
    """Read and validate the fact sheet file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FactsFileError(f"{path}: cannot read the fact sheet file: {error}") from None
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise FactsFileError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}"
        ) from None
    return parse_facts(data, kind=kind, source_name=str(path))
