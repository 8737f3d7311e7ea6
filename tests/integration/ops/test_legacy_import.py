"""`finagency import`: legacy SQLite files of the seed system's shape come in once, whole, and
with every bad row named by file and row."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.support.legacy import LegacySet, write_legacy_set
from typer.testing import CliRunner

from finagency.audit.service import verify_chain
from finagency.cli.main import app as cli
from finagency.core.db import create_engine, create_sessionmaker, transaction
from finagency.models import (
    Account,
    AuditEvent,
    Brand,
    ContentItem,
    EngagementSnapshot,
    ImportLedger,
    Job,
    Post,
)
from finagency.ops import legacy_import
from finagency.ops.legacy_import import import_files
from finagency.ops.legacy_mapping import ImportMappingError, Mapping, load_mapping
from finagency.publishing.service import PUBLISH_TASK

EXAMPLE_MAPPING = Path(__file__).resolve().parents[3] / "deploy" / "legacy-mapping.example.yaml"
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def legacy(tmp_path: Path) -> LegacySet:
    return write_legacy_set(tmp_path / "legacy")


@pytest.fixture
def mapping() -> Mapping:
    return load_mapping(EXAMPLE_MAPPING)


@pytest.fixture
async def brand_id(sessionmaker: Sessions) -> int:
    async with transaction(sessionmaker) as session:
        brand = Brand(slug="northwind", name="Northwind Capital")
        session.add(brand)
        await session.flush()
        return brand.id


async def counts(sessionmaker: Sessions) -> dict[str, int]:
    async with sessionmaker() as session:
        result = {}
        for name, model in (
            ("content", ContentItem),
            ("posts", Post),
            ("jobs", Job),
            ("engagement", EngagementSnapshot),
            ("ledger", ImportLedger),
            ("audit", AuditEvent),
        ):
            result[name] = int(await session.scalar(select(func.count()).select_from(model)) or 0)
        return result


def legacy_rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(query).fetchall()
    connection.close()
    return rows


async def test_import_brings_everything_once_and_names_bad_rows(
    sessionmaker: Sessions, brand_id: int, legacy: LegacySet, mapping: Mapping
) -> None:
    files = [legacy.engagement, legacy.queue, legacy.agency]  # any order: the mapping's wins
    reports = await import_files(sessionmaker, mapping, files)

    assert [report.file for report in reports] == [
        "agency.db",
        "posting_queue.db",
        "engagement_tracking.db",
    ]
    assert all(report.committed for report in reports)
    bad = {(row.file, row.table, row.key) for report in reports for row in report.bad_rows}
    assert bad == set(legacy.bad)
    reasons = " ".join(row.error for report in reports for row in report.bad_rows)
    assert "myspace" in reasons and "next tuesday" in reasons

    pending = legacy_rows(
        legacy.queue,
        "SELECT count(*) FROM posting_queue WHERE status IN ('pending', 'processing') "
        "AND platform != 'myspace' AND scheduled_time != 'next tuesday'",
    )[0][0]
    after = await counts(sessionmaker)
    assert after["content"] == legacy.content_rows
    assert after["posts"] == legacy.queue_rows
    assert after["jobs"] == pending
    assert after["engagement"] == legacy.engagement_rows

    async with sessionmaker() as session:
        # A legacy "posted" row keeps its URL and lands as published, linked to its content.
        posted_id, posted_url = legacy_rows(
            legacy.queue, "SELECT id, post_url FROM posting_queue WHERE status = 'posted' LIMIT 1"
        )[0]
        post_id = await session.scalar(
            select(ImportLedger.target_id).where(
                ImportLedger.source == "posting_queue", ImportLedger.source_key == str(posted_id)
            )
        )
        post = await session.get(Post, post_id)
        assert post is not None
        assert (post.status, post.external_url, post.brand_id) == (
            "published",
            posted_url,
            brand_id,
        )
        content = await session.get(ContentItem, post.content_item_id)
        assert content is not None and content.title.startswith("Note ")
        # Pending items are on the publish queue, due at their legacy time (read in New York).
        job = await session.scalar(select(Job).where(Job.task == PUBLISH_TASK).limit(1))
        assert job is not None and job.brand_id == brand_id and job.unique_key
        queued = await session.get(Post, job.args["post_id"])
        assert queued is not None and queued.status == "scheduled"
        assert job.run_at == queued.scheduled_at
        handles = set((await session.scalars(select(Account.handle))).all())
        assert handles <= {"northwindcap", "northwind-capital", "@northwind_markets"}
        assert (await verify_chain(session)).ok

    again = await import_files(sessionmaker, mapping, files)
    assert sum(table.imported for report in again for table in report.tables) == 0
    assert sum(table.already_imported for report in again for table in report.tables) == (
        legacy.content_rows + legacy.queue_rows + legacy.engagement_rows
    )
    repeat = await counts(sessionmaker)
    assert {key: repeat[key] for key in repeat if key != "audit"} == {
        key: after[key] for key in after if key != "audit"
    }


async def test_new_legacy_rows_are_picked_up_by_the_next_run(
    sessionmaker: Sessions, brand_id: int, legacy: LegacySet, mapping: Mapping
) -> None:
    await import_files(sessionmaker, mapping, [legacy.agency, legacy.queue])
    with sqlite3.connect(legacy.queue) as connection:
        connection.execute(
            "INSERT INTO posting_queue (id, content_id, platform, post_text, status) "
            "VALUES (9001, NULL, 'linkedin', 'Written after the first import', 'posted')"
        )
    connection.close()
    before = await counts(sessionmaker)
    reports = await import_files(sessionmaker, mapping, [legacy.queue])
    assert reports[0].tables[0].imported == 1
    after = await counts(sessionmaker)
    assert after["posts"] == before["posts"] + 1
    assert after["content"] == before["content"] + 1  # a post without content gets its own


async def test_dry_run_reports_exactly_and_writes_nothing(
    sessionmaker: Sessions, brand_id: int, legacy: LegacySet, mapping: Mapping
) -> None:
    before = await counts(sessionmaker)
    files = [legacy.agency, legacy.queue, legacy.engagement]
    dry = await import_files(sessionmaker, mapping, files, dry_run=True)
    assert await counts(sessionmaker) == before
    assert not any(report.committed for report in dry)

    real = await import_files(sessionmaker, mapping, files)
    assert [[vars(t) for t in r.tables] for r in dry] == [[vars(t) for t in r.tables] for r in real]


async def test_strict_refuses_a_file_with_bad_rows_whole(
    sessionmaker: Sessions, brand_id: int, legacy: LegacySet, mapping: Mapping
) -> None:
    reports = await import_files(sessionmaker, mapping, [legacy.queue], strict=True)
    assert reports[0].refused and not reports[0].committed
    after = await counts(sessionmaker)
    assert (after["posts"], after["jobs"], after["ledger"], after["content"]) == (0, 0, 0, 0)


async def test_a_file_failing_half_way_leaves_nothing_of_it(
    sessionmaker: Sessions,
    brand_id: int,
    legacy: LegacySet,
    mapping: Mapping,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(legacy_import, "BATCH", 10)  # several batches, the second one fails
    calls = 0

    def crash_on_second_batch(label: str, done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if label.startswith("posting_queue") and done > 10:
            raise RuntimeError("disk full")

    await import_files(sessionmaker, mapping, [legacy.agency])
    before = await counts(sessionmaker)
    with pytest.raises(RuntimeError, match="disk full"):
        await import_files(sessionmaker, mapping, [legacy.queue], progress=crash_on_second_batch)
    assert calls >= 2
    assert await counts(sessionmaker) == before


async def test_a_mapping_that_does_not_fit_the_files_is_refused_before_any_write(
    sessionmaker: Sessions, brand_id: int, legacy: LegacySet, tmp_path: Path
) -> None:
    text = EXAMPLE_MAPPING.read_text().replace("post_text", "message_body")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(text)
    with pytest.raises(ImportMappingError, match=r"posting_queue\.db.*message_body"):
        await import_files(
            sessionmaker, load_mapping(wrong), [legacy.agency, legacy.queue, legacy.engagement]
        )
    assert (await counts(sessionmaker))["content"] == 0

    stray = tmp_path / "notes.db"
    sqlite3.connect(stray).close()
    with pytest.raises(ImportMappingError, match=r"notes\.db: no 'files' entry"):
        await import_files(sessionmaker, load_mapping(EXAMPLE_MAPPING), [stray])

    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "brand: northwind\nfiles:\n  - match: '*.db'\n    tables:\n"
        "      - {table: t, into: post, key: id, fields: {text: a}}\n"
    )
    with pytest.raises(ImportMappingError, match="platform"):
        load_mapping(broken)

    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(EXAMPLE_MAPPING.read_text().replace("platform: x,", "platform: myspace,"))
    with pytest.raises(ImportMappingError, match="unknown platform 'myspace'"):
        load_mapping(unknown)


def test_cli_dry_run_then_import_with_a_json_report(
    database_url: str, legacy: LegacySet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def make_brand() -> None:
        engine = create_engine(database_url)
        async with transaction(create_sessionmaker(engine)) as session:
            session.add(Brand(slug="northwind", name="Northwind Capital"))
        await engine.dispose()

    asyncio.run(make_brand())
    monkeypatch.setenv("FINAGENCY_DATABASE_URL", database_url)
    monkeypatch.setenv("FINAGENCY_DATA_DIR", str(tmp_path))
    files = [str(legacy.agency), str(legacy.queue), str(legacy.engagement)]
    report = tmp_path / "report.json"
    runner = CliRunner()

    dry = runner.invoke(cli, ["import", "--mapping", str(EXAMPLE_MAPPING), "--dry-run", *files])
    assert dry.exit_code == 3, dry.output  # bad rows exist: scripts notice
    assert "dry run" in dry.output and "next tuesday" in dry.output

    real = runner.invoke(
        cli, ["import", "--mapping", str(EXAMPLE_MAPPING), "--report", str(report), *files]
    )
    assert real.exit_code == 3, real.output
    written = json.loads(report.read_text())
    assert [entry["committed"] for entry in written] == [True, True, True]
    bad = {(row["file"], row["table"], row["key"]) for e in written for row in e["bad_rows"]}
    assert bad == set(legacy.bad)
