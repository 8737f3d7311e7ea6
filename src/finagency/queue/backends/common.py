"""The parts of the claim both dialects share: which jobs are due, and what claiming sets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, text

from finagency.models import Job, JobState, QueueControl

DUE_STATES = text("job.state IN ('available', 'retryable', 'reconcile')")


def due_jobs(queues: Sequence[str], now: datetime, limit: int) -> Select[int]:
    paused_keys = select(QueueControl.key).where(QueueControl.paused.is_(True))
    return (
        select(Job.id)
        .where(
            # Literal values, written as in ix_job_claim's predicate: SQLite only uses a
            # partial index when it can prove the query's terms imply it, which bound
            # parameters never do (it would sort every due row on each claim instead).
            DUE_STATES,
            Job.queue.in_(list(queues)),
            Job.run_at <= now,
            or_(Job.rate_key.is_(None), Job.rate_key.not_in(paused_keys)),
        )
        .order_by(Job.priority, Job.run_at, Job.id)
        .limit(limit)
    )


def claim_values(owner: str, lease_until: datetime, now: datetime, token: Any) -> dict[str, Any]:
    return {
        "state": JobState.RUNNING.value,
        "attempt": Job.attempt + 1,
        "lease_owner": owner,
        "lease_token": token,
        "lease_expires_at": lease_until,
        "attempted_at": now,
    }
