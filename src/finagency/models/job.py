"""The queue's tables: jobs, worker heartbeats, queue controls, leader leases, counters."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from finagency.models.base import Base, BigId, CreatedMixin, IdMixin, utcnow


class JobState(StrEnum):
    AVAILABLE = "available"
    RUNNING = "running"
    RETRYABLE = "retryable"
    COMPLETED = "completed"
    DISCARDED = "discarded"  # the dead-letter queue
    CANCELLED = "cancelled"
    RECONCILE = "reconcile"  # a publish whose outcome is unknown, checked before any retry


LIVE_STATES = (JobState.AVAILABLE, JobState.RUNNING, JobState.RETRYABLE, JobState.RECONCILE)
FINAL_STATES = (JobState.COMPLETED, JobState.DISCARDED, JobState.CANCELLED)
_LIVE_SQL = "state IN ('available', 'running', 'retryable', 'reconcile')"


class Job(IdMixin, CreatedMixin, Base):
    __tablename__ = "job"
    __table_args__ = (
        # The claim query's shape: due jobs of a queue in (priority, run_at, id) order.
        Index(
            "ix_job_claim",
            "queue",
            "priority",
            "run_at",
            "id",
            postgresql_where=text("state IN ('available', 'retryable', 'reconcile')"),
            sqlite_where=text("state IN ('available', 'retryable', 'reconcile')"),
        ),
        # At most one live job per unique key; finished jobs free the key.
        Index(
            "uq_job_unique_key_live",
            "unique_key",
            unique=True,
            postgresql_where=text(f"unique_key IS NOT NULL AND {_LIVE_SQL}"),
            sqlite_where=text(f"unique_key IS NOT NULL AND {_LIVE_SQL}"),
        ),
        Index("ix_job_state_lease", "state", "lease_expires_at"),
        Index("ix_job_finalized_at", "finalized_at"),
    )

    queue: Mapped[str] = mapped_column(String(64), default="default")
    task: Mapped[str] = mapped_column(String(128))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=JobState.AVAILABLE)
    priority: Mapped[int] = mapped_column(SmallInteger, default=100)  # lower runs first
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    unique_key: Mapped[str | None] = mapped_column(String(255), default=None)
    # Jobs belonging to a brand carry it, for access control and sharding.
    brand_id: Mapped[int | None] = mapped_column(BigId, default=None, index=True)
    # What rate limit / breaker / pause this job answers to, e.g. "account:12".
    rate_key: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(128), default=None)
    # Fencing token: a completion only counts if the token it carries is still current.
    lease_token: Mapped[str | None] = mapped_column(String(36), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    attempted_at: Mapped[datetime | None] = mapped_column(default=None)
    # How often a rescuer took the job back from a worker that stopped answering.
    rescues: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    finalized_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    dlq_reason: Mapped[str | None] = mapped_column(String(100), default=None)
    # Latest moment the job may start; past it the task is told it is late.
    latest_at: Mapped[datetime | None] = mapped_column(default=None)


class WorkerHeartbeat(Base):
    """A live worker process; readiness and the dashboard read it."""

    __tablename__ = "worker_heartbeat"

    worker_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    queues: Mapped[list[str]] = mapped_column(JSON, default=list)
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    running: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(BigInteger, default=0)


class QueueControl(Base):
    """Pause state of a queue or a rate key (e.g. "queue:publish", "account:3")."""

    __tablename__ = "queue_control"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LeaderLease(Base):
    """Who runs a singleton duty (rescuer, maintenance) until when."""

    __tablename__ = "leader_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class JobCounter(IdMixin, Base):
    """Totals per queue, task and final state; they survive pruning of finished jobs."""

    __tablename__ = "job_counter"
    __table_args__ = (Index("uq_job_counter_key", "queue", "task", "state", unique=True),)

    queue: Mapped[str] = mapped_column(String(64))
    task: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CronFire(Base):
    """One fired slot of a recurring job; the primary key makes each slot fire once."""

    __tablename__ = "cron_fire"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    slot_at: Mapped[datetime] = mapped_column(primary_key=True)
    job_id: Mapped[int | None] = mapped_column(BigId, default=None)
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateBucket(Base):
    """GCRA state of one rate limit ("account:12", "platform:x"): its theoretical arrival time."""

    __tablename__ = "rate_bucket"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    tat: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CircuitBreaker(Base):
    """A breaker shared by every worker: closed, open until a moment, or half-open probing."""

    __tablename__ = "circuit_breaker"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[str] = mapped_column(String(10), default="closed")  # closed, open, half_open
    failures: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None] = mapped_column(default=None)
    open_until: Mapped[datetime | None] = mapped_column(default=None)
    # While half-open, one probe is let through; others wait until it reports or times out.
    probe_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
