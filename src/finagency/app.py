"""create_app(settings): the FastAPI app, and the lifespan that builds and closes its services."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from finagency.api import api_router, install_api_error_handlers
from finagency.auth.ratelimit import LoginRateLimiter
from finagency.auth.sessions import install_session_middleware
from finagency.config import Settings
from finagency.core.errors import AppError, NotAuthenticated, RateLimited
from finagency.core.logging import configure_logging
from finagency.core.tracing import RequestContextMiddleware
from finagency.integrations.platforms.fakes import server as fake_platforms
from finagency.ops import demo
from finagency.ops.health import router as health_router
from finagency.ops.migrations import upgrade_database
from finagency.queue import Notifier, Scheduler, Worker
from finagency.runtime import (
    build_registry,
    build_worker,
    open_services,
    recurring_jobs,
    warm_cache,
)
from finagency.web import STATIC_DIR
from finagency.web.pages import router as pages_router
from finagency.web.security import install_security_headers
from finagency.web.templating import render

log = structlog.get_logger(__name__)


@dataclass
class Roles:
    """Which background duties this process runs besides serving HTTP."""

    worker: bool = False
    scheduler: bool = False
    migrate: bool = False
    demo: bool = False
    background: list[asyncio.Task[None]] = field(default_factory=list)


def create_app(settings: Settings | None = None, *, roles: Roles | None = None) -> FastAPI:
    settings = settings or Settings()
    roles = roles or Roles()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if roles.migrate:
            await upgrade_database(settings.db_url)
        notifier = Notifier()
        notifier.bind(asyncio.get_running_loop())
        registry = build_registry(settings)
        async with open_services(settings, notifier) as services:
            app.state.services = services
            app.state.registry = registry
            app.state.login_limiter = LoginRateLimiter.from_settings(settings)
            if roles.demo:
                await demo.seed_if_empty(services, announce=True)
            if settings.cache.warm_at_start:
                await warm_cache(services)
            worker: Worker | None = None
            scheduler: Scheduler | None = None
            if roles.worker:
                worker = build_worker(services, registry, notifier)
                roles.background.append(asyncio.create_task(worker.run(), name="worker"))
            if roles.scheduler and settings.scheduler.enabled:
                scheduler = Scheduler(
                    services.sessionmaker,
                    registry,
                    recurring_jobs(settings),
                    tick_seconds=settings.scheduler.tick_seconds,
                )
                roles.background.append(asyncio.create_task(scheduler.run(), name="scheduler"))
            log.info("app.started", database=settings.db_url.split("://")[0], roles=roles)
            try:
                yield
            finally:
                if scheduler is not None:
                    scheduler.stop()
                if worker is not None:
                    worker.stop()
                if roles.background:
                    await asyncio.gather(*roles.background, return_exceptions=True)
                roles.background.clear()

    configure_logging(settings.log_level, json=settings.log_json)
    app = FastAPI(
        title="finagency",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings
    install_session_middleware(app, settings)
    install_security_headers(app)
    app.add_middleware(RequestContextMiddleware)  # request id in logs and headers; the span
    if settings.security.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.security.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-CSRF-Token"],
        )
    _install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if settings.demo_platforms == "fake":
        # The demo's stand-ins for X, LinkedIn, Mastodon, Bluesky and Telegram.
        app.mount(demo.FAKES_PREFIX, fake_platforms.create_app())
    return app


_ERROR_TITLES = {
    400: "That request could not be used",
    403: "Not allowed",
    404: "Not found",
    409: "That cannot be done now",
    422: "Please check what you entered",
    429: "Too many attempts",
}


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def _install_error_handlers(app: FastAPI) -> None:
    install_api_error_handlers(app)

    @app.exception_handler(AppError)
    async def app_error(request: Request, error: AppError) -> Response:
        if isinstance(error, NotAuthenticated) and _wants_html(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if error.status_code >= 500:
            log.error("request.failed", path=request.url.path, code=error.code)
        if _wants_html(request):
            # A person at a browser gets a page that says what went wrong, not raw JSON.
            title = _ERROR_TITLES.get(error.status_code, "Something went wrong")
            return render(
                request,
                "error.html",
                {"title": title, "message": error.message, "page_title": title},
                status_code=error.status_code,
            )
        headers = {}
        if isinstance(error, RateLimited) and "retry_after" in error.details:
            headers["Retry-After"] = str(max(1, round(float(error.details["retry_after"]))))
        return JSONResponse(
            {"error": error.to_dict()}, status_code=error.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        details = [
            {"loc": list(item.get("loc", ())), "msg": item.get("msg", "")}
            for item in error.errors()
        ]
        body = {
            "code": "validation_failed",
            "message": "the request is invalid",
            "details": details,
        }
        return JSONResponse({"error": body}, status_code=422)
