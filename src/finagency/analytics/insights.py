"""Read-only figures for the dashboard's charts: engagement over time, best times, top posts,
activity by hour and per-platform health.

Engagement of a post is its latest snapshot (snapshots are cumulative readings), counted as
interactions = likes + reposts + replies + clicks. Times are UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.models import (
    Account,
    ContentItem,
    EngagementSnapshot,
    Job,
    JobState,
    Post,
    PostStatus,
)

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class EngagedPost:
    post_id: int
    brand_id: int
    platform: str
    kind: str
    text: str
    published_at: datetime
    interactions: int
    impressions: int


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    day: date
    platform: str
    kind: str
    interactions: int
    posts: int


@dataclass(frozen=True, slots=True)
class PlatformHealth:
    platform: str
    accounts: int
    active: int
    breaker_open: int
    needs_attention: int  # accounts not active (expired, error, disconnected)
    published_24h: int
    failed_24h: int

    @property
    def state(self) -> str:
        if self.accounts and self.active == 0:
            return "down"
        if self.breaker_open or self.needs_attention or self.failed_24h:
            return "degraded"
        return "ok"


def _brand_filter(column: Any, brand_ids: Sequence[int] | None) -> ColumnElement[bool]:
    if brand_ids is None:
        return true()
    found: ColumnElement[bool] = column.in_(list(brand_ids))
    return found


def _engaged_query(brand_ids: Sequence[int] | None, since: datetime) -> Any:
    latest = (
        select(EngagementSnapshot.post_id, func.max(EngagementSnapshot.id).label("last_id"))
        .where(_brand_filter(EngagementSnapshot.brand_id, brand_ids))
        .group_by(EngagementSnapshot.post_id)
        .subquery()
    )
    return (
        select(
            Post.id,
            Post.brand_id,
            Post.platform,
            ContentItem.kind,
            Post.text,
            Post.published_at,
            EngagementSnapshot.likes
            + EngagementSnapshot.reposts
            + EngagementSnapshot.replies
            + EngagementSnapshot.clicks,
            EngagementSnapshot.impressions,
        )
        .join(latest, latest.c.post_id == Post.id)
        .join(EngagementSnapshot, EngagementSnapshot.id == latest.c.last_id)
        .join(ContentItem, ContentItem.id == Post.content_item_id)
        .where(
            _brand_filter(Post.brand_id, brand_ids),
            Post.status == PostStatus.PUBLISHED.value,
            Post.published_at >= since,
        )
    )


async def engaged_posts(
    session: AsyncSession, brand_ids: Sequence[int] | None, *, since: datetime
) -> list[EngagedPost]:
    """Every published post since ``since`` with its latest engagement reading (one query)."""
    rows = await session.execute(_engaged_query(brand_ids, since))
    return [
        EngagedPost(
            post_id=int(post_id),
            brand_id=int(brand_id),
            platform=str(platform),
            kind=str(kind),
            text=str(text),
            published_at=published_at,
            interactions=int(interactions or 0),
            impressions=int(impressions or 0),
        )
        for post_id, brand_id, platform, kind, text, published_at, interactions, impressions in rows
        if isinstance(published_at, datetime)
    ]


def series(posts: Sequence[EngagedPost]) -> list[SeriesPoint]:
    """Interactions per (publish day, platform, kind), oldest day first."""
    totals: dict[tuple[date, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for post in posts:
        bucket = totals[(post.published_at.date(), post.platform, post.kind)]
        bucket[0] += post.interactions
        bucket[1] += 1
    return [
        SeriesPoint(day, platform, kind, interactions, count)
        for (day, platform, kind), (interactions, count) in sorted(totals.items())
    ]


def heatmap(posts: Sequence[EngagedPost]) -> list[list[float | None]]:
    """Mean interactions per post by publish weekday (rows, Monday first) × hour (columns)."""
    sums = [[0] * 24 for _ in range(7)]
    counts = [[0] * 24 for _ in range(7)]
    for post in posts:
        day, hour = post.published_at.weekday(), post.published_at.hour
        sums[day][hour] += post.interactions
        counts[day][hour] += 1
    return [
        [round(sums[d][h] / counts[d][h], 1) if counts[d][h] else None for h in range(24)]
        for d in range(7)
    ]


def top(posts: Sequence[EngagedPost], limit: int = 10) -> list[EngagedPost]:
    return sorted(posts, key=lambda post: (-post.interactions, -post.post_id))[:limit]


async def activity_by_hour(
    session: AsyncSession, brand_ids: Sequence[int] | None, *, now: datetime, hours: int = 24
) -> dict[str, list[int]]:
    """Posts published and jobs dead-lettered per hour over the last ``hours``, oldest first."""
    start = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    published = await session.scalars(
        select(Post.published_at).where(
            _brand_filter(Post.brand_id, brand_ids),
            Post.status == PostStatus.PUBLISHED.value,
            Post.published_at >= start,
        )
    )
    dead = await session.scalars(
        select(Job.finalized_at).where(
            _brand_filter(Job.brand_id, brand_ids),
            Job.state == JobState.DISCARDED.value,
            Job.finalized_at >= start,
        )
    )
    result = {"published": [0] * hours, "dead_letters": [0] * hours}
    for key, moments in (("published", published), ("dead_letters", dead)):
        for moment in moments:
            if moment is None:
                continue
            index = int((moment - start).total_seconds() // 3600)
            if 0 <= index < hours:
                result[key][index] += 1
    return result


async def platform_health(
    session: AsyncSession, brand_ids: Sequence[int] | None, *, now: datetime
) -> list[PlatformHealth]:
    """Per platform: accounts and their state, and the last day's publishes and failures."""
    accounts = (
        await session.execute(
            select(
                Account.platform,
                func.count(),
                func.count().filter(Account.status == "active"),
                func.count().filter(Account.breaker_state == "open"),
            )
            .where(_brand_filter(Account.brand_id, brand_ids))
            .group_by(Account.platform)
        )
    ).all()
    outcomes = (
        await session.execute(
            select(
                Post.platform,
                func.count().filter(Post.status == PostStatus.PUBLISHED.value),
                func.count().filter(
                    Post.status.in_([PostStatus.FAILED.value, PostStatus.UNCONFIRMED.value])
                ),
            )
            .where(
                _brand_filter(Post.brand_id, brand_ids), Post.updated_at >= now - timedelta(days=1)
            )
            .group_by(Post.platform)
        )
    ).all()
    by_platform = {str(platform): (int(ok), int(bad)) for platform, ok, bad in outcomes}
    return [
        PlatformHealth(
            platform=str(platform),
            accounts=int(total),
            active=int(active),
            breaker_open=int(open_),
            needs_attention=int(total) - int(active),
            published_24h=by_platform.get(str(platform), (0, 0))[0],
            failed_24h=by_platform.get(str(platform), (0, 0))[1],
        )
        for platform, total, active, open_ in sorted(accounts)
    ]
