"""Operator commands for running on several machines: backup, restore, import, healthcheck."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from finagency.config import Settings
from finagency.core.errors import AppError
from finagency.ops import backup as backups
from finagency.ops import legacy_import, legacy_mapping, probe
from finagency.runtime import open_services

console = Console(stderr=True)


def _fail(error: AppError) -> None:
    console.print(f"[red]error[/red] {error.code}: {error.message}")
    raise typer.Exit(2)


def backup(
    output: Annotated[
        Path | None,
        typer.Option(
            help="Directory for the backup file (FINAGENCY_BACKUP__DIR, else data/backups)."
        ),
    ] = None,
    keep: Annotated[
        int | None, typer.Option(help="Newest backups to keep there (FINAGENCY_BACKUP__KEEP).")
    ] = None,
) -> None:
    """Back up the whole database now (SQLite online backup, or pg_dump -Fc); prints the file."""
    settings = Settings()

    async def main() -> backups.BackupResult:
        async with open_services(settings) as services:
            result, pruned = await backups.run_backup(
                settings, services.sessionmaker, directory=output, keep=keep
            )
        for path in pruned:
            console.print(f"removed old backup {path.name}")
        return result

    try:
        result = asyncio.run(main())
    except AppError as error:
        _fail(error)
        return
    console.print(f"backup written: {result.size_bytes} bytes, sha256 {result.sha256[:16]}…")
    sys.stdout.write(f"{result.path}\n")


def restore(
    file: Annotated[Path, typer.Argument(help="A file written by `finagency backup`.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask: replace the database's content.")
    ] = False,
) -> None:
    """Replace the database's content with a backup. Stop web, workers and scheduler first."""
    settings = Settings()
    if not yes:
        typer.confirm(f"Replace everything in the database with {file.name}?", abort=True, err=True)
    try:
        asyncio.run(backups.restore(settings, file))
    except AppError as error:
        _fail(error)
    console.print(f"restored {file.name}; run `finagency audit verify` and `finagency db upgrade`")


def import_legacy(
    files: Annotated[list[Path], typer.Argument(help="Legacy SQLite files to import.")],
    mapping: Annotated[Path, typer.Option(help="The YAML column mapping.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Do everything, then roll back: an exact report.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Refuse a whole file if any of its rows is bad.")
    ] = False,
    report_file: Annotated[
        Path | None, typer.Option("--report", help="Also write the full report as JSON here.")
    ] = None,
) -> None:
    """Bring posts, queue items, content and engagement in from legacy SQLite files.

    Each file is imported in one transaction; re-running imports only rows not yet imported.
    Exit status 3 when some rows were bad (they are listed, by file and row).
    """
    settings = Settings()
    try:
        spec = legacy_mapping.load_mapping(mapping)
    except AppError as error:
        _fail(error)
        return

    async def main() -> list[legacy_import.FileReport]:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as bar:
            tasks: dict[str, TaskID] = {}

            def advance(label: str, done: int, total: int) -> None:
                if label not in tasks:
                    tasks[label] = bar.add_task(label, total=total)
                bar.update(tasks[label], completed=done)

            async with open_services(settings) as services:
                return await legacy_import.import_files(
                    services.sessionmaker,
                    spec,
                    files,
                    dry_run=dry_run,
                    strict=strict,
                    progress=advance,
                )

    try:
        reports = asyncio.run(main())
    except AppError as error:
        _fail(error)
        return
    _print_reports(reports, dry_run)
    if report_file:
        report_file.write_text(json.dumps([report.as_dict() for report in reports], indent=2))
    if any(report.bad for report in reports):
        raise typer.Exit(3)


def _print_reports(reports: list[legacy_import.FileReport], dry_run: bool) -> None:
    table = Table(title="import (dry run: nothing written)" if dry_run else "import")
    for column in ("file", "table", "into", "read", "imported", "already", "bad", "jobs", "state"):
        table.add_column(column)
    for report in reports:
        state = (
            "dry run"
            if dry_run and not report.refused
            else "committed"
            if report.committed
            else f"refused: {report.refused}"
        )
        for part in report.tables:
            table.add_row(
                report.file,
                part.table,
                part.into,
                str(part.read),
                str(part.imported),
                str(part.already_imported),
                str(part.bad),
                str(part.jobs_created),
                state,
            )
    console.print(table)
    for report in reports:
        for bad in report.bad_rows[:50]:
            console.print(
                f"[yellow]bad row[/yellow] {bad.file} {bad.table} row {bad.row} "
                f"(key {bad.key}): {bad.error}"
            )
        if len(report.bad_rows) > 50:
            console.print(f"… and {len(report.bad_rows) - 50} more in {report.file} (--report)")


def healthcheck(
    role: Annotated[
        str, typer.Argument(help="web, worker or scheduler: what this container runs.")
    ] = "web",
    url: Annotated[str | None, typer.Option(help="web: the URL to probe.")] = None,
) -> None:
    """Exit 0 when this container's process is healthy (`python -m finagency.ops.probe` is the
    same check without loading the whole CLI, for Docker HEALTHCHECKs)."""
    if role not in probe.ROLES:
        raise typer.BadParameter("role is web, worker or scheduler")
    if not probe.healthy(role, Settings(), url):
        console.print(f"{role} unhealthy")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)
    app.command("import")(import_legacy)
    app.command()(healthcheck)
