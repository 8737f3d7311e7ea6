"""`finagency posts export | import`: the API's CSV export and import, from a terminal.

Import runs the same validation and the same path into review as ``POST /api/v1/posts/import``:
every row is checked first and nothing is written unless all rows are valid (or --partial).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.config import Settings
from finagency.content import csv_io
from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.models import Account, Brand, Post, PostStatus, User
from finagency.runtime import open_services

posts_app = typer.Typer(help="Posts as CSV: export them, import them into review.")
err = Console(stderr=True)
BATCH = 1000


def register(app: typer.Typer) -> None:
    app.add_typer(posts_app, name="posts")


async def _brand(session: AsyncSession, slug: str) -> Brand:
    brand = await session.scalar(select(Brand).where(Brand.slug == slug))
    if brand is None:
        err.print(f"[red]no brand with the slug {slug!r}[/red]")
        raise typer.Exit(2)
    return brand


@posts_app.command("export")
def export(
    brand: Annotated[str, typer.Option(help="Brand slug.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default stdout).")
    ] = None,
    status: Annotated[PostStatus | None, typer.Option(help="Only posts in this status.")] = None,
    platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
) -> None:
    """Write the brand's posts as CSV (newest first), the same columns as GET /posts.csv."""
    settings = Settings()

    async def main() -> int:
        stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        count = 0
        try:
            async with open_services(settings) as services:
                async with services.read_sessionmaker() as session:
                    found = await _brand(session, brand)
                    rows = await session.execute(
                        select(Account.id, Account.handle).where(Account.brand_id == found.id)
                    )
                    handles: dict[int, str] = dict(rows.all())
                stream.write(csv_io.export_header())
                last_id: int | None = None
                while True:
                    async with services.read_sessionmaker() as session:
                        query = select(Post).where(Post.brand_id == found.id)
                        if status is not None:
                            query = query.where(Post.status == status.value)
                        if platform:
                            query = query.where(Post.platform == platform)
                        if last_id is not None:
                            query = query.where(Post.id < last_id)
                        batch = (
                            await session.scalars(query.order_by(Post.id.desc()).limit(BATCH))
                        ).all()
                    if not batch:
                        break
                    for post in batch:
                        stream.write(csv_io.export_row(post, handles.get(post.account_id, "")))
                    count += len(batch)
                    last_id = batch[-1].id
        finally:
            if output:
                stream.close()
        return count

    count = asyncio.run(main())
    err.print(f"exported {count} posts")


@posts_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file, UTF-8.")],
    brand: Annotated[str, typer.Option(help="Brand slug.")],
    author: Annotated[str, typer.Option("--as", help="Email of the user the posts are by.")],
    partial: Annotated[bool, typer.Option(help="Import the valid rows even if some fail.")] = False,
) -> None:
    """Import posts into review; prints every problem as `row N, column C: message`."""
    settings = Settings()
    data = path.read_bytes()

    async def main() -> tuple[list[int], list[csv_io.RowError], int]:
        async with (
            open_services(settings) as services,
            transaction(services.sessionmaker) as session,
        ):
            found = await _brand(session, brand)
            user = await session.scalar(select(User).where(User.email == author.strip().lower()))
            if user is None or not user.active:
                err.print(f"[red]no active user {author!r}[/red]")
                raise typer.Exit(2)
            now = utcnow()
            valid, errors, count = await csv_io.validate_csv(session, found, data, now=now)
            if errors and not partial:
                return [], errors, count
            ids = await csv_io.import_rows(session, found, valid, author_id=user.id, now=now)
            return ids, errors, count

    ids, errors, count = asyncio.run(main())
    for error in errors:
        err.print(f"row {error.row}, column {error.column or '-'}: {error.message}")
    if errors and not partial:
        err.print(f"[red]{len(errors)} problem(s) in {count} rows; nothing was imported[/red]")
        raise typer.Exit(1)
    err.print(f"imported {len(ids)} of {count} rows into review")
