"""The queue API: list jobs, retry/cancel/discard them singly or in bulk, pause and resume queues."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from finagency.audit import service as audit
from finagency.auth.csrf import csrf_protect
from finagency.auth.dependencies import (
    CurrentPrincipal,
    DbSession,
    ReadSession,
    get_services,
    require,
)
from finagency.auth.permissions import QUEUE_OPERATE, VIEW
from finagency.core.errors import Forbidden, NotFound
from finagency.core.events import Event
from finagency.core.time import utcnow
from finagency.models import Account, Job, JobState
from finagency.ops.schemas import (
    AccountPauseRead,
    BreakerRead,
    BulkJobRequest,
    JobAction,
    JobActionResult,
    JobEdit,
    JobPage,
    JobRead,
    QueueRead,
)
from finagency.queue import admin, breaker

router = APIRouter(tags=["queue"])

Viewer = Annotated[CurrentPrincipal, Depends(require(VIEW))]
Operator = Annotated[CurrentPrincipal, Depends(require(QUEUE_OPERATE))]
QueueAction = Literal["pause", "resume"]
_ACTIONS = {"retry": admin.retry_jobs, "cancel": admin.cancel_jobs, "discard": admin.discard_jobs}


def job_scope(principal: CurrentPrincipal) -> list[int] | None:
    """Agency admins see every job, system jobs included; others their brands' jobs only."""
    if principal.user.is_admin and principal.via_token is None:
        return None
    return sorted(principal.brand_ids)


def _check_job(principal: CurrentPrincipal, job: Job) -> None:
    if job.brand_id is None:
        # System jobs (polling, rollups) belong to no brand: only agency admins touch them.
        if not (principal.user.is_admin and principal.via_token is None):
            raise NotFound(f"job {job.id} not found")
        if not principal.can(QUEUE_OPERATE):
            raise Forbidden("you do not have the 'queue.operate' permission")
        return
    if not principal.can_see(job.brand_id):
        raise NotFound(f"job {job.id} not found")
    if not principal.can(QUEUE_OPERATE, job.brand_id):
        raise Forbidden("you do not have the 'queue.operate' permission on this brand")


async def act_on_jobs(
    session: AsyncSession, principal: CurrentPrincipal, action: JobAction, ids: Sequence[int]
) -> JobActionResult:
    """Check every job first (all or nothing), then apply ``action``; audited, not committed."""
    wanted = sorted(set(ids))
    jobs = {job.id: job for job in (await session.scalars(select(Job).where(Job.id.in_(wanted))))}
    for job_id in wanted:
        job = jobs.get(job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        _check_job(principal, job)
    affected = await _ACTIONS[action](session, wanted, now=utcnow())
    await audit.record(
        session,
        actor=f"user:{principal.user.id}",
        action=f"job.{action}",
        object_type="job",
        object_id=",".join(str(job_id) for job_id in wanted)[:64],
        brand_id=_single_brand(jobs.values()),
        data={"ids": wanted, "affected": affected},
    )
    return JobActionResult(action=action, requested=len(wanted), affected=affected)


def _single_brand(jobs: Iterable[Job]) -> int | None:
    brand_ids = {job.brand_id for job in jobs}
    return next(iter(brand_ids)) if len(brand_ids) == 1 else None


def check_can_pause(principal: CurrentPrincipal) -> None:
    """A queue is shared by every brand, so pausing one is for agency admins only."""
    bound_to_brand = principal.via_token is not None and principal.via_token.brand_id is not None
    if not principal.user.is_admin or bound_to_brand or not principal.can(QUEUE_OPERATE):
        raise Forbidden("only agency admins can pause or resume a whole queue")


async def set_queue_paused(
    session: AsyncSession, principal: CurrentPrincipal, queue: str, *, paused: bool
) -> None:
    check_can_pause(principal)
    await admin.pause_queue(
        session, queue, paused=paused, reason=f"by user:{principal.user.id}", now=utcnow()
    )
    await audit.record(
        session,
        actor=f"user:{principal.user.id}",
        action="queue.paused" if paused else "queue.resumed",
        object_type="queue",
        object_id=queue,
    )


def jobs_event(action: str, ids: Sequence[int]) -> Event:
    return Event("job.state_changed", {"action": action, "ids": list(ids)})


@router.get("/jobs", response_model=JobPage, summary="Jobs, newest first")
async def get_jobs(
    principal: Viewer,
    session: ReadSession,
    state: Annotated[list[JobState] | None, Query()] = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    task: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JobPage:
    jobs, total = await admin.list_jobs(
        session,
        states=[item.value for item in state or []],
        queue=queue,
        task=task,
        brand_ids=job_scope(principal),
        limit=limit,
        offset=offset,
    )
    items = [JobRead.model_validate(job) for job in jobs]
    return JobPage(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/jobs/bulk",
    response_model=JobActionResult,
    dependencies=[Depends(csrf_protect)],
    summary="Retry, cancel or discard many jobs at once (all checked first)",
)
async def bulk_jobs(
    body: BulkJobRequest,
    request: Request,
    principal: Operator,
    session: DbSession,
    background: BackgroundTasks,
) -> JobActionResult:
    result = await act_on_jobs(session, principal, body.action, body.ids)
    background.add_task(get_services(request).events.publish, jobs_event(body.action, body.ids))
    return result


@router.post(
    "/jobs/{job_id}/{action}",
    response_model=JobActionResult,
    dependencies=[Depends(csrf_protect)],
    summary="Retry, cancel or discard one job",
)
async def job_action(
    job_id: int,
    action: JobAction,
    request: Request,
    principal: Operator,
    session: DbSession,
    background: BackgroundTasks,
) -> JobActionResult:
    result = await act_on_jobs(session, principal, action, [job_id])
    background.add_task(get_services(request).events.publish, jobs_event(action, [job_id]))
    return result


@router.get("/queues", response_model=list[QueueRead], summary="Queues with job counts by state")
async def get_queues(request: Request, principal: Viewer, session: ReadSession) -> list[QueueRead]:
    known = get_services(request).settings.worker.queues
    return [
        QueueRead(queue=item.queue, paused=item.paused, counts=item.counts)
        for item in await admin.queue_summaries(session, known)
    ]


@router.post(
    "/queues/{name}/{action}",
    response_model=QueueRead,
    dependencies=[Depends(csrf_protect)],
    summary="Pause or resume a queue (agency admins)",
)
async def queue_action(
    name: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")],
    action: QueueAction,
    request: Request,
    principal: Operator,
    session: DbSession,
    background: BackgroundTasks,
) -> QueueRead:
    await set_queue_paused(session, principal, name, paused=action == "pause")
    background.add_task(
        get_services(request).events.publish,
        Event("queue.paused", {"queue": name, "action": action}),
    )
    known = get_services(request).settings.worker.queues
    for item in await admin.queue_summaries(session, [*known, name]):
        if item.queue == name:
            return QueueRead(queue=item.queue, paused=item.paused, counts=item.counts)
    raise NotFound(f"queue {name} not found")  # pragma: no cover (summaries list every name)


@router.put(
    "/jobs/{job_id}/args",
    response_model=JobRead,
    dependencies=[Depends(csrf_protect)],
    summary="Replace a dead-lettered job's arguments and run it again",
)
async def edit_job(job_id: int, body: JobEdit, principal: Operator, session: DbSession) -> JobRead:
    job = await admin.get_job(session, job_id)
    _check_job(principal, job)
    old_args = dict(job.args or {})
    edited = await admin.edit_and_retry(session, job_id, body.args, now=utcnow())
    await audit.record(
        session,
        actor=f"user:{principal.user.id}",
        action="job.edited",
        object_type="job",
        object_id=job_id,
        brand_id=job.brand_id,
        data={"from": old_args, "to": body.args},
    )
    return JobRead.model_validate(edited)


@router.post(
    "/accounts/{account_id}/{action}",
    response_model=AccountPauseRead,
    dependencies=[Depends(csrf_protect)],
    summary="Pause or resume one platform account's publishing",
)
async def account_action(
    account_id: int, action: QueueAction, principal: Operator, session: DbSession
) -> AccountPauseRead:
    account = await session.get(Account, account_id)
    if account is None or not principal.can_see(account.brand_id):
        raise NotFound(f"account {account_id} not found")
    if not principal.can(QUEUE_OPERATE, account.brand_id):
        raise Forbidden("you do not have the 'queue.operate' permission on this brand")
    paused = action == "pause"
    await admin.set_pause(
        session,
        f"account:{account_id}",
        paused=paused,
        reason=f"by user:{principal.user.id}",
        now=utcnow(),
    )
    await audit.record(
        session,
        actor=f"user:{principal.user.id}",
        action="account.paused" if paused else "account.resumed",
        object_type="account",
        object_id=account_id,
        brand_id=account.brand_id,
    )
    return AccountPauseRead(account_id=account_id, paused=paused)


@router.get(
    "/breakers", response_model=list[BreakerRead], summary="Circuit breakers and their state"
)
async def get_breakers(principal: Viewer, session: ReadSession) -> list[BreakerRead]:
    return [BreakerRead.model_validate(row) for row in await breaker.states(session)]
