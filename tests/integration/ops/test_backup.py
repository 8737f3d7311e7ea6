"""`finagency backup` / `restore`: after losing the database, a restore brings back every post,
job and audit event, and the audit chain still verifies (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from tests.support.legacy import write_legacy_set
from typer.testing import CliRunner

from finagency.audit import service as audit
from finagency.cli.main import app as cli
from finagency.config import BackupSettings, Settings
from finagency.core.db import create_engine, create_sessionmaker, transaction
from finagency.core.time import utcnow
from finagency.models import AuditEvent, BackupRecord, Brand, Job, Post
from finagency.ops import backup as backups
from finagency.ops.legacy_import import import_files
from finagency.ops.legacy_mapping import load_mapping
from finagency.queue import Notifier
from finagency.queue.scheduler import fire_due
from finagency.runtime import build_registry, build_worker, open_services, recurring_jobs

MAPPING = Path(__file__).resolve().parents[3] / "deploy" / "legacy-mapping.example.yaml"

State = tuple[list[tuple[int, str, str]], list[tuple[int, str, str]], list[tuple[int, str]]]


async def seed(url: str, workdir: Path) -> None:
    """Posts, publish jobs and audit events, as a real agency would have them."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    async with transaction(sessionmaker) as session:
        brand = Brand(slug="northwind", name="Northwind Capital")
        session.add(brand)
        await session.flush()
        await audit.record(
            session, actor="cli", action="brand.created", object_type="brand", object_id=brand.id
        )
    legacy = write_legacy_set(workdir / "legacy")
    await import_files(
        sessionmaker, load_mapping(MAPPING), [legacy.agency, legacy.queue, legacy.engagement]
    )
    await engine.dispose()


async def snapshot(url: str) -> State:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        posts = [
            tuple(row)
            for row in await session.execute(
                select(Post.id, Post.status, Post.content_hash).order_by(Post.id)
            )
        ]
        jobs = [
            tuple(row)
            for row in await session.execute(select(Job.id, Job.task, Job.state).order_by(Job.id))
        ]
        events = [
            tuple(row)
            for row in await session.execute(
                select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id)
            )
        ]
    await engine.dispose()
    return posts, jobs, events  # type: ignore[return-value]


async def chain_ok(url: str) -> bool:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        report = await audit.verify_chain(session)
    await engine.dispose()
    return report.ok and report.checked > 0


def wipe(url: str) -> None:
    """Lose the database: the SQLite file is deleted, the PostgreSQL schema dropped."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


async def test_restore_after_losing_the_database_brings_back_everything(
    database_url: str, tmp_path: Path
) -> None:
    await seed(database_url, tmp_path)
    before = await snapshot(database_url)
    posts, jobs, events = before
    assert posts and jobs and len(events) >= 4

    settings = Settings(database_url=database_url, data_dir=tmp_path)
    engine = create_engine(database_url)
    result, _ = await backups.run_backup(
        settings, create_sessionmaker(engine), directory=tmp_path / "backups"
    )
    await engine.dispose()
    assert result.path.exists() and result.size_bytes > 0

    wipe(database_url)
    await backups.restore(settings, result.path)

    assert await snapshot(database_url) == before
    assert await chain_ok(database_url)


async def test_retention_keeps_the_newest_backups(database_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, data_dir=tmp_path, backup=BackupSettings(keep=2))
    engine = create_engine(database_url)
    sessionmaker = create_sessionmaker(engine)
    made = [(await backups.run_backup(settings, sessionmaker))[0].path for _ in range(3)]
    async with sessionmaker() as session:
        records = (await session.scalars(select(BackupRecord).order_by(BackupRecord.id))).all()
    await engine.dispose()
    assert backups.list_backups(tmp_path / "backups") == [made[2], made[1]]
    assert [record.ok for record in records] == [True, True, True]
    assert records[-1].sha256 == hashlib.sha256(made[2].read_bytes()).hexdigest()


async def test_a_file_that_is_not_a_backup_is_refused_and_changes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    await seed(database_url, tmp_path)
    before = await snapshot(database_url)
    bogus = tmp_path / "finagency-20260101T000000000000Z.db"
    bogus.write_text("not a database")
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    with pytest.raises(backups.RestoreRefused):
        await backups.restore(settings, bogus)
    with pytest.raises(backups.RestoreRefused):
        await backups.restore(settings, tmp_path / "missing.dump")
    assert await snapshot(database_url) == before


async def test_the_scheduled_backup_runs_on_a_worker(database_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    backup_job = next(job for job in recurring_jobs(settings) if job.name == "backup")
    async with open_services(settings, Notifier()) as services:
        registry = build_registry(settings)
        async with transaction(services.sessionmaker) as session:
            assert await fire_due(session, registry, backup_job, utcnow()) is not None
        worker = build_worker(services, registry, Notifier(), queues=["default"])
        await worker.run_until_idle()
        async with services.read_sessionmaker() as session:
            record = await session.scalar(select(BackupRecord))
    assert record is not None and record.trigger == "scheduled" and record.ok
    assert backups.list_backups(tmp_path / "backups") == [Path(record.path)]
    off = Settings(database_url=database_url, backup=BackupSettings(every_hours=0))
    assert "backup" not in {job.name for job in recurring_jobs(off)}


def test_cli_backup_restore_and_audit_verify(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(seed(database_url, tmp_path))
    before = asyncio.run(snapshot(database_url))
    monkeypatch.setenv("FINAGENCY_DATABASE_URL", database_url)
    monkeypatch.setenv("FINAGENCY_DATA_DIR", str(tmp_path))
    runner = CliRunner()

    made = runner.invoke(cli, ["backup", "--output", str(tmp_path / "out")])
    assert made.exit_code == 0, made.output
    file = Path(made.stdout.strip().splitlines()[-1])
    assert file.parent == tmp_path / "out" and file.exists()

    wipe(database_url)
    refused = runner.invoke(cli, ["restore", str(file)], input="n\n")
    assert refused.exit_code != 0  # asked first; "no" leaves the (empty) database alone
    restored = runner.invoke(cli, ["restore", "--yes", str(file)])
    assert restored.exit_code == 0, restored.output
    assert asyncio.run(snapshot(database_url)) == before
    verified = runner.invoke(cli, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "audit chain intact" in verified.output
