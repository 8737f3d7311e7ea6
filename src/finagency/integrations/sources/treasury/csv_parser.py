"""Parse the US Treasury daily par yield curve CSV (``daily-treasury-rates.csv``).

Header: ``Date,"1 Mo","2 Mo",…,"30 Yr"``, dates MM/DD/YYYY, newest first, blank cells for
tenors not quoted that day. Values are percent, like the XML feed's.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from finagency.integrations.sources._payload import as_float, midnight_utc
from finagency.integrations.sources.errors import MalformedPayloadError
from finagency.integrations.sources.types import RatePoint

_COLUMN = re.compile(r"^(\d+(?:\.\d+)?)\s*(Mo|Month|Months|Yr|Year|Years)$", re.IGNORECASE)
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
WHAT = "Treasury yield curve CSV"


def looks_like_csv(body: bytes) -> bool:
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:20].lower()
    return head.startswith((b"date,", b'"date",'))


def _series(column: str) -> tuple[str, str] | None:
    match = _COLUMN.match(column.strip())
    if match is None:
        return None
    amount, unit = match.groups()
    months = unit.lower().startswith("mo")
    suffix, word = ("M", "month") if months else ("Y", "year")
    return f"UST.{amount}{suffix}", f"US Treasury par yield, {amount}-{word}"


def _date(text: str) -> date:
    match = _US_DATE.match(text.strip())
    if match is None:
        raise MalformedPayloadError(f"{WHAT}: expected an MM/DD/YYYY date, got {text!r}")
    month, day, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise MalformedPayloadError(f"{WHAT}: {text!r} is not a calendar date") from None


def parse_yield_curve_csv(body: bytes | str, *, source: str) -> list[RatePoint]:
    """One ``RatePoint`` per day and quoted tenor; a body that is not this CSV is refused."""
    raw = body if isinstance(body, bytes) else body.encode("utf-8")
    if not looks_like_csv(raw):
        raise MalformedPayloadError(f"{WHAT}: the body does not start with a Date column")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedPayloadError(f"{WHAT}: not UTF-8 text") from None
    rows = list(csv.reader(io.StringIO(text)))
    header, data = rows[0], [row for row in rows[1:] if any(cell.strip() for cell in row)]
    columns = [(index, _series(name)) for index, name in enumerate(header) if index > 0]
    tenors = [(index, series) for index, series in columns if series is not None]
    if not tenors:
        raise MalformedPayloadError(f'{WHAT}: no tenor columns like "10 Yr" in the header')
    points: list[RatePoint] = []
    for row in data:
        if len(row) > len(header):
            raise MalformedPayloadError(f"{WHAT}: a row has more cells than the header")
        as_of = midnight_utc(_date(row[0]))
        for index, (series, label) in tenors:
            cell = row[index].strip() if index < len(row) else ""
            if not cell or cell.upper() == "N/A":
                continue
            points.append(
                RatePoint(
                    series=series,
                    as_of=as_of,
                    value=as_float(cell, what=f"{WHAT} {header[index]}"),
                    unit="%",
                    source=source,
                    label=label,
                )
            )
    return points
