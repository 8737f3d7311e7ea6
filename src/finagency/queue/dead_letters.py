"""Dead letters: jobs the queue gave up on (state ``discarded``), and putting them away.

Retrying one is ``admin.retry_jobs``. Dismissing one moves it to ``cancelled``: it leaves the
dead-letter list but keeps its reason and error history, and can still be retried later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.models import Job, JobState


async def dismiss(session: AsyncSession, job_ids: Sequence[int], *, now: datetime) -> int:
    """Take dead letters off the list (only jobs still dead-lettered change); returns how many."""
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(list(job_ids)), Job.state == JobState.DISCARDED.value)
        .values(state=JobState.CANCELLED.value, finalized_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
