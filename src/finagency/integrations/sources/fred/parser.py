"""Parse FRED ``fred/series/observations`` JSON (``file_type=json``) into rate points.

The body does not name its series, so the caller passes ``series_id`` (the client knows it;
a stored source URL gives it through ``series_id_from_url``). Values are strings and "."
means "no observation that day" (holidays, discontinued days): such rows are skipped,
never stored as 0.
"""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs, urlsplit

from finagency.core.errors import PermanentExternalError
from finagency.integrations.sources._payload import (
    as_date,
    as_float,
    as_list,
    field,
    load_json,
    mapping,
    midnight_utc,
)
from finagency.integrations.sources.errors import MalformedPayloadError
from finagency.integrations.sources.types import RatePoint

SOURCE = "fred"
MISSING_VALUE = "."
# FRED ids are short upper-case alphanumerics with underscores (DGS10, T10Y2Y, CPIAUCSL).
_SERIES_ID = re.compile(r"[A-Z0-9_]{1,64}")


def normalize_series_id(series_id: str) -> str:
    """``series_id`` upper-cased and checked; ``ValueError`` when it cannot be a FRED id."""
    normalized = series_id.strip().upper()
    if not _SERIES_ID.fullmatch(normalized):
        raise ValueError(f"not a FRED series id: {series_id!r}")
    return normalized


def series_label(series_id: str) -> str:
    """The ``RatePoint.series`` for a FRED series: ``"FRED.DGS10"``."""
    return f"FRED.{normalize_series_id(series_id)}"


def series_id_from_url(url: str) -> str:
    """The ``series_id`` query parameter of an observations URL (``ValueError`` if absent)."""
    values = parse_qs(urlsplit(url).query).get("series_id") or [""]
    return normalize_series_id(values[0])


def parse_observations(
    body: bytes | str, *, series_id: str, source: str = SOURCE, units: str = ""
) -> list[RatePoint]:
    """One ``RatePoint`` per dated value of ``series_id``, in the body's order.

    ``series`` is ``"FRED.<SERIES_ID>"``; ``as_of`` is the observation date at 00:00 UTC;
    ``unit`` is ``units`` as given (e.g. "%" for DGS10: the body's own ``units`` field is
    the transformation code such as "lin", not a unit of measure). Rows whose value is
    "." are skipped. Raises ``MalformedPayloadError`` for a body that is not the documented
    shape, and ``PermanentExternalError`` for a FRED error document
    (``{"error_code": 400, "error_message": ...}``).
    """
    series = series_label(series_id)
    what = f"FRED observations for {series_id.strip().upper()}"
    document = mapping(load_json(body, what=what), what=what)
    if "error_message" in document or "error_code" in document:
        raise PermanentExternalError(
            f"{what}: FRED error {document.get('error_code', '?')}: "
            f"{document.get('error_message', 'no message')}"
        )
    rows = as_list(field(document, "observations", what=what), what=f"{what}.observations")
    label = f"FRED {series_id.strip().upper()}" + (f" ({units})" if units else "")
    points: list[RatePoint] = []
    for index, item in enumerate(rows):
        where = f"{what}.observations[{index}]"
        row = mapping(item, what=where)
        raw = field(row, "value", what=where)
        if isinstance(raw, str) and raw.strip() == MISSING_VALUE:
            continue
        value = as_float(raw, what=f"{where}.value")
        if not math.isfinite(value):
            raise MalformedPayloadError(f"{where}.value: expected a finite number, got {raw!r}")
        points.append(
            RatePoint(
                series=series,
                as_of=midnight_utc(as_date(field(row, "date", what=where), what=f"{where}.date")),
                value=value,
                unit=units,
                source=source,
                label=label,
            )
        )
    return points
