"""The engagement API: counter snapshots of published posts, filterable by post and time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict
from sqlalchemy import select

from finagency.auth.dependencies import CurrentPrincipal, ReadSession, require
from finagency.auth.permissions import VIEW
from finagency.auth.scope import brand_scope
from finagency.core.pagination import Limit, Offset, Page, fetch_page
from finagency.models import EngagementSnapshot, Post

router = APIRouter(tags=["analytics"])
Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]


class EngagementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    brand_id: int
    post_id: int
    at: datetime
    likes: int
    reposts: int
    replies: int
    impressions: int
    clicks: int


@router.get("/engagement", response_model=Page[EngagementRead], summary="Engagement snapshots")
async def list_engagement(
    principal: Viewer,
    session: ReadSession,
    brand_id: Annotated[int | None, Query()] = None,
    post_id: Annotated[int | None, Query()] = None,
    platform: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[AwareDatetime | None, Query(description="ISO 8601 with offset")] = None,
    until: Annotated[AwareDatetime | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[EngagementRead]:
    query = select(EngagementSnapshot).order_by(
        EngagementSnapshot.at.desc(), EngagementSnapshot.id.desc()
    )
    scope = brand_scope(principal, brand_id)
    if scope is not None:
        query = query.where(EngagementSnapshot.brand_id.in_(scope))
    if post_id is not None:
        query = query.where(EngagementSnapshot.post_id == post_id)
    if platform:
        query = query.where(
            EngagementSnapshot.post_id.in_(select(Post.id).where(Post.platform == platform))
        )
    if since is not None:
        query = query.where(EngagementSnapshot.at >= since)
    if until is not None:
        query = query.where(EngagementSnapshot.at < until)
    rows, total = await fetch_page(session, query, limit=limit, offset=offset)
    return Page[EngagementRead](
        items=[EngagementRead.model_validate(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
