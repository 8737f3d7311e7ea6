"""Bring posts, queue items, content and engagement in from a legacy system's SQLite files.

A YAML mapping says which legacy table becomes which finagency record and which column fills
which field (``deploy/legacy-mapping.example.yaml``). Each legacy file is imported in one
transaction: a file is either in completely or not at all. Every imported row is written to a
ledger (``import_ledger``), so running the same import again adds only rows that are new in the
legacy files. A dry run does all the work and rolls it back, so its report is exact.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert, select
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.audit import service as audit
from finagency.core.errors import NotFound
from finagency.core.time import utcnow
from finagency.models import (
    Account,
    Brand,
    ContentItem,
    EngagementSnapshot,
    ImportLedger,
    ImportRun,
    Job,
    JobState,
    Post,
    PostStatus,
)
from finagency.ops.legacy_mapping import (
    COUNTS,
    DATETIMES,
    REFS,
    FileSpec,
    Mapping,
    TableSpec,
    open_legacy,
    plan,
)
from finagency.publishing.service import PUBLISH_QUEUE, PUBLISH_TASK, publish_key

BATCH = 2000
MAX_REPORTED_BAD_ROWS = 1000
POST_STATUSES = frozenset(member.value for member in PostStatus)


@dataclass
class BadRow:
    file: str
    table: str
    row: int  # 1-based position in the table, in key order
    key: str
    error: str


@dataclass
class TableReport:
    table: str
    into: str
    read: int = 0
    imported: int = 0
    already_imported: int = 0
    bad: int = 0
    content_created: int = 0
    jobs_created: int = 0


@dataclass
class FileReport:
    file: str
    sha256: str
    tables: list[TableReport] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    committed: bool = False
    refused: str | None = None

    @property
    def bad(self) -> int:
        return sum(table.bad for table in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "committed": self.committed,
            "refused": self.refused,
            "tables": [vars(table) for table in self.tables],
            "bad_rows": [vars(row) for row in self.bad_rows[:MAX_REPORTED_BAD_ROWS]],
        }


class _RowError(ValueError):
    pass


Progress = Callable[[str, int, int], None]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parse_datetime(value: Any, zone: ZoneInfo) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    text = str(value).strip()
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError as error:
        raise _RowError(f"not a date and time: {text[:40]!r}") from error
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=zone)
    return stamp.astimezone(UTC)


class _Importer:
    """Imports one file's tables in the caller's session and transaction."""

    def __init__(
        self,
        session: AsyncSession,
        mapping: Mapping,
        brand: Brand,
        run_id: int,
        report: FileReport,
        progress: Progress | None,
    ) -> None:
        self.session = session
        self.mapping = mapping
        self.zone = mapping.zone()
        self.brand = brand
        self.run_id = run_id
        self.report = report
        self.progress = progress
        self._keys: dict[str, dict[str, int]] = {}
        self._accounts: dict[str, tuple[int, str]] = {}
        self._pairs: set[tuple[int, int]] | None = None

    async def ledger(self, source: str) -> dict[str, int]:
        """Legacy key -> finagency id of everything already imported from ``source``."""
        if source not in self._keys:
            rows = await self.session.execute(
                select(ImportLedger.source_key, ImportLedger.target_id).where(
                    ImportLedger.brand_id == self.brand.id, ImportLedger.source == source
                )
            )
            self._keys[source] = {str(key): int(target) for key, target in rows.all()}
        return self._keys[source]

    async def account(self, legacy_platform: str) -> tuple[int, str]:
        """The brand's account for a legacy platform value, created (unconnected) if missing."""
        if legacy_platform in self._accounts:
            return self._accounts[legacy_platform]
        spec = self.mapping.accounts.get(legacy_platform)
        if spec is None:
            raise _RowError(f"platform {legacy_platform!r} is not in the mapping's 'accounts'")
        account_id = await self.session.scalar(
            select(Account.id).where(
                Account.brand_id == self.brand.id,
                Account.platform == spec.platform,
                Account.handle == spec.handle,
            )
        )
        if account_id is None:
            account = Account(
                brand_id=self.brand.id,
                platform=spec.platform,
                handle=spec.handle,
                display_name=spec.handle,
                status="active",
            )
            self.session.add(account)
            await self.session.flush()
            account_id = account.id
        self._accounts[legacy_platform] = (account_id, spec.platform)
        return account_id, spec.platform

    async def pairs(self) -> set[tuple[int, int]]:
        """(content item, account) pairs the brand already has: a post is unique per pair."""
        if self._pairs is None:
            rows = await self.session.execute(
                select(Post.content_item_id, Post.account_id).where(Post.brand_id == self.brand.id)
            )
            self._pairs = {(content, account) for content, account in rows.all()}
        return self._pairs

    def value(self, table: TableSpec, name: str, row: sqlite3.Row) -> Any:
        if name not in table.fields:
            return None
        spec = table.spec(name)
        raw = row[spec.column] if spec.column else None
        if raw is None or raw == "":
            raw = spec.default
        if raw is None:
            return None
        if spec.values:
            text = str(raw)
            if text in spec.values:
                raw = spec.values[text]
            elif spec.default is not None:
                raw = spec.default
            else:
                raise _RowError(f"{name}: value {text!r} is not in the mapping's 'values'")
        if name in DATETIMES:
            return _parse_datetime(raw, self.zone)
        if name in COUNTS:
            try:
                count = int(raw)
            except (TypeError, ValueError) as error:
                raise _RowError(f"{name}: not a whole number: {str(raw)[:40]!r}") from error
            if count < 0:
                raise _RowError(f"{name}: negative count {count}")
            return count
        return raw if name in REFS else str(raw)

    async def run_table(self, path: Path, table: TableSpec, total: int) -> TableReport:
        result = TableReport(table=table.table, into=table.into)
        self.report.tables.append(result)
        seen = await self.ledger(table.name)
        connection = open_legacy(path)
        columns = ", ".join(f'"{column}"' for column in sorted(table.columns()))
        try:
            cursor = connection.execute(
                f'SELECT {columns} FROM "{table.table}" ORDER BY "{table.key}"'  # noqa: S608 - names checked against the file's schema
            )
            for batch in _batches(cursor):
                rows: list[tuple[int, str, sqlite3.Row]] = []
                for row in batch:
                    result.read += 1
                    key = str(row[table.key])
                    if key in seen:
                        result.already_imported += 1
                    else:
                        rows.append((result.read, key, row))
                await self._import_batch(path, table, rows, result, seen)
                if self.progress:
                    self.progress(f"{path.name}:{table.table}", result.read, total)
        finally:
            connection.close()
        return result

    def _bad(self, path: Path, table: TableSpec, number: int, key: str, error: str) -> None:
        self.report.bad_rows.append(BadRow(path.name, table.table, number, key, error))

    async def _import_batch(
        self,
        path: Path,
        table: TableSpec,
        rows: list[tuple[int, str, sqlite3.Row]],
        result: TableReport,
        seen: dict[str, int],
    ) -> None:
        builders = {
            "content": self._content_rows,
            "post": self._post_rows,
            "engagement": self._engagement_rows,
        }
        good: list[tuple[str, dict[str, Any]]] = []
        for number, key, row in rows:
            try:
                good.append((key, await builders[table.into](table, row)))
            except _RowError as error:
                result.bad += 1
                self._bad(path, table, number, key, str(error))
        if not good:
            return
        if table.into == "content":
            ids = await self._insert(ContentItem, [values for _, values in good])
            target_type = "content_item"
        elif table.into == "post":
            ids = await self._insert_posts(good, result)
            target_type = "post"
        else:
            ids = await self._insert(EngagementSnapshot, [values for _, values in good])
            target_type = "engagement_snapshot"
        await self.session.execute(
            insert(_table(ImportLedger)),
            [
                {
                    "brand_id": self.brand.id,
                    "source": table.name,
                    "source_key": key,
                    "target_type": target_type,
                    "target_id": target_id,
                    "run_id": self.run_id,
                }
                for (key, _), target_id in zip(good, ids, strict=True)
            ],
        )
        for (key, _), target_id in zip(good, ids, strict=True):
            seen[key] = target_id
        result.imported += len(good)

    async def _insert(self, model: type[Any], rows: list[dict[str, Any]]) -> list[int]:
        """Insert with ids taken up front, as one plain executemany.

        INSERT ... RETURNING in key order makes SQLAlchemy send SQLite one row at a time;
        reserving the ids first keeps it one batched statement on both databases.
        """
        table = _table(model)
        ids = await self._reserve_ids(table, len(rows))
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
        await self.session.execute(insert(table), rows)
        return ids

    async def _reserve_ids(self, table: Table, count: int) -> list[int]:
        if self.session.get_bind().dialect.name == "postgresql":
            # Drawn from the table's own sequence: safe with other writers at the same time.
            drawn = await self.session.scalars(
                sql(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
                ),
                {"table": table.name, "n": count},
            )
            return list(drawn)
        # SQLite: this transaction began IMMEDIATE and holds the only write lock until it ends,
        # so nobody else can take these ids in between.
        top = await self.session.scalar(select(func.max(table.c.id)))
        start = int(top or 0) + 1
        return list(range(start, start + count))

    async def _content_rows(self, table: TableSpec, row: sqlite3.Row) -> dict[str, Any]:
        text = self.value(table, "text", row)
        if not text:
            raise _RowError("text is empty")
        title = self.value(table, "title", row) or text[:80]
        return {
            "brand_id": self.brand.id,
            "kind": self.value(table, "kind", row) or "editorial",
            "title": title,
            "raw_output": text,
            "generator": "legacy_import",
            "created_at": self.value(table, "created_at", row) or utcnow(),
        }

    async def _post_rows(self, table: TableSpec, row: sqlite3.Row) -> dict[str, Any]:
        text = self.value(table, "text", row)
        if not text:
            raise _RowError("text is empty")
        platform_value = self.value(table, "platform", row)
        if not platform_value:
            raise _RowError("platform is empty")
        account_id, platform = await self.account(platform_value)
        status = self.value(table, "status", row) or PostStatus.DRAFT.value
        if status not in POST_STATUSES:
            raise _RowError(f"status {status!r} is not a finagency post status")
        content_id: int | None = None
        link = self.value(table, "content", row)
        if link is not None:
            ref = table.spec("content").ref or ""
            content_id = (await self.ledger(ref)).get(str(link))
        if content_id is not None and (content_id, account_id) in await self.pairs():
            raise _RowError(
                f"a post of content {link} for {platform} exists already (a legacy duplicate)"
            )
        values = {
            "brand_id": self.brand.id,
            "content_item_id": content_id,
            "account_id": account_id,
            "platform": platform,
            "text": text,
            "parts": [],
            "media": [],
            "status": status,
            "scheduled_at": self.value(table, "scheduled_at", row),
            "published_at": self.value(table, "published_at", row),
            "external_id": self.value(table, "external_id", row),
            "external_url": self.value(table, "external_url", row),
            "failure_reason": self.value(table, "failure_reason", row),
            "content_hash": hashlib.sha256(text.encode()).hexdigest(),
            "created_at": self.value(table, "created_at", row) or utcnow(),
            # Every row of one executemany must carry the same keys.
            "queued_at": None,
            "latest_at": None,
        }
        if content_id is not None:
            (await self.pairs()).add((content_id, account_id))
        return values

    async def _insert_posts(
        self, good: list[tuple[str, dict[str, Any]]], result: TableReport
    ) -> list[int]:
        # Posts that link to no imported content get a content item of their own.
        orphans = [values for _, values in good if values["content_item_id"] is None]
        if orphans:
            created = await self._insert(
                ContentItem,
                [
                    {
                        "brand_id": self.brand.id,
                        "kind": "editorial",
                        "title": values["text"][:80],
                        # The text lives on the post; the item only groups it.
                        "raw_output": "",
                        "generator": "legacy_import",
                        "created_at": values["created_at"],
                    }
                    for values in orphans
                ],
            )
            for values, content_id in zip(orphans, created, strict=True):
                values["content_item_id"] = content_id
            result.content_created += len(created)
        posts = [values for _, values in good]
        scheduled = [values for values in posts if values["status"] == PostStatus.SCHEDULED]
        now = utcnow()
        for values in scheduled:
            values["scheduled_at"] = values["scheduled_at"] or now
            values["queued_at"] = now
            values["latest_at"] = values["scheduled_at"] + timedelta(
                minutes=self.brand.max_lateness_minutes
            )
        ids = await self._insert(Post, posts)
        jobs = [
            {
                "task": PUBLISH_TASK,
                "queue": PUBLISH_QUEUE,
                "args": {"post_id": post_id},
                "state": JobState.AVAILABLE.value,
                "priority": 50,
                "run_at": values["scheduled_at"],
                "latest_at": values["latest_at"],
                "attempt": 0,
                "max_attempts": 6,
                "unique_key": publish_key(post_id),
                "brand_id": self.brand.id,
                "rate_key": f"account:{values['account_id']}",
                "errors": [],
                "rescues": 0,
                "created_at": now,
            }
            for values, post_id in zip(posts, ids, strict=True)
            if values["status"] == PostStatus.SCHEDULED
        ]
        if jobs:
            await self.session.execute(insert(_table(Job)), jobs)
            result.jobs_created += len(jobs)
        return ids

    async def _engagement_rows(self, table: TableSpec, row: sqlite3.Row) -> dict[str, Any]:
        link = self.value(table, "post", row)
        ref = table.spec("post").ref or ""
        post_id = (await self.ledger(ref)).get(str(link)) if link is not None else None
        if post_id is None:
            raise _RowError(f"post {link!r} was not imported from {ref!r}")
        return {
            "brand_id": self.brand.id,
            "post_id": post_id,
            "at": self.value(table, "at", row) or utcnow(),
            **{name: self.value(table, name, row) or 0 for name in sorted(COUNTS)},
        }


def _table(model: type[Any]) -> Table:
    """The Core table of a model: bulk inserts skip the ORM's per-object work."""
    return cast(Table, model.__table__)


def _batches(cursor: sqlite3.Cursor) -> Iterator[list[sqlite3.Row]]:
    while True:
        batch = cursor.fetchmany(BATCH)
        if not batch:
            return
        yield batch


def _count(path: Path, table: str) -> int:
    connection = open_legacy(path)
    try:
        return int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])  # noqa: S608 - checked by plan()
    finally:
        connection.close()


async def _import_file(
    session: AsyncSession,
    mapping: Mapping,
    brand_id: int,
    path: Path,
    spec: FileSpec,
    report: FileReport,
    *,
    strict: bool,
    actor: str,
    progress: Progress | None,
) -> None:
    """Import one file's tables in ``session``; sets ``report.refused`` under --strict."""
    brand = await session.get(Brand, brand_id)
    assert brand is not None
    run = ImportRun(
        brand_id=brand_id, file_name=path.name, file_sha256=report.sha256, started_at=utcnow()
    )
    session.add(run)
    await session.flush()
    importer = _Importer(session, mapping, brand, run.id, report, progress)
    for table in spec.tables:
        await importer.run_table(path, table, _count(path, table.table))
    if strict and report.bad:
        report.refused = f"{report.bad} bad row(s) and --strict"
    run.finished_at = utcnow()
    run.rows_read = sum(table.read for table in report.tables)
    run.rows_imported = sum(table.imported for table in report.tables)
    run.rows_skipped = sum(table.already_imported + table.bad for table in report.tables)
    run.report = report.as_dict()
    await audit.record(
        session,
        actor=actor,
        action="legacy.imported",
        object_type="import_run",
        object_id=run.id,
        brand_id=brand_id,
        data={
            "file": path.name,
            "sha256": report.sha256,
            "imported": run.rows_imported,
            "skipped": run.rows_skipped,
        },
    )


async def import_files(
    sessionmaker: async_sessionmaker[AsyncSession],
    mapping: Mapping,
    files: list[Path],
    *,
    dry_run: bool = False,
    strict: bool = False,
    actor: str = "cli",
    progress: Progress | None = None,
) -> list[FileReport]:
    """Import each file in its own transaction; returns one report per file.

    ``strict``: a file with any bad row is refused whole. Otherwise bad rows are skipped and
    reported, and a later run (after fixing them in the legacy file) picks them up.
    ``dry_run``: all files in one transaction that is rolled back at the end, so that links
    between files (engagement of imported posts) resolve in the report as they would for real.
    """
    ordered = plan(mapping, files)
    async with sessionmaker() as session:
        brand_id = await session.scalar(select(Brand.id).where(Brand.slug == mapping.brand))
    if brand_id is None:
        raise NotFound(f"no brand with slug {mapping.brand!r}; create it first")
    reports: list[FileReport] = []
    async with sessionmaker() as session:
        try:
            for path, spec in ordered:
                report = FileReport(file=path.name, sha256=_sha256(path))
                reports.append(report)
                # A savepoint per file: a refused file is undone alone (dry run included).
                savepoint = await session.begin_nested()
                await _import_file(
                    session,
                    mapping,
                    brand_id,
                    path,
                    spec,
                    report,
                    strict=strict,
                    actor=actor,
                    progress=progress,
                )
                if report.refused:
                    await savepoint.rollback()
                    continue
                await savepoint.commit()
                if not dry_run:
                    await session.commit()
                    report.committed = True
        finally:
            await session.rollback()
    return reports
