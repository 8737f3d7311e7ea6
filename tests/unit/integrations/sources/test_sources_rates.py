"""ECB reference rates and Treasury yield curve parsing against the real files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from finagency.integrations.sources import MalformedPayloadError, parse_eurofxref, parse_yield_curve

ECB = "ecb-eurofxref-daily-2016-01-29.xml"
TREASURY = "treasury-yield-curve-entry-properties-2022-02-01.fragment.xml"


def test_ecb_daily_rates(real_bytes: Callable[[str], bytes]) -> None:
    points = parse_eurofxref(real_bytes(ECB))
    assert len(points) == 31
    by_series = {p.series: p for p in points}
    usd = by_series["EUR/USD"]
    assert usd.value == 1.0920
    assert usd.unit == "USD per EUR"
    assert usd.as_of == datetime(2016, 1, 29, tzinfo=UTC)
    assert usd.source == "ecb"
    assert by_series["EUR/JPY"].value == 132.25
    assert by_series["EUR/GBP"].value == 0.7641


def test_ecb_history_with_several_days() -> None:
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
  xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><Cube>
<Cube time="2016-01-29"><Cube currency="USD" rate="1.0920"/></Cube>
<Cube time="2016-01-28"><Cube currency="USD" rate="1.0946"/></Cube>
</Cube></gesmes:Envelope>"""
    points = parse_eurofxref(body)
    assert [(p.as_of.day, p.value) for p in points] == [(29, 1.092), (28, 1.0946)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b"<html><body>Maintenance</body></html>", "no <Cube time"),
        (b"<Cube><Cube time='2016-01-29'><Cube currency='USD' rate='n/a'/>", "not well-formed"),
        (
            b"<Cube><Cube time='2016-01-29'><Cube currency='USD' rate='n/a'/></Cube></Cube>",
            "number",
        ),
        (b"<Cube><Cube time='yesterday'/></Cube>", "YYYY-MM-DD"),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><Cube time="2016-01-29">&a;</Cube>', "DTD"),
    ],
)
def test_ecb_malformed(body: bytes, message: str) -> None:
    with pytest.raises(MalformedPayloadError, match=message):
        parse_eurofxref(body)


def test_treasury_fragment(real_bytes: Callable[[str], bytes]) -> None:
    points = parse_yield_curve(real_bytes(TREASURY))
    by_series = {p.series: p for p in points}
    assert by_series["UST.10Y"].value == 1.81
    assert by_series["UST.10Y"].unit == "%"
    assert by_series["UST.10Y"].as_of == datetime(2022, 2, 1, tzinfo=UTC)
    assert by_series["UST.1M"].value == 0.04
    assert by_series["UST.30Y"].value == 2.12
    assert list(by_series) == [
        "UST.1M", "UST.2M", "UST.3M", "UST.6M", "UST.1Y", "UST.2Y", "UST.3Y",
        "UST.5Y", "UST.7Y", "UST.10Y", "UST.20Y", "UST.30Y",
    ]  # fmt: skip
    assert "BC_30YEARDISPLAY" not in {p.label for p in points}


def full_feed(fragment: bytes) -> bytes:
    # The documented OData/Atom wrapper, built around the real properties block.
    return (
        b'<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n'
        b'<feed xml:base="https://home.treasury.gov/resource-center/data-chart-center/'
        b'interest-rates/pages/xml" xmlns="http://www.w3.org/2005/Atom" '
        b'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
        b'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
        b"<title type='text'>DailyTreasuryYieldCurveRateData</title>"
        b"<entry><id>1</id><content type='application/xml'>" + fragment + b"</content></entry>"
        b"<entry><id>2</id><content type='application/xml'><m:properties>"
        b'<d:NEW_DATE m:type="Edm.DateTime">2022-02-02T00:00:00</d:NEW_DATE>'
        b'<d:BC_1_5MONTH m:type="Edm.Double" m:null="true"/>'
        b'<d:BC_10YEAR m:type="Edm.Double">1.78</d:BC_10YEAR>'
        b"</m:properties></content></entry></feed>"
    )


def test_treasury_full_atom_feed(real_bytes: Callable[[str], bytes]) -> None:
    points = parse_yield_curve(full_feed(real_bytes(TREASURY)))
    ten_year = [(p.as_of.date().isoformat(), p.value) for p in points if p.series == "UST.10Y"]
    assert ten_year == [("2022-02-01", 1.81), ("2022-02-02", 1.78)]
    # Empty tenors (m:null) are skipped, not read as 0 %.
    assert not [p for p in points if p.series == "UST.1.5M"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'></feed>", "no <m:properties>"),
        (b"<m:properties><d:BC_10YEAR>1.8</d:BC_10YEAR></m:properties>", "no NEW_DATE"),
        (
            b"<m:properties><d:NEW_DATE>2022-02-01</d:NEW_DATE><d:BC_1YEAR>x</d:BC_1YEAR>",
            "well-formed",
        ),
    ],
)
def test_treasury_malformed(body: bytes, message: str) -> None:
    with pytest.raises(MalformedPayloadError, match=message):
        parse_yield_curve(body)
