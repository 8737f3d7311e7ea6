"""The Treasury yield curve CSV gives the same points as the XML feed, and bad bodies fail cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from finagency.integrations.sources import MalformedPayloadError
from finagency.integrations.sources.treasury import parse_yield_curve, parse_yield_curve_csv

FIXTURE = (
    Path(__file__).parents[2]
    / "fixtures"
    / "real"
    / "treasury-yield-curve-entry-properties-2022-02-01.fragment.xml"
)
HEADER = '"Date","1 Mo","2 Mo","3 Mo","4 Mo","6 Mo","1 Yr","2 Yr","3 Yr","5 Yr","7 Yr","10 Yr","20 Yr","30 Yr"'
COLUMNS = ["1M", "2M", "3M", "4M", "6M", "1Y", "2Y", "3Y", "5Y", "7Y", "10Y", "20Y", "30Y"]


def _csv_from_the_real_xml() -> tuple[str, list[tuple[str, float]]]:
    xml_points = parse_yield_curve(FIXTURE.read_bytes(), source="treasury")
    values = {point.series.removeprefix("UST."): point.value for point in xml_points}
    cells = [f"{values[tenor]:.2f}" if tenor in values else "" for tenor in COLUMNS]
    body = f"{HEADER}\n02/01/2022,{','.join(cells)}\n"
    return body, sorted((p.series, p.value) for p in xml_points)


def test_csv_and_xml_agree_on_the_real_day() -> None:
    body, expected = _csv_from_the_real_xml()
    points = parse_yield_curve(body.encode(), source="treasury")  # routed by content
    assert sorted((p.series, p.value) for p in points) == expected
    assert {p.as_of.date().isoformat() for p in points} == {"2022-02-01"}
    assert all(p.unit == "%" for p in points)


def test_blank_cells_and_extra_days_are_read() -> None:
    body = f"{HEADER}\n02/02/2022,,,0.20,,,,,,,,1.78,,2.12\n02/01/2022,,,0.19,,,,,,,,1.79,,\n"
    points = parse_yield_curve_csv(body, source="treasury")
    assert [(p.as_of.day, p.series, p.value) for p in points] == [
        (2, "UST.3M", 0.20),
        (2, "UST.10Y", 1.78),
        (2, "UST.30Y", 2.12),
        (1, "UST.3M", 0.19),
        (1, "UST.10Y", 1.79),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html><body>Service unavailable</body></html>", "Date column"),
        ('"Date","Foo"\n02/01/2022,1\n', "tenor columns"),
        (f"{HEADER}\n2022-02-01,0.1\n", "MM/DD/YYYY"),
        (f"{HEADER}\n02/30/2022,0.1\n", "calendar date"),
        (f"{HEADER}\n02/01/2022,abc\n", "expected a number"),
    ],
)
def test_bad_bodies_are_reported_not_crashed_on(body: str, message: str) -> None:
    with pytest.raises(MalformedPayloadError, match=message):
        parse_yield_curve_csv(body, source="treasury")


def test_wrong_encoding_is_reported() -> None:
    with pytest.raises(MalformedPayloadError, match="UTF-8"):
        parse_yield_curve_csv(f"{HEADER}\n02/01/2022,\xe9\n".encode("latin-1"), source="t")
