"""Backups and restores of the one database that holds the whole state.

SQLite is copied with its online backup API (consistent while writers keep going, WAL
included); PostgreSQL with ``pg_dump -Fc`` and ``pg_restore``. A backup is written under a
temporary name and renamed once complete, so a file named ``finagency-*.db|.dump`` in the backup
directory is always whole, and retention only ever deletes whole, older files.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.config import Settings
from finagency.core.db import transaction
from finagency.core.errors import BadRequest, ExternalError
from finagency.core.time import utcnow
from finagency.models import BackupRecord
from finagency.queue import JobContext, Task

log = structlog.get_logger(__name__)

BACKUP_TASK = "ops.backup"
PREFIX = "finagency-"
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(ExternalError):
    code = "backup_failed"


class RestoreRefused(BadRequest):
    code = "restore_refused"


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    dialect: str
    size_bytes: int
    sha256: str


def backup_dir(settings: Settings) -> Path:
    return settings.backup.dir or settings.data_dir / "backups"


def _dialect(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BadRequest(f"cannot back up a {backend} database")
    return backend


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BadRequest("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and an environment that carries it instead.

    Passing the password in the environment keeps it out of the process list.
    """
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as error:
        raise BackupError(f"{command[0]} is not installed; {what} needs it") from error
    if completed.returncode != 0:
        # pg_* print the failing statement, never the password (it is not on the command line).
        raise BackupError(f"{what} failed: {completed.stderr.strip()[-2000:]}")


def _backup_sqlite(source: Path, target: Path) -> None:
    if not source.exists():
        raise BadRequest(f"no SQLite database at {source}")
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        # All pages in one step, inside one read transaction: in WAL mode that snapshot does not
        # block writers, whereas a stepwise copy restarts whenever another connection writes.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # a backup is one self-contained file
    src.close()
    dst.close()


def backup_sync(url_text: str, directory: Path, now: datetime | None = None) -> BackupResult:
    """Write one complete backup of the database at ``url_text`` into ``directory``."""
    url = make_url(url_text)
    dialect = _dialect(url)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%S%fZ")
    suffix = ".db" if dialect == "sqlite" else ".dump"
    final = directory / f"{PREFIX}{stamp}{suffix}"
    partial = directory / f".{final.name}.partial"
    try:
        if dialect == "sqlite":
            _backup_sqlite(_sqlite_path(url), partial)
        else:
            conninfo, env = _libpq(url)
            _run(
                ["pg_dump", "--format=custom", "--no-owner", f"--file={partial}", conninfo],
                env,
                "pg_dump",
            )
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(final, dialect, final.stat().st_size, _sha256(final))


def _check_kind(file: Path, dialect: str) -> None:
    if not file.is_file():
        raise RestoreRefused(f"no backup file at {file}")
    with file.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    expected = SQLITE_MAGIC if dialect == "sqlite" else PG_DUMP_MAGIC
    if not head.startswith(expected):
        kind = "a SQLite backup" if dialect == "sqlite" else "a pg_dump custom-format file"
        raise RestoreRefused(f"{file} is not {kind}, which a {dialect} database needs")


def _restore_sqlite(file: Path, target: Path) -> None:
    with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as src:
        verdict = src.execute("PRAGMA integrity_check").fetchone()
        if not verdict or verdict[0] != "ok":
            raise RestoreRefused(f"{file} fails SQLite's integrity check: {verdict}")
        has_schema = src.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        if not has_schema:
            raise RestoreRefused(f"{file} is a SQLite file but not a finagency database")
        target.parent.mkdir(parents=True, exist_ok=True)
        # The backup API writes into the live file page by page in one transaction: processes
        # that have it open see the old state or the new one, never a mix, and WAL stays sane.
        with sqlite3.connect(target) as dst:
            src.backup(dst)
        dst.close()
    src.close()


def restore_sync(url_text: str, file: Path) -> None:
    """Replace the database's content with the backup in ``file`` (all or nothing)."""
    url = make_url(url_text)
    dialect = _dialect(url)
    _check_kind(file, dialect)
    if dialect == "sqlite":
        _restore_sqlite(file, _sqlite_path(url))
        return
    conninfo, env = _libpq(url)
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={conninfo}",
            str(file),
        ],
        env,
        "pg_restore",
    )


def list_backups(directory: Path) -> list[Path]:
    """Complete backups in ``directory``, newest first (names sort by time)."""
    if not directory.is_dir():
        return []
    found = [
        path
        for path in directory.iterdir()
        if path.name.startswith(PREFIX) and path.suffix in (".db", ".dump") and path.is_file()
    ]
    return sorted(found, key=lambda path: path.name, reverse=True)


def prune_backups(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; returns what was deleted."""
    if keep < 1:
        raise BadRequest("retention must keep at least one backup")
    doomed = list_backups(directory)[keep:]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


async def _record(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    trigger: str,
    result: BackupResult | None,
    dialect: str,
    error: str | None = None,
) -> None:
    async with transaction(sessionmaker) as session:
        session.add(
            BackupRecord(
                at=utcnow(),
                path=str(result.path) if result else "",
                dialect=dialect,
                size_bytes=result.size_bytes if result else 0,
                sha256=result.sha256 if result else "",
                trigger=trigger,
                ok=result is not None,
                error=error,
            )
        )


async def run_backup(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    directory: Path | None = None,
    keep: int | None = None,
    trigger: str = "manual",
) -> tuple[BackupResult, list[Path]]:
    """Back up, record the outcome in the database, then apply retention."""
    target = directory or backup_dir(settings)
    dialect = _dialect(make_url(settings.db_url))
    try:
        result = await asyncio.to_thread(backup_sync, settings.db_url, target)
    except Exception as error:
        await _record(sessionmaker, trigger=trigger, result=None, dialect=dialect, error=str(error))
        raise
    await _record(sessionmaker, trigger=trigger, result=result, dialect=dialect)
    pruned = prune_backups(target, keep if keep is not None else settings.backup.keep)
    log.info(
        "backup.done",
        path=str(result.path),
        size_bytes=result.size_bytes,
        pruned=[path.name for path in pruned],
    )
    return result, pruned


async def restore(settings: Settings, file: Path) -> None:
    await asyncio.to_thread(restore_sync, settings.db_url, file)


async def backup_task(ctx: JobContext) -> None:
    settings: Settings = ctx.services.settings
    await run_backup(settings, ctx.sessionmaker, trigger="scheduled")


TASKS = [Task(BACKUP_TASK, backup_task, queue="default", max_attempts=3, timeout_seconds=3600)]
