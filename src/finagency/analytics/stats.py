"""The Overview's numbers, with the seed system's definitions, computed from the database.

Definitions (shown on hover in the dashboard and returned by ``finagency stats``):

- total: posts that entered the publishing pipeline (approved or later; drafts, posts in
  review, rejected and cancelled posts are not counted).
- pending: of those, the ones not out yet: approved, scheduled or publishing.
- posted: of those, the ones published.
- backlog_pct: pending / total × 100.
- stuck: pending posts whose scheduled time passed more than 2 hours ago (approved posts
  with no schedule count from when they were queued).
- processing_rate_pct: posted / total × 100.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.models import Job, JobState, Post, PostStatus, WorkerHeartbeat

PIPELINE = (
    PostStatus.APPROVED,
    PostStatus.SCHEDULED,
    PostStatus.PUBLISHING,
    PostStatus.PUBLISHED,
    PostStatus.FAILED,
    PostStatus.UNCONFIRMED,
    PostStatus.EXPIRED,
)
PENDING = (PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.PUBLISHING)
STUCK_AFTER = timedelta(hours=2)

DEFINITIONS = {
    "total": "Posts that entered the publishing pipeline (approved or later).",
    "pending": "Pipeline posts not out yet: approved, scheduled or publishing.",
    "posted": "Pipeline posts that were published.",
    "backlog_pct": "pending ÷ total × 100.",
    "stuck": "Pending posts more than 2 hours past their scheduled time.",
    "processing_rate_pct": "posted ÷ total × 100.",
    "in_review": "Drafts waiting for a person to approve or reject them.",
    "failed": "Posts that need attention: failed, unconfirmed or expired.",
    "dead_letters": "Jobs in the dead-letter queue (discarded after retries or rejected).",
    "throughput_per_hour": "Posts published in the last hour.",
    "schedule_lag_p95_s": "95th percentile of (published − scheduled) over the last 24 hours, seconds.",
    "failure_rate_pct": "Failed job runs ÷ all finished job runs in the last 24 hours × 100.",
    "workers_alive": "Worker processes whose heartbeat is fresh.",
}


@dataclass(frozen=True, slots=True)
class Stats:
    total: int
    pending: int
    posted: int
    backlog_pct: float
    stuck: int
    processing_rate_pct: float
    in_review: int
    failed: int
    dead_letters: int
    throughput_per_hour: int
    schedule_lag_p95_s: float | None
    failure_rate_pct: float
    workers_alive: int
    jobs_by_state: dict[str, int] = field(default_factory=dict)
    as_of: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pct(part: int, whole: int) -> float:
    return round(part * 100 / whole, 1) if whole else 0.0


def _p95(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(0.95 * len(ordered) + 0.5) - 1))
    return round(ordered[index], 1)


async def compute_stats(
    session: AsyncSession,
    *,
    now: datetime,
    brand_ids: Sequence[int] | None = None,
    worker_stale_after: timedelta = timedelta(seconds=30),
) -> Stats:
    brand_filter: ColumnElement[bool] = (
        Post.brand_id.in_(list(brand_ids)) if brand_ids is not None else true()
    )
    pipeline = [status.value for status in PIPELINE]
    pending = [status.value for status in PENDING]
    stuck_since = now - STUCK_AFTER
    row = (
        await session.execute(
            select(
                func.count().filter(Post.status.in_(pipeline)),
                func.count().filter(Post.status.in_(pending)),
                func.count().filter(Post.status == PostStatus.PUBLISHED.value),
                func.count().filter(
                    Post.status.in_(pending),
                    or_(
                        Post.scheduled_at < stuck_since,
                        and_(Post.scheduled_at.is_(None), Post.queued_at < stuck_since),
                    ),
                ),
                func.count().filter(Post.status == PostStatus.IN_REVIEW.value),
                func.count().filter(
                    Post.status.in_(
                        [
                            PostStatus.FAILED.value,
                            PostStatus.UNCONFIRMED.value,
                            PostStatus.EXPIRED.value,
                        ]
                    )
                ),
                func.count().filter(
                    Post.status == PostStatus.PUBLISHED.value,
                    Post.published_at >= now - timedelta(hours=1),
                ),
            ).where(brand_filter)
        )
    ).one()
    total, pending_n, posted, stuck, in_review, failed, last_hour = (
        int(value or 0) for value in row
    )

    lags = (
        await session.execute(
            select(Post.published_at, Post.scheduled_at).where(
                brand_filter,
                Post.status == PostStatus.PUBLISHED.value,
                Post.published_at >= now - timedelta(hours=24),
                Post.scheduled_at.is_not(None),
            )
        )
    ).all()
    lag_values = [
        max((published - scheduled).total_seconds(), 0.0)
        for published, scheduled in lags
        if published and scheduled
    ]

    job_filter: ColumnElement[bool] = (
        Job.brand_id.in_(list(brand_ids)) if brand_ids is not None else true()
    )
    by_state = {
        state: int(count)
        for state, count in (
            await session.execute(
                select(Job.state, func.count()).where(job_filter).group_by(Job.state)
            )
        ).all()
    }
    finished = (
        await session.execute(
            select(
                func.count().filter(Job.state == JobState.COMPLETED.value),
                func.count().filter(Job.state == JobState.DISCARDED.value),
                func.coalesce(func.sum(case((Job.attempt > 1, Job.attempt - 1), else_=0)), 0),
            ).where(job_filter, Job.finalized_at >= now - timedelta(hours=24))
        )
    ).one()
    completed, discarded, extra_attempts = (int(value or 0) for value in finished)
    runs = completed + discarded + extra_attempts
    workers = await session.scalar(
        select(func.count())
        .select_from(WorkerHeartbeat)
        .where(WorkerHeartbeat.last_seen_at >= now - worker_stale_after)
    )
    return Stats(
        total=total,
        pending=pending_n,
        posted=posted,
        backlog_pct=_pct(pending_n, total),
        stuck=stuck,
        processing_rate_pct=_pct(posted, total),
        in_review=in_review,
        failed=failed,
        dead_letters=by_state.get(JobState.DISCARDED.value, 0),
        throughput_per_hour=last_hour,
        schedule_lag_p95_s=_p95(lag_values),
        failure_rate_pct=_pct(discarded + extra_attempts, runs),
        workers_alive=int(workers or 0),
        jobs_by_state=by_state,
        as_of=now.isoformat(),
    )
