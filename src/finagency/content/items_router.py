"""The content API beyond posts: content items, and CSV export and import of posts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import (
    CurrentPrincipal,
    DbSession,
    ReadSession,
    get_services,
    require,
)
from finagency.auth.permissions import POST_EDIT, VIEW
from finagency.auth.scope import brand_scope
from finagency.content import csv_io
from finagency.core.errors import NotFound, ValidationFailed
from finagency.core.pagination import Limit, Offset, Page, fetch_page
from finagency.core.time import utcnow
from finagency.models import Account, Brand, ContentItem, Post, PostStatus

router = APIRouter(tags=["content"])
Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]
Editor = Annotated[CurrentPrincipal, Depends(require(POST_EDIT))]
EXPORT_BATCH = 1000
MAX_EXPORT_ROWS = 1_000_000


class ContentItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    brand_id: int
    kind: str
    title: str
    generator: str
    model: str
    author_id: int | None
    news_item_id: int | None
    created_at: datetime


class ContentItemDetail(ContentItemRead):
    factsheet: dict[str, Any]
    post_ids: list[int]


class ImportErrorRead(BaseModel):
    row: int = Field(description="Line in the file; the header is row 1")
    column: str
    message: str


class ImportResultRead(BaseModel):
    rows: int
    imported: int
    post_ids: list[int]
    errors: list[ImportErrorRead]


@router.get("/content", response_model=Page[ContentItemRead], summary="Content items")
async def list_content(
    principal: Viewer,
    session: ReadSession,
    brand_id: Annotated[int | None, Query()] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    generator: Annotated[str | None, Query(max_length=40)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ContentItemRead]:
    query = select(ContentItem).order_by(ContentItem.id.desc())
    scope = brand_scope(principal, brand_id)
    if scope is not None:
        query = query.where(ContentItem.brand_id.in_(scope))
    if kind:
        query = query.where(ContentItem.kind == kind)
    if generator:
        query = query.where(ContentItem.generator == generator)
    rows, total = await fetch_page(session, query, limit=limit, offset=offset)
    return Page[ContentItemRead](
        items=[ContentItemRead.model_validate(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/content/{item_id}", response_model=ContentItemDetail, summary="One item and its posts"
)
async def get_content(item_id: int, principal: Viewer, session: ReadSession) -> ContentItemDetail:
    item = await session.get(ContentItem, item_id)
    if item is None or not principal.can_see(item.brand_id):
        raise NotFound(f"content item {item_id} not found")
    post_ids = (
        await session.scalars(
            select(Post.id).where(Post.content_item_id == item.id).order_by(Post.id)
        )
    ).all()
    return ContentItemDetail(
        **ContentItemRead.model_validate(item).model_dump(),
        factsheet=item.factsheet,
        post_ids=list(post_ids),
    )


async def _export(
    sessionmaker: async_sessionmaker[AsyncSession],
    scope: list[int] | None,
    filters: list[Any],
    limit: int,
) -> AsyncIterator[str]:
    """Keyset batches, each in its own short read session: memory stays flat at any size."""
    yield csv_io.export_header()
    last_id: int | None = None
    sent = 0
    while sent < limit:
        async with sessionmaker() as session:
            query = select(Post).where(*filters).order_by(Post.id.desc())
            if scope is not None:
                query = query.where(Post.brand_id.in_(scope))
            if last_id is not None:
                query = query.where(Post.id < last_id)
            posts = (await session.scalars(query.limit(min(EXPORT_BATCH, limit - sent)))).all()
            if not posts:
                return
            account_ids = {post.account_id for post in posts}
            rows = await session.execute(
                select(Account.id, Account.handle).where(Account.id.in_(account_ids))
            )
            handles: dict[int, str] = dict(rows.all())
        for post in posts:
            yield csv_io.export_row(post, handles.get(post.account_id, ""))
        sent += len(posts)
        last_id = posts[-1].id


@router.get(
    "/posts.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "Posts as CSV, newest first"}},
    summary="Export posts as CSV (same filters as /posts)",
)
async def export_posts(
    request: Request,
    principal: Viewer,
    status: Annotated[PostStatus | None, Query()] = None,
    brand_id: Annotated[int | None, Query()] = None,
    platform: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[AwareDatetime | None, Query(description="created at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="created before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EXPORT_ROWS)] = MAX_EXPORT_ROWS,
) -> StreamingResponse:
    scope = brand_scope(principal, brand_id)
    filters: list[Any] = []
    if status is not None:
        filters.append(Post.status == status.value)
    if platform:
        filters.append(Post.platform == platform)
    if since is not None:
        filters.append(Post.created_at >= since)
    if until is not None:
        filters.append(Post.created_at < until)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        _export(get_services(request).read_sessionmaker, scope, filters, limit),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="posts-{stamp}.csv"'},
    )


@router.post(
    "/posts/import",
    response_model=ImportResultRead,
    dependencies=[Depends(csrf_protect)],
    summary="Import posts from CSV into review (all rows or none, unless partial=true)",
)
async def import_posts(
    principal: Editor,
    session: DbSession,
    file: Annotated[UploadFile, File(description="CSV, UTF-8, header row first")],
    brand_id: Annotated[int, Query(description="The brand the posts are for")],
    partial: Annotated[bool, Query(description="Import the valid rows even if some fail")] = False,
) -> ImportResultRead:
    brand = await session.get(Brand, brand_id)
    if brand is None:
        raise NotFound("brand not found")
    now = utcnow()
    data = await file.read(csv_io.MAX_BYTES + 1)
    valid, errors, count = await csv_io.validate_csv(session, brand, data, now=now)
    error_dicts = [error.to_dict() for error in errors]
    if (errors and not partial) or (not valid and not errors and count == 0):
        if not errors:
            error_dicts = [{"row": 2, "column": "", "message": "the file has no rows"}]
        raise ValidationFailed(
            f"{len(error_dicts)} problem(s) in the file; nothing was imported",
            details={"errors": error_dicts, "rows": count, "imported": 0},
        )
    post_ids = await csv_io.import_rows(session, brand, valid, author_id=principal.user.id, now=now)
    return ImportResultRead(
        rows=count,
        imported=len(post_ids),
        post_ids=post_ids,
        errors=[ImportErrorRead(**error) for error in error_dicts],
    )
