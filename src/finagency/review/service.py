"""Review: maker-checker approval bound to a version, rejection with a reason, auto-approval policy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.audit import service as audit
from finagency.core.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from finagency.models import Approval, Brand, ContentItem, Finding, Post, PostStatus, User
from finagency.publishing import service as publishing

DEFAULT_SPACING_SECONDS = 300
DEFAULT_LEAD_SECONDS = 60
# Kinds a policy may approve without a person: clean and purely factual. News takes quote a
# third party's headline and editor-written posts are opinion, so a person always reviews them.
AUTO_APPROVABLE_KINDS = frozenset(
    {"market_mover", "market_wrap", "macro_rate", "filing_note", "weekly_recap"}
)
CLIENT_APPROVAL_SETTING = "client_approval"


def client_approval_required(brand: Brand) -> bool:
    """Whether the brand's client signs off after the approver (off unless the brand asks)."""
    return bool((brand.settings or {}).get(CLIENT_APPROVAL_SETTING, False))


async def _brand(session: AsyncSession, post: Post) -> Brand:
    brand = await session.get(Brand, post.brand_id)
    if brand is None:
        raise NotFound(f"brand {post.brand_id} does not exist")
    return brand


async def open_blocking_findings(session: AsyncSession, post: Post) -> list[Finding]:
    rows = await session.execute(
        select(Finding).where(
            Finding.post_id == post.id,
            Finding.post_version == post.version,
            Finding.severity == "block",
            Finding.disposition == "open",
        )
    )
    return list(rows.scalars())


async def _schedule_after_approval(
    session: AsyncSession, post: Post, brand: Brand, now: datetime, actor: str
) -> None:
    spacing = timedelta(seconds=int(brand.settings.get("spacing_seconds", DEFAULT_SPACING_SECONDS)))
    lead = timedelta(seconds=int(brand.settings.get("lead_seconds", DEFAULT_LEAD_SECONDS)))
    wanted = post.scheduled_at if post.scheduled_at and post.scheduled_at > now else now + lead
    at = await publishing.next_slot(session, post.account_id, not_before=wanted, spacing=spacing)
    await publishing.schedule_post(session, post, at=at, actor=actor)


async def approve(
    session: AsyncSession,
    post: Post,
    *,
    approver: User,
    now: datetime,
    version_hash: str | None = None,
    note: str = "",
) -> Approval:
    """A person approves this exact version; the post is scheduled in the same transaction."""
    if post.status != PostStatus.IN_REVIEW:
        raise InvalidTransition(f"post {post.id} is {post.status}, not waiting for review")
    brand = await _brand(session, post)
    if brand.maker_checker and post.author_id is not None and post.author_id == approver.id:
        raise Forbidden("maker-checker: you cannot approve a post you wrote or last edited")
    if version_hash is not None and version_hash != post.content_hash:
        raise Conflict("the post changed since you opened it; review the new version")
    blocking = await open_blocking_findings(session, post)
    if blocking:
        reasons = ", ".join(sorted({finding.reason_code for finding in blocking}))
        raise Conflict(f"blocking findings must be fixed first: {reasons}")
    approval = Approval(
        brand_id=post.brand_id,
        post_id=post.id,
        version_hash=post.content_hash,
        approver_id=approver.id,
        decision="approved",
        note=note,
        at=now,
    )
    session.add(approval)
    actor = f"user:{approver.id}"
    waits = client_approval_required(brand)
    post.status = PostStatus.AWAITING_CLIENT if waits else PostStatus.APPROVED
    await audit.record(
        session,
        actor=actor,
        action="post.approved",
        object_type="post",
        object_id=post.id,
        brand_id=post.brand_id,
        data={
            "version_hash": post.content_hash,
            "version": post.version,
            "note": note,
            "stage": "approver",
            "awaiting_client": waits,
        },
    )
    if not waits:
        await _schedule_after_approval(session, post, brand, now, actor)
    return approval


async def reject(
    session: AsyncSession, post: Post, *, approver: User, reason: str, now: datetime
) -> Approval:
    if not reason.strip():
        raise ValidationFailed("a rejection needs a reason the author can act on")
    if post.status not in (
        PostStatus.IN_REVIEW,
        PostStatus.AWAITING_CLIENT,
        PostStatus.APPROVED,
        PostStatus.SCHEDULED,
    ):
        raise InvalidTransition(f"post {post.id} is {post.status} and cannot be rejected")
    if post.status == PostStatus.SCHEDULED:
        await publishing.cancel_post(session, post, actor=f"user:{approver.id}", reason="rejected")
    approval = Approval(
        brand_id=post.brand_id,
        post_id=post.id,
        version_hash=post.content_hash,
        approver_id=approver.id,
        decision="rejected",
        note=reason.strip(),
        at=now,
    )
    session.add(approval)
    post.status = PostStatus.REJECTED
    await audit.record(
        session,
        actor=f"user:{approver.id}",
        action="post.rejected",
        object_type="post",
        object_id=post.id,
        brand_id=post.brand_id,
        data={"reason": reason.strip(), "version": post.version},
    )
    return approval


async def auto_approve_if_allowed(
    session: AsyncSession, post: Post, item: ContentItem, *, now: datetime
) -> bool:
    """Approve by policy when the brand enabled it for this kind and the checks found nothing.

    The policy is explicit (brand.auto_approve_kinds) and every use of it is audited.
    """
    brand = await _brand(session, post)
    if item.kind not in AUTO_APPROVABLE_KINDS:
        return False  # never by policy, whatever an old setting says
    if item.kind not in brand.auto_approve_kinds or post.check_verdict != "pass":
        return False
    if post.status != PostStatus.IN_REVIEW:
        return False
    policy = f"auto_approve:{item.kind}"
    session.add(
        Approval(
            brand_id=post.brand_id,
            post_id=post.id,
            version_hash=post.content_hash,
            approver_id=None,
            decision="approved",
            note="clean factual post",
            policy=policy,
            at=now,
        )
    )
    waits = client_approval_required(brand)
    post.status = PostStatus.AWAITING_CLIENT if waits else PostStatus.APPROVED
    await audit.record(
        session,
        actor=f"policy:{policy}",
        action="post.approved",
        object_type="post",
        object_id=post.id,
        brand_id=post.brand_id,
        data={
            "version_hash": post.content_hash,
            "version": post.version,
            "policy": policy,
            "stage": "approver",
            "awaiting_client": waits,
        },
    )
    if not waits:
        await _schedule_after_approval(session, post, brand, now, f"policy:{policy}")
    return True


async def _posts_waiting(
    session: AsyncSession,
    status: PostStatus,
    brand_ids: Sequence[int] | None,
    limit: int,
    since: Any,
) -> list[Post]:
    """Posts in ``status`` on ``brand_ids`` (all brands when None), longest waiting first."""
    query = select(Post).where(Post.status == status.value).order_by(since, Post.id).limit(limit)
    if brand_ids is not None:
        query = query.where(Post.brand_id.in_(list(brand_ids)))
    return list((await session.execute(query)).scalars())


async def review_queue(
    session: AsyncSession, brand_ids: Sequence[int] | None, limit: int = 100
) -> list[Post]:
    """Drafts waiting for an approver, oldest first."""
    return await _posts_waiting(session, PostStatus.IN_REVIEW, brand_ids, limit, Post.created_at)


async def client_approve(
    session: AsyncSession,
    post: Post,
    *,
    client: User,
    now: datetime,
    version_hash: str | None = None,
    note: str = "",
) -> Approval:
    """The brand's client signs off the version the approver approved; then it is scheduled."""
    if post.status != PostStatus.AWAITING_CLIENT:
        raise InvalidTransition(f"post {post.id} is {post.status}, not waiting for the client")
    if version_hash is not None and version_hash != post.content_hash:
        raise Conflict("the post changed since you opened it; review the new version")
    approved = await session.scalar(
        select(Approval.id).where(
            Approval.post_id == post.id,
            Approval.version_hash == post.content_hash,
            Approval.decision == "approved",
            Approval.stage == "approver",
        )
    )
    if approved is None:
        raise Conflict("this version has no approver's approval; it must be reviewed first")
    brand = await _brand(session, post)
    approval = Approval(
        brand_id=post.brand_id,
        post_id=post.id,
        version_hash=post.content_hash,
        approver_id=client.id,
        decision="approved",
        note=note,
        stage="client",
        at=now,
    )
    session.add(approval)
    post.status = PostStatus.APPROVED
    actor = f"user:{client.id}"
    await audit.record(
        session,
        actor=actor,
        action="post.client_approved",
        object_type="post",
        object_id=post.id,
        brand_id=post.brand_id,
        data={
            "version_hash": post.content_hash,
            "version": post.version,
            "note": note,
            "stage": "client",
        },
    )
    await _schedule_after_approval(session, post, brand, now, actor)
    return approval


async def client_reject(
    session: AsyncSession, post: Post, *, client: User, reason: str, now: datetime
) -> Approval:
    """The client turns the post down; it goes back to its author with the reason."""
    if not reason.strip():
        raise ValidationFailed("a rejection needs a reason the author can act on")
    if post.status != PostStatus.AWAITING_CLIENT:
        raise InvalidTransition(f"post {post.id} is {post.status}, not waiting for the client")
    approval = Approval(
        brand_id=post.brand_id,
        post_id=post.id,
        version_hash=post.content_hash,
        approver_id=client.id,
        decision="rejected",
        note=reason.strip(),
        stage="client",
        at=now,
    )
    session.add(approval)
    post.status = PostStatus.REJECTED
    await audit.record(
        session,
        actor=f"user:{client.id}",
        action="post.client_rejected",
        object_type="post",
        object_id=post.id,
        brand_id=post.brand_id,
        data={"reason": reason.strip(), "version": post.version, "stage": "client"},
    )
    return approval


async def client_queue(
    session: AsyncSession, brand_ids: Sequence[int] | None, limit: int = 100
) -> list[Post]:
    """Posts waiting on a client's sign-off, longest waiting first."""
    return await _posts_waiting(
        session, PostStatus.AWAITING_CLIENT, brand_ids, limit, Post.updated_at
    )


async def set_auto_approve_policy(
    session: AsyncSession, brand: Brand, kinds: Sequence[str], *, actor: str
) -> list[str]:
    """Name the content kinds this brand lets policy approve; the change is audited."""
    wanted = sorted(set(kinds))
    refused = [kind for kind in wanted if kind not in AUTO_APPROVABLE_KINDS]
    if refused:
        raise ValidationFailed(
            f"these kinds always need a person: {', '.join(refused)}",
            details={"refused": refused, "allowed": sorted(AUTO_APPROVABLE_KINDS)},
        )
    before = sorted(brand.auto_approve_kinds or [])
    brand.auto_approve_kinds = wanted
    await audit.record(
        session,
        actor=actor,
        action="brand.auto_approve_changed",
        object_type="brand",
        object_id=brand.id,
        brand_id=brand.id,
        data={"before": before, "after": wanted},
    )
    return wanted


async def set_client_approval(
    session: AsyncSession, brand: Brand, enabled: bool, *, actor: str
) -> None:
    """Turn the client-approval step on or off for a brand (audited)."""
    before = client_approval_required(brand)
    brand.settings = {**(brand.settings or {}), CLIENT_APPROVAL_SETTING: bool(enabled)}
    await audit.record(
        session,
        actor=actor,
        action="brand.client_approval_changed",
        object_type="brand",
        object_id=brand.id,
        brand_id=brand.id,
        data={"before": before, "after": bool(enabled)},
    )
