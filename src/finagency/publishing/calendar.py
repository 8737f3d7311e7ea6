"""The calendar's reads and its one write: posts by scheduled time, and moving a post.

Reading is one query per view over ``(status, scheduled_at)`` (the ``ix_post_status_scheduled_at``
index), returning plain rows rather than ORM objects so a month of thousands of posts stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.audit import service as audit
from finagency.core.errors import InvalidTransition, ValidationFailed
from finagency.models import Post, PostStatus
from finagency.publishing.service import schedule_post

# What a calendar shows: everything that has, or had, a time on it.
SHOWN = (
    PostStatus.APPROVED,
    PostStatus.SCHEDULED,
    PostStatus.PUBLISHING,
    PostStatus.PUBLISHED,
    PostStatus.FAILED,
    PostStatus.UNCONFIRMED,
    PostStatus.EXPIRED,
)
MOVABLE = (PostStatus.APPROVED, PostStatus.SCHEDULED)
# A move into the past would publish at once; a small grace covers a slow drag.
PAST_GRACE = timedelta(minutes=1)
PREVIEW_CHARS = 80


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    post_id: int
    brand_id: int
    platform: str
    status: str
    scheduled_at: datetime
    preview: str

    @property
    def movable(self) -> bool:
        return self.status in MOVABLE


async def entries_between(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    brand_ids: Sequence[int] | None,
    platform: str | None = None,
    limit: int = 20_000,
) -> list[CalendarEntry]:
    """Posts scheduled in ``[start, end)``, oldest first, in one indexed query."""
    query = select(
        Post.id,
        Post.brand_id,
        Post.platform,
        Post.status,
        Post.scheduled_at,
        Post.text,
    ).where(
        Post.status.in_([status.value for status in SHOWN]),
        Post.scheduled_at >= start,
        Post.scheduled_at < end,
    )
    if brand_ids is not None:
        query = query.where(Post.brand_id.in_(list(brand_ids)))
    if platform:
        query = query.where(Post.platform == platform)
    rows = await session.execute(query.order_by(Post.scheduled_at, Post.id).limit(limit))
    return [
        CalendarEntry(
            post_id=post_id,
            brand_id=brand_id,
            platform=post_platform,
            status=status,
            scheduled_at=scheduled_at,
            preview=_preview(text),
        )
        for post_id, brand_id, post_platform, status, scheduled_at, text in rows
        if scheduled_at is not None
    ]


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


async def reschedule(
    session: AsyncSession, post: Post, *, at: datetime, actor: str, now: datetime
) -> int | None:
    """Move an approved or scheduled post to ``at``: its publish job is replaced, both audited."""
    if post.status not in MOVABLE:
        raise InvalidTransition(
            f"post {post.id} is {post.status}; only approved or scheduled posts can be moved"
        )
    if at < now - PAST_GRACE:
        raise ValidationFailed("a post cannot be moved into the past")
    before = post.scheduled_at
    job_id = await schedule_post(session, post, at=at, actor=actor)
    await audit.record(
        session,
        actor=actor,
        action="post.rescheduled",
        object_type="post",
        object_id=post.id,
        brand_id=post.brand_id,
        data={
            "from": before.isoformat() if before else None,
            "to": at.isoformat(),
            "job_id": job_id,
        },
    )
    return job_id
