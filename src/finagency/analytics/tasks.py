"""Analytics tasks: refresh engagement of recently published posts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from finagency.analytics.service import record_snapshot
from finagency.core.time import utcnow
from finagency.integrations.platforms.sandbox import simulated_engagement
from finagency.models import Post, PostStatus
from finagency.queue import JobContext, Task


async def refresh_engagement(ctx: JobContext) -> None:
    """Snapshot engagement of posts published in the last week (sandbox posts are simulated)."""
    now = utcnow()
    posts = (
        await ctx.session.execute(
            select(Post)
            .where(
                Post.status == PostStatus.PUBLISHED.value,
                Post.published_at >= now - timedelta(days=7),
            )
            .limit(500)
        )
    ).scalars()
    for post in posts:
        if not post.platform.startswith("sandbox") or not post.external_id or not post.published_at:
            continue  # real platforms' metrics arrive with their clients
        counts = simulated_engagement(post.external_id, post.published_at, now)
        await record_snapshot(
            ctx.session,
            post,
            at=now,
            likes=counts.likes,
            reposts=counts.reposts,
            replies=counts.replies,
            impressions=counts.impressions,
            clicks=counts.clicks,
        )


TASKS = [Task("analytics.refresh_engagement", refresh_engagement, queue="default", max_attempts=3)]
