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
from finagency.auth.permissions import POST_APPROVE
from finagency.core.errors import AppError
from finagency.models import Account, Approval, Brand, Finding, Post
from finagency.review import service as review
from finagency.review.router import approve_post, decision_event, reject_post
from finagency.web.deps import PageViewer
from finagency.web.highlight import segments
from finagency.web.templating import flash, fmt_dt, render

router = APIRouter()


@router.get("/review")
async def review_queue(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    posts = await review.review_queue(session, viewer.scope)
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
            select(Account).where(Account.id.in_({post.account_id for post in posts}))
        )
    }
    brands = {
        brand.id: brand
        for brand in await session.scalars(
            select(Brand).where(Brand.id.in_({post.brand_id for post in posts}))
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
                "segments": segments(post.text, findings[post.id]),
                "findings": findings[post.id],
                "blocking": blocking,
                "own": own,
                "can_decide": viewer.can(POST_APPROVE, post.brand_id),
            }
        )
    context = {"page_title": "Review", "active": "/review", "items": items}
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
