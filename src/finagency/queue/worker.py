"""The asyncio worker: claim in batches, run tasks concurrently, heartbeat, rescue, shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from finagency.core.db import transaction
from finagency.core.tracing import job_span
from finagency.models import Job, JobState, utcnow
from finagency.queue import queries
from finagency.queue.backends import claim_jobs, postgres
from finagency.queue.context import JobContext, JobInfo
from finagency.queue.errors import Discard, LeaseLost
from finagency.queue.leader import try_lead
from finagency.queue.metrics import (
    CLAIM_DURATION,
    JOB_DURATION,
    JOBS_CLAIMED,
    JOBS_FINISHED,
    LEASES_RECOVERED,
)
from finagency.queue.notify import Notifier
from finagency.queue.registry import TaskRegistry, UnknownTask
from finagency.queue.retry import ExponentialBackoff, classify

log = structlog.get_logger(__name__)

RESCUER = "rescuer"

CONCURRENCY = Gauge(
    "finagency_worker_concurrency", "Jobs this worker process runs at once (autoscaled)"
)
BACKLOG_SEEN = Gauge(
    "finagency_worker_backlog_seen", "Due jobs this worker's queues held at its last look"
)
_DUE_STATES = (JobState.AVAILABLE.value, JobState.RETRYABLE.value, JobState.RECONCILE.value)
CALM_ROUNDS = 3  # quiet looks in a row before giving slots back (the hysteresis)


def desired_concurrency(
    current: int, *, backlog: int, running: int, low: int, high: int, calm: int
) -> int:
    """The next concurrency: up at once under pressure, down slowly once it is quiet.

    Pressure is a backlog at least as big as the slots we have; quiet is no backlog and at
    most half the slots busy for ``CALM_ROUNDS`` looks in a row (``calm`` counts them).
    Different thresholds up and down keep the worker from flapping around one number.
    """
    if backlog >= current and current < high:
        return min(high, max(current + 1, min(current * 2, running + backlog)))
    if calm >= CALM_ROUNDS and current > low:
        return max(low, running, current - max(1, current // 4))
    return max(low, min(high, current))


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    queues: Sequence[str] = ("default",)
    concurrency: int = 8
    batch_size: int = 10
    lease_seconds: float = 30.0
    poll_interval: float = 0.5
    heartbeat_interval: float | None = None  # default: a third of the lease
    rescue_interval: float = 5.0
    shutdown_grace_seconds: float = 10.0
    # Autoscaling: with both set (min < max), concurrency follows the backlog between them.
    min_concurrency: int | None = None
    max_concurrency: int | None = None
    autoscale_interval: float = 2.0

    @property
    def autoscales(self) -> bool:
        low, high = self.min_concurrency, self.max_concurrency
        return low is not None and high is not None and 0 < low < high


class Worker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        registry: TaskRegistry,
        config: WorkerConfig,
        *,
        services: Any = None,
        notifier: Notifier | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.registry = registry
        self.config = config
        self.services = services
        self.notifier = notifier or Notifier()
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.processed = 0
        self._inflight: dict[int, tuple[str, asyncio.Task[None]]] = {}
        # Jobs whose task wrote nothing: their completions are committed together, in batches.
        self._completions: dict[int, str] = {}  # job id -> lease token
        self._completions_ready = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._paused: tuple[float, set[str]] = (0.0, set())
        self._stopping = asyncio.Event()
        self._slots = asyncio.Semaphore(config.concurrency)
        self.concurrency = config.concurrency
        if config.autoscales:
            low, high = config.min_concurrency or 1, config.max_concurrency or 1
            self.concurrency = max(low, min(high, config.concurrency))
        self._calm = 0
        CONCURRENCY.set(self.concurrency)

    # -- lifecycle -------------------------------------------------------------------

    def stop(self) -> None:
        """Stop claiming; ``run`` then finishes in-flight jobs within the grace period."""
        self._stopping.set()
        self.notifier.notify()

    async def run(self) -> None:
        self.notifier.bind(asyncio.get_running_loop())
        log.info("worker.started", worker_id=self.worker_id, queues=list(self.config.queues))
        loops = [
            asyncio.create_task(self._heartbeat_loop(), name="worker-heartbeat"),
            asyncio.create_task(self._rescue_loop(), name="worker-rescue"),
            asyncio.create_task(self._completion_loop(), name="worker-completions"),
        ]
        if self.config.autoscales:
            loops.append(asyncio.create_task(self._autoscale_loop(), name="worker-autoscale"))
        engine = self.sessionmaker.kw.get("bind")
        if engine is not None and engine.dialect.name == "postgresql":
            url = engine.url.render_as_string(hide_password=False)
            loops.append(
                asyncio.create_task(
                    postgres.listen(url, self.notifier.notify, self._stopping), name="worker-listen"
                )
            )
        await self._rescue_once()
        try:
            await self._claim_loop()
        finally:
            await self._drain_inflight()
            for loop_task in loops:
                loop_task.cancel()
            for loop_task in loops:
                with contextlib.suppress(asyncio.CancelledError):
                    await loop_task
            # After the completion loop is gone: a batch it had in hand when cancelled is
            # back in _completions, and is committed here rather than left to the rescuer.
            await self._flush_completions()
            with contextlib.suppress(Exception):
                async with transaction(self.sessionmaker) as session:
                    await queries.remove_heartbeat(session, self.worker_id)
            log.info("worker.stopped", worker_id=self.worker_id, processed=self.processed)

    async def run_until_idle(self, *, max_rounds: int = 1000) -> int:
        """Process due jobs until none are left (tests and `finagency drain`)."""
        self.notifier.bind(asyncio.get_running_loop())
        before = self.processed
        for _ in range(max_rounds):
            claimed = await self._claim_batch()
            if not claimed and not self._inflight:
                break
            await asyncio.gather(*(task for _, task in list(self._inflight.values())))
            await self._flush_completions()
        return self.processed - before

    # -- claiming --------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while not self._stopping.is_set():
            claimed = 0
            if self._free_slots() > 0:
                try:
                    claimed = await self._claim_batch()
                except Exception:
                    log.exception("worker.claim_failed", worker_id=self.worker_id)
                    await asyncio.sleep(self.config.poll_interval)
            if claimed and self._free_slots() > 0:
                continue  # a full batch suggests more is waiting
            if self._free_slots() <= 0:
                # Every slot is busy: wait for one to free rather than for new work.
                self._slot_freed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._slot_freed.wait(), self.config.poll_interval)
                continue
            await self.notifier.wait(self.config.poll_interval)

    def _free_slots(self) -> int:
        return self.concurrency - len(self._inflight)

    async def _claim_batch(self) -> int:
        limit = min(self._free_slots(), self.config.batch_size)
        if limit <= 0:
            return 0
        now = utcnow()
        started = time.perf_counter()
        async with transaction(self.sessionmaker) as session:
            paused = await self._paused_queues(session)
            queues = [queue for queue in self.config.queues if queue not in paused]
            jobs = await claim_jobs(
                session,
                queues=queues,
                limit=limit,
                owner=self.worker_id,
                lease_until=now + timedelta(seconds=self.config.lease_seconds),
                now=now,
            )
            claimed = [(JobInfo.from_row(job), job.lease_token or "") for job in jobs]
        CLAIM_DURATION.observe(time.perf_counter() - started)
        for info, _ in claimed:
            JOBS_CLAIMED.labels(queue=info.queue).inc()
        for info, token in claimed:
            task = asyncio.create_task(self._execute(info, token), name=f"job-{info.id}")
            self._inflight[info.id] = (token, task)
        return len(claimed)

    async def _paused_queues(self, session: AsyncSession) -> set[str]:
        # Pauses change rarely; reading them once a second spares every claim a query.
        checked_at, paused = self._paused
        if time.monotonic() - checked_at > 1.0:
            paused = await queries.paused_queues(session)
            self._paused = (time.monotonic(), paused)
        return paused

    # -- running ---------------------------------------------------------------------

    async def _execute(self, info: JobInfo, token: str) -> None:
        # Logs of the run carry its job id; its span continues the enqueuing request's trace.
        with (
            structlog.contextvars.bound_contextvars(job_id=info.id, task=info.task),
            job_span(info.task, info.id, info.args),
        ):
            await self._execute_job(info, token)

    async def _execute_job(self, info: JobInfo, token: str) -> None:
        started = utcnow()
        outcome = "completed"
        try:
            async with self.sessionmaker() as session:
                ctx = JobContext(
                    job=info,
                    token=token,
                    session=session,
                    sessionmaker=self.sessionmaker,
                    services=self.services,
                    lease_seconds=self.config.lease_seconds,
                )
                try:
                    task = self.registry.get(info.task)
                    # asyncio.timeout, unlike wait_for, runs the handler without a second task.
                    async with asyncio.timeout(task.timeout_seconds):
                        await task.handler(ctx)
                except LeaseLost:
                    await session.rollback()
                    outcome = "lease_lost"
                    log.warning("job.lease_lost", job_id=info.id, task=info.task)
                    return
                except asyncio.CancelledError:
                    # Shutdown: the drain hands the job back (release_jobs), attempt not counted.
                    await session.rollback()
                    outcome = "released"
                    raise
                except Exception as error:
                    await session.rollback()
                    try:
                        outcome = await self._record_failure(info, token, error)
                    except Exception:
                        # The database itself is unreachable: the job stays ours until its
                        # lease runs out, and the rescuer hands it out again. Nothing is lost.
                        outcome = "unrecorded"
                        log.exception("job.failure_not_recorded", job_id=info.id, task=info.task)
                    return
                if not session.in_transaction():
                    # The task wrote nothing: its completion joins the next batch.
                    self._completions[info.id] = token
                    self._completions_ready.set()
                elif await queries.complete_job(session, info.id, token, utcnow()):
                    await session.commit()
                    self.processed += 1
                else:
                    # Someone rescued the job while we ran: our result must not count.
                    await session.rollback()
                    outcome = "lease_lost"
                    log.warning("job.completion_fenced", job_id=info.id, task=info.task)
        finally:
            self._inflight.pop(info.id, None)
            self._slot_freed.set()
            JOBS_FINISHED.labels(queue=info.queue, task=info.task, outcome=outcome).inc()
            JOB_DURATION.labels(queue=info.queue, task=info.task).observe(
                (utcnow() - started).total_seconds()
            )

    async def _record_failure(self, info: JobInfo, token: str, error: Exception) -> str:
        try:
            task = self.registry.get(info.task)
            strategy = task.retry
        except UnknownTask as missing:
            strategy = ExponentialBackoff()
            error = Discard("unknown_task", str(missing))
        if isinstance(error, TimeoutError):
            message = "TimeoutError: the task ran longer than its timeout"
        else:
            message = f"{type(error).__name__}: {error}"
        now = utcnow()
        decision = classify(
            error, attempt=info.attempt, max_attempts=info.max_attempts, strategy=strategy, now=now
        )
        row = Job(id=info.id, attempt=info.attempt, errors=info.errors)
        async with transaction(self.sessionmaker) as session:
            applied = await queries.fail_job(session, row, token, decision, message, now)
        log_method = log.info if decision.action == "snooze" else log.warning
        log_method(
            "job.failed",
            job_id=info.id,
            task=info.task,
            attempt=info.attempt,
            action=decision.action,
            reason=decision.reason,
            error=message,
            applied=applied,
        )
        return {"snooze": "snoozed", "retry": "retried", "discard": "discarded"}[decision.action]

    async def _drain_inflight(self) -> None:
        if not self._inflight:
            return
        pending = [task for _, task in self._inflight.values()]
        _, still_running = await asyncio.wait(pending, timeout=self.config.shutdown_grace_seconds)
        if still_running:
            tokens = {job_id: token for job_id, (token, _) in self._inflight.items()}
            for task in still_running:
                task.cancel()
            await asyncio.gather(*still_running, return_exceptions=True)
            with contextlib.suppress(Exception):
                async with transaction(self.sessionmaker) as session:
                    await queries.release_jobs(session, tokens, utcnow())

    # -- batched completions ---------------------------------------------------------

    async def _completion_loop(self) -> None:
        while True:
            await self._completions_ready.wait()
            self._completions_ready.clear()
            try:
                await self._flush_completions()
            except Exception:
                # The jobs stay ours (the heartbeat keeps their leases); try again shortly.
                log.exception("worker.completion_failed", worker_id=self.worker_id)
                await asyncio.sleep(self.config.poll_interval)
                self._completions_ready.set()

    async def _flush_completions(self) -> None:
        """Commit every pending completion in one transaction, fenced by each lease token."""
        if not self._completions:
            return
        batch, self._completions = self._completions, {}
        try:
            async with transaction(self.sessionmaker) as session:
                done = await queries.complete_jobs(session, batch, utcnow())
        except BaseException:
            self._completions = {**batch, **self._completions}
            raise
        self.processed += done
        if done < len(batch):
            log.warning("job.completion_fenced", count=len(batch) - done)

    # -- background duties -----------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        interval = self.config.heartbeat_interval or self.config.lease_seconds / 3
        while True:
            try:
                now = utcnow()
                tokens = {job_id: token for job_id, (token, _) in self._inflight.items()}
                tokens.update(self._completions)
                async with transaction(self.sessionmaker) as session:
                    await queries.extend_leases(
                        session, tokens, now + timedelta(seconds=self.config.lease_seconds)
                    )
                    await queries.record_heartbeat(
                        session,
                        worker_id=self.worker_id,
                        hostname=socket.gethostname(),
                        pid=os.getpid(),
                        queues=list(self.config.queues),
                        concurrency=self.concurrency,
                        running=len(tokens),
                        processed=self.processed,
                        now=now,
                    )
            except Exception:
                log.exception("worker.heartbeat_failed", worker_id=self.worker_id)
            await asyncio.sleep(interval)

    # -- autoscaling -----------------------------------------------------------------

    async def _autoscale_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.autoscale_interval)
            try:
                backlog = await self._due_backlog()
            except Exception:
                log.exception("worker.autoscale_failed", worker_id=self.worker_id)
                continue
            self.observe_backlog(backlog)

    async def _due_backlog(self) -> int:
        async with self.sessionmaker() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(Job)
                .where(
                    Job.queue.in_(list(self.config.queues)),
                    Job.state.in_(_DUE_STATES),
                    Job.run_at <= utcnow(),
                )
            )
        return int(count or 0)

    def observe_backlog(self, backlog: int) -> int:
        """Adjust the concurrency to one look at the backlog; returns the new concurrency."""
        running = len(self._inflight)
        quiet = backlog == 0 and running * 2 <= self.concurrency
        self._calm = self._calm + 1 if quiet else 0
        low = self.config.min_concurrency or self.concurrency
        high = self.config.max_concurrency or self.concurrency
        new = desired_concurrency(
            self.concurrency, backlog=backlog, running=running, low=low, high=high, calm=self._calm
        )
        BACKLOG_SEEN.set(backlog)
        if new != self.concurrency:
            log.info(
                "worker.concurrency_changed",
                worker_id=self.worker_id,
                old=self.concurrency,
                new=new,
                backlog=backlog,
                running=running,
            )
            self.concurrency = new
            CONCURRENCY.set(new)
            self._calm = 0  # the next step down needs a fresh run of quiet looks
            self.notifier.notify()  # more slots: claim now rather than at the next poll
        return self.concurrency

    async def _rescue_once(self) -> None:
        """At start-up any worker rescues, leader or not: the rescue is idempotent, and a
        restarted fleet should not wait for a dead leader's lease before work resumes."""
        try:
            async with transaction(self.sessionmaker) as session:
                rescued = await queries.rescue_expired(
                    session, utcnow(), self.registry.reconcile_tasks()
                )
            if rescued:
                LEASES_RECOVERED.inc(rescued)
                log.warning("queue.rescued_expired_leases", count=rescued, at="start")
        except Exception:
            log.exception("worker.rescue_failed", worker_id=self.worker_id)

    async def _rescue_loop(self) -> None:
        """Rescue expired leases, only while this worker holds the rescuer's leader lease."""
        ttl = timedelta(seconds=max(self.config.rescue_interval * 3, 5))
        while True:
            await asyncio.sleep(self.config.rescue_interval)
            try:
                async with transaction(self.sessionmaker) as session:
                    now = utcnow()
                    if not await try_lead(session, RESCUER, self.worker_id, ttl=ttl, now=now):
                        continue
                    rescued = await queries.rescue_expired(
                        session, now, self.registry.reconcile_tasks()
                    )
                if rescued:
                    LEASES_RECOVERED.inc(rescued)
                    log.warning("queue.rescued_expired_leases", count=rescued)
                    self.notifier.notify()
            except Exception:
                log.exception("worker.rescue_failed", worker_id=self.worker_id)
