"""The queue monitor page: queues by state, recent jobs, job actions and pause/resume."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import DbSession, ReadSession, get_services
from finagency.auth.permissions import QUEUE_OPERATE
from finagency.core.errors import AppError
from finagency.models import Job, JobState
from finagency.ops.queue_router import (
    act_on_jobs,
    check_can_pause,
    job_scope,
    jobs_event,
    set_queue_paused,
)
from finagency.ops.schemas import JobAction
from finagency.queue import admin
from finagency.web.deps import PageViewer, Viewer
from finagency.web.templating import flash, render

router = APIRouter()

STATES = [state.value for state in JobState]
QUEUE_NAME = r"^[A-Za-z0-9_.:-]{1,64}$"


def _can_operate(viewer: Viewer, job: Job) -> bool:
    if job.brand_id is None:
        return viewer.user.is_admin and viewer.can(QUEUE_OPERATE)
    return viewer.can(QUEUE_OPERATE, job.brand_id)


@router.get("/queue")
async def queue_monitor(
    request: Request,
    viewer: PageViewer,
    session: ReadSession,
    state: Annotated[str | None, Query(max_length=16)] = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    state = state if state in STATES else None
    known = get_services(request).settings.worker.queues
    summaries = await admin.queue_summaries(session, known)
    jobs, total = await admin.list_jobs(
        session,
        states=[state] if state else [],
        queue=queue or None,
        brand_ids=job_scope(viewer.principal),
        limit=100,
    )
    retryable = {item.value for item in admin.RETRYABLE_FROM}
    cancellable = {item.value for item in admin.CANCELLABLE_FROM}
    rows = [
        {
            "job": job,
            "can_operate": _can_operate(viewer, job),
            "retryable": job.state in retryable,
            "cancellable": job.state in cancellable,
        }
        for job in jobs
    ]
    try:
        check_can_pause(viewer.principal)
        can_pause = True
    except AppError:
        can_pause = False
    context = {
        "page_title": "Queue",
        "active": "/queue",
        "summaries": summaries,
        "states": STATES,
        "queues": sorted({*known, *(item.queue for item in summaries)}),
        "state": state or "",
        "queue": queue or "",
        "rows": rows,
        "total": total,
        "can_pause": can_pause,
        "any_operable": any(row["can_operate"] for row in rows),
    }
    return render(request, "queue.html", context)


def _back(request: Request) -> RedirectResponse:
    return RedirectResponse("/queue", status_code=303)


async def _run_action(
    request: Request, viewer: Viewer, session: DbSession, action: JobAction, ids: list[int]
) -> Response:
    if not ids:
        flash(request, "Select at least one job first.", "error")
        return _back(request)
    try:
        result = await act_on_jobs(session, viewer.principal, action, ids)
    except AppError as error:
        await session.rollback()
        flash(request, f"Nothing was changed: {error.message}", "error")
        return _back(request)
    skipped = result.requested - result.affected
    message = f"{action.capitalize()}: {result.affected} of {result.requested} job(s) changed."
    if skipped:
        message += f" {skipped} could not be, given their state."
    flash(request, message, "success" if result.affected else "info")
    response = _back(request)
    response.background = BackgroundTask(
        get_services(request).events.publish, jobs_event(action, ids)
    )
    return response


@router.post("/queue/jobs/bulk", dependencies=[Depends(csrf_protect)])
async def bulk_action(
    request: Request,
    viewer: PageViewer,
    session: DbSession,
    action: Annotated[JobAction, Form()],
    ids: Annotated[list[int] | None, Form()] = None,
) -> Response:
    return await _run_action(request, viewer, session, action, ids or [])


@router.post("/queue/jobs/{job_id}/{action}", dependencies=[Depends(csrf_protect)])
async def job_action(
    job_id: int, action: JobAction, request: Request, viewer: PageViewer, session: DbSession
) -> Response:
    return await _run_action(request, viewer, session, action, [job_id])


@router.post("/queue/queues/{name}/{action}", dependencies=[Depends(csrf_protect)])
async def queue_action(
    name: Annotated[str, Path(pattern=QUEUE_NAME)],
    action: Annotated[str, Path(pattern=r"^(pause|resume)$")],
    request: Request,
    viewer: PageViewer,
    session: DbSession,
) -> Response:
    try:
        await set_queue_paused(session, viewer.principal, name, paused=action == "pause")
    except AppError as error:
        await session.rollback()
        flash(request, f"Queue {name} unchanged: {error.message}", "error")
        return _back(request)
    flash(request, f"Queue {name} {'paused' if action == 'pause' else 'resumed'}.", "success")
    return _back(request)
