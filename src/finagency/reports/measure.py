"""What goes into a metric bucket: the Overview's gauges now, and the pipeline's events in a span.

Gauges are read live with the Overview's own definitions (``analytics.compute_stats``); for
a past moment (a back-fill) the post gauges are rebuilt from the posts' timestamps. Events
(published, failed, retried, dead-lettered, lateness) are counted from the rows' timestamps,
so any past bucket can be computed again and gives the same answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.analytics.service import compute_stats
from finagency.analytics.stats import PIPELINE, STUCK_AFTER
from finagency.models import (
    Account,
    CircuitBreaker,
    Job,
    JobState,
    Post,
    PostStatus,
    PublishAttempt,
    Source,
)

PUBLISH_TASK = "publishing.publish_post"
OTHER = "other jobs"


class Kind(StrEnum):
    GAUGE = "gauge"  # a level at a moment: value is the last sample, total/count the average
    COUNTER = "counter"  # events in the bucket: value is their number
    TIMING = "timing"  # one duration per event: value is the p95, total/count the mean


KINDS: dict[str, Kind] = {
    "published": Kind.COUNTER,
    "publish_failed": Kind.COUNTER,
    "publish_retried": Kind.COUNTER,
    "dead_lettered": Kind.COUNTER,
    "lateness_s": Kind.TIMING,
}


def kind_of(metric: str) -> Kind:
    return KINDS.get(metric, Kind.GAUGE)


@dataclass(frozen=True, slots=True)
class Reading:
    """One value for one scope (brand_id None: the whole agency) and breakdown label."""

    brand_id: int | None
    metric: str
    label: str
    value: float
    count: int = 1
    total: float | None = None
    min_value: float | None = None
    max_value: float | None = None


def p95(values: Sequence[float]) -> float:
    """Nearest-rank 95th percentile, the same rank rule as the Overview's schedule lag."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(0.95 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _scopes(brand_ids: Sequence[int]) -> list[int | None]:
    return [None, *brand_ids]


async def live_gauges(
    session: AsyncSession,
    now: datetime,
    brand_ids: Sequence[int],
    *,
    cache_hit_rate_pct: float | None = None,
) -> list[Reading]:
    """The Overview's numbers at ``now`` for the agency and each brand, plus agency-wide health."""
    readings: list[Reading] = []
    for brand_id in _scopes(brand_ids):
        stats = await compute_stats(
            session, now=now, brand_ids=None if brand_id is None else [brand_id]
        )
        values: dict[str, float | None] = {
            "total": stats.total,
            "pending": stats.pending,
            "posted": stats.posted,
            "backlog_pct": stats.backlog_pct,
            "stuck": stats.stuck,
            "processing_rate_pct": stats.processing_rate_pct,
            "in_review": stats.in_review,
            "failed": stats.failed,
            "dead_letters": stats.dead_letters,
            "failure_rate_pct": stats.failure_rate_pct,
            "schedule_lag_p95_s": stats.schedule_lag_p95_s,
        }
        if brand_id is None:
            values["workers_alive"] = stats.workers_alive
        for metric, value in values.items():
            if value is not None:
                readings.append(Reading(brand_id, metric, "", float(value)))
        for state, count in stats.jobs_by_state.items():
            readings.append(Reading(brand_id, "jobs", state, float(count)))
    readings.extend(await _health_gauges(session, now))
    if cache_hit_rate_pct is not None:
        readings.append(Reading(None, "cache_hit_rate_pct", "", cache_hit_rate_pct))
    return readings


async def _health_gauges(session: AsyncSession, now: datetime) -> list[Reading]:
    sources = (await session.execute(select(Source).where(Source.enabled.is_(True)))).scalars()
    listed = list(sources)
    failing = sum(1 for source in listed if source_is_failing(source))
    open_breakers = await session.scalar(
        select(func.count())
        .select_from(CircuitBreaker)
        .where(CircuitBreaker.state.in_(["open", "half_open"]))
    )
    open_accounts = await session.scalar(
        select(func.count()).select_from(Account).where(Account.breaker_state != "closed")
    )
    return [
        Reading(None, "sources_total", "", float(len(listed))),
        Reading(None, "sources_failing", "", float(failing)),
        Reading(
            None, "breakers_open", "", float(int(open_breakers or 0) + int(open_accounts or 0))
        ),
    ]


def source_is_failing(source: Source) -> bool:
    """A source is failing when its latest poll failed (an error newer than its last success)."""
    if source.consecutive_failures > 0:
        return True
    if source.last_error_at is None:
        return False
    return source.last_success_at is None or source.last_error_at > source.last_success_at


async def rebuilt_gauges(session: AsyncSession, at: datetime) -> list[Reading]:
    """The post gauges as they stood at ``at``, rebuilt from timestamps (for back-fills).

    Job states, workers and sources leave no history, so only the post numbers come back.
    """
    entered = func.coalesce(Post.queued_at, Post.created_at)
    done_statuses = [
        PostStatus.FAILED.value,
        PostStatus.UNCONFIRMED.value,
        PostStatus.EXPIRED.value,
    ]
    in_pipeline = and_(Post.status.in_([status.value for status in PIPELINE]), entered <= at)
    posted_by = and_(Post.status == PostStatus.PUBLISHED.value, Post.published_at <= at)
    failed_by = and_(Post.status.in_(done_statuses), Post.updated_at <= at)
    stuck_since = at - STUCK_AFTER
    rows = (
        await session.execute(
            select(
                Post.brand_id,
                func.count().filter(in_pipeline),
                func.count().filter(in_pipeline, posted_by),
                func.count().filter(in_pipeline, failed_by),
                func.count().filter(
                    in_pipeline,
                    ~posted_by,
                    ~failed_by,
                    or_(
                        Post.scheduled_at < stuck_since,
                        and_(Post.scheduled_at.is_(None), entered < stuck_since),
                    ),
                ),
            ).group_by(Post.brand_id)
        )
    ).all()
    per_scope: dict[int | None, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for brand_id, *counts in rows:
        for scope in (None, int(brand_id)):
            for index, count in enumerate(counts):
                per_scope[scope][index] += int(count or 0)
    if None not in per_scope:
        per_scope[None] = [0, 0, 0, 0]
    readings: list[Reading] = []
    for scope, (total, posted, failed, stuck) in per_scope.items():
        pending = total - posted - failed
        values = {
            "total": total,
            "pending": pending,
            "posted": posted,
            "backlog_pct": round(pending * 100 / total, 1) if total else 0.0,
            "stuck": stuck,
            "processing_rate_pct": round(posted * 100 / total, 1) if total else 0.0,
        }
        readings.extend(Reading(scope, metric, "", float(v)) for metric, v in values.items())
    return readings


def _spread(
    keyed: Iterable[tuple[int, str, float]], metric: str, *, timing: bool = False
) -> list[Reading]:
    """Readings per (brand, platform), per brand, per platform and overall from raw events."""
    groups: dict[tuple[int | None, str], list[float]] = defaultdict(list)
    for brand_id, label, value in keyed:
        for scope in (None, brand_id):
            groups[(scope, label)].append(value)
            groups[(scope, "")].append(value)
    readings = []
    for (scope, label), values in groups.items():
        if timing:
            readings.append(
                Reading(
                    scope,
                    metric,
                    label,
                    round(p95(values), 1),
                    count=len(values),
                    total=sum(values),
                    min_value=min(values),
                    max_value=max(values),
                )
            )
        else:
            readings.append(Reading(scope, metric, label, float(len(values)), count=len(values)))
    return readings


async def events(session: AsyncSession, start: datetime, end: datetime) -> list[Reading]:
    """Publishing events whose timestamps fall in [start, end), per brand and platform."""
    published = (
        await session.execute(
            select(Post.brand_id, Post.platform, Post.published_at, Post.scheduled_at).where(
                Post.status == PostStatus.PUBLISHED.value,
                Post.published_at >= start,
                Post.published_at < end,
            )
        )
    ).all()
    readings = _spread(((b, p, 1.0) for b, p, _, _ in published), "published")
    readings += _spread(
        (
            (b, p, max((at - scheduled).total_seconds(), 0.0))
            for b, p, at, scheduled in published
            if at is not None and scheduled is not None
        ),
        "lateness_s",
        timing=True,
    )
    failed = (
        await session.execute(
            select(Post.brand_id, Post.platform)
            .join(PublishAttempt, PublishAttempt.post_id == Post.id)
            .where(
                PublishAttempt.outcome == "failed",
                PublishAttempt.finished_at >= start,
                PublishAttempt.finished_at < end,
            )
        )
    ).all()
    readings += _spread(((b, p, 1.0) for b, p in failed), "publish_failed")
    retried = (
        await session.execute(
            select(Post.brand_id, Post.platform)
            .join(PublishAttempt, PublishAttempt.post_id == Post.id)
            .where(
                PublishAttempt.attempt_no > 1,
                PublishAttempt.started_at >= start,
                PublishAttempt.started_at < end,
            )
        )
    ).all()
    readings += _spread(((b, p, 1.0) for b, p in retried), "publish_retried")
    readings += await _dead_lettered(session, start, end)
    return readings


async def _dead_lettered(session: AsyncSession, start: datetime, end: datetime) -> list[Reading]:
    jobs = (
        await session.execute(
            select(Job.brand_id, Job.task, Job.args).where(
                Job.state == JobState.DISCARDED.value,
                Job.finalized_at >= start,
                Job.finalized_at < end,
            )
        )
    ).all()
    post_ids = {
        int(args["post_id"])
        for _, task, args in jobs
        if task == PUBLISH_TASK and isinstance(args, dict) and "post_id" in args
    }
    platforms: dict[int, tuple[int, str]] = {}
    if post_ids:
        rows = await session.execute(
            select(Post.id, Post.brand_id, Post.platform).where(Post.id.in_(post_ids))
        )
        platforms = {int(pid): (int(b), str(p)) for pid, b, p in rows.all()}
    keyed: list[tuple[int, str, float]] = []
    agency_only = 0
    for brand_id, task, args in jobs:
        post_id = args.get("post_id") if task == PUBLISH_TASK and isinstance(args, dict) else None
        if post_id is not None and int(post_id) in platforms:
            owner, platform = platforms[int(post_id)]
            keyed.append((owner, platform, 1.0))
        elif brand_id is not None:
            keyed.append((int(brand_id), OTHER, 1.0))
        else:
            agency_only += 1
    readings = _spread(keyed, "dead_lettered")
    if agency_only:
        # Jobs of no brand (ingest, pruning) count for the agency only.
        merged: dict[str, float] = {OTHER: agency_only, "": agency_only}
        others = [r for r in readings if not (r.brand_id is None and r.label in merged)]
        for reading in readings:
            if reading.brand_id is None and reading.label in merged:
                merged[reading.label] += reading.value
        readings = others + [
            Reading(None, "dead_lettered", label, value, count=int(value))
            for label, value in merged.items()
        ]
    return readings


def brand_filter(
    column: ColumnElement[int], brand_ids: Sequence[int] | None
) -> ColumnElement[bool]:
    return column.in_(list(brand_ids)) if brand_ids is not None else true()


def bucket_floor(at: datetime, seconds: int) -> datetime:
    """The start of the ``seconds``-long bucket holding ``at`` (buckets align to the epoch)."""
    stamp = int(at.timestamp())
    return at - timedelta(seconds=stamp % seconds, microseconds=at.microsecond)
