"""The weekly report: last week against the week before, stored once and sent by webhook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from report_support import seed_history
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.core.crypto import SecretBox
from finagency.models import Brand, Job, StoredReport, WebhookDelivery
from finagency.models.metrics import HOUR
from finagency.reports import history as metric_history
from finagency.reports import service
from finagency.webhooks.service import create_endpoint

BOX = SecretBox("weekly-report-test-secret-key-0123456789")


async def test_weekly_report_is_stored_and_sent_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # A Wednesday: last week is the Monday nine days before to the Sunday three days before.
    now = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    async with sessionmaker() as session:
        seeded = await seed_history(session, now - timedelta(days=4))
        quiet = Brand(slug="quiet", name="Quiet Brand")
        session.add(quiet)
        await metric_history.backfill(session, seeded.start, seeded.end, seconds=HOUR)
        await create_endpoint(
            session,
            BOX,
            brand_id=seeded.brand_id,
            url="https://hooks.example.com/finagency",
            events=["report.ready"],
        )
        made = await service.weekly_reports(session, now, public_url="https://ops.example.com/")
        again = await service.weekly_reports(session, now, public_url="https://ops.example.com/")
        await session.commit()

    assert again == []
    assert {report.scope_key for report in made} == {seeded.brand_id, quiet.id}
    async with sessionmaker() as session:
        stored = (
            await session.execute(
                select(StoredReport).where(StoredReport.scope_key == seeded.brand_id)
            )
        ).scalar_one()
        deliveries = (await session.execute(select(WebhookDelivery))).scalars().all()
        jobs = (
            (await session.execute(select(Job).where(Job.task == "webhooks.deliver")))
            .scalars()
            .all()
        )
        quiet_report = (
            await session.execute(select(StoredReport).where(StoredReport.scope_key == quiet.id))
        ).scalar_one()

    assert stored.kind == "weekly"
    assert stored.period_start == datetime(2026, 11, 16, tzinfo=UTC)
    assert stored.period_end == datetime(2026, 11, 23, tzinfo=UTC)
    assert stored.compare_start == datetime(2026, 11, 9, tzinfo=UTC)
    published = sum(len(lags) for lags in seeded.before.values()) + sum(
        len(lags) for lags in seeded.after.values()
    )
    assert stored.summary["after"]["Posts published"] == published
    assert "| Posts published |" in stored.markdown
    assert stored.delivery == "queued to 1 endpoints"
    assert quiet_report.delivery == "no_endpoint"
    assert [d.event for d in deliveries] == ["report.ready"]
    data = deliveries[0].payload["data"]
    assert data["report_id"] == stored.id
    assert data["url"] == f"https://ops.example.com/reports/{stored.id}"
    assert len(jobs) == 1
