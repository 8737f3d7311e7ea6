"""`finagency eval generators`: the same sample fact sheets through each generator, checked.

Prints, per generator, the share of drafts that pass grounding, the share the compliance checks
would hold for review or block (with the reason codes), platform fit, average latency and
tokens; ``--json`` prints the same as one JSON document. Each run is stored (the Analytics
page shows the latest per generator) when the database is migrated.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from finagency.config import Settings
from finagency.content.evaluation import (
    DEFAULT_ITEMS,
    MAX_ITEMS,
    GeneratorReport,
    default_generator_names,
    run_evaluation,
    store_reports,
)
from finagency.core.db import transaction
from finagency.core.errors import AppError
from finagency.core.logging import configure_logging
from finagency.runtime import open_services

eval_app = typer.Typer(help="Measure generators against the checks.", no_args_is_help=True)
err = Console(stderr=True)


@eval_app.command("generators")
def generators(
    generator: Annotated[
        list[str] | None,
        typer.Option(
            "--generator",
            help="A generator to evaluate (repeatable); default: template, local when it "
            "can run here, and the configured one.",
        ),
    ] = None,
    items: Annotated[
        int, typer.Option(min=1, max=MAX_ITEMS, help="Sample fact sheets per generator.")
    ] = DEFAULT_ITEMS,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Draft the demo's sample fact sheets with each generator and run every check on them."""
    settings = Settings()
    configure_logging(settings.log_level, json=settings.log_json)  # to stderr: stdout is data
    names = list(dict.fromkeys(name.strip().lower() for name in generator or ()))
    names = names or default_generator_names(settings)

    async def main() -> tuple[str | None, list[GeneratorReport]]:
        async with open_services(settings) as services:
            reports = await run_evaluation(settings, services.http, names, items=items)
            try:
                async with transaction(services.sessionmaker) as session:
                    run_id = await store_reports(session, reports, triggered_by="cli")
            except SQLAlchemyError as error:
                message = str(error).splitlines()[0]
                err.print(f"[yellow]not stored[/yellow] (run `finagency db upgrade`): {message}")
                return None, reports
        return run_id, reports

    try:
        run_id, reports = asyncio.run(main())
    except AppError as error:
        err.print(f"[red]cannot evaluate[/red]: {error.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if as_json:
        document: dict[str, Any] = {
            "run_id": run_id,
            "items": items,
            "generators": [report.to_dict() for report in reports],
        }
        sys.stdout.write(json.dumps(document) + "\n")
        return
    _print(reports)


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def _print(reports: list[GeneratorReport]) -> None:
    table = Table(title="Generators against the checks")
    table.add_column("")
    for report in reports:
        table.add_column(f"{report.generator}\n{report.model}", overflow="fold")
    rows: list[tuple[str, list[str]]] = []
    data = [report.to_dict() for report in reports]
    rows.append(("drafts (failed)", [f"{d['drafts']} ({d['failed']})" for d in data]))
    rows.append(("grounding pass", [_pct(d["grounding_pass_share"]) for d in data]))
    rows.append(("checks: pass", [_pct(d["pass_share"]) for d in data]))
    rows.append(("checks: review", [_pct(d["review_share"]) for d in data]))
    rows.append(("checks: blocked", [_pct(d["blocked_share"]) for d in data]))
    rows.append(("platform fit", [_pct(d["platform_fit_share"]) for d in data]))
    rows.append(("avg latency", [f"{d['avg_latency_ms']:.0f} ms" for d in data]))
    rows.append(("tokens in/out", [f"{d['input_tokens']}/{d['output_tokens']}" for d in data]))
    rows.append(("cost", [f"${d['cost_usd']:.4f}" for d in data]))
    rows.append(
        (
            "held for (drafts)",
            ["\n".join(f"{code} {n}" for code, n in d["reasons"].items()) or "-" for d in data],
        )
    )
    rows.append(
        (
            "errors",
            ["\n".join(f"{code} {n}" for code, n in d["errors"].items()) or "-" for d in data],
        )
    )
    for label, values in rows:
        table.add_row(label, *values)
    Console().print(table)
