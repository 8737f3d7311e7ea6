"""The queue's own recurring duties: pruning finished jobs (their counts survive in job_counter)."""

from __future__ import annotations

from datetime import timedelta

import structlog

from finagency.core.time import utcnow
from finagency.models import JobState
from finagency.queue import queries
from finagency.queue.context import JobContext
from finagency.queue.registry import Task

log = structlog.get_logger(__name__)

PRUNE_TASK = "queue.prune_finished"


def prune_task(*, completed_after: timedelta, discarded_after: timedelta) -> Task:
    """Completed and cancelled jobs go after ``completed_after``; dead letters are kept longer,
    since a person may still want to retry them."""

    async def prune(ctx: JobContext) -> None:
        now = utcnow()
        done = await queries.prune_finished(
            ctx.session, now - completed_after, (JobState.COMPLETED.value, JobState.CANCELLED.value)
        )
        dead = await queries.prune_finished(
            ctx.session, now - discarded_after, (JobState.DISCARDED.value,)
        )
        if done or dead:
            log.info("queue.pruned", completed_or_cancelled=done, dead_letters=dead)

    return Task(PRUNE_TASK, prune, queue="default", max_attempts=3, timeout_seconds=600)
