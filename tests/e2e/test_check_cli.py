"""`finagency check` as an operator's script sees it: exit codes, the JSON shape, clear failures.

Driven in-process through Typer's runner on an app holding only the `check` command, so the
test does not depend on the root app's wiring.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from finagency.cli.check import register

pytestmark = pytest.mark.e2e

CLOSE = "Apple (AAPL) closed at $97.34, down 1.1%."


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """A stand-in for the `finagency` root app."""

    register(root)
    return root


@pytest.fixture
def facts(tmp_path: Path) -> Path:
    now = datetime.now(UTC).isoformat()
    path = tmp_path / "facts.json"
    common = {"as_of": now, "source": "exchange", "ticker": "AAPL"}
    path.write_text(
        json.dumps(
            {
                "facts": [
                    {"name": "AAPL.close", "value": 97.34, "unit": "USD", **common},
                    {"name": "AAPL.change_pct", "value": -1.1, "unit": "%", **common},
                ]
            }
        ),
        encoding="utf-8",
    )
    return path


def run(app: typer.Typer, tmp_path: Path, text: str, *args: str) -> Result:
    post = tmp_path / "post.txt"
    post.write_text(text, encoding="utf-8")
    return CliRunner().invoke(app, ["check", str(post), *args])


@pytest.mark.parametrize(
    ("text", "code", "verdict", "reasons"),
    [
        (CLOSE, 0, "pass", set()),
        (f"{CLOSE} Buy now.", 1, "review", {"recommendation"}),
        (f"{CLOSE} Guaranteed returns!", 2, "block", {"promissory"}),
        ("Apple (AAPL) closed at $99.10.", 2, "block", {"ungrounded_number"}),
    ],
)
def test_exit_code_and_json_follow_the_verdict(
    app: typer.Typer,
    tmp_path: Path,
    facts: Path,
    text: str,
    code: int,
    verdict: str,
    reasons: set[str],
) -> None:
    result = run(app, tmp_path, text, "--facts", str(facts), "--json")
    assert result.exit_code == code, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"verdict", "findings"}
    assert payload["verdict"] == verdict
    keys = {"check", "reason_code", "severity", "start", "end", "message"}
    assert all(set(finding) == keys for finding in payload["findings"])
    assert reasons <= {finding["reason_code"] for finding in payload["findings"]}
    if reasons:
        spanned = [f for f in payload["findings"] if f["reason_code"] in reasons]
        assert all(text[f["start"] : f["end"]] for f in spanned)


def test_table_output_shows_the_findings_and_verdict(
    app: typer.Typer, tmp_path: Path, facts: Path
) -> None:
    result = run(app, tmp_path, f"{CLOSE} Buy now.", "--facts", str(facts))
    assert result.exit_code == 1
    assert "recommendation" in result.stdout
    assert "verdict: review" in result.stdout


def test_regimes_map_to_profiles(app: typer.Typer, tmp_path: Path, facts: Path) -> None:
    us = run(app, tmp_path, CLOSE, "--facts", str(facts), "--regime", "us-ria", "--json")
    assert "us_sec_ria" in us.stderr
    # The adviser profile wants the firm's name; without one the post goes to a reviewer.
    assert json.loads(us.stdout)["verdict"] == "review"
    bd = run(app, tmp_path, CLOSE, "--facts", str(facts), "--regime", "us-bd", "--json")
    assert "us_finra_sec" in bd.stderr
    # The broker-dealer profile sends a post without the firm's name to a reviewer.
    assert json.loads(bd.stdout)["verdict"] == "review"
    named = run(
        app,
        tmp_path,
        f"Acme Securities: {CLOSE}",
        *("--facts", str(facts), "--regime", "us-bd", "--firm", "Acme Securities"),
    )
    assert named.exit_code == 0, named.output
    uk = run(app, tmp_path, f"{CLOSE} It will soar.", "--facts", str(facts), "--regime", "uk")
    assert uk.exit_code == 2, uk.output  # a projection needs the forecast warning in the UK


def test_rule_pack_adds_lexicon_and_disclosures(
    app: typer.Typer, tmp_path: Path, facts: Path
) -> None:
    example = resources.files("finagency.checks").joinpath("rulepacks", "example.yaml")
    pack = tmp_path / "pack.yaml"
    pack.write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    rules = ("--facts", str(facts), "--rules", str(pack), "--json")
    signed = f"Example Capital LLC: {CLOSE} Not investment advice."
    assert run(app, tmp_path, signed, *rules).exit_code == 0
    unsigned = json.loads(run(app, tmp_path, CLOSE, *rules).stdout)
    assert unsigned["verdict"] == "block"
    assert {f["reason_code"] for f in unsigned["findings"]} == {"missing_disclosure"}
    tip = json.loads(run(app, tmp_path, f"{signed} A hot tip.", *rules).stdout)
    assert ("insider", "block") in {(f["reason_code"], f["severity"]) for f in tip["findings"]}


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("missing facts", "cannot read the fact sheet file"),
        ("broken facts", "not valid JSON (line 1"),
        ("bad fact", "facts[0] (AAPL.close): 'source' must name"),
        ("bad pack", "lexicon[0] ('x'): severity must be block or review"),
        ("bad regime", "unknown regime 'mars'"),
        ("missing text", "cannot read the text"),
    ],
)
def test_inputs_that_cannot_be_checked_exit_3(
    app: typer.Typer, tmp_path: Path, facts: Path, setup: str, expected: str
) -> None:
    post = tmp_path / "post.txt"
    post.write_text(CLOSE, encoding="utf-8")
    args = [str(post), "--facts", str(facts)]
    bad = tmp_path / "bad"
    if setup == "missing facts":
        args[2] = str(tmp_path / "nope.json")
    elif setup == "broken facts":
        bad.write_text('{"facts": [', encoding="utf-8")
        args[2] = str(bad)
    elif setup == "bad fact":
        bad.write_text(json.dumps({"facts": [{"name": "AAPL.close", "value": 1.0}]}))
        args[2] = str(bad)
    elif setup == "bad pack":
        bad.write_text("name: p\nlexicon:\n  - {phrase: x, category: c, severity: x}\n")
        args += ["--rules", str(bad)]
    elif setup == "bad regime":
        args += ["--regime", "mars"]
    else:
        args[0] = str(tmp_path / "nope.txt")
    result = CliRunner().invoke(app, ["check", *args])
    assert result.exit_code == 3, result.output
    assert expected in result.stderr
    assert result.stdout == ""


def test_usage_errors_exit_3_not_2(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(tmp_path / "post.txt")])
    assert result.exit_code == 3
    assert "--facts" in result.output
