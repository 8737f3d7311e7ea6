"""What needs a person: dead letters (retry or dismiss, one or many) and unconfirmed posts
("It went out" / "Publish again"), on top of the queue admin and publishing services."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form
from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from finagency.audit import service as audit
from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import DbSession, ReadSession, get_services
from finagency.auth.permissions import POST_SCHEDULE, QUEUE_OPERATE
from finagency.core.errors import AppError, Forbidden, NotFound, ValidationFailed
from finagency.core.time import utcnow
from finagency.models import Account, Job, JobState, Post, PostStatus, PublishAttempt
from finagency.ops.queue_router import act_on_jobs, job_scope, jobs_event
from finagency.publishing import service as publishing
from finagency.queue import admin, dead_letters
from finagency.review.router import visible_post
from finagency.web.deps import PageViewer, Viewer, is_web_url
from finagency.web.templating import flash, render

router = APIRouter()

DeadLetterAction = Literal["retry", "dismiss"]
PAGE_LIMIT = 200


def can_operate(viewer: Viewer, job: Job) -> bool:
    if job.brand_id is None:
        return viewer.user.is_admin and viewer.can(QUEUE_OPERATE)
    return viewer.can(QUEUE_OPERATE, job.brand_id)


@router.get("/dead-letters")
async def dead_letter_page(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    jobs, total = await admin.list_jobs(
        session,
        states=[JobState.DISCARDED.value],
        brand_ids=job_scope(viewer.principal),
        limit=PAGE_LIMIT,
    )
    rows = [
        {
            "job": job,
            "brand": viewer.brand_name(job.brand_id) if job.brand_id else "System",
            "history": [entry for entry in job.errors or [] if isinstance(entry, dict)],
            "can_operate": can_operate(viewer, job),
        }
        for job in jobs
    ]
    context = {
        "page_title": "Dead letters",
        "active": "/dead-letters",
        "rows": rows,
        "total": total,
        "any_operable": any(row["can_operate"] for row in rows),
    }
    return render(request, "dead_letters.html", context)


async def _dismiss(session: DbSession, viewer: Viewer, ids: list[int]) -> int:
    """All or nothing: every job must be visible and operable before any is touched."""
    jobs = {job.id: job for job in await session.scalars(select(Job).where(Job.id.in_(ids)))}
    scope = job_scope(viewer.principal)
    for job_id in ids:
        job = jobs.get(job_id)
        if job is None or (scope is not None and job.brand_id not in scope):
            raise NotFound(f"job {job_id} not found")
        if not can_operate(viewer, job):
            raise Forbidden(f"you may not operate job {job_id}")
    affected = await dead_letters.dismiss(session, ids, now=utcnow())
    brands = {job.brand_id for job in jobs.values()}
    await audit.record(
        session,
        actor=f"user:{viewer.user.id}",
        action="job.dismissed",
        object_type="job",
        object_id=",".join(str(job_id) for job_id in ids)[:64],
        brand_id=next(iter(brands)) if len(brands) == 1 else None,
        data={"ids": ids, "affected": affected},
    )
    return affected


async def _act(
    request: Request, viewer: Viewer, session: DbSession, action: DeadLetterAction, ids: list[int]
) -> Response:
    back = RedirectResponse("/dead-letters", status_code=303)
    wanted = sorted(set(ids))
    if not wanted:
        flash(request, "Select at least one dead letter first.", "error")
        return back
    try:
        if action == "retry":
            affected = (await act_on_jobs(session, viewer.principal, "retry", wanted)).affected
        else:
            affected = await _dismiss(session, viewer, wanted)
    except AppError as error:
        await session.rollback()
        flash(request, f"Nothing was changed: {error.message}", "error")
        return back
    verb = "retried" if action == "retry" else "dismissed"
    flash(request, f"{affected} of {len(wanted)} dead letter(s) {verb}.", "success")
    back.background = BackgroundTask(
        get_services(request).events.publish, jobs_event(action, wanted)
    )
    return back


@router.post("/dead-letters/bulk", dependencies=[Depends(csrf_protect)])
async def bulk(
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    action: Annotated[DeadLetterAction, Form()],
    ids: Annotated[list[int] | None, Form()] = None,
) -> Response:
    return await _act(request, viewer, session, action, ids or [])


@router.post("/dead-letters/{job_id}/{action}", dependencies=[Depends(csrf_protect)])
async def single(
    job_id: int, action: DeadLetterAction, request: Request, viewer: PageViewer, session: DbSession
) -> Response:
    return await _act(request, viewer, session, action, [job_id])


@router.get("/unconfirmed")
async def unconfirmed_page(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    query = select(Post).where(Post.status == PostStatus.UNCONFIRMED.value)
    if viewer.scope is not None:
        query = query.where(Post.brand_id.in_(viewer.scope))
    posts = list(await session.scalars(query.order_by(Post.updated_at.desc()).limit(PAGE_LIMIT)))
    ids = [post.id for post in posts]
    attempts: dict[int, list[PublishAttempt]] = {post_id: [] for post_id in ids}
    for attempt in await session.scalars(
        select(PublishAttempt)
        .where(PublishAttempt.post_id.in_(ids))
        .order_by(PublishAttempt.attempt_no)
    ):
        attempts[attempt.post_id].append(attempt)
    accounts = {
        account.id: account
        for account in await session.scalars(
            select(Account).where(Account.id.in_({post.account_id for post in posts}))
        )
    }
    rows = [
        {
            "post": post,
            "brand": viewer.brand_name(post.brand_id),
            "account": accounts.get(post.account_id),
            "attempts": attempts[post.id],
            "can_resolve": viewer.can(POST_SCHEDULE, post.brand_id),
            "url": post.external_url if is_web_url(post.external_url) else None,
        }
        for post in posts
    ]
    context = {"page_title": "Unconfirmed posts", "active": "/unconfirmed", "rows": rows}
    return render(request, "unconfirmed.html", context)


@router.post("/unconfirmed/{post_id}/{decision}", dependencies=[Depends(csrf_protect)])
async def resolve(
    post_id: int,
    decision: Literal["went-out", "publish-again"],
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    external_url: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    back = RedirectResponse("/unconfirmed", status_code=303)
    went_out = decision == "went-out"
    url = external_url.strip() or None
    try:
        if url is not None and not is_web_url(url):
            raise ValidationFailed("the link must start with http:// or https://")
        post = await visible_post(session, viewer.principal, post_id, for_update=True)
        if not viewer.can(POST_SCHEDULE, post.brand_id):
            raise Forbidden("you do not have the 'post.schedule' permission on this brand")
        await publishing.resolve_unconfirmed(
            session,
            post,
            went_out=went_out,
            actor=f"user:{viewer.user.id}",
            now=utcnow(),
            external_url=url,
        )
    except AppError as error:
        await session.rollback()
        flash(request, f"Post {post_id} unchanged: {error.message}", "error")
        return back
    flash(
        request,
        f"Post {post_id} recorded as published."
        if went_out
        else f"Post {post_id} will be published again now.",
        "success",
    )
    return back
