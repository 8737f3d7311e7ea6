"""`finagency report`: the operations report for a period, optionally against an earlier one."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from finagency.config import Settings
from finagency.core.errors import AppError
from finagency.core.time import utcnow
from finagency.reports import service
from finagency.runtime import open_services

console = Console(stderr=True)


def report(
    from_: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD, UTC); default a week ago.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Last day, included; default today.")
    ] = None,
    compare_to: Annotated[
        str | None,
        typer.Option("--compare-to", help="Earlier period FIRST..LAST for Before/After columns."),
    ] = None,
    brand: Annotated[str | None, typer.Option(help="Only this brand (slug or name).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, html or pdf.")] = "md",
    output: Annotated[
        Path | None, typer.Option(help="Write to this file instead of standard output.")
    ] = None,
    save: Annotated[bool, typer.Option(help="Also store it with the dashboard's reports.")] = False,
) -> None:
    """Queue, publishing, infrastructure, engagement and risks for a period, from live data."""
    settings = Settings()
    now = utcnow()
    try:
        if fmt not in service.FORMATS:
            raise typer.BadParameter("--format must be md, html or pdf")
        default = service.default_period(now)
        first = service.parse_day(from_, "from") if from_ else default.start.date()
        last = service.parse_day(to, "to") if to else now.date()
        period = service.period_from(first, last)
        compare = service.parse_range(compare_to) if compare_to else None
    except AppError as error:
        console.print(f"[red]error[/red] {error.code}: {error.message}")
        raise typer.Exit(2) from None

    async def main() -> bytes:
        async with open_services(settings) as services, services.sessionmaker() as session:
            chosen = await service.find_brand(session, brand, None) if brand else None
            request = service.Request(period, compare, chosen)
            built = await service.build_report(session, request, now=now, redis=services.redis)
            if save:
                await service.store(session, built, request)
                await session.commit()
            return service.render(built, fmt)

    try:
        data = asyncio.run(main())
    except AppError as error:
        console.print(f"[red]error[/red] {error.code}: {error.message}")
        raise typer.Exit(2) from None
    if output is None:
        if fmt == "pdf" and sys.stdout.isatty():
            console.print("[red]error[/red] a PDF needs --output FILE")
            raise typer.Exit(2)
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        console.print(f"report written to {output}")


def register(app: typer.Typer) -> None:
    app.command()(report)
