"""What every finagency process builds at start: services, the task registry, recurring jobs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog
from redis.asyncio import Redis

from finagency.analytics import tasks as analytics_tasks
from finagency.config import Settings
from finagency.content import tasks as content_tasks
from finagency.core.crypto import SecretBox, SecretKeyError
from finagency.core.db import create_engine, create_read_sessionmaker, create_sessionmaker
from finagency.core.events import EventBus
from finagency.core.http import build_guarded_client
from finagency.core.services import Services
from finagency.market import tasks as market_tasks
from finagency.ops import audience
from finagency.publishing import tasks as publishing_tasks
from finagency.queue import NOTIFIER_KEY, Notifier, RecurringJob, TaskRegistry, Worker, WorkerConfig
from finagency.queue.maintenance import PRUNE_TASK, prune_task

log = structlog.get_logger(__name__)


def build_registry(settings: Settings | None = None) -> TaskRegistry:
    worker = (settings or Settings()).worker
    return TaskRegistry(
        [
            *market_tasks.TASKS,
            *content_tasks.TASKS,
            *publishing_tasks.TASKS,
            *analytics_tasks.TASKS,
            *audience.TASKS,
            prune_task(
                completed_after=timedelta(hours=worker.keep_completed_hours),
                discarded_after=timedelta(days=worker.keep_dead_letters_days),
            ),
        ]
    )


def recurring_jobs(settings: Settings) -> list[RecurringJob]:
    schedule = settings.scheduler
    return [
        RecurringJob("poll-sources", "market.poll_due_sources", every_seconds=30),
        RecurringJob(
            "generate-drafts",
            "content.generate_for_brands",
            every_seconds=schedule.generate_every_seconds,
        ),
        RecurringJob(
            "refresh-engagement",
            "analytics.refresh_engagement",
            every_seconds=schedule.engagement_every_seconds,
        ),
        RecurringJob("sweep-orphans", "publishing.sweep_orphans", every_seconds=60),
        RecurringJob("prune-jobs", PRUNE_TASK, every_seconds=3600),
        *(
            [RecurringJob("demo-audience", audience.AUDIENCE_TASK, every_seconds=30)]
            if settings.demo_platforms == "fake"
            else []
        ),
    ]


@asynccontextmanager
async def open_services(
    settings: Settings, notifier: Notifier | None = None
) -> AsyncIterator[Services]:
    """Build engine, sessions, HTTP client and event bus; close them all on exit."""
    engine = create_engine(
        settings.db_url, busy_timeout_ms=settings.database.sqlite_busy_timeout_ms
    )
    info = {NOTIFIER_KEY: notifier} if notifier is not None else None
    try:
        secret_box: SecretBox | None = SecretBox(settings.effective_secret_key)
    except SecretKeyError:
        secret_box = None
        log.warning(
            "secret_key.missing", hint="set FINAGENCY_SECRET_KEY to store platform credentials"
        )
    allow = list(settings.http.allow_private)
    if settings.demo_platforms == "fake":
        allow.append("127.0.0.0/8")  # the demo's fake platforms are served by this host
    http = build_guarded_client(
        allow=allow,
        timeout=settings.http.timeout,
        user_agent=settings.http.user_agent,
    )
    redis_url = settings.effective_redis_url
    redis = (
        Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2) if redis_url else None
    )
    services = Services(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine, info),
        read_sessionmaker=create_read_sessionmaker(engine),
        http=http,
        events=EventBus(),
        secret_box=secret_box,
        started_at=time.time(),
        redis=redis,
    )
    try:
        yield services
    finally:
        await http.aclose()
        if redis is not None:
            await redis.aclose()
        await engine.dispose()


def build_worker(
    services: Services,
    registry: TaskRegistry,
    notifier: Notifier,
    *,
    queues: list[str] | None = None,
    concurrency: int | None = None,
) -> Worker:
    config = services.settings.worker
    return Worker(
        services.sessionmaker,
        registry,
        WorkerConfig(
            queues=tuple(queues or config.queues),
            concurrency=concurrency or config.concurrency,
            batch_size=config.batch_size,
            lease_seconds=config.lease_seconds,
            poll_interval=config.poll_interval,
            rescue_interval=config.rescue_interval,
            shutdown_grace_seconds=config.shutdown_grace_seconds,
        ),
        services=services,
        notifier=notifier,
    )
