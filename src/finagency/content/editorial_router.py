"""The API for editor-written posts: POST /content/editorial (the Compose page calls it too)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.requests import Request

from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import CurrentPrincipal, DbSession, get_services, require
from finagency.auth.permissions import POST_EDIT
from finagency.content.editorial import MAX_TEXT, MAX_TITLE, create_editor_item
from finagency.content.schemas import PostRead
from finagency.core.errors import Forbidden, NotFound
from finagency.core.events import Event
from finagency.core.time import utcnow
from finagency.models import Finding
from finagency.review.schemas import FindingRead

router = APIRouter(tags=["posts"])

Editor = Annotated[CurrentPrincipal, Depends(require(POST_EDIT))]


class EditorialCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand_id: int
    title: str = Field(default="", max_length=MAX_TITLE)
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    platforms: list[str] | None = Field(
        default=None, description="Post to the brand's accounts on these platforms"
    )
    account_ids: list[int] | None = Field(default=None, description="Or to exactly these")
    facts: dict[str, Any] | None = Field(
        default=None,
        description='What the text may state: {"facts": [{"name", "value", "unit", "as_of", '
        '"source", "ticker"?}]}, as for `finagency check --facts`',
    )
    tickers: list[str] = Field(default_factory=list, max_length=20)
    link: str | None = Field(default=None, max_length=2000)
    scheduled_at: datetime | None = Field(
        default=None, description="Wished publication time, used once approved"
    )


class EditorialPost(PostRead):
    findings: list[FindingRead]


class EditorialRead(BaseModel):
    content_item_id: int
    kind: str
    posts: list[EditorialPost]


@router.post(
    "/content/editorial",
    response_model=EditorialRead,
    status_code=201,
    dependencies=[Depends(csrf_protect)],
    summary="Write a post yourself: checked like a draft, then it waits for an approver",
)
async def create_editorial(
    body: EditorialCreate,
    request: Request,
    principal: Editor,
    session: DbSession,
    background: BackgroundTasks,
) -> EditorialRead:
    if not principal.can_see(body.brand_id):
        raise NotFound("brand not found")
    if not principal.can(POST_EDIT, body.brand_id):
        raise Forbidden("you do not have the 'post.edit' permission on this brand")
    drafted = await create_editor_item(
        session,
        body.brand_id,
        principal.user,
        body.title,
        body.text,
        body.platforms,
        now=utcnow(),
        account_ids=body.account_ids,
        facts=body.facts,
        tickers=body.tickers,
        link=body.link,
        scheduled_at=body.scheduled_at,
    )
    posts = []
    for post in drafted.posts:
        found = await session.scalars(
            select(Finding)
            .where(Finding.post_id == post.id, Finding.post_version == post.version)
            .order_by(Finding.id)
        )
        posts.append(
            EditorialPost.model_validate(
                {
                    **PostRead.model_validate(post).model_dump(),
                    "findings": [FindingRead.model_validate(f) for f in found],
                }
            )
        )
    background.add_task(
        get_services(request).events.publish,
        Event(
            "content.drafted",
            {
                "items": 1,
                "content_item_id": drafted.item.id,
                "posts": [post.id for post in drafted.posts],
            },
            brand_id=body.brand_id,
        ),
    )
    return EditorialRead(content_item_id=drafted.item.id, kind=drafted.item.kind, posts=posts)
