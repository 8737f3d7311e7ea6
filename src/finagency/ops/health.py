"""Liveness, readiness and Prometheus metrics endpoints."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import func, select, text

from finagency.core.services import Services
from finagency.core.time import utcnow
from finagency.models import CircuitBreaker, Job, WorkerHeartbeat
from finagency.ops import metrics as ops_metrics

router = APIRouter(tags=["health"])

JOBS_GAUGE = Gauge("finagency_jobs", "Jobs by queue and state", ["queue", "state"])
WORKERS_GAUGE = Gauge("finagency_workers_alive", "Workers with a fresh heartbeat")
OLDEST_DUE = Gauge(
    "finagency_oldest_due_job_age_seconds",
    "How long the oldest due, unclaimed job has waited (the backlog's age), per queue",
    ["queue"],
)
BREAKERS = Gauge(
    "finagency_breaker_open", "1 while a circuit breaker is open or half-open", ["key", "state"]
)
QUEUE_DEPTH = Gauge(
    "finagency_queue_depth",
    "Jobs due now and not yet claimed, per queue (what an autoscaler should follow)",
    ["queue"],
)
COMPONENT_OK = Gauge(
    "finagency_component_ok", "1 while an optional component works (cache, events)", ["component"]
)
STATES = ("available", "running", "retryable", "completed", "discarded", "cancelled", "reconcile")


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def degraded_components(services: Services) -> dict[str, dict[str, Any]]:
    """Optional parts that are not working now (Redis cache, shared event bus), for /readyz
    and the Overview. Empty when all is well. Each recovers by itself."""
    found: dict[str, dict[str, Any]] = {}
    cache = services.cache.status()
    events = services.events.status()
    if not cache["ok"]:
        found["cache"] = {**cache, "effect": "cache misses: pages read the database"}
    if not events["ok"]:
        found["events"] = {**events, "effect": "live updates fall back to polling every 2 s"}
    return found


@router.get(
    "/readyz",
    summary="Database reachable and workers' heartbeats fresh",
    description=(
        "503 when the database is unreachable or no worker is alive. Redis (cache, events) is "
        "optional: when it is down the answer stays 200 with degraded=true, because every page "
        "still works (cache misses, live updates by polling) and Redis recovers by itself."
    ),
)
async def readyz(request: Request) -> JSONResponse:
    services = _services(request)
    checks: dict[str, Any] = {}
    ready = True
    try:
        async with services.read_sessionmaker() as session:
            await session.execute(text("SELECT 1"))
            stale_after = timedelta(seconds=services.settings.worker.heartbeat_stale_seconds)
            workers = await session.scalar(
                select(func.count())
                .select_from(WorkerHeartbeat)
                .where(WorkerHeartbeat.last_seen_at >= utcnow() - stale_after)
            )
        checks["database"] = {"ok": True}
        checks["workers"] = {"ok": bool(workers), "alive": int(workers or 0)}
        ready = ready and bool(workers)
    except Exception as error:  # readiness reports failures, it never raises them
        checks["database"] = {"ok": False, "error": type(error).__name__}
        ready = False
    if services.redis is None:
        checks["redis"] = {"ok": True, "configured": False}
    else:
        try:
            await services.redis.ping()
            checks["redis"] = {"ok": True, "configured": True}
        except Exception as error:  # Redis is optional: report it, keep serving
            checks["redis"] = {"ok": False, "configured": True, "error": type(error).__name__}
    checks["cache"] = services.cache.status()
    checks["events"] = services.events.status()
    degraded = bool(degraded_components(services)) or not checks["redis"]["ok"]
    return JSONResponse(
        {"ready": ready, "degraded": degraded, "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    services = _services(request)
    now = utcnow()
    async with services.read_sessionmaker() as session:
        rows = await session.execute(
            select(Job.queue, Job.state, func.count()).group_by(Job.queue, Job.state)
        )
        counts = {(queue, state): int(count) for queue, state, count in rows.all()}
        oldest_rows = await session.execute(
            select(Job.queue, func.min(Job.run_at))
            .where(Job.state.in_(["available", "retryable", "reconcile"]), Job.run_at <= now)
            .group_by(Job.queue)
        )
        oldest = dict(oldest_rows.all())
        depth_rows = await session.execute(
            select(Job.queue, func.count())
            .where(Job.state.in_(["available", "retryable", "reconcile"]), Job.run_at <= now)
            .group_by(Job.queue)
        )
        depth = {queue: int(count) for queue, count in depth_rows.all()}
        breakers = (await session.execute(select(CircuitBreaker.key, CircuitBreaker.state))).all()
        workers = await session.scalar(
            select(func.count())
            .select_from(WorkerHeartbeat)
            .where(WorkerHeartbeat.last_seen_at >= now - timedelta(seconds=30))
        )
        await ops_metrics.refresh(session, now)
    queues = {queue for queue, _ in counts} | set(oldest)
    for queue in queues:
        for state in STATES:
            JOBS_GAUGE.labels(queue=queue, state=state).set(counts.get((queue, state), 0))
        run_at = oldest.get(queue)
        OLDEST_DUE.labels(queue=queue).set((now - run_at).total_seconds() if run_at else 0)
        QUEUE_DEPTH.labels(queue=queue).set(depth.get(queue, 0))
    for key, state in breakers:
        for candidate in ("open", "half_open"):
            BREAKERS.labels(key=key, state=candidate).set(1 if state == candidate else 0)
    WORKERS_GAUGE.set(int(workers or 0))
    COMPONENT_OK.labels(component="cache").set(1 if services.cache.healthy else 0)
    COMPONENT_OK.labels(component="events").set(1 if services.events.healthy else 0)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
