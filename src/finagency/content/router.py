"""The posts API: list and read posts of the brands the caller may see."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import CurrentPrincipal, DbSession, ReadSession, require
from finagency.auth.permissions import POST_SCHEDULE, VIEW
from finagency.content.schemas import (
    PostDetailRead,
    PostPage,
    PostRead,
    PublishAttemptRead,
    ResolveRequest,
)
from finagency.core.errors import Forbidden, NotFound
from finagency.core.time import utcnow
from finagency.models import Approval, Finding, Post, PostStatus, PublishAttempt
from finagency.publishing import service as publishing
from finagency.review.router import visible_post
from finagency.review.schemas import ApprovalRead, FindingRead

router = APIRouter(tags=["posts"])

Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]
Scheduler = Annotated[CurrentPrincipal, Depends(require(POST_SCHEDULE))]
MAX_PAGE = 200


def posts_scope(principal: CurrentPrincipal, brand_id: int | None) -> list[int] | None:
    if brand_id is not None:
        if not principal.can_see(brand_id):
            raise NotFound("brand not found")
        return [brand_id]
    if principal.user.is_admin and principal.via_token is None:
        return None
    return sorted(principal.brand_ids)


async def list_posts(
    session: AsyncSession,
    brand_ids: Sequence[int] | None,
    *,
    status: str | None = None,
    platform: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Post], int]:
    """Newest first; ``brand_ids`` None means every brand (agency admins only)."""
    query = select(Post)
    if brand_ids is not None:
        query = query.where(Post.brand_id.in_(list(brand_ids)))
    if status:
        query = query.where(Post.status == status)
    if platform:
        query = query.where(Post.platform == platform)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(Post.created_at.desc(), Post.id.desc()).limit(limit).offset(offset)
    )
    return list(rows.scalars()), int(total)


async def post_detail(session: AsyncSession, post: Post) -> PostDetailRead:
    findings = await session.scalars(
        select(Finding).where(Finding.post_id == post.id).order_by(Finding.id)
    )
    approvals = await session.scalars(
        select(Approval).where(Approval.post_id == post.id).order_by(Approval.id)
    )
    attempts = await session.scalars(
        select(PublishAttempt)
        .where(PublishAttempt.post_id == post.id)
        .order_by(PublishAttempt.attempt_no)
    )
    return PostDetailRead(
        **PostRead.model_validate(post).model_dump(),
        findings=[FindingRead.model_validate(row) for row in findings],
        approvals=[ApprovalRead.model_validate(row) for row in approvals],
        publish_attempts=[PublishAttemptRead.model_validate(row) for row in attempts],
    )


@router.get("/posts", response_model=PostPage, summary="Posts, newest first")
async def get_posts(
    principal: Viewer,
    session: ReadSession,
    status: Annotated[PostStatus | None, Query()] = None,
    brand_id: Annotated[int | None, Query()] = None,
    platform: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PostPage:
    posts, total = await list_posts(
        session,
        posts_scope(principal, brand_id),
        status=status.value if status else None,
        platform=platform,
        limit=limit,
        offset=offset,
    )
    return PostPage(
        items=[PostRead.model_validate(post) for post in posts],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/posts/{post_id}",
    response_model=PostDetailRead,
    summary="One post with its findings, approvals and publish attempts",
)
async def get_post(post_id: int, principal: Viewer, session: ReadSession) -> PostDetailRead:
    return await post_detail(session, await visible_post(session, principal, post_id))


@router.post(
    "/posts/{post_id}/resolve",
    response_model=PostRead,
    dependencies=[Depends(csrf_protect)],
    summary="Decide an unconfirmed post: it went out, or publish it again",
)
async def resolve_post(
    post_id: int, body: ResolveRequest, principal: Scheduler, session: DbSession
) -> PostRead:
    post = await visible_post(session, principal, post_id, for_update=True)
    if not principal.can(POST_SCHEDULE, post.brand_id):
        raise Forbidden("you do not have the 'post.schedule' permission on this brand")
    await publishing.resolve_unconfirmed(
        session,
        post,
        went_out=body.went_out,
        actor=f"user:{principal.user.id}",
        now=utcnow(),
        external_url=body.external_url,
    )
    await session.flush()
    return PostRead.model_validate(post)
