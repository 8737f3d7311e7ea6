"""Analytics tasks: read engagement of published posts back from their platforms.

Fresh posts are read often and old ones rarely (every run in the first day, hourly for a
week, daily for a month), which is when engagement actually moves and what API quotas allow.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select

from finagency.analytics.service import record_snapshot
from finagency.core.errors import ExternalError
from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.models import Account, EngagementSnapshot, Post, PostStatus
from finagency.publishing.clients import client_for
from finagency.queue import JobContext, Task

log = structlog.get_logger(__name__)
MAX_AGE = timedelta(days=30)


def refresh_interval(age: timedelta) -> timedelta:
    if age < timedelta(days=1):
        return timedelta(0)
    if age < timedelta(days=7):
        return timedelta(hours=1)
    return timedelta(days=1)


def is_due(published_at: datetime, last_read: datetime | None, now: datetime) -> bool:
    if last_read is None:
        return True
    return now - last_read >= refresh_interval(now - published_at)


async def refresh_engagement(ctx: JobContext) -> None:
    services: Services = ctx.services
    now = utcnow()
    last_read = (
        select(EngagementSnapshot.post_id, func.max(EngagementSnapshot.at).label("last_at"))
        .group_by(EngagementSnapshot.post_id)
        .subquery()
    )
    rows = (
        await ctx.session.execute(
            select(Post, Account, last_read.c.last_at)
            .join(Account, Account.id == Post.account_id)
            .outerjoin(last_read, last_read.c.post_id == Post.id)
            .where(Post.status == PostStatus.PUBLISHED.value, Post.published_at >= now - MAX_AGE)
            .order_by(Post.published_at.desc())
            .limit(500)
        )
    ).all()
    due = [
        (post, account)
        for post, account, last_at in rows
        if post.external_id and post.published_at and is_due(post.published_at, last_at, now)
    ]
    # Detach what was read (it stays usable) and end the transaction: no lock is held while
    # the platforms answer.
    ctx.session.expunge_all()
    await ctx.session.rollback()
    readings = []
    for post, account in due:
        try:
            counts = await client_for(account, services).engagement(post.external_id or "")
        except ExternalError as error:
            log.warning(
                "engagement.read_failed",
                post_id=post.id,
                platform=account.platform,
                error=error.message,
            )
            continue
        readings.append((post, counts))
    for post, counts in readings:
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
