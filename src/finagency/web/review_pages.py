"""The review queue page: drafts with their findings marked, and Approve / Reject forms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import DbSession, ReadSession, get_services
from finagency.auth.permissions import POST_APPROVE, POST_CLIENT_SIGNOFF, POST_EDIT
from finagency.core.errors import AppError, Conflict
from finagency.models import Account, Approval, Brand, ContentItem, Finding, Post, PostStatus
from finagency.review import service as review
from finagency.review.router import (
    approve_post,
    client_decide,
    decision_event,
    reject_post,
    visible_post,
)
from finagency.web.deps import PageViewer
from finagency.web.highlight import segments
from finagency.web.templating import flash, fmt_dt, render

router = APIRouter()


@router.get("/review")
async def review_queue(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    posts = await review.review_queue(session, viewer.scope)
    waiting_client = [
        post
        for post in await review.client_queue(session, viewer.scope)
        if viewer.can(POST_CLIENT_SIGNOFF, post.brand_id)
    ]
    posts_and_client = [*posts, *waiting_client]
    post_ids = [post.id for post in posts]
    findings: dict[int, list[Finding]] = {post_id: [] for post_id in post_ids}
    rows = await session.scalars(
        select(Finding).where(Finding.post_id.in_(post_ids)).order_by(Finding.id)
    )
    versions = {post.id: post.version for post in posts}
    for finding in rows:
        if finding.post_version == versions[finding.post_id]:
            findings[finding.post_id].append(finding)
    accounts = {
        account.id: account
        for account in await session.scalars(
            select(Account).where(Account.id.in_({post.account_id for post in posts_and_client}))
        )
    }
    brands = {
        brand.id: brand
        for brand in await session.scalars(
            select(Brand).where(Brand.id.in_({post.brand_id for post in posts_and_client}))
        )
    }
    # Which generator and model wrote each draft: a reviewer weighs a model's draft differently.
    content = {
        item.id: item
        for item in await session.scalars(
            select(ContentItem).where(
                ContentItem.id.in_({post.content_item_id for post in posts_and_client})
            )
        )
    }
    items = []
    for post in posts:
        blocking = await review.open_blocking_findings(session, post)
        brand = brands[post.brand_id]
        own = brand.maker_checker and post.author_id == viewer.user.id
        items.append(
            {
                "post": post,
                "brand": brand,
                "account": accounts.get(post.account_id),
                "content": content.get(post.content_item_id),
                "segments": segments(post.text, findings[post.id]),
                "findings": findings[post.id],
                "blocking": blocking,
                "own": own,
                "can_decide": viewer.can(POST_APPROVE, post.brand_id),
                "can_edit": viewer.can(POST_EDIT, post.brand_id),
                "clean": not findings[post.id] and post.check_verdict == "pass",
            }
        )
    bulk = [item for item in items if item["clean"] and item["can_decide"] and not item["own"]]
    client_items = [
        {
            "post": post,
            "brand": brands[post.brand_id],
            "account": accounts.get(post.account_id),
            "content": content.get(post.content_item_id),
        }
        for post in waiting_client
    ]
    context = {
        "page_title": "Review",
        "active": "/review",
        "items": items,
        "bulk": bulk,
        "client_items": client_items,
    }
    return render(request, "review.html", context)


def _back_to_review() -> RedirectResponse:
    return RedirectResponse("/review", status_code=303)


@router.post("/review/{post_id}/approve", dependencies=[Depends(csrf_protect)])
async def approve(
    post_id: int,
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    version_hash: Annotated[str | None, Form(max_length=64)] = None,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        post, approval = await approve_post(
            session, viewer.principal, post_id, version_hash=version_hash or None, note=note
        )
    except AppError as error:
        await session.rollback()
        flash(request, f"Post {post_id} was not approved: {error.message}", "error")
        return _back_to_review()
    flash(request, _approved_message(post, approval), "success")
    response = _back_to_review()
    # After the response, hence after the commit that db_session makes.
    response.background = BackgroundTask(
        get_services(request).events.publish, decision_event(post, approval)
    )
    return response


def _approved_message(post: Post, approval: Approval) -> str:
    when = fmt_dt(post.scheduled_at, "as soon as possible")
    return f"Post {post.id} approved; it is scheduled for {when}."


@router.post("/review/{post_id}/reject", dependencies=[Depends(csrf_protect)])
async def reject(
    post_id: int,
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        post, approval = await reject_post(session, viewer.principal, post_id, reason=reason)
    except AppError as error:
        await session.rollback()
        flash(request, f"Post {post_id} was not rejected: {error.message}", "error")
        return _back_to_review()
    flash(request, f"Post {post.id} rejected.", "success")
    response = _back_to_review()
    response.background = BackgroundTask(
        get_services(request).events.publish, decision_event(post, approval)
    )
    return response


@router.post("/review/bulk-approve", dependencies=[Depends(csrf_protect)])
async def bulk_approve(
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    ids: Annotated[list[int] | None, Form()] = None,
) -> Response:
    """Approve several clean drafts at once: all of them or, if any is refused, none."""
    wanted = sorted(set(ids or []))
    if not wanted:
        flash(request, "Select at least one clean draft first.", "error")
        return _back_to_review()
    decided: list[tuple[Post, Approval]] = []
    try:
        for post_id in wanted:
            post = await visible_post(session, viewer.principal, post_id)
            if post.status == PostStatus.IN_REVIEW and await _has_findings(session, post):
                raise Conflict(f"post {post_id} has findings; review it on its own")
            decided.append(await approve_post(session, viewer.principal, post_id))
    except AppError as error:
        await session.rollback()
        flash(request, f"Nothing was approved: {error.message}", "error")
        return _back_to_review()
    flash(request, f"{len(decided)} post(s) approved and scheduled.", "success")
    response = _back_to_review()
    bus = get_services(request).events

    def announce() -> None:
        for post, approval in decided:
            bus.publish(decision_event(post, approval))

    response.background = BackgroundTask(announce)
    return response


async def _has_findings(session: DbSession, post: Post) -> bool:
    found = await session.scalar(
        select(Finding.id)
        .where(Finding.post_id == post.id, Finding.post_version == post.version)
        .limit(1)
    )
    return found is not None or post.check_verdict != "pass"


@router.post("/review/{post_id}/client-approve", dependencies=[Depends(csrf_protect)])
async def client_approve(
    post_id: int,
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    version_hash: Annotated[str | None, Form(max_length=64)] = None,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The brand's client signs off an approved post (brands with client approval on)."""
    return await _client_decision(
        request, viewer, session, post_id, approve=True, version_hash=version_hash, note=note
    )


@router.post("/review/{post_id}/client-reject", dependencies=[Depends(csrf_protect)])
async def client_reject(
    post_id: int,
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return await _client_decision(request, viewer, session, post_id, approve=False, note=reason)


async def _client_decision(
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    post_id: int,
    *,
    approve: bool,
    version_hash: str | None = None,
    note: str = "",
) -> Response:
    verb = "approved" if approve else "turned down"
    try:
        post, approval = await client_decide(
            session,
            viewer.principal,
            post_id,
            approve=approve,
            version_hash=version_hash or None,
            note=note,
        )
    except AppError as error:
        await session.rollback()
        flash(request, f"Post {post_id} was not {verb}: {error.message}", "error")
        return _back_to_review()
    flash(request, f"Post {post.id} {verb} for the client.", "success")
    response = _back_to_review()
    response.background = BackgroundTask(
        get_services(request).events.publish, decision_event(post, approval)
    )
    return response
