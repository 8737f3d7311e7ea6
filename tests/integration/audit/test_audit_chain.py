"""The audit trail notices any edit, deletion or reordering, and names the first bad event."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.audit import service as audit
from finagency.core.db import transaction
from finagency.models import AuditEvent

Sessions = async_sessionmaker[AsyncSession]


async def _record_five(sessionmaker: Sessions) -> list[int]:
    async with transaction(sessionmaker) as session:
        events = [
            await audit.record(
                session,
                actor="user:1",
                action="post.approved",
                object_type="post",
                object_id=n,
                data={"n": n},
            )
            for n in range(5)
        ]
        return [event.id for event in events]


async def test_an_untouched_chain_verifies(sessionmaker: Sessions) -> None:
    await _record_five(sessionmaker)
    async with sessionmaker() as session:
        report = await audit.verify_chain(session)
    assert (report.ok, report.checked) == (True, 5)


async def test_an_altered_event_is_named(sessionmaker: Sessions) -> None:
    ids = await _record_five(sessionmaker)
    async with transaction(sessionmaker) as session:
        # Someone with database access quietly changes who approved post 2.
        await session.execute(
            update(AuditEvent).where(AuditEvent.id == ids[2]).values(actor="user:9")
        )
    async with sessionmaker() as session:
        report = await audit.verify_chain(session)
    assert not report.ok
    assert report.first_bad_id == ids[2]
    assert "altered" in report.problem


async def test_a_deleted_event_breaks_the_chain_after_it(sessionmaker: Sessions) -> None:
    ids = await _record_five(sessionmaker)
    async with transaction(sessionmaker) as session:
        await session.execute(delete(AuditEvent).where(AuditEvent.id == ids[1]))
    async with sessionmaker() as session:
        report = await audit.verify_chain(session)
        lines = [line async for line in audit.export_jsonl(session)]
        remaining = list((await session.execute(select(AuditEvent.id))).scalars())
    assert not report.ok
    assert report.first_bad_id == ids[2]
    assert "removed" in report.problem
    assert len(lines) == len(remaining) == 4
