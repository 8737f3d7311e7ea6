"""The fact sheet file: each documented unit becomes the right fact, each bad entry is named."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from finagency.checks.factsfile import FactsFileError, parse_facts

AS_OF = "2016-01-29T21:00:00Z"


def fact(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "AAPL.close", "value": 97.34, "unit": "USD"}
    base |= {"as_of": AS_OF, "source": "exchange"}
    return {**base, **overrides}


def test_units_map_to_fact_kinds_and_tickers_are_collected() -> None:
    sheet = parse_facts(
        {
            "facts": [
                fact(ticker="aapl"),
                fact(name="AAPL.change_pct", value=-1.1, unit="%", ticker="AAPL"),
                fact(name="US10Y.change_bp", value=-5, unit="bp"),
                fact(name="AAPL.volume", value=64416500, unit="shares"),
                fact(name="SAP.close", value=80.1, unit="EUR", ticker="SAP"),
                fact(name="AAPL.earnings_date", value="2016-01-26", unit="date"),
                fact(name="FOMC.next", value="2016-03-16", unit=""),
                fact(name="AAPL.ceo", value="Tim Cook", unit=""),
            ],
            "generated_by": "an extra field, ignored",
        },
        kind="market_mover",
    )
    kinds = {f.key: (f.kind, f.unit, f.currency) for f in sheet.facts}
    assert kinds == {
        "AAPL.close": ("price", "USD", "USD"),
        "AAPL.change_pct": ("percent", "%", None),
        "US10Y.change_bp": ("number", "bp", None),
        "AAPL.volume": ("number", "shares", None),
        "SAP.close": ("price", "EUR", "EUR"),
        "AAPL.earnings_date": ("date", "", None),
        "FOMC.next": ("date", "", None),
        "AAPL.ceo": ("text", "", None),
    }
    assert sheet.kind == "market_mover"
    assert sheet.tickers == ("AAPL", "SAP")
    assert sheet.subject == "AAPL"
    close = sheet.get("AAPL.close")
    assert close is not None
    assert close.as_of == datetime(2016, 1, 29, 21, tzinfo=UTC)
    assert close.source == "exchange"


def test_a_timestamp_without_offset_is_read_as_utc() -> None:
    sheet = parse_facts({"facts": [fact(as_of="2016-01-29T21:00:00")]}, kind="k")
    assert sheet.facts[0].as_of == datetime(2016, 1, 29, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must hold a JSON object"),
        ({"facts": {}}, "'facts' must be a list"),
        ({}, "'facts' must be a list"),
        ({"facts": ["AAPL"]}, "facts[0]: each fact must be an object"),
        ({"facts": [fact(name="")]}, "facts[0]: 'name' must be a non-empty string"),
        ({"facts": [fact(value=None)]}, "facts[0] (AAPL.close): 'value' must be a number"),
        ({"facts": [fact(value=True)]}, "'value' must be a number or a string"),
        ({"facts": [fact(value=float("nan"))]}, "'value' must be a finite number"),
        ({"facts": [fact(unit=5)]}, "'unit' must be a string"),
        ({"facts": [fact(value="97.34")]}, "value must be a number for unit 'USD'"),
        ({"facts": [fact(unit="date")]}, "a 'date' value must be a YYYY-MM-DD string"),
        ({"facts": [fact(value="29/01/2016", unit="date")]}, "a date must be written YYYY-MM-DD"),
        ({"facts": [fact(source="")]}, "'source' must name where the value came from"),
        ({"facts": [fact(as_of=None)]}, "'as_of' must be an ISO-8601 timestamp"),
        ({"facts": [fact(as_of="yesterday")]}, "'as_of' is not an ISO-8601 timestamp"),
        ({"facts": [fact(ticker="A A P L")]}, "'ticker' must be a symbol"),
        (
            {"facts": [fact(), fact()]},
            "facts[1] (AAPL.close): the name is already used by facts[0]",
        ),
    ],
)
def test_bad_entries_are_named(data: object, message: str) -> None:
    with pytest.raises(FactsFileError) as raised:
        parse_facts(data, kind="k", source_name="facts.json")
    assert raised.value.message.startswith("facts.json")
    assert message in raised.value.message


def test_bad_entry_index_points_at_the_right_fact() -> None:
    with pytest.raises(FactsFileError, match=r"facts\[2\] \(C\): 'source'"):
        parse_facts(
            {"facts": [fact(name="A"), fact(name="B"), fact(name="C", source=None)]}, kind="k"
        )
