"""Publishing tasks: publish a post exactly once, and sweep posts whose job is gone."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.audit import service as audit
from finagency.core.errors import (
    AuthExpiredError,
    PermanentExternalError,
    RateLimitedExternalError,
)
from finagency.core.events import Event
from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.integrations.platforms.base import PostRequest
from finagency.integrations.platforms.registry import duplicate_content_errors
from finagency.models import Account, Job, JobState, Post, PostStatus, PublishAttempt
from finagency.publishing import accounts, limits
from finagency.publishing.clients import client_for
from finagency.publishing.service import PUBLISH_QUEUE, PUBLISH_TASK, publish_key
from finagency.queue import Discard, JobContext, Snooze, Task, breaker

log = structlog.get_logger(__name__)


def idempotency_key(post: Post) -> str:
    # Stable per post version: a resend of the same text reuses it, an edited post gets a new one.
    return f"fa-{post.id}-v{post.version}-{post.content_hash[:12]}"


async def _open_attempt(session: AsyncSession, post_id: int) -> PublishAttempt | None:
    return (
        await session.execute(
            select(PublishAttempt)
            .where(PublishAttempt.post_id == post_id, PublishAttempt.outcome == "sending")
            .order_by(PublishAttempt.attempt_no.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


def _mark_published(post: Post, attempt: PublishAttempt, external_id: str, url: str) -> None:
    now = utcnow()
    attempt.outcome, attempt.external_id, attempt.url, attempt.finished_at = (
        "confirmed",
        external_id,
        url,
        now,
    )
    post.status = PostStatus.PUBLISHED
    post.external_id = post.external_id or external_id  # first writer wins
    post.external_url = post.external_url or url
    post.published_at = now
    post.failure_reason = None


async def publish_post(ctx: JobContext) -> None:
    services: Services = ctx.services
    session = ctx.session
    post = await session.get(Post, int(ctx.args["post_id"]))
    if post is None or post.status in (
        PostStatus.PUBLISHED,
        PostStatus.CANCELLED,
        PostStatus.EXPIRED,
    ):
        return  # nothing to do: gone, already out, or called off
    if post.status not in (PostStatus.SCHEDULED, PostStatus.PUBLISHING):
        raise Discard("not_publishable", f"post {post.id} is {post.status}")
    account = await session.get(Account, post.account_id)
    if account is None:
        raise Discard("account_missing", f"account {post.account_id} no longer exists")
    client = client_for(account, services)

    attempt = await _open_attempt(session, post.id)
    if attempt is not None and not client.supports_idempotency_key:
        # A previous run may have published before it died: find out before sending again.
        if not client.supports_read_back:
            post.status = PostStatus.UNCONFIRMED
            post.failure_reason = "the platform cannot be read back; a person must confirm"
            attempt.outcome = "unknown"
            await _audit(session, post, "post.unconfirmed", attempt_no=attempt.attempt_no)
            return
        # Commit what was read so far: no write lock is held while the platform answers.
        await ctx.checkpoint()
        found = await client.find_post(attempt.idempotency_key, post.text)
        if found is not None:
            await _published(ctx, post, attempt, found.external_id, found.url, reconciled=True)
            return
        attempt.outcome, attempt.finished_at = "failed", utcnow()
        attempt.error = "reconciled: not found on the platform, sending again"
        attempt = None
    # (With an idempotency key, resending with the same key *is* the reconciliation: the
    # platform answers with the original post if the first send arrived.)

    if ctx.is_late or (post.latest_at is not None and utcnow() > post.latest_at):
        post.status = PostStatus.EXPIRED
        post.failure_reason = "its publishing window closed before it could go out"
        if attempt is not None:
            attempt.outcome, attempt.finished_at = "unknown", utcnow()
        await _audit(session, post, "post.expired", latest_at=str(post.latest_at))
        return
    if account.status != "active":
        raise Snooze(
            utcnow() + timedelta(minutes=5), f"account {account.handle} is {account.status}"
        )
    gate = await limits.wait_for_gates(session, services, account)
    if gate is not None:
        raise Snooze(*gate)  # wait for the breaker or a rate-limit token, attempt not spent

    if attempt is None:
        attempt_no = (
            await session.scalar(select(func.count()).where(PublishAttempt.post_id == post.id)) or 0
        ) + 1
        attempt = PublishAttempt(
            brand_id=post.brand_id,
            post_id=post.id,
            attempt_no=attempt_no,
            idempotency_key=idempotency_key(post),
            started_at=utcnow(),
            outcome="sending",
        )
        session.add(attempt)
    post.status = PostStatus.PUBLISHING
    await ctx.checkpoint()  # the intent is durable before the platform hears of it

    request = PostRequest(
        text=post.text,
        idempotency_key=attempt.idempotency_key,
        parts=tuple(post.parts or ()),
        link=post.link,
    )
    try:
        result = await client.create_post(request)
    except duplicate_content_errors() as error:
        # The platform already holds this text: the earlier send probably went out.
        found = await client.find_post(attempt.idempotency_key, post.text)
        if found is not None:
            await _published(ctx, post, attempt, found.external_id, found.url, reconciled=True)
            return
        attempt.outcome, attempt.error = "unknown", str(error)
        post.status = PostStatus.UNCONFIRMED
        post.failure_reason = (
            "the platform reports a duplicate but it cannot be found; confirm by hand"
        )
        await _audit(session, post, "post.unconfirmed", reason=str(error))
        return
    except AuthExpiredError as error:
        attempt.outcome, attempt.finished_at, attempt.error = "failed", utcnow(), str(error)
        post.status = PostStatus.SCHEDULED  # it waits for the account to be reconnected
        if await accounts.mark_auth_expired(session, account, str(error)):
            services.events.publish(
                Event("account.auth_expired", {"account_id": account.id}, brand_id=account.brand_id)
            )
        await ctx.checkpoint()
        raise Snooze(utcnow() + timedelta(hours=1), "account credentials expired") from error
    except (PermanentExternalError, RateLimitedExternalError) as error:
        # These answers prove the post did not go out, so the attempt can be closed.
        attempt.outcome, attempt.finished_at, attempt.error = "failed", utcnow(), str(error)
        if isinstance(error, RateLimitedExternalError):
            post.status = PostStatus.SCHEDULED
            if error.reset_at is not None:
                # The platform said when: hold every job of this account until then.
                await limits.hold(session, services, account, error.reset_at)
        else:
            post.status = PostStatus.FAILED
            post.failure_reason = str(error)
            await _audit(session, post, "post.failed", reason=str(error))
        await ctx.checkpoint()
        raise
    except Exception as error:
        # Unknown outcome (timeout, 5xx): leave the attempt open; the retry reconciles first.
        reason = f"{type(error).__name__}: {error}"
        for key in limits.breaker_keys(account):
            await breaker.record_failure(session, key, limits.BREAKER_POLICY, reason)
        if ctx.job.attempt >= ctx.job.max_attempts:
            await _give_up(ctx, post, reason)
        await ctx.checkpoint()
        raise
    for key in limits.breaker_keys(account):
        await breaker.record_success(session, key)
    await _published(ctx, post, attempt, result.external_id, result.url, reconciled=False)


async def _published(
    ctx: JobContext,
    post: Post,
    attempt: PublishAttempt,
    external_id: str,
    url: str,
    *,
    reconciled: bool,
) -> None:
    _mark_published(post, attempt, external_id, url)
    await _audit(
        ctx.session, post, "post.published", reconciled=reconciled, external_id=external_id
    )
    _announce(ctx.services, post)


async def _give_up(ctx: JobContext, post: Post, reason: str) -> None:
    post.status = (
        PostStatus.UNCONFIRMED if await _open_attempt(ctx.session, post.id) else PostStatus.FAILED
    )
    post.failure_reason = f"gave up after {ctx.job.attempt} attempts: {reason}"
    await _audit(ctx.session, post, f"post.{post.status}", reason=reason)
    await ctx.checkpoint()


async def _audit(session: AsyncSession, post: Post, action: str, **data: object) -> None:
    await audit.record(
        session,
        actor="system:publisher",
        action=action,
        object_type="post",
        object_id=post.id,
        brand_id=post.brand_id,
        data=dict(data),
    )


def _announce(services: Services, post: Post) -> None:
    services.events.publish(
        Event(
            "post.published", {"post_id": post.id, "url": post.external_url}, brand_id=post.brand_id
        )
    )


async def sweep_orphans(ctx: JobContext) -> None:
    """Safety net: a pending post whose publish job is dead-lettered or gone never waits silently."""
    session = ctx.session
    pending = (
        await session.execute(
            select(Post).where(
                Post.status.in_([PostStatus.SCHEDULED.value, PostStatus.PUBLISHING.value])
            )
        )
    ).scalars()
    for post in pending:
        live = await session.scalar(
            select(Job.id).where(
                Job.unique_key == publish_key(post.id),
                Job.state.in_(["available", "running", "retryable", "reconcile"]),
            )
        )
        if live is not None:
            continue
        dead = (
            await session.execute(
                select(Job)
                .where(
                    Job.unique_key == publish_key(post.id), Job.state == JobState.DISCARDED.value
                )
                .order_by(Job.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        reason = (
            f"its publish job was dead-lettered ({dead.dlq_reason})"
            if dead
            else "its publish job is missing"
        )
        post.status = (
            PostStatus.UNCONFIRMED if await _open_attempt(session, post.id) else PostStatus.FAILED
        )
        post.failure_reason = reason
        await _audit(session, post, f"post.{post.status}", reason=reason)
        log.warning("publishing.orphan_post", post_id=post.id, status=post.status, reason=reason)


TASKS = [
    Task(
        PUBLISH_TASK,
        publish_post,
        queue=PUBLISH_QUEUE,
        priority=50,
        max_attempts=6,
        timeout_seconds=60,
        reconcile_on_rescue=True,
    ),
    Task("publishing.sweep_orphans", sweep_orphans, queue="default", max_attempts=3),
]
