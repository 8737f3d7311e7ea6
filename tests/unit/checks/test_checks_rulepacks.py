"""Rule packs: validation names file, entry and fault; extra entries match as a reviewer expects."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
import yaml

from finagency.checks.rulepacks import RulePackError, check_with_pack, parse_rule_pack, scan_pack
from finagency.checks.service import CheckContext, verdict
from finagency.core.factsheet import FactSheet

NOW = datetime(2016, 1, 30, 9, tzinfo=UTC)


def pack(*entries: dict[str, Any], **top: Any) -> Any:
    return parse_rule_pack({"name": "acme", "lexicon": list(entries), **top}, "acme.yaml")


def entry(**fields: Any) -> dict[str, Any]:
    return {"phrase": "sure winner", "category": "promissory", "severity": "block", **fields}


def matched(text: str, *entries: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f.reason_code, text[f.span[0] : f.span[1]])
        for f in scan_pack(text, pack(*entries))
        if f.span is not None
    ]


def problems(data: object) -> list[str]:
    with pytest.raises(RulePackError) as raised:
        parse_rule_pack(data, "acme.yaml")
    found: list[str] = raised.value.details.get("problems", [])
    assert found, raised.value.message
    assert all(item.startswith("acme.yaml") for item in found)
    return found


def test_the_shipped_example_pack_is_valid() -> None:
    raw = resources.files("finagency.checks").joinpath("rulepacks", "example.yaml").read_text()
    example = parse_rule_pack(yaml.safe_load(raw), "example.yaml")
    assert example.name == "example"
    assert {e.match for e in example.lexicon} == {"exact", "stem", "regex", "proximity"}
    assert "Not investment advice." in example.disclosures_for("market_mover")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (["not", "a", "mapping"], "acme.yaml: a rule pack must be a YAML mapping"),
        ({"lexicon": []}, "acme.yaml: name: 'name' must be a non-empty string"),
        ({"name": "a", "lexicn": []}, "acme.yaml: unknown keys ['lexicn']"),
        ({"name": "a", "lexicon": {}}, "acme.yaml: lexicon: must be a list"),
        ({"name": "a", "lexicon": ["x"]}, "acme.yaml: lexicon[0]: each lexicon entry"),
        (
            {"name": "a", "lexicon": [entry(severity="info")]},
            "acme.yaml: lexicon[0] ('sure winner'): severity must be block or review, not 'info'",
        ),
        ({"name": "a", "lexicon": [entry(match="fuzzy")]}, "lexicon[0] ('sure winner'): match"),
        ({"name": "a", "lexicon": [entry(category="Bad Name")]}, "category must be snake_case"),
        ({"name": "a", "lexicon": [entry(reason_code=7)]}, "reason_code must be snake_case"),
        ({"name": "a", "lexicon": [entry(phrase="")]}, "lexicon[0]: 'phrase' must be"),
        ({"name": "a", "lexicon": [entry(negation_aware="yes")]}, "negation_aware must be true"),
        ({"name": "a", "lexicon": [entry(withn=3)]}, "lexicon[0] ('sure winner'): unknown keys"),
        (
            {"name": "a", "lexicon": [entry(phrase="(unclosed", match="regex")]},
            "phrase is not a valid regular expression",
        ),
        (
            {"name": "a", "lexicon": [entry(phrase="sure", match="proximity", near="win")]},
            "proximity needs 'within' as a whole number ≥ 1, not None",
        ),
        (
            {"name": "a", "lexicon": [entry(match="proximity", near="win", within=2)]},
            "proximity 'phrase' must be a single word",
        ),
        ({"name": "a", "lexicon": [entry(within=3)]}, "apply only to match: proximity"),
        ({"name": "a", "disclosures": ["x"]}, "disclosures: must map a content kind"),
        ({"name": "a", "disclosures": {"*": [""]}}, "disclosures['*'][0]: a disclosure must be"),
        ({"name": "a", "link_allowlist": "acme.com"}, "link_allowlist: must be a list"),
        ({"name": "a", "link_allowlist": ["a b"]}, "link_allowlist[0]: must be a domain"),
        ({"name": "a", "severities": {"hype": "block"}}, "severities['hype']: unknown lexicon"),
        ({"name": "a", "severities": {"superlative": "x"}}, "severity must be block, review or"),
        ({"name": "a", "firm_name": ""}, "firm_name: must be a non-empty string"),
    ],
)
def test_validation_names_file_entry_and_fault(data: object, expected: str) -> None:
    assert any(expected in problem for problem in problems(data)), problems(data)


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        {"name": "a", "lexicon": [entry(), entry(severity="x"), entry(match="y")], "z": 1}
    )
    assert len(found) == 3
    assert any("lexicon[1]" in p for p in found)
    assert any("lexicon[2]" in p for p in found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A sure winner.", [("promissory", "sure winner")]),
        ("A SURE\n winner.", [("promissory", "SURE\n winner")]),
        ("Sure winners only.", []),
        ("This is not a sure winner.", []),
        ("No doubt, a sure winner.", [("promissory", "sure winner")]),
    ],
)
def test_exact_matching_is_whole_words_and_negation_aware(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert matched(text, entry()) == expected


def test_stem_regex_and_negation_flag() -> None:
    stem = entry(phrase="multibag", match="stem", reason_code="hype")
    assert matched("Two multibaggers here.", stem) == [("hype", "multibaggers")]
    regex = entry(phrase=r"\bup \d+% in a week\b", match="regex", negation_aware=False)
    assert matched("Never mind, up 40% in a week.", regex) == [("promissory", "up 40% in a week")]
    tip = entry(phrase="hot tip", negation_aware=False)
    assert matched("Not a hot tip.", tip) == [("promissory", "hot tip")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Guaranteed 8% returns every year.", [("pairing", "Guaranteed 8% returns")]),
        ("Returns here are guaranteed.", [("pairing", "Returns here are guaranteed")]),
        ("We guarantee that the fund will give you returns.", []),
        ("Returns are not guaranteed.", []),
        ("Guarantee", []),
    ],
)
def test_proximity_counts_words_between_either_order(
    text: str, expected: list[tuple[str, str]]
) -> None:
    near = entry(
        phrase="guarantee*", near="return*", within=2, match="proximity", reason_code="pairing"
    )
    assert matched(text, near) == expected


def test_check_with_pack_merges_over_the_profile() -> None:
    brand = pack(
        entry(),
        disclosures={"*": ["Not investment advice."], "weekly_recap": ["Capital at risk."]},
        link_allowlist=["acme.example"],
        severities={"superlative": "block"},
        firm_name="Acme LLC",
    )
    sheet = FactSheet(kind="market_mover", subject="AAPL", tickers=("AAPL",))
    ctx = CheckContext(factsheet=sheet, platform="x", now=NOW, profile="us_finra_sec")

    clean = "Acme LLC on AAPL: see https://acme.example/notes. Not investment advice."
    assert verdict(check_with_pack(clean, ctx, brand)) == "pass"
    # Without the pack the same text needs a reviewer: the link and the firm name are unknown.
    assert verdict(check_with_pack(clean, ctx, pack())) == "review"

    findings = check_with_pack("The best stock, a sure winner.", ctx, brand)
    codes = {(f.check_id, f.reason_code, f.severity) for f in findings}
    assert ("lexicon", "superlative", "block") in codes
    assert ("lexicon", "promissory", "block") in codes
    missing = [f.message for f in findings if f.reason_code == "missing_disclosure"]
    assert any("Not investment advice." in m for m in missing)
    assert any("Acme LLC" in m for m in missing)
    assert not any("Capital at risk." in m for m in missing)
