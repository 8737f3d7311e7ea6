"""The reports' jobs: roll metrics into history every 5 minutes, and the weekly report."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import select

from finagency.core.cache import cache_hit_rate
from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.models import LIVE_STATES, Job
from finagency.models.metrics import FIVE_MINUTES
from finagency.queue import JobContext, RecurringJob, Snooze, Task
from finagency.reports import demo_history, history
from finagency.reports.measure import bucket_floor
from finagency.reports.service import weekly_reports

log = structlog.get_logger(__name__)

ROLLUP_TASK = "reports.rollup_metrics"
WEEKLY_TASK = "reports.weekly_report"
DEMO_HISTORY_TASK = demo_history.DEMO_HISTORY_TASK
# Monday 06:00 UTC: weeks since the epoch (a Thursday) start on Thursday, hence the offset.
WEEK = 7 * 86400
MONDAY_0600 = 4 * 86400 + 6 * 3600


def _slot(ctx: JobContext) -> datetime:
    raw = ctx.args.get("slot_at")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else utcnow()


async def rollup_metrics(ctx: JobContext) -> None:
    """Measure the bucket that just ended, roll it into hours and days, prune old buckets.

    Gaps left by a stopped scheduler in the last day are back-filled from timestamps first.
    """
    now = max(utcnow(), _slot(ctx))
    step = timedelta(seconds=FIVE_MINUTES)
    current = bucket_floor(now, FIVE_MINUTES) - step
    latest = await history.latest_bucket(ctx.session, FIVE_MINUTES)
    if latest is not None and latest + step < current:
        await history.backfill(
            ctx.session,
            max(latest + step, current - timedelta(days=1)),
            current,
            seconds=FIVE_MINUTES,
        )
    rate = cache_hit_rate()
    start = await history.record_live(
        ctx.session, now, cache_hit_rate_pct=None if rate is None else rate * 100
    )
    removed = await history.prune(ctx.session, now)
    log.info("reports.rolled_up", bucket=start.isoformat(), pruned=removed)


async def weekly_report(ctx: JobContext) -> None:
    services: Services = ctx.services
    history_pending = await ctx.session.scalar(
        select(Job.id).where(Job.task == DEMO_HISTORY_TASK, Job.state.in_(LIVE_STATES)).limit(1)
    )
    if history_pending is not None:
        # The demo's sample history is still being written: report on it once it is there.
        raise Snooze(utcnow() + timedelta(seconds=30), "waiting for the demo's history")
    made = await weekly_reports(
        ctx.session, utcnow(), public_url=services.settings.public_url, redis=services.redis
    )
    log.info("reports.weekly", reports=[stored.id for stored in made])


TASKS = [
    Task(ROLLUP_TASK, rollup_metrics, queue="default", max_attempts=3, timeout_seconds=240),
    Task(WEEKLY_TASK, weekly_report, queue="default", max_attempts=5, timeout_seconds=600),
    Task(DEMO_HISTORY_TASK, demo_history.seed_task, queue="default", max_attempts=3),
]


def recurring() -> list[RecurringJob]:
    return [
        RecurringJob("rollup-metrics", ROLLUP_TASK, every_seconds=FIVE_MINUTES),
        RecurringJob("weekly-report", WEEKLY_TASK, every_seconds=WEEK, offset_seconds=MONDAY_0600),
    ]
