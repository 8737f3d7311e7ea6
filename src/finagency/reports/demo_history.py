"""Two weeks of sample metric history for the demo, so its first report has a before and after.

The demo starts on an empty database, so it has no past. This writes hourly buckets (marked
``origin="sample"``, and the report says so) that tell a plausible story: in the earlier week
one platform had an outage, the backlog grew and jobs went to the dead-letter queue; in the
later week the queue runs clean. Deterministic for a given start, and written only once.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.time import utcnow
from finagency.models import Account, Brand, MetricSample
from finagency.models.metrics import DAY, HOUR
from finagency.queue import JobContext
from finagency.reports.history import aggregate, write_bucket
from finagency.reports.measure import Reading, bucket_floor

DEMO_HISTORY_TASK = "reports.seed_demo_history"
DAYS = 14


def _hour(
    rng: random.Random, at: datetime, start: datetime, platforms: list[str]
) -> dict[str, list[tuple[str, float, int, float, float]]]:
    """One hour's events per platform: (metric -> [(platform, value, count, total, max)])."""
    outage = start + timedelta(days=2, hours=9) <= at < start + timedelta(days=3, hours=15)
    busy = 7 <= at.hour < 20 and at.weekday() < 5
    out: dict[str, list[tuple[str, float, int, float, float]]] = {
        "published": [],
        "publish_failed": [],
        "publish_retried": [],
        "dead_lettered": [],
        "lateness_s": [],
    }
    for index, platform in enumerate(platforms):
        down = outage and index == 0
        sent = 0 if down else rng.randint(3, 7) if busy else rng.randint(0, 2)
        failed = rng.randint(2, 5) if down else int(rng.random() < 0.03)
        retried = failed + int(rng.random() < 0.05)
        dead = int(down and rng.random() < 0.5)
        out["published"].append((platform, sent, sent, sent, sent))
        out["publish_failed"].append((platform, failed, failed, failed, failed))
        out["publish_retried"].append((platform, retried, retried, retried, retried))
        out["dead_lettered"].append((platform, dead, dead, dead, dead))
        if sent:
            week_before = at < start + timedelta(days=7)
            base = 40.0 if week_before else 6.0
            lags = [base * rng.uniform(0.3, 1.6) for _ in range(sent)]
            after_outage = week_before and at >= start + timedelta(days=3, hours=15)
            if after_outage and at < start + timedelta(days=4, hours=6) and index == 0:
                lags = [lag + rng.uniform(600, 1800) for lag in lags]
            lags.sort()
            p95 = lags[max(0, round(0.95 * len(lags) + 0.5) - 1)]
            out["lateness_s"].append((platform, round(p95, 1), sent, sum(lags), max(lags)))
    return out


def _readings(
    scope: int | None, events: dict[str, list[tuple[str, float, int, float, float]]]
) -> list[Reading]:
    readings: list[Reading] = []
    for metric, rows in events.items():
        timing = metric == "lateness_s"
        for platform, value, count, total, top in rows:
            readings.append(
                Reading(scope, metric, platform, value, count, total, None, top if timing else None)
            )
        count = sum(row[2] for row in rows)
        total = sum(row[3] for row in rows)
        if timing:
            if count:
                weighted = sum(row[1] * row[2] for row in rows) / count
                top = max(row[4] for row in rows)
                readings.append(
                    Reading(scope, metric, "", round(weighted, 1), count, total, None, top)
                )
        else:
            readings.append(Reading(scope, metric, "", float(count), count, total))
    return readings


async def seed_history(
    session: AsyncSession,
    brand: Brand,
    now: datetime,
    *,
    checkpoint: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """Write the sample history before ``now``; returns the hours written (0 if already there).

    ``checkpoint`` (the job's checkpoint) commits every few hours of history, so SQLite's
    write lock is never held for long while the workers wait to claim jobs.
    """
    exists = await session.scalar(
        select(MetricSample.id).where(MetricSample.origin == "sample").limit(1)
    )
    if exists is not None:
        return 0
    platforms = sorted(
        set(
            (
                await session.execute(select(Account.platform).where(Account.brand_id == brand.id))
            ).scalars()
        )
    ) or ["sandbox"]
    end = bucket_floor(now, HOUR)
    start = bucket_floor(now, DAY) - timedelta(days=DAYS)
    rng = random.Random(int(start.timestamp()))
    total = posted = failed_posts = dead_letters = 0
    at, hours = start, 0
    while at < end:
        events = _hour(rng, at, start, platforms)
        sent = sum(int(row[1]) for row in events["published"])
        week_before = at < start + timedelta(days=7)
        incoming = sent + (rng.randint(1, 4) if week_before else rng.randint(0, 1))
        total += incoming
        posted += sent
        failed_posts += sum(int(row[1]) for row in events["dead_lettered"])
        dead_letters += sum(int(row[1]) for row in events["dead_lettered"])
        pending = max(total - posted - failed_posts, 0)
        stuck = int(pending * 0.3) if week_before and pending > 20 else 0
        gauges = {
            "total": total,
            "pending": pending,
            "posted": posted,
            "backlog_pct": round(pending * 100 / total, 1) if total else 0.0,
            "stuck": stuck,
            "processing_rate_pct": round(posted * 100 / total, 1) if total else 0.0,
            "in_review": rng.randint(0, 6),
            "failed": failed_posts,
            "dead_letters": dead_letters,
            "failure_rate_pct": round(rng.uniform(0.5, 4.0 if week_before else 1.0), 1),
            "workers_alive": 2.0,
            "sources_total": 5.0,
            "sources_failing": 1.0 if week_before and at.day % 3 == 0 else 0.0,
            "breakers_open": 1.0
            if events["published"][0][1] == 0 and events["publish_failed"][0][1]
            else 0.0,
            "cache_hit_rate_pct": round(rng.uniform(78, 92), 1),
        }
        for scope in (None, brand.id):
            readings = _readings(scope, events)
            readings += [Reading(scope, name, "", float(value)) for name, value in gauges.items()]
            await write_bucket(session, at, HOUR, readings, origin="sample")
        at += timedelta(hours=1)
        hours += 1
        if checkpoint is not None and at.hour % 4 == 0:
            await checkpoint()
    day = start
    while day < end:
        await aggregate(session, HOUR, day)
        day += timedelta(days=1)
        if checkpoint is not None:
            await checkpoint()
    return hours


async def seed_task(ctx: JobContext) -> None:
    brand = (await ctx.session.execute(select(Brand).order_by(Brand.id))).scalars().first()
    if brand is not None:
        await seed_history(ctx.session, brand, utcnow(), checkpoint=ctx.checkpoint)
