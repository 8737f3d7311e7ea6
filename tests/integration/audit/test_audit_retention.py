"""Retention and legal hold: pruning removes only what may go, and the chain still verifies."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.audit import retention
from finagency.audit import service as audit
from finagency.brands import service as brands
from finagency.core.db import transaction
from finagency.core.time import utcnow
from finagency.models import AuditCheckpoint, AuditEvent, Brand

Sessions = async_sessionmaker[AsyncSession]
YEAR = timedelta(days=366)


async def _brand(sessionmaker: Sessions, slug: str, regime: str = "default") -> int:
    async with transaction(sessionmaker) as session:
        brand = await brands.create_brand(session, slug=slug, name=slug.title())
        brand.regime = regime
        return brand.id


async def _events(
    sessionmaker: Sessions, brand_id: int | None, ages: list[timedelta], now: datetime
) -> list[int]:
    async with transaction(sessionmaker) as session:
        return [
            (
                await audit.record(
                    session,
                    actor="user:1",
                    action="post.approved",
                    object_type="post",
                    object_id=index,
                    brand_id=brand_id,
                    data={"n": index},
                    at=now - age,
                )
            ).id
            for index, age in enumerate(ages)
        ]


async def _ids(session: AsyncSession) -> list[int]:
    return list((await session.scalars(select(AuditEvent.id).order_by(AuditEvent.id))).all())


async def test_prune_removes_only_events_past_retention_and_the_chain_still_verifies(
    sessionmaker: Sessions,
) -> None:
    now = utcnow()
    brand_id = await _brand(sessionmaker, "acme")
    old = await _events(sessionmaker, brand_id, [9 * YEAR, 8 * YEAR], now)
    young = await _events(sessionmaker, brand_id, [6 * YEAR, YEAR], now)

    async with transaction(sessionmaker) as session:
        result = await retention.prune(session, now=now, actor="test")

    assert (result.pruned, result.through_id, result.stopped_by) == (2, old[-1], "retention")
    async with sessionmaker() as session:
        remaining = await _ids(session)
        report = await audit.verify_chain(session)
        pruned_event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == audit.PRUNED_ACTION)
        )
    assert remaining[:2] == young and old[0] not in remaining
    assert report.ok, report.problem
    assert report.pruned_through_id == old[-1]
    assert pruned_event is not None and pruned_event.data["pruned"] == 2

    # Appending after a prune, and pruning again with nothing due, keep the chain whole.
    await _events(sessionmaker, brand_id, [timedelta(0)], now)
    async with transaction(sessionmaker) as session:
        again = await retention.prune(session, now=now)
    async with sessionmaker() as session:
        assert again.pruned == 0
        assert (await audit.verify_chain(session)).ok


async def test_a_legal_hold_stops_pruning_until_it_is_released(sessionmaker: Sessions) -> None:
    now = utcnow()
    held = await _brand(sessionmaker, "held")
    free = await _brand(sessionmaker, "free")
    free_first = await _events(sessionmaker, free, [10 * YEAR], now)
    held_events = await _events(sessionmaker, held, [9 * YEAR, 9 * YEAR], now)
    await _events(sessionmaker, free, [8 * YEAR], now)
    async with transaction(sessionmaker) as session:
        hold = await retention.set_legal_hold(
            session, brand_id=held, reason="SEC inquiry 2026-17", actor="user:1", now=now
        )

    async with transaction(sessionmaker) as session:
        first = await retention.prune(session, now=now)
    # Only the event before the held brand's first one may go: the chain is cut at a prefix.
    assert (first.pruned, first.stopped_by) == (1, "legal hold")
    async with sessionmaker() as session:
        remaining = await _ids(session)
        assert free_first[0] not in remaining and set(held_events) <= set(remaining)
        assert (await audit.verify_chain(session)).ok

    async with transaction(sessionmaker) as session:
        await retention.release_legal_hold(session, hold.id, actor="user:1", now=now)
    async with transaction(sessionmaker) as session:
        second = await retention.prune(session, now=now)
    async with sessionmaker() as session:
        remaining = await _ids(session)
        actions = list((await session.scalars(select(AuditEvent.action))).all())
        report = await audit.verify_chain(session)
    assert (second.pruned, second.stopped_by) == (3, "retention")  # held pair + later free one
    assert not set(held_events) & set(remaining)
    assert "legal_hold.set" in actions and "legal_hold.released" in actions
    assert report.ok, report.problem


async def test_an_agency_wide_hold_keeps_everything(sessionmaker: Sessions) -> None:
    now = utcnow()
    brand_id = await _brand(sessionmaker, "acme")
    await _events(sessionmaker, brand_id, [12 * YEAR, 11 * YEAR], now)
    async with transaction(sessionmaker) as session:
        await retention.set_legal_hold(
            session, brand_id=None, reason="litigation hold", actor="cli", now=now
        )
        result = await retention.prune(session, now=now)
    async with sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(AuditEvent))
    assert (result.pruned, result.stopped_by) == (0, "legal hold")
    assert count == 3  # two events and the hold


async def test_retention_follows_the_regime_and_never_goes_below_its_minimum(
    sessionmaker: Sessions,
) -> None:
    now = utcnow()
    short = await _brand(sessionmaker, "short", regime="us_finra_sec")
    async with transaction(sessionmaker) as session:
        brand = await session.get(Brand, short)
        assert brand is not None
        # Asking for 2 years on a FINRA brand still keeps 6 (FINRA 4511).
        brand.settings = {"retention_years": 2}
        assert retention.retention_years(brand) == 6
    await _events(sessionmaker, short, [7 * YEAR, 5 * YEAR, timedelta(0)], now)
    async with transaction(sessionmaker) as session:
        result = await retention.prune(session, now=now)
    assert (result.pruned, result.stopped_by) == (1, "retention")


async def test_the_newest_event_is_always_kept_as_the_chain_head(sessionmaker: Sessions) -> None:
    now = utcnow()
    ids = await _events(sessionmaker, None, [9 * YEAR, 8 * YEAR], now)
    async with transaction(sessionmaker) as session:
        result = await retention.prune(session, now=now)
    assert (result.pruned, result.stopped_by) == (1, "newest event")
    # On SQLite a deleted highest id would be reused; the kept head prevents that.
    await _events(sessionmaker, None, [timedelta(0)], now)
    async with sessionmaker() as session:
        remaining = await _ids(session)
        report = await audit.verify_chain(session)
    assert remaining[0] == ids[1] and len(remaining) == 3
    assert report.ok and report.checked == 3


async def test_a_forged_checkpoint_does_not_verify(sessionmaker: Sessions) -> None:
    now = utcnow()
    ids = await _events(sessionmaker, None, [timedelta(hours=3 - n) for n in range(4)], now)
    async with transaction(sessionmaker) as session:
        # Someone deletes the first two events and plants a checkpoint to hide it.
        second = await session.get(AuditEvent, ids[1])
        assert second is not None
        session.add(
            AuditCheckpoint(
                at=now, through_id=ids[1], through_hash=second.hash, pruned=2, actor="x"
            )
        )
        await session.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids[:2])))
    async with sessionmaker() as session:
        report = await audit.verify_chain(session)
    assert not report.ok
    assert "checkpoint" in report.problem


async def test_a_removed_event_is_named_and_an_altered_one_after_a_prune_too(
    sessionmaker: Sessions,
) -> None:
    now = utcnow()
    await _events(sessionmaker, None, [9 * YEAR], now)
    ids = await _events(sessionmaker, None, [timedelta(hours=5 - n) for n in range(5)], now)
    async with transaction(sessionmaker) as session:
        await retention.prune(session, now=now)
    async with transaction(sessionmaker) as session:
        await session.execute(delete(AuditEvent).where(AuditEvent.id == ids[2]))
    async with sessionmaker() as session:
        removed = await audit.verify_chain(session)
    assert not removed.ok
    assert (removed.first_bad_id, removed.last_good_id) == (ids[3], ids[1])
    assert f"event {ids[2]} was removed" in removed.problem

    async with transaction(sessionmaker) as session:
        await session.execute(update(AuditEvent).where(AuditEvent.id == ids[0]).values(note="x"))
    async with sessionmaker() as session:
        altered = await audit.verify_chain(session)
    assert (altered.ok, altered.first_bad_id) == (False, ids[0])
    assert "altered" in altered.problem


async def test_export_carries_retention_and_hold(sessionmaker: Sessions) -> None:
    now = utcnow()
    held = await _brand(sessionmaker, "held", regime="uk_fca")
    await _events(sessionmaker, held, [YEAR], now)
    async with transaction(sessionmaker) as session:
        await retention.set_legal_hold(
            session, brand_id=held, reason="FCA request", actor="user:1", now=now
        )
    async with sessionmaker() as session:
        view = await retention.retention_view(session)
        lines = [
            json.loads(line)
            async for line in audit.export_jsonl(session, brand_id=held, annotate=view.annotate)
        ]
    assert [line["action"] for line in lines] == ["post.approved", "legal_hold.set"]
    first = lines[0]
    assert first["legal_hold"] is True
    kept_until = datetime.fromisoformat(first["retention_until"])
    assert now + 5 * YEAR < kept_until < now + 6 * YEAR + YEAR  # default 7 years from the event
    assert {"prev_hash", "hash", "actor", "data"} <= set(first)


async def test_the_daily_job_prunes_through_the_queue(database_url: str) -> None:
    from finagency.audit.tasks import PRUNE_AUDIT_TASK
    from finagency.config import Settings
    from finagency.queue import Notifier, enqueue
    from finagency.runtime import build_registry, build_worker, open_services

    settings = Settings(database_url=database_url, secret_key="audit-retention-test-secret")
    async with open_services(settings, Notifier()) as services:
        now = utcnow()
        brand_id = await _brand(services.sessionmaker, "acme")
        old = await _events(services.sessionmaker, brand_id, [8 * YEAR, timedelta(0)], now)
        async with transaction(services.sessionmaker) as session:
            await enqueue(session, PRUNE_AUDIT_TASK, {})
        await build_worker(services, build_registry(), Notifier()).run_until_idle()
        async with services.read_sessionmaker() as session:
            remaining = await _ids(session)
            report = await audit.verify_chain(session)
    assert old[0] not in remaining
    assert report.ok and report.pruned_through_id == old[0]
