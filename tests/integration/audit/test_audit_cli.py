"""`finagency audit verify | export | prune | hold` against a real database."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner, Result

from finagency.audit import service as audit
from finagency.cli.main import app
from finagency.core.db import create_engine, create_sessionmaker, transaction
from finagency.core.time import utcnow
from finagency.models import AuditEvent

YEAR = timedelta(days=366)


def _run(database_url: str, *args: str) -> Result:
    env = {"FINAGENCY_DATABASE_URL": database_url, "FINAGENCY_REDIS_URL": ""}
    return CliRunner().invoke(app, ["audit", *args], env=env)


def _seed(database_url: str, ages: list[timedelta]) -> list[int]:
    async def main() -> list[int]:
        engine = create_engine(database_url)
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                now = utcnow()
                return [
                    (
                        await audit.record(
                            session,
                            actor="user:1",
                            action="post.published",
                            object_type="post",
                            object_id=n,
                            at=now - age,
                        )
                    ).id
                    for n, age in enumerate(ages)
                ]
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _tamper(database_url: str, event_id: int) -> None:
    async def main() -> None:
        engine = create_engine(database_url)
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                await session.execute(
                    update(AuditEvent).where(AuditEvent.id == event_id).values(actor="user:666")
                )
        finally:
            await engine.dispose()

    asyncio.run(main())


def test_hold_prune_export_and_verify(database_url: str, tmp_path: Path) -> None:
    ids = _seed(database_url, [10 * YEAR, 9 * YEAR, timedelta(days=1), timedelta(0)])

    held = _run(database_url, "hold", "set", "--reason", "subpoena 42")
    assert held.exit_code == 0, held.output
    blocked = _run(database_url, "prune")
    assert blocked.exit_code == 0, blocked.output
    assert "pruned 0 events" in blocked.output and "legal hold" in blocked.output
    listed = _run(database_url, "hold", "list")
    assert "subpoena 42" in listed.output

    assert _run(database_url, "hold", "release", "1", "--note", "closed").exit_code == 0
    dry = _run(database_url, "prune", "--dry-run")
    assert "would prune 2 events" in dry.output
    pruned = _run(database_url, "prune")
    assert f"pruned 2 events through event {ids[1]}" in pruned.output

    verified = _run(database_url, "verify")
    assert verified.exit_code == 0, verified.output
    assert f"pruned through event {ids[1]}" in verified.output

    archive = tmp_path / "audit.jsonl"
    exported = _run(database_url, "export", "--output", str(archive))
    assert exported.exit_code == 0, exported.output
    records = [json.loads(line) for line in archive.read_text().splitlines()]
    assert [r["id"] for r in records][:2] == ids[2:]
    assert all("retention_until" in r and r["legal_hold"] is False for r in records)

    _tamper(database_url, ids[3])
    broken = _run(database_url, "verify")
    assert broken.exit_code == 1
    assert f"at event {ids[3]}" in broken.output and "altered" in broken.output
