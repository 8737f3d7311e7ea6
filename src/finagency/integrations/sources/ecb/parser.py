"""Parse the ECB euro foreign exchange reference rates XML (eurofxref-daily / -hist)."""

from __future__ import annotations

from finagency.integrations.sources._payload import (
    as_date,
    as_float,
    local_name,
    midnight_utc,
    parse_xml,
)
from finagency.integrations.sources.errors import MalformedPayloadError
from finagency.integrations.sources.types import RatePoint

SOURCE = "ecb"


def parse_eurofxref(body: bytes | str, *, source: str = SOURCE) -> list[RatePoint]:
    """One ``RatePoint`` per currency and day: "EUR/USD" is USD per 1 EUR.

    ``as_of`` is the reference date at 00:00 UTC (the ECB publishes around 16:00 CET).
    """
    what = "ECB eurofxref"
    root = parse_xml(body, what=what)
    points: list[RatePoint] = []
    days = [e for e in root.iter() if local_name(e) == "Cube" and e.get("time")]
    if not days:
        raise MalformedPayloadError(f"{what}: no <Cube time=…> element found")
    for day in days:
        as_of = midnight_utc(as_date(day.get("time"), what=f"{what} Cube@time"))
        for cube in day:
            currency, rate = cube.get("currency"), cube.get("rate")
            if local_name(cube) != "Cube" or not currency or rate is None:
                continue
            points.append(
                RatePoint(
                    series=f"EUR/{currency}",
                    as_of=as_of,
                    value=as_float(rate, what=f"{what} rate for {currency}"),
                    unit=f"{currency} per EUR",
                    source=source,
                    label=f"ECB euro reference rate, {currency} per EUR",
                )
            )
    return points
