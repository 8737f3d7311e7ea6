"""Analytics: the Overview's stats and engagement over time (the domain's public entry)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.analytics.stats import DEFINITIONS, Stats, compute_stats
from finagency.models import EngagementSnapshot, Post

__all__ = ["DEFINITIONS", "Stats", "compute_stats", "engagement_totals", "record_snapshot"]


async def record_snapshot(
    session: AsyncSession, post: Post, *, at: datetime, **counts: int
) -> None:
    session.add(EngagementSnapshot(brand_id=post.brand_id, post_id=post.id, at=at, **counts))
    await session.flush()


async def engagement_totals(
    session: AsyncSession, brand_ids: Sequence[int] | None = None
) -> dict[str, Any]:
    """Latest snapshot per post, summed: what the brand's published posts have earned so far."""
    latest = (
        select(EngagementSnapshot.post_id, func.max(EngagementSnapshot.id).label("last_id"))
        .group_by(EngagementSnapshot.post_id)
        .subquery()
    )
    query = select(
        func.count(),
        func.coalesce(func.sum(EngagementSnapshot.likes), 0),
        func.coalesce(func.sum(EngagementSnapshot.reposts), 0),
        func.coalesce(func.sum(EngagementSnapshot.replies), 0),
        func.coalesce(func.sum(EngagementSnapshot.impressions), 0),
        func.coalesce(func.sum(EngagementSnapshot.clicks), 0),
    ).join(latest, EngagementSnapshot.id == latest.c.last_id)
    if brand_ids is not None:
        query = query.where(EngagementSnapshot.brand_id.in_(list(brand_ids)))
    posts, likes, reposts, replies, impressions, clicks = (await session.execute(query)).one()
    return {
        "posts": int(posts),
        "likes": int(likes),
        "reposts": int(reposts),
        "replies": int(replies),
        "impressions": int(impressions),
        "clicks": int(clicks),
    }
