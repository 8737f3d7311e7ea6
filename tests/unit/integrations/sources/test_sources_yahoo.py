"""Yahoo chart parsing against the recorded AAPL response (spans the 2020 4:1 split)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from finagency.core.errors import PermanentExternalError
from finagency.integrations.sources import MalformedPayloadError, parse_chart


def test_aapl_chart(yahoo_chart_body: bytes) -> None:
    points = parse_chart(yahoo_chart_body)
    assert len(points) == 49
    first = points[0]
    assert first.symbol == "AAPL"
    assert first.as_of == datetime(2020, 8, 31, 13, 30, tzinfo=UTC)
    assert first.close == pytest.approx(129.04, abs=0.005)
    assert first.adj_close == pytest.approx(125.0575, abs=0.0005)
    assert first.volume == 225_702_700
    assert first.currency == "USD"
    assert first.adjusted is True
    assert first.source == "yahoo"
    # Yahoo grants no licence to republish.
    assert all(not p.for_publication for p in points)
    # Never the meta price (333.69, the moment of recording).
    assert all(p.close < 200 for p in points)
    assert points[-1].as_of.date().isoformat() == "2020-11-06"


def test_null_rows_are_skipped(yahoo_chart_body: bytes) -> None:
    doc = json.loads(yahoo_chart_body)
    quote = doc["chart"]["result"][0]["indicators"]["quote"][0]
    for key in ("open", "high", "low", "close", "volume"):
        quote[key][1] = None
    points = parse_chart(json.dumps(doc).encode())
    assert len(points) == 48
    assert points[1].as_of == datetime(2020, 9, 2, 13, 30, tzinfo=UTC)


def test_chart_error_is_reported() -> None:
    body = (
        b'{"chart":{"result":null,"error":{"code":"Not Found",'
        b'"description":"No data found, symbol may be delisted"}}}'
    )
    with pytest.raises(PermanentExternalError, match="symbol may be delisted"):
        parse_chart(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b"<html>Too Many Requests</html>", "not valid JSON"),
        (b'{"finance": {}}', "missing field 'chart'"),
        (b'{"chart": {"result": [], "error": null}}', "empty result"),
        (
            b'{"chart":{"result":[{"meta":{"symbol":"X"},"timestamp":[1,2],'
            b'"indicators":{"quote":[{"close":[1.0]}]}}],"error":null}}',
            "1 values for 2 timestamps",
        ),
        (
            b'{"chart":{"result":[{"meta":{"symbol":"X"},"timestamp":[1],'
            b'"indicators":{"quote":[{"close":["abc"]}]}}],"error":null}}',
            "expected a number",
        ),
    ],
)
def test_malformed_chart(body: bytes, message: str) -> None:
    with pytest.raises(MalformedPayloadError, match=message):
        parse_chart(body)
