"""Retention and legal hold from the command line: `finagency audit prune` and `audit hold ...`.

These join the `audit` command group defined in ``admin`` (verify, export).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.audit import retention
from finagency.cli.admin import audit_app
from finagency.config import Settings
from finagency.core.db import transaction
from finagency.core.errors import AppError
from finagency.core.time import utcnow
from finagency.models import Brand, LegalHold
from finagency.runtime import open_services

console = Console(stderr=True)
hold_app = typer.Typer(help="Legal holds: suspend deletion of a brand's records.")


def _fail(error: AppError) -> None:
    console.print(f"[red]error[/red] {error.code}: {error.message}")
    raise typer.Exit(2)


async def _brand_id(session: AsyncSession, slug: str | None) -> int | None:
    if slug is None:
        return None
    brand_id = await session.scalar(select(Brand.id).where(Brand.slug == slug))
    if brand_id is None:
        raise typer.BadParameter(f"no brand with slug {slug!r}")
    return int(brand_id)


@audit_app.command("prune")
def audit_prune(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say how many events would go.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="At most this many events per run.")] = 100_000,
) -> None:
    """Delete the oldest events past retention and not on legal hold; the chain still verifies."""
    settings = Settings()

    async def main() -> retention.PruneResult:
        async with (
            open_services(settings) as services,
            transaction(services.sessionmaker) as session,
        ):
            return await retention.prune(
                session, now=utcnow(), actor="cli", limit=limit, dry_run=dry_run
            )

    result = asyncio.run(main())
    verb = "would prune" if dry_run else "pruned"
    through = f" through event {result.through_id}" if result.through_id else ""
    console.print(f"{verb} {result.pruned} events{through}; stopped by {result.stopped_by}")


@hold_app.command("set")
def hold_set(
    reason: Annotated[str, typer.Option(help="The matter, request or reference.")],
    brand: Annotated[str | None, typer.Option(help="Brand slug; omit for every record.")] = None,
) -> None:
    """Put a brand's records (or all records) on legal hold."""
    settings = Settings()

    async def main() -> LegalHold:
        async with (
            open_services(settings) as services,
            transaction(services.sessionmaker) as session,
        ):
            return await retention.set_legal_hold(
                session,
                brand_id=await _brand_id(session, brand),
                reason=reason,
                actor="cli",
                now=utcnow(),
            )

    try:
        hold = asyncio.run(main())
    except AppError as error:
        _fail(error)
        return
    console.print(f"legal hold {hold.id} set on {brand or 'every record'}")


@hold_app.command("release")
def hold_release(
    hold_id: Annotated[int, typer.Argument(help="The hold's id (see `audit hold list`).")],
    note: Annotated[str, typer.Option(help="Why it is released.")] = "",
) -> None:
    """Release a legal hold; its records fall back under the retention period."""
    settings = Settings()

    async def main() -> None:
        async with (
            open_services(settings) as services,
            transaction(services.sessionmaker) as session,
        ):
            await retention.release_legal_hold(
                session, hold_id, actor="cli", now=utcnow(), note=note
            )

    try:
        asyncio.run(main())
    except AppError as error:
        _fail(error)
    console.print(f"legal hold {hold_id} released")


@hold_app.command("list")
def hold_list() -> None:
    """Active legal holds."""
    settings = Settings()

    async def main() -> list[tuple[LegalHold, str]]:
        async with open_services(settings) as services, services.read_sessionmaker() as session:
            rows = await session.execute(select(Brand.id, Brand.slug))
            slugs = {int(brand_id): str(slug) for brand_id, slug in rows.all()}
            return [
                (hold, slugs.get(hold.brand_id, "") if hold.brand_id else "(all)")
                for hold in await retention.active_holds(session)
            ]

    table = Table("id", "brand", "reason", "set by", "set at", title="active legal holds")
    for hold, slug in asyncio.run(main()):
        table.add_row(str(hold.id), slug, hold.reason, hold.set_by, hold.set_at.isoformat())
    Console().print(table)


def register(app: typer.Typer) -> None:
    """The prune command is already on ``audit_app``; this adds the ``audit hold`` group."""
    audit_app.add_typer(hold_app, name="hold")
