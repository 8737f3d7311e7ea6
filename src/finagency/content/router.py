"""The posts API: list and read posts of the brands the caller may see."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.auth.dependencies import CurrentPrincipal, ReadSession, require
from finagency.auth.permissions import VIEW
from finagency.content.schemas import PostDetailRead, PostPage, PostRead, PublishAttemptRead
from finagency.core.errors import NotFound
from finagency.models import Approval, Finding, Post, PostStatus, PublishAttempt
from finagency.review.router import visible_post
from finagency.review.schemas import ApprovalRead, FindingRead

router = APIRouter(tags=["posts"])

Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]
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
