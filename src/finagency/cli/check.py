"""`finagency check`: run the pre-publication checks on a text file, for operators and scripts.

Exit codes: 0 pass, 1 review, 2 block, 3 cannot check (an unreadable or invalid text, fact
sheet or rule pack file, an unknown regime, or a usage error). Usage errors exit 3 rather
than click's usual 2 so that a script never mistakes a typo for a blocked post.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperCommand

from finagency.checks.factsfile import load_facts_file
from finagency.checks.rulepacks import RulePack, check_with_pack, load_rule_pack
from finagency.checks.service import CheckContext, run_checks
from finagency.checks.types import Finding, verdict
from finagency.core.errors import ValidationFailed
from finagency.core.time import utcnow

EXIT_CODES = {"pass": 0, "review": 1, "block": 2}
CANNOT_CHECK = 3
# One US profile covers both FINRA broker-dealers and SEC-registered advisers.
REGIMES = {
    "us-bd": "us_finra_sec",
    "us-ria": "us_sec_ria",
    "uk": "uk_fca",
    "eu": "eu_mifid_esma",
    "none": "default",
}
_STYLE = {"block": "bold red", "review": "yellow", "info": "dim", "pass": "green"}
err = Console(stderr=True)
# Typer vendors click and exports no UsageError; it is BadParameter's direct base.
_USAGE_ERROR = cast(type[Exception], typer.BadParameter.__mro__[1])


class _CheckCommand(TyperCommand):
    """Usage errors exit 3 ("cannot check"): 2 already means "blocked"."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except _USAGE_ERROR as error:
            cast(Any, error).exit_code = CANNOT_CHECK
            raise


def _cannot_check(message: str) -> typer.Exit:
    err.print(f"[red]cannot check[/red]: {message}", highlight=False, soft_wrap=True)
    return typer.Exit(CANNOT_CHECK)


def finding_to_json(finding: Finding) -> dict[str, Any]:
    start, end = finding.span if finding.span is not None else (None, None)
    return {
        "check": finding.check_id,
        "reason_code": finding.reason_code,
        "severity": finding.severity,
        "start": start,
        "end": end,
        "message": finding.message,
    }


def _print_table(text: str, findings: list[Finding], result: str) -> None:
    out = Console()
    if findings:
        table = Table(title="Findings")
        for column in ("severity", "check", "reason", "where", "message"):
            table.add_column(column, overflow="fold")
        for finding in findings:
            where = "whole text"
            if finding.span is not None:
                start, end = finding.span
                where = f"{start}-{end} {text[start:end]!r}"
            table.add_row(
                f"[{_STYLE[finding.severity]}]{finding.severity}[/]",
                finding.check_id,
                finding.reason_code,
                where,
                finding.message,
            )
        out.print(table)
    out.print(f"verdict: [{_STYLE[result]}]{result}[/]", highlight=False)


def check(
    text_file: Annotated[Path, typer.Argument(help="The post text, UTF-8.")],
    facts: Annotated[
        Path,
        typer.Option(help='Fact sheet JSON: {"facts": [{"name", "value", "unit", "as_of", ...}]}.'),
    ],
    regime: Annotated[
        str,
        typer.Option(help="us-bd (FINRA 2210) | us-ria (SEC Marketing Rule) | uk | eu | none."),
    ] = "none",
    platform: Annotated[str, typer.Option(help="Platform whose length rules apply.")] = "x",
    kind: Annotated[str, typer.Option(help="Content kind (selects required disclosures).")] = (
        "editor_written"
    ),
    rules: Annotated[Path | None, typer.Option(help="A brand rule pack (YAML).")] = None,
    firm: Annotated[str | None, typer.Option(help="The firm's name, where required.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Check a post: exit 0 pass, 1 review, 2 block, 3 cannot check."""
    profile = REGIMES.get(regime)
    if profile is None:
        raise _cannot_check(f"unknown regime {regime!r}; choose one of {', '.join(REGIMES)}")
    if regime in ("us-bd", "us-ria"):
        err.print(f"note: --regime {regime} uses the {profile} profile")
    try:
        text = text_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _cannot_check(f"{text_file}: cannot read the text: {error}") from None
    try:
        sheet = load_facts_file(facts, kind=kind)
        pack: RulePack | None = load_rule_pack(rules) if rules is not None else None
    except ValidationFailed as error:
        raise _cannot_check(error.message) from None
    ctx = CheckContext(
        factsheet=sheet, platform=platform, now=utcnow(), profile=profile, firm_name=firm
    )
    findings = check_with_pack(text, ctx, pack) if pack is not None else run_checks(text, ctx)
    result = verdict(findings)
    if as_json:
        payload = {"verdict": result, "findings": [finding_to_json(f) for f in findings]}
        typer.echo(json.dumps(payload, ensure_ascii=False))
    else:
        _print_table(text, findings, result)
    raise typer.Exit(EXIT_CODES[result])


def register(app: typer.Typer) -> None:
    app.command(cls=_CheckCommand)(check)
