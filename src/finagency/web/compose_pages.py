"""Compose and edit: one content item, per-platform previews and findings as you type, and
a schedule picker with the brand's time slots. The checks run on every pause in typing through
``POST /compose/check`` (JSON, CSRF-protected) and nothing is saved until the editor submits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import DbSession, ReadSession
from finagency.auth.permissions import POST_EDIT
from finagency.brands import service as brands
from finagency.content import editorial
from finagency.content.service import EDITABLE, edit_post, post_disclosure
from finagency.core.errors import AppError, Forbidden, NotFound, ValidationFailed
from finagency.core.time import utcnow
from finagency.models import Account, Brand
from finagency.review.router import visible_post
from finagency.web import compose
from finagency.web.calendar_pages import parse_when
from finagency.web.deps import PageViewer, Viewer, is_web_url
from finagency.web.templating import flash, render

router = APIRouter()


class CheckRequest(BaseModel):
    brand_id: int | None = None
    post_id: int | None = None
    text: str = Field(default="", max_length=compose.MAX_TEXT)
    title: str = Field(default="", max_length=500)
    link: str = Field(default="", max_length=2000)
    account_ids: list[int] = Field(default_factory=list, max_length=100)


def _editable_brands(viewer: Viewer) -> list[Brand]:
    return [brand for brand in viewer.brands if viewer.can(POST_EDIT, brand.id)]


async def _brand_for(session: ReadSession, viewer: Viewer, brand_id: int | None) -> Brand:
    allowed = _editable_brands(viewer)
    if not allowed:
        raise Forbidden("composing needs the editor role on a brand")
    if brand_id is None:
        return allowed[0]
    for brand in allowed:
        if brand.id == brand_id:
            return brand
    if viewer.principal.can_see(brand_id):
        raise Forbidden("you do not have the 'post.edit' permission on this brand")
    raise NotFound("brand not found")


async def _accounts(session: ReadSession, brand: Brand) -> list[Account]:
    """The accounts an item can go to: the brand's active ones (as the content domain picks)."""
    return [a for a in await brands.list_accounts(session, brand.id) if a.status == "active"]


def _link(value: str) -> str | None:
    link = value.strip() or None
    if link is not None and not is_web_url(link):
        raise ValidationFailed("the link must start with http:// or https://")
    return link


@router.get("/compose")
async def compose_page(
    request: Request,
    viewer: PageViewer,
    session: ReadSession,
    brand_id: Annotated[int | None, Query()] = None,
) -> Response:
    brand = await _brand_for(session, viewer, brand_id)
    found = await compose.slots(session, brand, now=utcnow())
    context = {
        "page_title": "Compose",
        "active": "/compose",
        "mode": "new",
        "brand": brand,
        "brands": _editable_brands(viewer),
        "accounts": await _accounts(session, brand),
        "slots": found,
        "next_free": compose.next_free(found),
        "post": None,
        "text": "",
    }
    return render(request, "compose.html", context)


@router.get("/compose/{post_id}")
async def edit_page(
    post_id: int, request: Request, viewer: PageViewer, session: ReadSession
) -> Response:
    post = await visible_post(session, viewer.principal, post_id)
    brand = await _brand_for(session, viewer, post.brand_id)
    account = await session.get(Account, post.account_id)
    context = {
        "page_title": f"Edit post {post.id}",
        "active": "/compose",
        "mode": "edit",
        "brand": brand,
        "brands": [brand],
        "accounts": [account] if account else [],
        "slots": [],
        "next_free": None,
        "post": post,
        "editable": post.status in EDITABLE,
        "text": post.text,
    }
    return render(request, "compose.html", context)


@router.post("/compose/check", dependencies=[Depends(csrf_protect)])
async def check(body: CheckRequest, viewer: PageViewer, session: ReadSession) -> Response:
    """Previews and findings for every chosen account; runs the checks, stores nothing."""
    now = utcnow()
    link = _link(body.link)
    results: list[dict[str, Any]] = []
    targets: list[tuple[Account | None, str, str, str | None]]
    if body.post_id is not None:
        post = await visible_post(session, viewer.principal, body.post_id)
        brand = await _brand_for(session, viewer, post.brand_id)
        account = await session.get(Account, post.account_id)
        targets = [(account, post.platform, "", None)]
    else:
        brand = await _brand_for(session, viewer, body.brand_id)
        chosen = set(body.account_ids)
        disclosure = post_disclosure(brand, compose.editorial_sheet(body.title, link))
        targets = [
            (account, account.platform, disclosure, link)
            for account in await _accounts(session, brand)
            if not chosen or account.id in chosen
        ]
    for account, platform, disclosure, extra_link in targets:
        shown = compose.preview(body.text, platform, disclosure=disclosure, link=extra_link)
        checked = (
            compose.dry_run(brand, shown["text"], platform, title=body.title, link=link, now=now)
            if body.text.strip()
            else {"verdict": "pass", "findings": []}
        )
        results.append(
            {
                **shown,
                **checked,
                "account_id": account.id if account else None,
                "handle": account.handle if account else "",
            }
        )
    return JSONResponse({"brand_id": brand.id, "previews": results})


@router.post("/compose", dependencies=[Depends(csrf_protect)])
async def create(
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    brand_id: Annotated[int, Form()],
    text: Annotated[str, Form(max_length=compose.MAX_TEXT)] = "",
    title: Annotated[str, Form(max_length=500)] = "",
    link: Annotated[str, Form(max_length=2000)] = "",
    when: Annotated[str, Form(max_length=40)] = "",
    custom_at: Annotated[str, Form(max_length=40)] = "",
    slot: Annotated[str, Form(max_length=40)] = "",
    account_ids: Annotated[list[int] | None, Form()] = None,
) -> Response:
    now = utcnow()
    try:
        brand = await _brand_for(session, viewer, brand_id)
        chosen = set(account_ids or [])
        accounts = [a for a in await _accounts(session, brand) if a.id in chosen]
        wanted = _wanted(when, slot, custom_at)
        if not accounts:
            raise ValidationFailed("choose at least one account to publish on")
        if wanted is not None and wanted < now:
            raise ValidationFailed("the wanted time is in the past")
        compose.check_text(text)
        drafted = await editorial.create_editor_item(
            session,
            brand.id,
            viewer.user,
            title.strip(),
            text,
            now=now,
            account_ids=[account.id for account in accounts],
            link=_link(link),
            scheduled_at=wanted,
        )
    except AppError as error:
        await session.rollback()
        flash(request, f"Nothing was saved: {error.message}", "error")
        return RedirectResponse(f"/compose?brand_id={brand_id}", status_code=303)
    ids = ", ".join(str(post.id) for post in drafted.posts)
    flash(request, f"Sent to review: post(s) {ids}.", "success")
    return RedirectResponse("/review", status_code=303)


def _wanted(when: str, slot: str, custom_at: str) -> datetime | None:
    """The wanted time: none for "asap", the chosen slot for "slot", the typed time for
    "custom"; any other value is the ISO time of the "next free slot" choice."""
    if when in ("", "asap"):
        return None
    if when == "slot":
        if not slot.strip():
            raise ValidationFailed("choose a slot")
        return parse_when(slot)
    if when == "custom":
        if not custom_at.strip():
            raise ValidationFailed("pick a date and time, or choose a slot")
        return parse_when(custom_at)
    return parse_when(when)


@router.post("/compose/{post_id}", dependencies=[Depends(csrf_protect)])
async def save_edit(
    post_id: int,
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    text: Annotated[str, Form(max_length=compose.MAX_TEXT)] = "",
) -> Response:
    try:
        post = await visible_post(session, viewer.principal, post_id, for_update=True)
        if not viewer.can(POST_EDIT, post.brand_id):
            raise Forbidden("you do not have the 'post.edit' permission on this brand")
        compose.check_text(text)
        await edit_post(session, post, text, editor=viewer.user, now=utcnow())
    except AppError as error:
        await session.rollback()
        flash(request, f"Post {post_id} was not saved: {error.message}", "error")
        return RedirectResponse(f"/compose/{post_id}", status_code=303)
    flash(
        request,
        f"Post {post_id} saved as version {post.version} and sent back to review.",
        "success",
    )
    return RedirectResponse("/review", status_code=303)
