"""What a running task sees: its job, a session, the process's services, and fenced commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.models import Job, JobState, utcnow
from finagency.queue.errors import LeaseLost


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A detached snapshot of the claimed row."""

    id: int
    task: str
    queue: str
    args: dict[str, Any]
    attempt: int
    max_attempts: int
    brand_id: int | None
    rate_key: str | None
    run_at: datetime
    latest_at: datetime | None
    errors: list[dict[str, Any]]
    rescues: int = 0

    @property
    def after_rescue(self) -> bool:
        """A previous run of this job died mid-way; outside effects may have happened."""
        return self.rescues > 0

    @classmethod
    def from_row(cls, job: Job) -> JobInfo:
        return cls(
            id=job.id,
            task=job.task,
            queue=job.queue,
            args=dict(job.args or {}),
            attempt=job.attempt,
            max_attempts=job.max_attempts,
            brand_id=job.brand_id,
            rate_key=job.rate_key,
            run_at=job.run_at,
            latest_at=job.latest_at,
            errors=list(job.errors or []),
            rescues=job.rescues or 0,
        )


@dataclass
class JobContext:
    job: JobInfo
    token: str
    session: AsyncSession
    sessionmaker: async_sessionmaker[AsyncSession]
    services: Any
    lease_seconds: float

    @property
    def args(self) -> dict[str, Any]:
        return self.job.args

    @property
    def is_late(self) -> bool:
        return self.job.latest_at is not None and utcnow() > self.job.latest_at

    async def checkpoint(self) -> None:
        """Commit the work so far, but only while this worker still holds the job's lease.

        Tasks call it before an outside call (the publish intent), so that what they have
        written is durable and the write lock (SQLite) is not held across the network.
        """
        result = await self.session.execute(
            update(Job)
            .where(
                Job.id == self.job.id,
                Job.lease_token == self.token,
                Job.state == JobState.RUNNING.value,
            )
            .values(lease_expires_at=utcnow() + timedelta(seconds=self.lease_seconds))
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            await self.session.rollback()
            raise LeaseLost(f"job {self.job.id} lease was lost; its work is not committed")
        await self.session.commit()
