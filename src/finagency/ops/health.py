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
from finagency.models import Job, WorkerHeartbeat

router = APIRouter(tags=["health"])

JOBS_GAUGE = Gauge("finagency_jobs", "Jobs in the queue by state", ["state"])
WORKERS_GAUGE = Gauge("finagency_workers_alive", "Workers with a fresh heartbeat")


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Database reachable and workers' heartbeats fresh")
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
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    services = _services(request)
    async with services.read_sessionmaker() as session:
        rows = await session.execute(select(Job.state, func.count()).group_by(Job.state))
        counts = {state: int(count) for state, count in rows.all()}
        workers = await session.scalar(
            select(func.count())
            .select_from(WorkerHeartbeat)
            .where(WorkerHeartbeat.last_seen_at >= utcnow() - timedelta(seconds=30))
        )
    for state in (
        "available",
        "running",
        "retryable",
        "completed",
        "discarded",
        "cancelled",
        "reconcile",
    ):
        JOBS_GAUGE.labels(state=state).set(counts.get(state, 0))
    WORKERS_GAUGE.set(int(workers or 0))
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
