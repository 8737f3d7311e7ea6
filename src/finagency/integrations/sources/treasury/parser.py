"""Parse the US Treasury daily par yield curve: XML (OData/Atom feed or one properties block)
or the CSV download (see ``csv_parser``)."""

from __future__ import annotations

import re

from finagency.integrations.sources._payload import (
    as_date,
    as_float,
    local_name,
    midnight_utc,
    parse_xml,
)
from finagency.integrations.sources.errors import MalformedPayloadError
from finagency.integrations.sources.treasury.csv_parser import (
    looks_like_csv,
    parse_yield_curve_csv,
)
from finagency.integrations.sources.types import RatePoint

SOURCE = "us-treasury"
_METADATA_NS = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
_DATA_NS = "http://schemas.microsoft.com/ado/2007/08/dataservices"
_TENOR = re.compile(r"^BC_(\d+)(?:_(\d+))?(MONTH|YEAR)$")
_BARE_FRAGMENT = re.compile(rb"^\s*(?:<\?xml[^>]*\?>\s*)?<m:properties[\s>]")


def _with_namespaces(body: bytes) -> bytes:
    # A lone <m:properties> block (as cut from the feed) lacks its xmlns declarations.
    if not _BARE_FRAGMENT.match(body) or b"xmlns:m=" in body:
        return body
    body = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", body)
    return (
        f'<fragment xmlns:m="{_METADATA_NS}" xmlns:d="{_DATA_NS}">'.encode() + body + b"</fragment>"
    )


def _series(tag: str) -> tuple[str, str] | None:
    match = _TENOR.match(tag)
    if match is None:
        return None
    whole, fraction, period = match.groups()
    amount = f"{whole}.{fraction}" if fraction else whole
    suffix, word = ("M", "month") if period == "MONTH" else ("Y", "year")
    return f"UST.{amount}{suffix}", f"US Treasury par yield, {amount}-{word}"


def parse_yield_curve(body: bytes | str, *, source: str = SOURCE) -> list[RatePoint]:
    """One ``RatePoint`` per day and tenor ("UST.1M" … "UST.30Y"), values in percent.

    Tenors that are empty on a day (not yet issued, holidays) are skipped.
    """
    what = "Treasury yield curve"
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if looks_like_csv(raw):  # the same data as daily-treasury-rates.csv
        return parse_yield_curve_csv(raw, source=source)
    root = parse_xml(_with_namespaces(raw), what=what)
    blocks = [e for e in root.iter() if local_name(e) == "properties"]
    if not blocks:
        raise MalformedPayloadError(f"{what}: no <m:properties> element found")
    points: list[RatePoint] = []
    for block in blocks:
        values = {local_name(child): (child.text or "").strip() for child in block}
        if not values.get("NEW_DATE"):
            raise MalformedPayloadError(f"{what}: a properties block has no NEW_DATE")
        as_of = midnight_utc(as_date(values["NEW_DATE"], what=f"{what} NEW_DATE"))
        for tag, text in values.items():
            series = _series(tag)
            if series is None or not text:
                continue
            points.append(
                RatePoint(
                    series=series[0],
                    as_of=as_of,
                    value=as_float(text, what=f"{what} {tag}"),
                    unit="%",
                    source=source,
                    label=series[1],
                )
            )
    return points
