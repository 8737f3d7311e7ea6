"""Turn what happened into webhook deliveries, durably and across processes.

Domain events are written to the audit log in the same transaction as the change, by
whichever process made it (web or worker). A recurring job reads the audit log (and the
dead-lettered jobs) past a stored watermark and calls ``deliver_event`` in one transaction
with the watermark's advance: nothing is missed when a process dies, nothing is sent twice.
The in-process EventBus would lose events from other processes and on crashes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.time import utcnow
from finagency.models import AuditEvent, Job, JobState, Setting
from finagency.queue import JobContext, Task
from finagency.webhooks.service import DELIVER_TASK_NAME, deliver_event

log = structlog.get_logger(__name__)

DISPATCH_TASK_NAME = "webhooks.dispatch"
AUDIT_WATERMARK = "webhooks.audit_watermark"
DEAD_LETTER_WATERMARK = "webhooks.dead_letter_watermark"
BATCH = 500

# Audit action → webhook event; actions not listed are not sent out.
AUDIT_EVENTS: Final[dict[str, str]] = {
    "post.published": "post.published",
    "post.failed": "post.failed",
    "post.approved": "content.approved",
    "post.rejected": "content.rejected",
    "content.drafted": "content.drafted",
    "account.auth_expired": "account.auth_expired",
}


async def _setting(session: AsyncSession, key: str) -> Setting:
    row = (
        await session.execute(
            select(Setting).where(Setting.brand_id.is_(None), Setting.key == key).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        row = Setting(brand_id=None, key=key, value=None)
        session.add(row)
        await session.flush()
    return row


def _audit_payload(event: AuditEvent) -> dict[str, Any]:
    return {
        "object_type": event.object_type,
        "object_id": event.object_id,
        "actor": event.actor,
        "at": event.at.isoformat(),
        **{key: value for key, value in (event.data or {}).items() if key != "note"},
    }


async def dispatch_audit(session: AsyncSession) -> int:
    """Send the audit log's new domain events; returns how many deliveries were queued."""
    mark = await _setting(session, AUDIT_WATERMARK)
    if mark.value is None:
        # First run: start from now, do not replay the whole history to new endpoints.
        latest = await session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()))
        mark.value = int(latest or 0)
        return 0
    events = (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.id > int(mark.value))
            .order_by(AuditEvent.id)
            .limit(BATCH)
        )
    ).all()
    queued = 0
    for event in events:
        name = AUDIT_EVENTS.get(event.action)
        if name is not None and event.brand_id is not None:
            queued += len(await deliver_event(session, event.brand_id, name, _audit_payload(event)))
        mark.value = event.id
    return queued


async def dispatch_dead_letters(session: AsyncSession) -> int:
    """Announce jobs dead-lettered since the last run (never webhook deliveries themselves)."""
    mark = await _setting(session, DEAD_LETTER_WATERMARK)
    if not isinstance(mark.value, str):
        # First run: start from now, like the audit watermark.
        mark.value = utcnow().isoformat()
        return 0
    since = datetime.fromisoformat(mark.value)
    query = select(Job).where(
        Job.state == JobState.DISCARDED.value,
        Job.brand_id.is_not(None),
        Job.task != DELIVER_TASK_NAME,
        Job.finalized_at.is_not(None),
    )
    query = query.where(Job.finalized_at > since)
    jobs = (await session.scalars(query.order_by(Job.finalized_at, Job.id).limit(BATCH))).all()
    queued = 0
    for job in jobs:
        if job.brand_id is None or job.finalized_at is None:  # excluded by the query
            continue
        payload = {
            "job_id": job.id,
            "task": job.task,
            "queue": job.queue,
            "reason": job.dlq_reason,
            "last_error": job.last_error,
            "attempts": job.attempt,
        }
        queued += len(await deliver_event(session, job.brand_id, "job.dead_lettered", payload))
        mark.value = job.finalized_at.isoformat()
    return queued


async def dispatch(ctx: JobContext) -> None:
    queued = await dispatch_audit(ctx.session) + await dispatch_dead_letters(ctx.session)
    if queued:
        log.info("webhooks.dispatched", deliveries=queued)


DISPATCH_TASK = Task(DISPATCH_TASK_NAME, dispatch, queue="default", max_attempts=3)
