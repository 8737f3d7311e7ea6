"""What every finagency process builds at start: services, the task registry, recurring jobs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import structlog
from redis.asyncio import Redis

from finagency.analytics import tasks as analytics_tasks
from finagency.analytics.router import stats_data
from finagency.audit import tasks as audit_tasks
from finagency.config import Settings
from finagency.content import tasks as content_tasks
from finagency.content.evaluation import TASKS as EVALUATION_TASKS
from finagency.core.cache import CACHE_INFO_KEY, build_cache
from finagency.core.crypto import SecretBox, SecretKeyError
from finagency.core.db import create_engine, create_read_sessionmaker, create_sessionmaker
from finagency.core.events import build_event_bus
from finagency.core.http import build_guarded_client
from finagency.core.services import Services
from finagency.core.tracing import configure_tracing, shutdown_tracing, trace_http_client
from finagency.market import tasks as market_tasks
from finagency.ops import audience
from finagency.ops import backup as ops_backup
from finagency.publishing import tasks as publishing_tasks
from finagency.queue import NOTIFIER_KEY, Notifier, RecurringJob, TaskRegistry, Worker, WorkerConfig
from finagency.queue.maintenance import PRUNE_TASK, prune_task
from finagency.reports import tasks as report_tasks
from finagency.webhooks import TASKS as WEBHOOK_TASKS
from finagency.webhooks.dispatch import DISPATCH_TASK_NAME

log = structlog.get_logger(__name__)


def build_registry(settings: Settings | None = None) -> TaskRegistry:
    worker = (settings or Settings()).worker
    return TaskRegistry(
        [
            *market_tasks.TASKS,
            *content_tasks.TASKS,
            *EVALUATION_TASKS,
            *publishing_tasks.TASKS,
            *analytics_tasks.TASKS,
            *audience.TASKS,
            *ops_backup.TASKS,
            *WEBHOOK_TASKS,
            *report_tasks.TASKS,
            *audit_tasks.TASKS,
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
            [
                RecurringJob(
                    "backup",
                    ops_backup.BACKUP_TASK,
                    every_seconds=max(60, int(settings.backup.every_hours * 3600)),
                )
            ]
            if settings.backup.every_hours > 0
            else []
        ),
        RecurringJob("webhook-dispatch", DISPATCH_TASK_NAME, every_seconds=5),
        *report_tasks.recurring(),
        *audit_tasks.recurring(),
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
    info: dict[str, Any] = {NOTIFIER_KEY: notifier} if notifier is not None else {}
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
    # Tracing on: spans go to the OTLP endpoint and are flushed when the services close.
    traced = settings.tracing.enabled and configure_tracing(settings.tracing)
    trace_http_client(http)
    events = build_event_bus(
        settings.events.backend,
        database_url=settings.db_url,
        redis_url=redis_url,
        channel=settings.events.channel,
    )
    cache = build_cache(
        settings.cache.backend,
        redis=redis,
        ttls=settings.cache.ttl_seconds,
        max_entries=settings.cache.max_entries,
        prefix=settings.cache.redis_prefix,
    )
    # Every event, local or from another process, drops what it made stale; so does every
    # commit of this process that changed rows.
    events.add_listener(cache.on_event)
    info[CACHE_INFO_KEY] = cache
    services = Services(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine, info),
        read_sessionmaker=create_read_sessionmaker(engine),
        http=http,
        events=events,
        secret_box=secret_box,
        started_at=time.time(),
        redis=redis,
        cache=cache,
    )
    await events.start()
    try:
        yield services
    finally:
        await events.close()
        await cache.close()
        if traced:
            shutdown_tracing()
        await http.aclose()
        if redis is not None:
            await redis.aclose()
        await engine.dispose()


async def warm_cache(services: Services) -> None:
    """Fill the Overview's stats (every brand, the admins' view) before the first visitor."""
    try:
        async with services.read_sessionmaker() as session:
            await stats_data(session, None, services.cache)
    except Exception as error:  # a cold cache is slower, never wrong
        log.warning("cache.warm_failed", error=type(error).__name__)


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
            min_concurrency=config.min_concurrency,
            max_concurrency=config.max_concurrency,
            autoscale_interval=config.autoscale_interval,
        ),
        services=services,
        notifier=notifier,
    )
