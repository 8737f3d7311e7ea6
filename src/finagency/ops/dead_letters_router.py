"""The dead-letters API: jobs that gave up, with their reason and error history.

Retry and discard are the jobs API's actions (``POST /jobs/{id}/retry``, ``/jobs/bulk``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from finagency.auth.dependencies import CurrentPrincipal, ReadSession, require
from finagency.auth.permissions import VIEW
from finagency.auth.scope import brand_scope
from finagency.core.errors import NotFound
from finagency.core.pagination import Limit, Offset, Page, fetch_page
from finagency.models import Job, JobState
from finagency.ops.schemas import JobRead

router = APIRouter(tags=["queue"])
Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]


@router.get("/dead-letters", response_model=Page[JobRead], summary="Dead-lettered jobs")
async def list_dead_letters(
    principal: Viewer,
    session: ReadSession,
    brand_id: Annotated[int | None, Query()] = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    task: Annotated[str | None, Query(max_length=100)] = None,
    reason: Annotated[str | None, Query(max_length=100, description="dlq_reason")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[JobRead]:
    query = (
        select(Job)
        .where(Job.state == JobState.DISCARDED.value)
        .order_by(Job.finalized_at.desc(), Job.id.desc())
    )
    # System jobs (no brand) are listed for agency admins' own sessions only.
    scope = brand_scope(principal, brand_id)
    if scope is not None:
        query = query.where(Job.brand_id.in_(scope))
    if queue:
        query = query.where(Job.queue == queue)
    if task:
        query = query.where(Job.task == task)
    if reason:
        query = query.where(Job.dlq_reason == reason)
    rows, total = await fetch_page(session, query, limit=limit, offset=offset)
    return Page[JobRead](
        items=[JobRead.model_validate(row) for row in rows], total=total, limit=limit, offset=offset
    )


@router.get("/dead-letters/{job_id}", response_model=JobRead, summary="One dead-lettered job")
async def get_dead_letter(job_id: int, principal: Viewer, session: ReadSession) -> JobRead:
    job = await session.get(Job, job_id)
    visible = job is not None and (
        principal.can_see(job.brand_id)
        if job.brand_id is not None
        else principal.user.is_admin and principal.via_token is None
    )
    if job is None or not visible or job.state != JobState.DISCARDED.value:
        raise NotFound(f"dead letter {job_id} not found")
    return JobRead.model_validate(job)
