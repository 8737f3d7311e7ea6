"""Enqueue: a job row written in the caller's session, atomic with the business change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from finagency.core.tracing import with_trace_context
from finagency.models import Job, JobState, utcnow
from finagency.queue.backends import postgres
from finagency.queue.notify import mark_enqueued
from finagency.queue.registry import Task

_LIVE_WHERE = text(
    "unique_key IS NOT NULL AND state IN ('available', 'running', 'retryable', 'reconcile')"
)


async def enqueue(
    session: AsyncSession,
    task: Task | str,
    args: dict[str, Any] | None = None,
    *,
    queue: str | None = None,
    priority: int | None = None,
    run_at: datetime | None = None,
    latest_at: datetime | None = None,
    max_attempts: int | None = None,
    unique_key: str | None = None,
    brand_id: int | None = None,
    rate_key: str | None = None,
) -> int | None:
    """Insert a job; returns its id, or None when a live job already holds ``unique_key``.

    Nothing is committed here: the job exists exactly when the caller's transaction does.
    """
    if isinstance(task, Task):
        name = task.name
        queue = queue or task.queue
        priority = task.priority if priority is None else priority
        max_attempts = max_attempts or task.max_attempts
    else:
        name = task
    values: dict[str, Any] = {
        "task": name,
        "queue": queue or "default",
        "args": with_trace_context(args or {}),  # the worker's span continues this trace
        "state": JobState.AVAILABLE.value,
        "priority": 100 if priority is None else priority,
        "run_at": run_at or utcnow(),
        "latest_at": latest_at,
        "attempt": 0,
        "max_attempts": max_attempts or 5,
        "unique_key": unique_key,
        "brand_id": brand_id,
        "rate_key": rate_key,
        "errors": [],
        "created_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Job).values(**values)
    if unique_key is not None:
        statement = statement.on_conflict_do_nothing(
            index_elements=["unique_key"], index_where=_LIVE_WHERE
        )
    result = await session.execute(statement.returning(Job.id))
    job_id = result.scalar_one_or_none()
    if job_id is not None:
        await _wake(session, values["queue"], values["run_at"])
    return job_id


async def _wake(session: AsyncSession, queue: str, run_at: datetime) -> None:
    first = mark_enqueued(session.sync_session, queue)
    if first and run_at <= utcnow() and session.get_bind().dialect.name == "postgresql":
        # Workers in other processes hear of it at commit, once per queue and transaction;
        # future jobs wait for polling.
        await postgres.notify(session, queue)


async def enqueue_many(
    session: AsyncSession,
    task: Task | str,
    args_list: Sequence[dict[str, Any]],
    *,
    queue: str | None = None,
    priority: int | None = None,
    run_at: datetime | None = None,
    max_attempts: int | None = None,
    brand_id: int | None = None,
) -> list[int]:
    """Insert many jobs of one task in one statement (bulk imports, fan-outs), in the caller's
    transaction. Jobs enqueued this way carry no unique key."""
    if not args_list:
        return []
    if isinstance(task, Task):
        name, queue = task.name, queue or task.queue
        priority = task.priority if priority is None else priority
        max_attempts = max_attempts or task.max_attempts
    else:
        name = task
    now = utcnow()
    target_queue, due = queue or "default", run_at or now
    common: dict[str, Any] = {
        "task": name,
        "queue": target_queue,
        "state": JobState.AVAILABLE.value,
        "priority": 100 if priority is None else priority,
        "run_at": due,
        "attempt": 0,
        "max_attempts": max_attempts or 5,
        "brand_id": brand_id,
        "errors": [],
        "rescues": 0,
        "created_at": now,
    }
    rows = [{**common, "args": with_trace_context(dict(args))} for args in args_list]
    # One executemany-style INSERT ... RETURNING ("insertmanyvalues"): far cheaper to build
    # than a single statement with hundreds of VALUES tuples.
    result = await session.execute(
        insert(Job).returning(Job.id, sort_by_parameter_order=True), rows
    )
    ids = list(result.scalars())
    await _wake(session, target_queue, due)
    return ids
