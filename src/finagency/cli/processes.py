"""Process commands: serve (all-in-one), web, worker, scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import SecretStr

from finagency.app import Roles, create_app
from finagency.config import Settings
from finagency.core.logging import configure_logging
from finagency.queue import Notifier, Scheduler
from finagency.runtime import build_registry, build_worker, open_services, recurring_jobs

HostOption = Annotated[str | None, typer.Option(help="Interface to listen on (FINAGENCY_HOST).")]
PortOption = Annotated[int | None, typer.Option(help="Port to listen on (FINAGENCY_PORT).")]


def _serve_http(settings: Settings, roles: Roles, host: str | None, port: int | None) -> None:
    app = create_app(settings, roles=roles)
    config = uvicorn.Config(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        lifespan="on",
        # SSE streams stay open; don't let them hold up a restart for long.
        timeout_graceful_shutdown=int(settings.worker.shutdown_grace_seconds),
    )
    uvicorn.Server(config).run()


def serve(
    host: HostOption = None,
    port: PortOption = None,
    demo: Annotated[
        bool, typer.Option(help="Load the demo brand and sample data on an empty database.")
    ] = False,
) -> None:
    """Everything in one process: web, API, dashboard, worker and scheduler (migrates first)."""
    settings = Settings()
    overrides: dict[str, object] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    if settings.effective_secret_key is None:
        # One machine, no key configured: keep one next to the database, so sessions survive
        # restarts and platform credentials can be encrypted.
        overrides["secret_key"] = ensure_key_file(settings.data_dir / "secret.key")
    settings = settings.model_copy(update=overrides)
    roles = Roles(worker=True, scheduler=True, migrate=True, demo=demo or settings.demo)
    _serve_http(settings, roles, None, None)


def ensure_key_file(path: Path) -> SecretStr:
    if path.exists():
        return SecretStr(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    # Created readable by the owner only, before the key is written into it.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return SecretStr(key)


def web(host: HostOption = None, port: PortOption = None) -> None:
    """The web app and API only; run as many as you like behind a load balancer."""
    _serve_http(Settings(), Roles(), host, port)


async def _run_until_signal(run: asyncio.Future[None], stop: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop)
    await run


def worker(
    queues: Annotated[
        str | None, typer.Option(help="Comma-separated queues (default: all).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs run at once by this process.")
    ] = None,
) -> None:
    """A worker process: claims and runs jobs until SIGINT/SIGTERM, then shuts down gracefully."""
    settings = Settings()
    configure_logging(settings.log_level, json=settings.log_json)

    async def main() -> None:
        notifier = Notifier()
        async with open_services(settings, notifier) as services:
            the_worker = build_worker(
                services,
                build_registry(settings),
                notifier,
                queues=queues.split(",") if queues else None,
                concurrency=concurrency,
            )
            await _run_until_signal(asyncio.ensure_future(the_worker.run()), the_worker.stop)

    asyncio.run(main())


def scheduler() -> None:
    """Fires recurring jobs; safe to run several (each slot fires once)."""
    settings = Settings()
    configure_logging(settings.log_level, json=settings.log_json)

    async def main() -> None:
        async with open_services(settings) as services:
            the_scheduler = Scheduler(
                services.sessionmaker,
                build_registry(settings),
                recurring_jobs(settings),
                tick_seconds=settings.scheduler.tick_seconds,
            )
            await _run_until_signal(asyncio.ensure_future(the_scheduler.run()), the_scheduler.stop)

    asyncio.run(main())


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(web)
    app.command()(worker)
    app.command()(scheduler)
