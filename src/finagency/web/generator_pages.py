"""Analytics → Generators: the latest evaluation of every generator, side by side.

Evaluations draft the demo's sample fact sheets with each generator and run every check on
the drafts (``content.evaluation``). Running one takes minutes with a local model, so the
button queues a job; admins and operators (queue operators on any brand) may press it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import DbSession, ReadSession, get_services
from finagency.auth.permissions import QUEUE_OPERATE
from finagency.content.evaluation import (
    DEFAULT_ITEMS,
    EVALUATE_TASK,
    latest_evaluations,
    local_available,
)
from finagency.queue import enqueue
from finagency.web.deps import PageViewer, Viewer
from finagency.web.templating import flash, render

router = APIRouter()
PATH = "/analytics/generators"


def _can_run(viewer: Viewer) -> bool:
    return viewer.user.is_admin or viewer.can(QUEUE_OPERATE)


def _names(request: Request) -> list[str]:
    settings = get_services(request).settings
    return ["template", "local"] if local_available(settings) else ["template"]


@router.get(PATH)
async def generators_page(request: Request, viewer: PageViewer, session: ReadSession) -> Response:
    rows = await latest_evaluations(session)
    context = {
        "page_title": "Generators",
        "active": "/analytics",
        "rows": rows,
        "reason_codes": sorted({code for row in rows for code in row.reasons}),
        "can_run": _can_run(viewer),
        "run_names": _names(request),
        "items": DEFAULT_ITEMS,
    }
    return render(request, "generators.html", context)


@router.post(f"{PATH}/run", dependencies=[Depends(csrf_protect)])
async def run_evaluation(request: Request, viewer: PageViewer, session: DbSession) -> Response:
    if not _can_run(viewer):
        flash(request, "Only admins and operators may run an evaluation.", "error")
        return RedirectResponse(PATH, status_code=303)
    names = _names(request)
    job_id = await enqueue(
        session,
        EVALUATE_TASK,
        {"generators": names, "items": DEFAULT_ITEMS, "triggered_by": f"user:{viewer.user.id}"},
        queue="content",
        unique_key="evaluate-generators",
    )
    if job_id is None:
        flash(request, "An evaluation is already queued or running.", "info")
    else:
        flash(
            request,
            f"Evaluation of {', '.join(names)} queued (job {job_id}); "
            "the results appear here when it finishes.",
            "success",
        )
    return RedirectResponse(PATH, status_code=303)
