"""The daily retention job: prune audit events past retention, never those under legal hold."""

from __future__ import annotations

import structlog

from finagency.audit import retention
from finagency.core.time import utcnow
from finagency.queue import JobContext, RecurringJob, Task

log = structlog.get_logger(__name__)
PRUNE_AUDIT_TASK = "audit.prune_retention"
DAY = 86_400
# 03:30 UTC: after the US close and the European morning, when nobody reviews.
_OFFSET = 3 * 3600 + 1800


async def prune_retention(ctx: JobContext) -> None:
    # One job run is one transaction: deletion, checkpoint and audit.pruned commit together.
    result = await retention.prune(ctx.session, now=utcnow(), actor="system:retention")
    log.info(
        "audit.pruned",
        pruned=result.pruned,
        through_id=result.through_id,
        stopped_by=result.stopped_by,
    )


TASKS = [Task(PRUNE_AUDIT_TASK, prune_retention, queue="default", max_attempts=3)]


def recurring() -> list[RecurringJob]:
    return [
        RecurringJob("prune-audit", PRUNE_AUDIT_TASK, every_seconds=DAY, offset_seconds=_OFFSET)
    ]
