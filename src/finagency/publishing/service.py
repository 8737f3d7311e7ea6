"""Publishing: schedule approved posts onto the queue, and keep every post's fate visible."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.audit import service as audit
from finagency.core.errors import InvalidTransition
from finagency.core.time import utcnow
from finagency.models import Brand, Job, JobState, Post, PostStatus, PublishAttempt
from finagency.queue import enqueue

PUBLISH_TASK = "publishing.publish_post"
PUBLISH_QUEUE = "publish"
PENDING_STATUSES = (PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.PUBLISHING)


def publish_key(post_id: int) -> str:
    return f"publish:post:{post_id}"


async def next_slot(
    session: AsyncSession, account_id: int, *, not_before: datetime, spacing: timedelta
) -> datetime:
    """The first moment after ``not_before`` that keeps ``spacing`` from the account's queue."""
    latest = await session.scalar(
        select(func.max(Post.scheduled_at)).where(
            Post.account_id == account_id,
            Post.status.in_([PostStatus.SCHEDULED.value, PostStatus.PUBLISHING.value]),
        )
    )
    if latest is None:
        return not_before
    return max(not_before, latest + spacing)


async def schedule_post(
    session: AsyncSession,
    post: Post,
    *,
    at: datetime,
    actor: str,
    latest_at: datetime | None = None,
) -> int | None:
    """Put an approved post on the publish queue for ``at``, in the caller's transaction."""
    if post.status not in (PostStatus.APPROVED, PostStatus.SCHEDULED):
        raise InvalidTransition(
            f"post {post.id} is {post.status}; only approved posts can be scheduled"
        )
    brand = await session.get(Brand, post.brand_id)
    lateness = timedelta(minutes=brand.max_lateness_minutes if brand else 120)
    post.scheduled_at = at
    post.latest_at = latest_at or at + lateness
    post.status = PostStatus.SCHEDULED
    post.queued_at = post.queued_at or utcnow()
    await _cancel_live_job(session, post.id)
    job_id = await enqueue(
        session,
        PUBLISH_TASK,
        {"post_id": post.id},
        queue=PUBLISH_QUEUE,
        priority=50,
        run_at=at,
        latest_at=post.latest_at,
        max_attempts=6,
        unique_key=publish_key(post.id),
        brand_id=post.brand_id,
        rate_key=f"account:{post.account_id}",
    )
    await audit.record(
        session,
        actor=actor,
        action="post.scheduled",
        object_type="post",
        object_id=post.id,
        brand_id=post.brand_id,
        data={
            "scheduled_at": at.isoformat(),
            "latest_at": post.latest_at.isoformat(),
            "job_id": job_id,
        },
    )
    return job_id


async def _cancel_live_job(session: AsyncSession, post_id: int) -> None:
    """Rescheduling replaces the waiting job (a running one keeps its course)."""
    job = (
        await session.execute(
            select(Job).where(
                Job.unique_key == publish_key(post_id),
                Job.state.in_([JobState.AVAILABLE.value, JobState.RETRYABLE.value]),
            )
        )
    ).scalar_one_or_none()
    if job is not None:
        job.state = JobState.CANCELLED
        job.finalized_at = utcnow()
        await session.flush()


async def cancel_post(session: AsyncSession, post: Post, *, actor: str, reason: str = "") -> None:
    if post.status in (PostStatus.PUBLISHED, PostStatus.PUBLISHING):
        raise InvalidTransition(f"post {post.id} is {post.status} and can no longer be cancelled")
    await _cancel_live_job(session, post.id)
    post.status = PostStatus.CANCELLED
    await audit.record(
        session,
        actor=actor,
        action="post.cancelled",
        object_type="post",
        object_id=post.id,
        brand_id=post.brand_id,
        data={"reason": reason},
    )


async def resolve_unconfirmed(
    session: AsyncSession,
    post: Post,
    *,
    went_out: bool,
    actor: str,
    now: datetime,
    external_url: str | None = None,
) -> None:
    """A person's decision on a post whose fate the platform cannot tell us.

    ``went_out``: they saw it on the platform; it is recorded as published. Otherwise it is
    published again (the open attempt is closed first, so nothing reconciles it twice).
    """
    if post.status != PostStatus.UNCONFIRMED:
        raise InvalidTransition(
            f"post {post.id} is {post.status}, not waiting for a person's confirmation"
        )
    open_attempts = (
        await session.execute(
            select(PublishAttempt).where(
                PublishAttempt.post_id == post.id,
                PublishAttempt.outcome.in_(["sending", "unknown"]),
            )
        )
    ).scalars()
    for attempt in open_attempts:
        attempt.outcome = "confirmed_by_person" if went_out else "failed"
        attempt.finished_at = now
    if went_out:
        post.status = PostStatus.PUBLISHED
        post.published_at = post.published_at or now
        post.external_url = external_url or post.external_url
        post.failure_reason = None
    else:
        post.status = PostStatus.APPROVED
        post.failure_reason = None
        await schedule_post(session, post, at=now, actor=actor, latest_at=now + timedelta(hours=1))
    await audit.record(
        session,
        actor=actor,
        action="post.confirmed_out" if went_out else "post.republish",
        object_type="post",
        object_id=post.id,
        brand_id=post.brand_id,
        data={"external_url": external_url},
    )
